import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDeviceCa,
  DEVICE_CA_CERT_FILE,
  DEVICE_CA_KEY_FILE,
  deviceCaFromPem,
  ensureDeviceCa,
  issueDeviceCertificate,
  loadDeviceCa,
} from '../../src/identity/device-ca.ts';
import { DeviceCertVerifier } from '../../src/identity/device-cert-verifier.ts';
import { IdentityVerifier } from '../../src/identity/identity-verifier.ts';
import { OpensslPki } from '../helpers/openssl-pki.ts';

let pki: OpensslPki;
let dataDir: string;

before(() => {
  pki = new OpensslPki();
  dataDir = mkdtempSync(join(tmpdir(), 'aspen-device-ca-'));
});
after(() => {
  pki.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('first start creates a CA that openssl accepts, with the key readable only by the owner', async () => {
  const dir = join(dataDir, 'fresh');
  const result = await ensureDeviceCa(dir);
  assert.equal(result.created, true);
  assert.equal(result.certPath, join(dir, DEVICE_CA_CERT_FILE));
  assert.equal(result.keyPath, join(dir, DEVICE_CA_KEY_FILE));
  assert.equal(statSync(result.keyPath).mode & 0o777, 0o600);

  const text = pki.openssl(['x509', '-in', result.certPath, '-noout', '-text']).toString();
  assert.match(text, /Subject: CN = Aspen Device CA/);
  assert.match(text, /Issuer: CN = Aspen Device CA/);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
  assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  pki.openssl(['verify', '-x509_strict', '-CAfile', result.certPath, result.certPath]);

  const endDate = pki.openssl(['x509', '-in', result.certPath, '-noout', '-enddate']).toString().split('=')[1] ?? '';
  const years = (Date.parse(endDate) - Date.now()) / (365.25 * 86_400_000);
  assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);
  // openssl agrees the key belongs to the certificate.
  const certKey = pki.openssl(['x509', '-in', result.certPath, '-noout', '-pubkey']).toString();
  const keyKey = pki.openssl(['pkey', '-in', result.keyPath, '-pubout']).toString();
  assert.equal(certKey, keyKey);
});

test('later starts reuse the existing CA unchanged', async () => {
  const dir = join(dataDir, 'reuse');
  const first = await ensureDeviceCa(dir);
  const before = [readFileSync(first.certPath), readFileSync(first.keyPath)];
  const second = await ensureDeviceCa(dir);
  assert.equal(second.created, false);
  assert.deepEqual([readFileSync(second.certPath), readFileSync(second.keyPath)], before);
});

test('a certificate without its key is refused rather than replaced', async () => {
  const dir = join(dataDir, 'lost-key');
  const { keyPath, certPath } = await ensureDeviceCa(dir);
  unlinkSync(keyPath);
  await assert.rejects(ensureDeviceCa(dir), /does not/);
  assert.ok(existsSync(certPath));
});

test('a key left by an interrupted first start is replaced', async () => {
  const dir = join(dataDir, 'interrupted');
  const { keyPath, certPath } = await ensureDeviceCa(dir);
  const oldKey = readFileSync(keyPath);
  unlinkSync(certPath);
  assert.equal((await ensureDeviceCa(dir)).created, true);
  assert.notDeepEqual(readFileSync(keyPath), oldKey);
});

test('a key that does not belong to the certificate is refused', async () => {
  const dir = join(dataDir, 'mismatch');
  const { keyPath } = await ensureDeviceCa(dir);
  writeFileSync(keyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await assert.rejects(ensureDeviceCa(dir), /does not belong/);
});

test('issued device certificates pass openssl and DeviceCertVerifier, and can sign requests', async () => {
  const { certPath, keyPath } = await ensureDeviceCa(join(dataDir, 'issuing'));
  const ca = await loadDeviceCa(certPath, keyPath);
  const identities = new IdentityVerifier(new DeviceCertVerifier(readFileSync(certPath, 'utf8')));
  const body = Buffer.from('<plist><dict/></plist>');

  for (const keyType of ['ec', 'rsa'] as const) {
    const issued = issueDeviceCertificate(ca, { commonName: `device-${keyType}`, keyType });
    assert.ok(issued.keyPem !== undefined);
    const cert = pki.write(`issued-${keyType}.pem`, issued.certPem);
    const key = pki.write(`issued-${keyType}.key`, issued.keyPem);
    pki.openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', certPath, cert]);

    const der = pki.openssl(['x509', '-in', cert, '-outform', 'DER']);
    const header = pki.sign(body, { cert, key, der, pem: issued.certPem }, { md: 'sha1', noattr: true });
    const identity = identities.fromMdmSignature(header, body);
    assert.deepEqual(identity.certDer, der);
    assert.match(identity.subject, new RegExp(`CN=device-${keyType}`));
  }
});

test('a certificate can be issued for a key the device already has', () => {
  const { certPem, keyPem } = createDeviceCa();
  const ca = deviceCaFromPem(certPem, keyPem);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issued = issueDeviceCertificate(ca, { commonName: 'scep-device', publicKey });
  assert.equal(issued.keyPem, undefined);
  const cert = pki.write('scep-device.pem', issued.certPem);
  const certKey = pki.openssl(['x509', '-in', cert, '-noout', '-pubkey']).toString();
  assert.equal(certKey, createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString());
  const identity = new DeviceCertVerifier(ca.certPem).verify(pki.openssl(['x509', '-in', cert, '-outform', 'DER']));
  assert.match(identity.subject, /CN=scep-device/);
});

test('device certificates do not outlive their CA', () => {
  const { certPem, keyPem } = createDeviceCa();
  const ca = deviceCaFromPem(certPem, keyPem);
  const issued = issueDeviceCertificate(ca, { commonName: 'long-lived', validityDays: 100 * 365 });
  const cert = pki.write('long-lived.pem', issued.certPem);
  const endDate = pki.openssl(['x509', '-in', cert, '-noout', '-enddate']).toString().split('=')[1] ?? '';
  assert.equal(Date.parse(endDate), Date.parse(ca.certificate.validTo));
});

