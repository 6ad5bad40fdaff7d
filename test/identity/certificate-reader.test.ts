// The strict certificate reader that lets a new device certificate be verified without
// X509Certificate: what it reads must be what OpenSSL reads (checked here against certificates the
// openssl CLI made), and what it does not read it must decline, leaving it to X509Certificate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { readCertificate } from '../../src/identity/certificate-reader.ts';
import { DeviceCertVerifier } from '../../src/identity/device-cert-verifier.ts';
import { IdentityError } from '../../src/identity/errors.ts';
import { createDeviceCa, deviceCaFromPem, issueDeviceCertificate } from '../../src/identity/index.ts';
import { OpensslPki, type Issued, type KeyType } from '../helpers/openssl-pki.ts';

let pki: OpensslPki;
let root: Issued;
before(() => {
  pki = new OpensslPki();
  root = pki.rootCa('Reader Root CA');
});
after(() => pki.cleanup());

/** A self-signed certificate with this exact subject (openssl -subj form) and extensions. */
function selfSigned(subject: string, options: { keyType?: KeyType; extensions?: string[]; flags?: string[] } = {}): Buffer {
  const key = pki.newKey('self', options.keyType ?? 'rsa');
  const out = join(pki.dir, `self-${Math.random().toString(36).slice(2)}.der`);
  const extensions = (options.extensions ?? ['basicConstraints=critical,CA:FALSE']).flatMap((e) => ['-addext', e]);
  pki.openssl(['req', '-x509', '-config', 'req.cnf', '-key', key, '-subj', subject, '-days', '30', ...(options.flags ?? []), ...extensions, '-outform', 'DER', '-out', out]);
  return readFileSync(out);
}

/** Asserts the reader read `der` exactly as X509Certificate does. */
function assertReadLikeOpenssl(der: Uint8Array): void {
  const read = readCertificate(der);
  assert.ok(read, 'the reader declined a certificate of the shape it reads');
  const x509 = new X509Certificate(der);
  assert.equal(read.subject, x509.subject);
  assert.equal(read.serialNumber, x509.serialNumber);
  assert.equal(read.notBefore, Date.parse(x509.validFrom));
  assert.equal(read.notAfter, Date.parse(x509.validTo));
  assert.deepEqual(read.publicKey.export({ type: 'spki', format: 'der' }), x509.publicKey.export({ type: 'spki', format: 'der' }));
  assert.equal(read.basicConstraints?.ca === true && read.keyCertSign !== false, x509.ca);
  assert.deepEqual(read.extendedKeyUsage, x509.keyUsage);
}

describe('reads what OpenSSL reads', () => {
  test('certificates from Aspen’s own CAs, RSA and EC', () => {
    for (const keyType of ['rsa', 'ec'] as const) {
      const { certPem, keyPem } = createDeviceCa(new Date(), keyType);
      const ca = deviceCaFromPem(certPem, keyPem);
      assertReadLikeOpenssl(ca.certificate.raw);
      for (const deviceKey of [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('ec', { namedCurve: 'P-256' })]) {
        const { certPem: device } = issueDeviceCertificate(ca, { commonName: 'Aspen enrollment 7f0c', publicKey: deviceKey.publicKey });
        assertReadLikeOpenssl(new X509Certificate(device).raw);
      }
    }
  });

  test('certificates from openssl: CAs, leaves, several subject attributes, P-384 keys', () => {
    assertReadLikeOpenssl(root.der);
    assertReadLikeOpenssl(pki.issue('device-rsa', root).der);
    assertReadLikeOpenssl(pki.issue('device-ec', root, { keyType: 'ec' }).der);
    assertReadLikeOpenssl(selfSigned('/C=US/ST=CA/L=Cupertino/O=Acme Inc./OU=IT/CN=ann-iphone/emailAddress=ann@example.com/serialNumber=C02XYZ'));
    assertReadLikeOpenssl(selfSigned('/DC=com/DC=example/UID=4711/CN=ann', { extensions: ['extendedKeyUsage=clientAuth,serverAuth', 'keyUsage=digitalSignature'] }));
  });

  test('a serial whose top bit is set (DER adds a zero byte), and one that is small', () => {
    for (const serial of ['80ABCDEF01', '01']) {
      pki.write('serial.txt', `${serial}\n`);
      const issued = pki.issue(`serial-${serial}`, root);
      assert.equal(new X509Certificate(issued.der).serialNumber, serial);
      assertReadLikeOpenssl(issued.der);
    }
  });
});

describe('declines what it does not read, and the verifier answers as X509Certificate does', () => {
  test('names that OpenSSL prints escaped, multi-valued or non-ASCII', () => {
    for (const subject of ['/CN=Doe, Jane', '/CN= leading space', '/CN=#hash', '/CN=a\\+b', '/CN=Zoë']) {
      assert.equal(readCertificate(selfSigned(subject, { flags: ['-utf8'] })), undefined, subject);
    }
    assert.equal(readCertificate(selfSigned('/CN=a+UID=b', { flags: ['-multivalue-rdn'] })), undefined);
  });

  test('extensions beyond the five it reads, or one of them twice', () => {
    assert.equal(readCertificate(selfSigned('/CN=san', { extensions: ['subjectAltName=DNS:device.example.com'] })), undefined);
  });

  test('a device certificate with a subject it does not print is still verified, with OpenSSL’s subject', () => {
    const verifier = new DeviceCertVerifier(root.pem);
    const device = pki.issue('Doe, Jane', root);
    assert.equal(readCertificate(device.der)?.subject, undefined);
    assert.equal(verifier.verify(device.der).subject, new X509Certificate(device.der).subject);
  });

  test('malformed DER: truncated, wrong tags, huge lengths; BER and trailing bytes left to X509Certificate', () => {
    const verifier = new DeviceCertVerifier(root.pem);
    const good = pki.issue('device-good', root).der;
    const withLength = (bytes: number[]) => Buffer.concat([Buffer.from([0x30, ...bytes]), good.subarray(4)]);
    const malformed = {
      truncated: good.subarray(0, good.length - 1),
      'cut in the middle': good.subarray(0, 300),
      'wrong outer tag': Buffer.concat([Buffer.from([0x31]), good.subarray(1)]),
      'huge length': withLength([0x84, 0x7f, 0xff, 0xff, 0xff]),
      'length field too long': withLength([0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      empty: Buffer.alloc(0),
    };
    assert.equal(good[1], 0x82, 'the test certificate has a two-byte length');
    for (const [what, der] of Object.entries(malformed)) {
      assert.equal(readCertificate(der), undefined, what);
      assert.throws(() => verifier.verify(der), (e: unknown) => e instanceof IdentityError && e.reason === 'malformed', what);
    }
    // X509Certificate reads BER and ignores bytes after the certificate; the reader leaves such
    // input to it, so it is answered as before.
    for (const ber of [Buffer.concat([good, Buffer.from([0])]), Buffer.concat([Buffer.from([0x30, 0x80]), good.subarray(4), Buffer.from([0, 0])])]) {
      assert.equal(readCertificate(ber), undefined);
      assert.equal(verifier.verify(ber).subject, new X509Certificate(ber).subject);
    }
  });

  test('a flipped bit in the signed part or the signature fails the signature, not the reading', () => {
    const verifier = new DeviceCertVerifier(root.pem);
    const good = pki.issue('device-flipped', root).der;
    for (const at of [good.length - 10, 200]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x01;
      assert.throws(() => verifier.verify(bad), (e: unknown) => e instanceof IdentityError && (e.reason === 'unknown-ca' || e.reason === 'malformed'));
    }
  });
});

test('of two trusted CAs with one name and one key, the first in the bundle is the anchor, as before', () => {
  const device = pki.issue('device-renewed-ca', root);
  const renewed = join(pki.dir, 'renewed-root.pem');
  pki.openssl(['req', '-x509', '-config', 'req.cnf', '-key', root.key, '-subj', '/CN=Reader Root CA', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign', '-out', renewed]);
  const renewedPem = readFileSync(renewed, 'utf8');
  const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
  assert.equal(new DeviceCertVerifier(renewedPem + root.pem).verify(device.der).anchor, fingerprint(renewedPem));
  assert.equal(new DeviceCertVerifier(root.pem + renewedPem).verify(device.der).anchor, fingerprint(root.pem));
});

test('an identity verified through the reader carries what X509Certificate reads of the certificate', () => {
  const { certPem, keyPem } = createDeviceCa(new Date(), 'rsa');
  const ca = deviceCaFromPem(certPem, keyPem);
  const device = new X509Certificate(issueDeviceCertificate(ca, { commonName: 'Aspen enrollment 1', publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey }).certPem);
  assert.ok(readCertificate(device.raw));
  const identity = new DeviceCertVerifier(root.pem + certPem).verify(device.raw);
  assert.equal(identity.subject, device.subject);
  assert.equal(identity.issuer, device.issuer);
  assert.equal(identity.serialNumber, device.serialNumber);
  assert.equal(identity.notBefore.getTime(), Date.parse(device.validFrom));
  assert.equal(identity.notAfter.getTime(), Date.parse(device.validTo));
  assert.deepEqual(identity.publicKey.export({ type: 'spki', format: 'der' }), device.publicKey.export({ type: 'spki', format: 'der' }));
  assert.equal(identity.anchor, ca.certificate.fingerprint256.replaceAll(':', '').toLowerCase());
});
