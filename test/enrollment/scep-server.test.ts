// The SCEP server over real HTTP on 127.0.0.1, driven by an independent test client (openssl for
// keys, CSRs and envelopes; asn1js and node:crypto for the signed message; openssl and pkijs to
// check the replies). Debian's scepclient is tested in scepclient.test.ts.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { handleScepRequest, MAX_SCEP_MESSAGE_BYTES, type PkiOperationOutcome } from '../../src/enrollment/index.ts';
import { issueDeviceCertificate } from '../../src/identity/device-ca.ts';
import { fingerprintOf, startScepRig, STATIC_CHALLENGE, type ScepRig } from '../helpers/scep-rig.ts';
import { MESSAGE_TYPE, ScepTestClient, type CertRep, type ScepCipher, type ScepDigest } from '../helpers/scep-test-client.ts';

const DIGEST_OID: Record<ScepDigest, string> = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' };
const OPENSSL_CIPHER: Record<ScepCipher, string> = { aes128: 'aes-128-cbc', aes256: 'aes-256-cbc', des3: 'des-ede3-cbc', des: 'des-cbc' };
const FAIL = { badAlg: '0', badMessageCheck: '1', badRequest: '2', badTime: '3', badCertId: '4' } as const;

let rig: ScepRig;
let client: ScepTestClient;

before(async () => {
  rig = await startScepRig();
  client = new ScepTestClient(rig.pki, rig.caCertPath, rig.server.url);
});
after(async () => {
  const statuses = rig.server.statuses;
  await rig.close();
  // No request, however bad, may have made the server fail.
  assert.deepEqual(statuses.filter((s) => s >= 500), []);
});

function lastOutcome(): PkiOperationOutcome {
  const outcome = rig.server.outcomes.at(-1);
  assert.ok(outcome);
  return outcome;
}

/** Sends `message` and returns the verified CertRep, after checking what every CertRep must echo. */
async function exchange(message: { der: Buffer; transactionId: string; senderNonce: Buffer }, method: 'POST' | 'GET' = 'POST'): Promise<CertRep> {
  const reply = await client.send(message.der, method);
  assert.equal(reply.status, 200, reply.body.toString());
  assert.equal(reply.contentType, 'application/x-pki-message');
  const certRep = client.readCertRep(reply.body); // throws unless signed by the CA
  assert.equal(certRep.messageType, '3');
  assert.equal(certRep.transactionId, message.transactionId);
  assert.deepEqual(certRep.recipientNonce, message.senderNonce);
  assert.equal(certRep.senderNonce.length, 16);
  assert.notDeepEqual(certRep.senderNonce, message.senderNonce);
  return certRep;
}

function assertFailure(certRep: CertRep, failInfo: keyof typeof FAIL): void {
  assert.equal(certRep.pkiStatus, '2');
  assert.equal(certRep.failInfo, FAIL[failInfo]);
  assert.equal(certRep.envelope, undefined);
}

function certificateText(path: string): string {
  return rig.pki.openssl(['x509', '-in', path, '-noout', '-text']).toString();
}

describe('GetCACaps and GetCACert', () => {
  test('GetCACaps lists the capabilities one a line', async () => {
    const reply = await client.operation('GetCACaps');
    assert.equal(reply.status, 200);
    assert.match(reply.contentType, /^text\/plain/);
    assert.deepEqual(reply.body.toString().trim().split('\n'), ['POSTPKIOperation', 'SHA-256', 'AES', 'SCEPStandard', 'Renewal']);
  });

  test('GetCACert is the CA certificate alone, as DER', async () => {
    const reply = await client.operation('GetCACert', { message: 'any CA identifier' });
    assert.equal(reply.status, 200);
    assert.equal(reply.contentType, 'application/x-x509-ca-cert');
    assert.deepEqual(reply.body, rig.deviceCa.certificate.raw);
    const file = rig.pki.write('getcacert.der', reply.body);
    assert.match(rig.pki.openssl(['x509', '-inform', 'DER', '-in', file, '-noout', '-subject']).toString(), /CN ?= ?Aspen Device CA/);
  });

  test('an unknown or missing operation, and a PKIOperation without a message, get a 400 saying so', async () => {
    const unknown = await client.operation('GetNextCACert');
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.toString(), /unsupported SCEP operation "GetNextCACert"/);
    const missing = await fetch(rig.server.url);
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /missing SCEP operation/);
    const empty = await client.operation('PKIOperation');
    assert.equal(empty.status, 400);
    assert.match(empty.body.toString(), /needs a message/);
  });
});

describe('PKCSReq', () => {
  test('issues a client certificate for the requested subject and key, and says what it issued', async () => {
    const message = client.request({ challenge: STATIC_CHALLENGE, subject: '/C=NL/O=Aspen Tests/OU=Fleet/CN=device 1' });
    const certRep = await exchange(message);
    assert.equal(certRep.pkiStatus, '0');
    assert.equal(certRep.failInfo, undefined);
    const issued = client.issuedCertificate(certRep, message.requester);

    const text = certificateText(issued);
    assert.match(text, /Issuer: CN ?= ?Aspen Device CA/);
    assert.match(text, /Subject: C ?= ?NL, O ?= ?Aspen Tests, OU ?= ?Fleet, CN ?= ?device 1/);
    assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /CA:FALSE/);
    rig.pki.openssl(['verify', '-CAfile', rig.caCertPath, '-purpose', 'sslclient', issued]);

    const certificate = new X509Certificate(readFileSync(issued));
    const requestedKey = createPublicKey(readFileSync(message.requester.key));
    assert.ok(certificate.publicKey.equals(requestedKey));
    const days = (Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 86_400_000;
    assert.equal(days, 365);
    // 128 random bits: 16 bytes, or 17 with a sign byte (15 once in 256 serials).
    assert.ok(certificate.serialNumber.length >= 28 && certificate.serialNumber.length <= 34, certificate.serialNumber);

    const outcome = lastOutcome();
    assert.equal(outcome.result, 'issued');
    if (outcome.result !== 'issued') return;
    assert.equal(outcome.messageType, 'PKCSReq');
    assert.equal(outcome.transactionId, message.transactionId);
    assert.equal(outcome.challenge, STATIC_CHALLENGE);
    assert.equal(outcome.certificate.serialNumber, certificate.serialNumber);
    assert.equal(outcome.certificate.fingerprint, createHash('sha256').update(certificate.raw).digest('hex'));
    assert.equal(outcome.certificate.subject, certificate.subject);
    assert.equal(outcome.certificate.notAfter.getTime(), Date.parse(certificate.validTo));
    assert.deepEqual(outcome.certificate.der, certificate.raw);
    // The challenge callback saw the very certificate that was then delivered.
    assert.equal(rig.approved.at(-1)?.certificate.fingerprint, outcome.certificate.fingerprint);
  });

  test('every issued certificate has its own serial', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const message = client.request({ challenge: STATIC_CHALLENGE });
      const certRep = await exchange(message);
      serials.add(new X509Certificate(readFileSync(client.issuedCertificate(certRep, message.requester))).serialNumber);
    }
    assert.equal(serials.size, 3);
  });

  describe('algorithms: the reply uses the request\'s digest and cipher', () => {
    for (const digest of ['sha1', 'sha256'] as const) {
      for (const cipher of ['aes128', 'aes256', 'des3', 'des'] as const) {
        test(`${digest} with ${cipher}`, async () => {
          const message = client.request({ challenge: STATIC_CHALLENGE, digest, cipher });
          const certRep = await exchange(message);
          assert.equal(certRep.pkiStatus, '0');
          assert.equal(certRep.digestOid, DIGEST_OID[digest]);
          assert.equal(client.envelopeCipher(certRep.envelope!), OPENSSL_CIPHER[cipher]);
          const issued = client.issuedCertificate(certRep, message.requester);
          rig.pki.openssl(['verify', '-CAfile', rig.caCertPath, '-purpose', 'sslclient', issued]);
        });
      }
    }
  });

  describe('BER: indefinite-length messages and envelopes, as Apple devices send', () => {
    for (const cipher of ['aes128', 'des3'] as const) {
      test(`${cipher} envelope from openssl cms -stream inside an indefinite-length SignedData`, async () => {
        let envelopeHeader: Buffer | undefined;
        const message = client.request({
          challenge: STATIC_CHALLENGE,
          cipher,
          ber: true,
          changeEnvelope: (envelope) => ((envelopeHeader = envelope.subarray(0, 2)), envelope),
        });
        // Both really are indefinite-length: SEQUENCE, length octet 0x80.
        assert.deepEqual(envelopeHeader, Buffer.from([0x30, 0x80]));
        assert.deepEqual(message.der.subarray(0, 2), Buffer.from([0x30, 0x80]));
        const certRep = await exchange(message);
        assert.equal(certRep.pkiStatus, '0');
        client.issuedCertificate(certRep, message.requester);
      });
    }
  });

  test('by GET, with the message base64 in the query', async () => {
    const message = client.request({ challenge: STATIC_CHALLENGE });
    const certRep = await exchange(message, 'GET');
    assert.equal(certRep.pkiStatus, '0');
  });

  test('by GET from clients that leave + unescaped (read as a space) or use the URL-safe alphabet', async () => {
    for (const encode of [
      (b64: string) => b64, // '+' unescaped: the query parser turns it into a space
      (b64: string) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    ]) {
      let message = client.request({ challenge: STATIC_CHALLENGE });
      while (!message.der.toString('base64').includes('+')) message = client.request({ challenge: STATIC_CHALLENGE });
      const response = await fetch(`${rig.server.url}?operation=PKIOperation&message=${encode(message.der.toString('base64'))}`);
      assert.equal(response.status, 200);
      assert.equal(client.readCertRep(Buffer.from(await response.arrayBuffer())).pkiStatus, '0');
    }
  });

  test('a wrong or missing challenge gets FAILURE badRequest and no certificate', async () => {
    const before = rig.approved.length;
    for (const challenge of ['not-the-challenge', undefined]) {
      const certRep = await exchange(client.request({ ...(challenge !== undefined && { challenge }) }));
      assertFailure(certRep, 'badRequest');
      const outcome = lastOutcome();
      assert.equal(outcome.result, 'failed');
      assert.equal(outcome.result === 'failed' && outcome.failInfo, 'badRequest');
    }
    assert.equal(rig.approved.length, before);
  });

  test('a single-use challenge works once', async () => {
    const invite = randomBytes(16).toString('hex');
    rig.invites.add(invite);
    assert.equal((await exchange(client.request({ challenge: invite }))).pkiStatus, '0');
    assertFailure(await exchange(client.request({ challenge: invite })), 'badRequest');
  });

  test('a bad request never reaches the challenge check, so it cannot use up an invite', async () => {
    const invite = randomBytes(16).toString('hex');
    rig.invites.add(invite);
    const shortKey = rig.pki.write('short.key', '');
    rig.pki.openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', shortKey]);
    assertFailure(await exchange(client.request({ challenge: invite, key: shortKey })), 'badRequest');
    assertFailure(await exchange(client.request({ challenge: invite, changeEnvelope: flipLastByte })), 'badMessageCheck');
    assert.ok(rig.invites.has(invite));
    assert.equal((await exchange(client.request({ challenge: invite }))).pkiStatus, '0');
  });

  test('keys other than RSA of 2048 bits or more are refused', async () => {
    const shortKey = rig.pki.write('short-2.key', '');
    rig.pki.openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', shortKey]);
    assertFailure(await exchange(client.request({ challenge: STATIC_CHALLENGE, key: shortKey })), 'badRequest');
    // An EC key, with the message signed by an RSA certificate (SCEP replies need an RSA key).
    const ecKey = rig.pki.newKey('ec-request', 'ec');
    const rsaSigner = client.request().requester;
    const certRep = await exchange(client.request({ challenge: STATIC_CHALLENGE, key: ecKey, signer: { cert: rsaSigner.signerCert, key: rsaSigner.signerKey } }));
    assertFailure(certRep, 'badAlg');
    const big = rig.pki.write('rsa-3072.key', '');
    rig.pki.openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072', '-out', big]);
    assert.equal((await exchange(client.request({ challenge: STATIC_CHALLENGE, key: big }))).pkiStatus, '0');
  });

  test('the signer must be a self-signed certificate for the requested key', async () => {
    // Signed by another key's self-signed certificate.
    const other = client.request({ key: rig.pki.newKey('other', 'rsa') }).requester;
    assertFailure(await exchange(client.request({ challenge: STATIC_CHALLENGE, signer: { cert: other.signerCert, key: other.signerKey } })), 'badRequest');
    // Signed by a certificate for the right key that a CA issued.
    const key = rig.pki.newKey('ca-signed', 'rsa');
    const { certPem } = issueDeviceCertificate(rig.deviceCa, { commonName: 'ca-signed', publicKey: createPublicKey(readFileSync(key)) });
    const cert = rig.pki.write('ca-signed.pem', certPem);
    assertFailure(await exchange(client.request({ challenge: STATIC_CHALLENGE, key, signer: { cert, key } })), 'badRequest');
  });

  test('message types other than PKCSReq and RenewalReq get FAILURE badRequest', async () => {
    assertFailure(await exchange(client.request({ challenge: STATIC_CHALLENGE, messageType: MESSAGE_TYPE.CertPoll })), 'badRequest');
  });
});

describe('RenewalReq', () => {
  async function enrolled(): Promise<{ cert: string; key: string }> {
    const message = client.request({ challenge: STATIC_CHALLENGE });
    const certRep = await exchange(message);
    return { cert: client.issuedCertificate(certRep, message.requester), key: message.requester.key };
  }

  test('signed by a current identity, issues a certificate for a new key without a challenge', async () => {
    const identity = await enrolled();
    const message = client.request({ messageType: MESSAGE_TYPE.RenewalReq, signer: identity });
    const certRep = await exchange(message);
    assert.equal(certRep.pkiStatus, '0');
    // Encrypted to the identity that signed the renewal.
    const renewed = client.issuedCertificate(certRep, message.requester);
    const certificate = new X509Certificate(readFileSync(renewed));
    assert.ok(certificate.publicKey.equals(createPublicKey(readFileSync(message.requester.key))));
    rig.pki.openssl(['verify', '-CAfile', rig.caCertPath, '-purpose', 'sslclient', renewed]);

    const outcome = lastOutcome();
    assert.equal(outcome.result, 'issued');
    if (outcome.result !== 'issued') return;
    assert.equal(outcome.messageType, 'RenewalReq');
    assert.equal(outcome.challenge, undefined);
    assert.equal(outcome.renewed?.fingerprint, fingerprintOf(readFileSync(identity.cert, 'utf8')));
    assert.equal(outcome.certificate.fingerprint, fingerprintOf(certificate));
  });

  test('signed by an identity that is not current (unknown or revoked) gets FAILURE badCertId', async () => {
    const identity = await enrolled();
    rig.identities.delete(fingerprintOf(readFileSync(identity.cert, 'utf8'))); // revoked
    assertFailure(await exchange(client.request({ messageType: MESSAGE_TYPE.RenewalReq, signer: identity })), 'badCertId');
    // A self-signed certificate is nobody's identity.
    const stranger = client.request().requester;
    assertFailure(
      await exchange(client.request({ messageType: MESSAGE_TYPE.RenewalReq, signer: { cert: stranger.signerCert, key: stranger.signerKey } })),
      'badCertId',
    );
  });

  test('signed by an expired identity gets FAILURE badTime, even if it was ours', async () => {
    const key = rig.pki.newKey('expired', 'rsa');
    const { certPem } = issueDeviceCertificate(rig.deviceCa, {
      commonName: 'expired',
      publicKey: createPublicKey(readFileSync(key)),
      validityDays: 1,
      now: new Date(Date.now() - 3 * 86_400_000),
    });
    rig.identities.add(fingerprintOf(certPem));
    const cert = rig.pki.write('expired.pem', certPem);
    assertFailure(await exchange(client.request({ messageType: MESSAGE_TYPE.RenewalReq, signer: { cert, key } })), 'badTime');
  });
});

describe('tampered and garbage messages', () => {
  test('bytes that are not a SCEP message get a 400', async () => {
    const valid = client.request({ challenge: STATIC_CHALLENGE }).der;
    for (const body of [randomBytes(600), Buffer.from('hello'), valid.subarray(0, valid.length >> 1), Buffer.concat([valid, Buffer.from([0])])]) {
      const reply = await client.send(body);
      assert.equal(reply.status, 400);
      assert.match(reply.body.toString(), /^not a SCEP request/);
    }
    const reply = await fetch(`${rig.server.url}?operation=PKIOperation&message=${encodeURIComponent('not base64!')}`);
    assert.equal(reply.status, 400);
  });

  test('a message larger than the limit gets a 413', async () => {
    const reply = await client.send(Buffer.alloc(MAX_SCEP_MESSAGE_BYTES + 1, 0x30));
    assert.equal(reply.status, 413);
  });

  test('a changed signature or signed content gets FAILURE badMessageCheck', async () => {
    const message = client.request({ challenge: STATIC_CHALLENGE });
    const badSignature = Buffer.from(message.der);
    badSignature[badSignature.length - 1]! ^= 0x01; // the signature is the last field
    assertFailure(await exchange({ ...message, der: badSignature }), 'badMessageCheck');
    // The envelope changed after signing: the messageDigest no longer matches.
    const content = message.der.indexOf(Buffer.from('06092a864886f70d010703', 'hex')); // id-envelopedData inside eContent
    const badContent = Buffer.from(message.der);
    badContent[content + 40]! ^= 0x01;
    assertFailure(await exchange({ ...message, der: badContent }), 'badMessageCheck');
  });

  test('every way a signed envelope can fail to decrypt gets the same FAILURE, for the same stated reason', async () => {
    const otherRecipient = rig.pki.rootCa('Someone Else');
    const encryptToCa = (bytes: Buffer) => {
      const file = rig.pki.write('not-a-csr.bin', bytes);
      return rig.pki.openssl(['cms', '-encrypt', '-binary', '-in', file, '-outform', 'DER', '-recip', rig.caCertPath, '-aes128']);
    };
    const cases: Record<string, (envelope: Buffer) => Buffer> = {
      'content padding broken (last ciphertext byte)': flipLastByte,
      'content key garbled (encryptedKey byte)': (envelope) => flipAt(envelope, encryptedKeyOffset(envelope) + 100),
      'content that is not a CSR': () => encryptToCa(randomBytes(300)),
      'a CSR whose signature does not verify': () => {
        const csr = rig.pki.openssl(['req', '-new', '-config', 'req.cnf', '-key', rig.pki.newKey('broken-csr', 'rsa'), '-subj', '/CN=x', '-outform', 'DER']);
        return encryptToCa(flipAt(csr, csr.length - 5));
      },
    };
    const reasons = new Set<string>();
    for (const [name, changeEnvelope] of Object.entries(cases)) {
      const certRep = await exchange(client.request({ challenge: STATIC_CHALLENGE, changeEnvelope }));
      assert.equal(certRep.failInfo, FAIL.badMessageCheck, name);
      const outcome = lastOutcome();
      assert.ok(outcome.result === 'failed', name);
      reasons.add(outcome.reason);
    }
    assert.equal(reasons.size, 1, [...reasons].join(' / '));

    // Encrypted to another certificate: stated in the clear, still badMessageCheck.
    const elsewhere = () => {
      const file = rig.pki.write('csr-elsewhere.der', rig.pki.openssl(['req', '-new', '-config', 'req.cnf', '-key', rig.pki.newKey('elsewhere', 'rsa'), '-subj', '/CN=x', '-outform', 'DER']));
      return rig.pki.openssl(['cms', '-encrypt', '-binary', '-in', file, '-outform', 'DER', '-recip', otherRecipient.cert, '-aes128']);
    };
    assertFailure(await exchange(client.request({ challenge: STATIC_CHALLENGE, changeEnvelope: elsewhere })), 'badMessageCheck');
  });

  test('any single changed byte gets a 400 or a signed CertRep, never a server error', async () => {
    const message = client.request({ challenge: STATIC_CHALLENGE, ber: true });
    const step = Math.max(1, Math.floor(message.der.length / 40));
    for (let offset = 0; offset < message.der.length; offset += step) {
      const reply = await client.send(flipAt(message.der, offset, 0xff));
      assert.ok(reply.status === 200 || reply.status === 400, `offset ${offset}: ${reply.status}`);
      if (reply.status === 200) assert.equal(client.peekCertRep(reply.body).messageType, '3', `offset ${offset}`);
    }
  });
});

test('changed bytes and truncations all through a BER and a DER message never throw', async () => {
  const deps = { ca: rig.ca, checkChallenge: () => Promise.resolve('ok' as const), checkRenewal: () => Promise.resolve('ok' as const) };
  for (const options of [{ ber: true }, { cipher: 'des' as const, digest: 'sha1' as const }]) {
    const { der } = client.request({ challenge: STATIC_CHALLENGE, ...options });
    const masks = [0x01, 0x80, 0xff];
    for (let offset = 0; offset < der.length; offset += 4) {
      for (const message of [flipAt(der, offset, masks[offset % 3]), der.subarray(0, offset)]) {
        const response = await handleScepRequest({ operation: 'PKIOperation', message }, deps);
        assert.ok(response.status === 200 || response.status === 400, `offset ${offset}: ${response.status}`);
      }
    }
  }
});

test('a failing challenge callback is a server error, not a FAILURE the device would give up on', async () => {
  const message = client.request({ challenge: STATIC_CHALLENGE });
  const deps = {
    ca: rig.ca,
    checkChallenge: () => Promise.reject(new Error('database is down')),
    checkRenewal: () => Promise.resolve('ok' as const),
  };
  await assert.rejects(handleScepRequest({ operation: 'PKIOperation', message: message.der }, deps), /database is down/);
});

function flipAt(bytes: Buffer, offset: number, mask = 0x01): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset]! ^= mask;
  return copy;
}

function flipLastByte(envelope: Buffer): Buffer {
  return flipAt(envelope, envelope.length - 1);
}

/** Offset of the encryptedKey OCTET STRING in an openssl DER envelope (after rsaEncryption NULL). */
function encryptedKeyOffset(envelope: Buffer): number {
  const algorithm = envelope.indexOf(Buffer.from('06092a864886f70d0101010500', 'hex'));
  assert.ok(algorithm > 0);
  return algorithm + 13;
}
