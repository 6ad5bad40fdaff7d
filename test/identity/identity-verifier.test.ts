import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DeviceCertVerifier } from '../../src/identity/device-cert-verifier.ts';
import { IdentityError, type IdentityFailure } from '../../src/identity/errors.ts';
import { IdentityVerifier, OFF_THREAD_BODY_BYTES } from '../../src/identity/identity-verifier.ts';
import { signerOfValidSignature } from '../helpers/mdm-signer.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';

function refusedWith(reason: IdentityFailure) {
  return (error: unknown) => error instanceof IdentityError && error.reason === reason;
}

const body = Buffer.from('<?xml version="1.0"?><plist version="1.0"><dict><key>MessageType</key><string>TokenUpdate</string></dict></plist>\n');

let pki: OpensslPki;
let ca: Issued;
let device: Issued;
let identities: IdentityVerifier;

before(() => {
  pki = new OpensslPki();
  ca = pki.rootCa('Identity CA');
  device = pki.issue('identity-device', ca);
  identities = new IdentityVerifier(new DeviceCertVerifier(ca.pem));
});
after(() => pki.cleanup());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

test('a signed request from a trusted device yields its identity', () => {
  for (const md of ['sha1', 'sha256'] as const) {
    for (const noattr of [true, false]) {
      const identity = identities.fromMdmSignature(pki.sign(body, device, { md, noattr }), body);
      assert.equal(identity.fingerprint, sha256(device.der));
    }
  }
});

test('a valid signature by an untrusted device is refused as unknown-ca', () => {
  const stranger = pki.issue('stranger', pki.rootCa('Stranger CA'));
  const header = pki.sign(body, stranger, { md: 'sha1', noattr: true });
  assert.deepEqual(signerOfValidSignature(header, body), stranger.der, 'the signature itself is fine');
  assert.throws(() => identities.fromMdmSignature(header, body), refusedWith('unknown-ca'));
});

test('an expired device certificate is refused even with a good signature', () => {
  const expired = pki.issue('expired-device', ca, { startDate: '20200101000000Z', endDate: '20210101000000Z' });
  const header = pki.sign(body, expired, { md: 'sha256', noattr: true });
  assert.throws(() => identities.fromMdmSignature(header, body), refusedWith('expired'));
});

test('a trusted certificate does not vouch for a tampered body', () => {
  const header = pki.sign(body, device, { md: 'sha1', noattr: true });
  const changed = Buffer.from(body);
  changed[10] = (changed[10] ?? 0) ^ 0x20;
  assert.throws(() => identities.fromMdmSignature(header, changed), refusedWith('bad-signature'));
});

test('a signature that verified once vouches for that body and header only, and the certificate is still checked each time', () => {
  const signer = pki.issue('repeating-device', ca, { startDate: '20250101000000Z', endDate: '20300101000000Z' });
  const fresh = new IdentityVerifier(new DeviceCertVerifier(ca.pem));
  const during = new Date();
  for (const noattr of [true, false]) {
    const header = pki.sign(body, signer, { md: 'sha256', noattr });
    // The same message twice (a device polling with its Idle): the same identity both times.
    assert.equal(fresh.fromMdmSignature(header, body, during).fingerprint, sha256(signer.der));
    assert.equal(fresh.fromMdmSignature(header, body, during).fingerprint, sha256(signer.der));
    const changed = Buffer.from(body);
    changed[10] = (changed[10] ?? 0) ^ 0x20;
    assert.throws(() => fresh.fromMdmSignature(header, changed, during), refusedWith('bad-signature'), 'another body under the same header');
    // The same header and body once the certificate has expired.
    assert.throws(() => fresh.fromMdmSignature(header, body, new Date('2031-01-01T00:00:00Z')), refusedWith('expired'));
  }
  // Another signature over the same body (a flipped bit in the signature value, the header's end).
  const header = pki.sign(body, signer, { md: 'sha256', noattr: true });
  const der = Buffer.from(header, 'base64');
  const at = der.length - 10;
  der[at] = (der[at] ?? 0) ^ 0x01;
  assert.throws(() => fresh.fromMdmSignature(der.toString('base64'), body, during), refusedWith('bad-signature'));
});

test('a certificate without client authentication cannot sign requests', () => {
  const server = pki.issue('server-cert', ca, { extensions: ['extendedKeyUsage=serverAuth'] });
  const header = pki.sign(body, server, { md: 'sha256' });
  assert.throws(() => identities.fromMdmSignature(header, body), refusedWith('not-client-auth'));
});

test('mTLS and forwarded certificates resolve to the same identity as the signature', () => {
  const signed = identities.fromMdmSignature(pki.sign(body, device, { md: 'sha256' }), body);
  assert.equal(identities.fromPeerCertificate(device.der), signed);
  assert.equal(identities.fromForwardedCertificate(`:${device.der.toString('base64')}:`), signed);
  assert.equal(identities.fromForwardedCertificate(encodeURIComponent(device.pem)), signed);
  assert.throws(() => identities.fromForwardedCertificate('garbage'), refusedWith('malformed'));
});

test('timing: first versus cached Mdm-Signature verification (printed, not asserted)', () => {
  for (const keyType of ['rsa', 'ec'] as const) {
    const signer = pki.issue(`timing-${keyType}`, ca, { keyType });
    const header = pki.sign(body, signer, { md: 'sha1', noattr: true });
    const fresh = new IdentityVerifier(new DeviceCertVerifier(ca.pem));
    const started = performance.now();
    fresh.fromMdmSignature(header, body);
    const first = performance.now() - started;

    const rounds = 2000;
    const loopStart = performance.now();
    for (let i = 0; i < rounds; i++) fresh.fromMdmSignature(header, body);
    const cached = (performance.now() - loopStart) / rounds;

    const peerStart = performance.now();
    for (let i = 0; i < rounds; i++) fresh.fromPeerCertificate(signer.der);
    const peer = (performance.now() - peerStart) / rounds;
    console.log(
      `  ${keyType}: first Mdm-Signature ${first.toFixed(3)} ms, cached ${(cached * 1000).toFixed(1)} µs/call; cached certificate only ${(peer * 1000).toFixed(1)} µs/call`,
    );
  }
});

test('an intermediate carried in the signature completes the path to the trusted root', () => {
  const issuing = pki.intermediateCa('Identity Issuing CA', ca);
  const below = pki.issue('device-below-issuing', issuing);
  const carried = pki.sign(body, below, { md: 'sha256', noattr: true, certfile: issuing.cert });
  // The second time the message is remembered, and the path through the carried intermediate still counts.
  for (let i = 0; i < 2; i++) assert.equal(identities.fromMdmSignature(carried, body).fingerprint, sha256(below.der));
  const alone = pki.sign(body, below, { md: 'sha256', noattr: true });
  assert.throws(() => identities.fromMdmSignature(alone, body), refusedWith('unknown-ca'));
});

test('a body larger than OFF_THREAD_BODY_BYTES is checked off the event loop, with the same verdicts', async () => {
  const large = Buffer.concat([body, Buffer.alloc(OFF_THREAD_BODY_BYTES, '<!-- padding -->')]);
  for (const md of ['sha1', 'sha256'] as const) {
    for (const noattr of [true, false]) {
      const header = pki.sign(large, device, { md, noattr });
      assert.equal((await identities.fromMdmSignatureOfAnySize(header, large)).fingerprint, sha256(device.der), `${md} noattr=${noattr}`);
      const tampered = Buffer.from(large);
      tampered[tampered.length - 5] = tampered[tampered.length - 5]! ^ 0x01;
      await assert.rejects(identities.fromMdmSignatureOfAnySize(header, tampered), refusedWith('bad-signature'), `${md} noattr=${noattr}`);
    }
  }
  const small = pki.sign(body, device, { md: 'sha256', noattr: true });
  assert.equal((await identities.fromMdmSignatureOfAnySize(small, body)).fingerprint, sha256(device.der));
});
