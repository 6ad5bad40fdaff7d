import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceCertVerifier, MAX_PRESENTED_CERTIFICATES, MAX_PRESENTED_PATH_LENGTH } from '../../src/identity/device-cert-verifier.ts';
import { IdentityError, type IdentityFailure } from '../../src/identity/errors.ts';
import { CLIENT_AUTH_EXTENSIONS, OpensslPki, opensslDate, type Issued } from '../helpers/openssl-pki.ts';

const DAY = 86_400_000;

function refusedWith(reason: IdentityFailure) {
  return (error: unknown) => error instanceof IdentityError && error.reason === reason;
}

let pki: OpensslPki;
let root: Issued;
let intermediate: Issued;
let verifier: DeviceCertVerifier;

before(() => {
  pki = new OpensslPki();
  root = pki.rootCa('Device Root CA');
  intermediate = pki.intermediateCa('Device Issuing CA', root);
  verifier = new DeviceCertVerifier(root.pem + intermediate.pem);
});
after(() => pki.cleanup());

function opensslFingerprint(cert: Issued): string {
  const line = pki.openssl(['x509', '-in', cert.cert, '-noout', '-fingerprint', '-sha256']).toString();
  return line.trim().split('=')[1]?.replaceAll(':', '').toLowerCase() ?? '';
}

test('a device certificate from the root is accepted with its fingerprint, subject and dates', () => {
  const device = pki.issue('device-1', root);
  const identity = verifier.verify(device.der);
  assert.equal(identity.fingerprint, opensslFingerprint(device));
  assert.match(identity.subject, /CN=device-1/);
  const endDate = pki.openssl(['x509', '-in', device.cert, '-noout', '-enddate']).toString().trim().split('=')[1] ?? '';
  assert.equal(identity.notAfter.getTime(), Date.parse(endDate));
  assert.deepEqual(identity.certDer, device.der);
});

test('two devices get distinct identities', () => {
  const first = verifier.verify(pki.issue('device-2a', root).der);
  const second = verifier.verify(pki.issue('device-2b', root).der);
  assert.notEqual(first.fingerprint, second.fingerprint);
  assert.match(second.subject, /CN=device-2b/);
});

test('a device certificate from an intermediate in the bundle is accepted', () => {
  const device = pki.issue('device-via-intermediate', intermediate, { keyType: 'ec' });
  assert.equal(verifier.verify(device.der).fingerprint, opensslFingerprint(device));
});

test('an intermediate missing from the bundle leaves its devices unknown', () => {
  const rootOnly = new DeviceCertVerifier(root.pem);
  const device = pki.issue('device-orphan', intermediate);
  assert.throws(() => rootOnly.verify(device.der), refusedWith('unknown-ca'));
});

test('a certificate from a rogue CA with the same name is refused', () => {
  const rogue = pki.rootCa('Device Root CA');
  const device = pki.issue('device-rogue', rogue);
  assert.throws(() => verifier.verify(device.der), refusedWith('unknown-ca'));
});

test('a certificate naming a trusted CA but not signed by it is refused', () => {
  // Same issuer name and authority key identifier as a genuine one, so only the signature differs.
  const forged = Buffer.from(pki.issue('device-forged', root).der);
  forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 0x01;
  assert.throws(() => verifier.verify(forged), refusedWith('unknown-ca'));
});

test('an expired certificate is refused', () => {
  const device = pki.issue('device-expired', root, { startDate: '20200101000000Z', endDate: '20210101000000Z' });
  assert.throws(() => verifier.verify(device.der), refusedWith('expired'));
});

test('a certificate that is not yet valid is refused', () => {
  const start = new Date(Date.now() + 30 * DAY);
  const device = pki.issue('device-future', root, { startDate: opensslDate(start), endDate: opensslDate(new Date(start.getTime() + DAY)) });
  assert.throws(() => verifier.verify(device.der), refusedWith('not-yet-valid'));
});

test('a valid certificate under an expired intermediate is refused as expired', () => {
  const expiredCa = pki.issue('Expired Issuing CA', root, {
    extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    startDate: '20200101000000Z',
    endDate: '20210101000000Z',
  });
  const device = pki.issue('device-under-expired-ca', expiredCa);
  const withExpired = new DeviceCertVerifier(root.pem + expiredCa.pem);
  assert.throws(() => withExpired.verify(device.der), refusedWith('expired'));
});

test('extended key usage must allow client authentication', () => {
  const serverOnly = pki.issue('device-server-auth', root, { extensions: ['extendedKeyUsage=serverAuth'] });
  assert.throws(() => verifier.verify(serverOnly.der), refusedWith('not-client-auth'));
  const noEku = pki.issue('device-no-eku', root, { extensions: ['basicConstraints=CA:FALSE'] });
  assert.equal(verifier.verify(noEku.der).fingerprint, opensslFingerprint(noEku));
  const anyEku = pki.issue('device-any-eku', root, { extensions: ['extendedKeyUsage=anyExtendedKeyUsage'] });
  assert.equal(verifier.verify(anyEku.der).fingerprint, opensslFingerprint(anyEku));
  const both = pki.issue('device-both-eku', root, { extensions: ['extendedKeyUsage=serverAuth,clientAuth'] });
  assert.equal(verifier.verify(both.der).fingerprint, opensslFingerprint(both));
});

test('a CA certificate is not a device identity, even a trusted one', () => {
  assert.throws(() => verifier.verify(intermediate.der), refusedWith('not-client-auth'));
});

test('bytes that are not a certificate are refused as malformed', () => {
  assert.throws(() => verifier.verify(Buffer.from('not a certificate')), refusedWith('malformed'));
  assert.throws(() => verifier.verify(root.der.subarray(0, 100)), refusedWith('malformed'));
});

test('a cached result is reused but its validity is checked against every call\'s time', () => {
  const device = pki.issue('device-cached', root, { days: 10, extensions: CLIENT_AUTH_EXTENSIONS });
  const now = new Date();
  const first = verifier.verify(device.der, now);
  assert.equal(verifier.verify(Buffer.from(device.der), now), first, 'same cached identity object');
  assert.throws(() => verifier.verify(device.der, new Date(now.getTime() + 20 * DAY)), refusedWith('expired'));
  assert.throws(() => verifier.verify(device.der, new Date(now.getTime() - 20 * DAY)), refusedWith('not-yet-valid'));
  assert.equal(verifier.verify(device.der, now), first);
});

test('a cached refusal stays a refusal', () => {
  const rogue = pki.issue('device-rogue-cached', pki.rootCa('Another Rogue'));
  assert.throws(() => verifier.verify(rogue.der), refusedWith('unknown-ca'));
  assert.throws(() => verifier.verify(rogue.der), refusedWith('unknown-ca'));
});

test('a bundle without certificates is a configuration error', () => {
  assert.throws(() => new DeviceCertVerifier(''), /no certificates/);
  assert.throws(() => new DeviceCertVerifier(root.der.toString('base64')), /no certificates/);
});

describe('path building from the certificates a request carries', () => {
  const rootOnly = () => new DeviceCertVerifier(root.pem);
  const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];

  test('with only the root trusted, an intermediate the request carries completes the path', () => {
    const verifier = rootOnly();
    const device = pki.issue('device-carried-intermediate', intermediate);
    assert.throws(() => verifier.verify(device.der), refusedWith('unknown-ca'));
    assert.equal(verifier.verify(device.der, new Date(), [intermediate.der]).fingerprint, opensslFingerprint(device));
    // The outcome depends on what was carried: the same leaf alone is still refused.
    assert.throws(() => verifier.verify(device.der), refusedWith('unknown-ca'));
  });

  test('two carried intermediates, in either order, and unrelated certificates beside them', () => {
    const second = pki.issue('Second Issuing CA', intermediate, { extensions: CA, days: 3650 });
    const device = pki.issue('device-two-down', second);
    const unrelated = pki.issue('some-other-device', root);
    for (const carried of [[second.der, intermediate.der], [intermediate.der, unrelated.der, second.der]]) {
      assert.equal(rootOnly().verify(device.der, new Date(), carried).fingerprint, opensslFingerprint(device));
    }
  });

  test('a carried CA that no trusted CA signed leads nowhere', () => {
    const rogueRoot = pki.rootCa('Device Root CA'); // the real root's name, another key
    const rogueIssuer = pki.intermediateCa('Device Issuing CA', rogueRoot);
    const device = pki.issue('device-rogue-path', rogueIssuer);
    assert.throws(() => rootOnly().verify(device.der, new Date(), [rogueIssuer.der, rogueRoot.der]), refusedWith('unknown-ca'));
  });

  test('a carried certificate that is not a CA is no issuer, even when it signed the leaf', () => {
    const notCa = pki.issue('Not A CA', root, { extensions: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,keyCertSign'] });
    const device = pki.issue('device-under-non-ca', notCa);
    assert.throws(() => rootOnly().verify(device.der, new Date(), [notCa.der]), refusedWith('unknown-ca'));
  });

  test(`paths are bounded: at most ${MAX_PRESENTED_PATH_LENGTH} carried intermediates, ${MAX_PRESENTED_CERTIFICATES} carried certificates looked at`, () => {
    const ladder = [intermediate];
    for (let i = 0; i < MAX_PRESENTED_PATH_LENGTH; i++) ladder.push(pki.issue(`Rung ${i} CA`, ladder.at(-1)!, { extensions: CA, days: 3650 }));
    const atLimit = pki.issue('device-at-limit', ladder.at(-2)!);
    const pastLimit = pki.issue('device-past-limit', ladder.at(-1)!);
    const carried = ladder.map((c) => c.der).reverse();
    assert.equal(rootOnly().verify(atLimit.der, new Date(), carried).fingerprint, opensslFingerprint(atLimit));
    assert.throws(() => rootOnly().verify(pastLimit.der, new Date(), carried), refusedWith('unknown-ca'));

    const device = pki.issue('device-needle', intermediate);
    const hay = Array.from({ length: MAX_PRESENTED_CERTIFICATES }, () => root.der);
    assert.throws(() => rootOnly().verify(device.der, new Date(), [...hay, intermediate.der]), refusedWith('unknown-ca'));
    assert.equal(rootOnly().verify(device.der, new Date(), [...hay.slice(1), intermediate.der]).fingerprint, opensslFingerprint(device));
  });

  test("a CA's path length constraint is honoured", () => {
    const noSubCas = pki.issue('No Sub-CAs CA', root, { extensions: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign'], days: 3650 });
    const subCa = pki.issue('Forbidden Sub-CA', noSubCas, { extensions: CA, days: 3650 });
    const direct = pki.issue('device-direct', noSubCas);
    const below = pki.issue('device-below-forbidden', subCa);
    assert.equal(rootOnly().verify(direct.der, new Date(), [noSubCas.der]).fingerprint, opensslFingerprint(direct));
    assert.throws(() => rootOnly().verify(below.der, new Date(), [subCa.der, noSubCas.der]), refusedWith('unknown-ca'));
  });

  test('an expired carried intermediate makes the path expired', () => {
    const expiredCa = pki.issue('Expired Carried CA', root, { extensions: CA, startDate: '20200101000000Z', endDate: '20210101000000Z' });
    const device = pki.issue('device-under-expired-carried', expiredCa);
    assert.throws(() => rootOnly().verify(device.der, new Date(), [expiredCa.der]), refusedWith('expired'));
  });
});
