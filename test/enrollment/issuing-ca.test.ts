// The CA that issues through SCEP is RSA; a data directory's existing EC device CA stays loadable
// and trusted next to it, so devices enrolled under the old CA are not stranded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { scepCa } from '../../src/enrollment/index.ts';
import { createDeviceCa, deviceCaFromPem, issueDeviceCertificate } from '../../src/identity/device-ca.ts';
import { DeviceCertVerifier } from '../../src/identity/device-cert-verifier.ts';
import { startScepRig, STATIC_CHALLENGE, type ScepRig } from '../helpers/scep-rig.ts';
import { pemToDer, ScepTestClient } from '../helpers/scep-test-client.ts';

let rig: ScepRig;

before(async () => {
  rig = await startScepRig();
});
after(() => rig.close());

test('an RSA device CA is a 3072-bit CA certificate that openssl accepts', () => {
  const { certPem, keyPem } = createDeviceCa(new Date(), 'rsa');
  const cert = rig.pki.write('rsa-ca.pem', certPem);
  const text = rig.pki.openssl(['x509', '-in', cert, '-noout', '-text']).toString();
  assert.match(text, /Public-Key: \(3072 bit\)/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
  assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  rig.pki.openssl(['verify', '-x509_strict', '-CAfile', cert, cert]);
  assert.doesNotThrow(() => scepCa(deviceCaFromPem(certPem, keyPem)));
});

test('an EC device CA still loads and issues, but cannot answer SCEP', () => {
  const { certPem, keyPem } = createDeviceCa();
  const ca = deviceCaFromPem(certPem, keyPem);
  assert.equal(ca.certificate.publicKey.asymmetricKeyType, 'ec');
  assert.throws(() => scepCa(ca), /SCEP needs an RSA CA; the key of "CN=Aspen Device CA" is ec/);
});

test('identities from the old EC CA and from SCEP are both trusted device identities', async () => {
  const old = createDeviceCa();
  const oldCa = deviceCaFromPem(old.certPem, old.keyPem);
  const verifier = new DeviceCertVerifier(old.certPem + rig.deviceCa.certPem);

  const legacy = issueDeviceCertificate(oldCa, { commonName: 'enrolled-before-the-upgrade' });
  assert.match(verifier.verify(pemToDer(legacy.certPem)).subject, /enrolled-before-the-upgrade/);

  const client = new ScepTestClient(rig.pki, rig.caCertPath, rig.server.url);
  const message = client.request({ challenge: STATIC_CHALLENGE });
  const reply = await client.send(message.der);
  const issued = readFileSync(client.issuedCertificate(client.readCertRep(reply.body), message.requester), 'utf8');
  const identity = verifier.verify(pemToDer(issued));
  const outcome = rig.server.outcomes.at(-1);
  assert.equal(outcome?.result === 'issued' && outcome.certificate.fingerprint, identity.fingerprint);
  assert.equal(outcome?.result === 'issued' && outcome.certificate.serialNumber, identity.serialNumber);
});
