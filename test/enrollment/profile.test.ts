// The enrollment profile: built, parsed back as a device's plist parser would, and its CMS
// signature checked with openssl (cms and smime), for RSA and EC signers with a chain.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  buildEnrollmentProfile,
  EnrollmentProfileError,
  profileSignerFromPem,
  signProfile,
  type EnrollmentProfileOptions,
} from '../../src/enrollment/index.ts';
import { decodePlistDict, isDict, type PlistDict, type PlistValue } from '../../src/protocol/plist.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';

const OPTIONS: EnrollmentProfileOptions = {
  identifier: 'com.example.mdm',
  organization: 'Example Inc.',
  scep: { url: 'https://mdm.example.com/scep', challenge: 'one-time-challenge' },
  mdm: {
    topic: 'com.apple.mgmt.External.1a2b3c4d-0000-4000-8000-000000000000',
    serverUrl: 'https://mdm.example.com/mdm',
    checkInUrl: 'https://mdm.example.com/checkin',
    serverCapabilities: ['com.apple.mdm.per-user-connections', 'com.apple.mdm.bootstraptoken'],
  },
};

let pki: OpensslPki;
let root: Issued;
let intermediate: Issued;

before(() => {
  pki = new OpensslPki();
  root = pki.rootCa('Profile Root');
  intermediate = pki.intermediateCa('Profile Intermediate', root);
});
after(() => pki.cleanup());

function payloads(profile: PlistDict): Map<string, PlistDict> {
  const content = profile.PayloadContent;
  assert.ok(Array.isArray(content));
  return new Map(content.filter(isDict).map((p) => [String(p.PayloadType), p]));
}

function dict(value: PlistValue | undefined): PlistDict {
  assert.ok(isDict(value));
  return value;
}

describe('profile contents', () => {
  test('a SCEP payload and an MDM payload that names it, with the given values and the defaults', () => {
    const built = buildEnrollmentProfile(OPTIONS);
    const profile = decodePlistDict(built.xml);
    assert.equal(profile.PayloadType, 'Configuration');
    assert.equal(profile.PayloadVersion, 1);
    assert.equal(profile.PayloadIdentifier, 'com.example.mdm');
    assert.equal(profile.PayloadUUID, built.payloadUuid);
    assert.equal(profile.PayloadOrganization, 'Example Inc.');
    const byType = payloads(profile);
    assert.deepEqual([...byType.keys()], ['com.apple.security.scep', 'com.apple.mdm']);

    const scep = byType.get('com.apple.security.scep')!;
    assert.equal(scep.PayloadIdentifier, 'com.example.mdm.scep');
    assert.equal(scep.PayloadUUID, built.scepPayloadUuid);
    const scepContent = dict(scep.PayloadContent);
    assert.equal(scepContent.URL, 'https://mdm.example.com/scep');
    assert.equal(scepContent.Challenge, 'one-time-challenge');
    assert.equal(scepContent.Keysize, 2048);
    assert.equal(scepContent['Key Type'], 'RSA');
    assert.equal(scepContent['Key Usage'], 5);
    assert.deepEqual(scepContent.Subject, built.subject.map(([type, value]) => [[type, value]]));
    assert.equal(built.subject[0]?.[0], 'O');
    assert.equal(built.subject[0]?.[1], 'Example Inc.');

    const mdm = byType.get('com.apple.mdm')!;
    assert.equal(mdm.PayloadIdentifier, 'com.example.mdm.mdm');
    assert.equal(mdm.PayloadVersion, 1);
    assert.equal(mdm.IdentityCertificateUUID, built.scepPayloadUuid);
    assert.equal(mdm.Topic, OPTIONS.mdm.topic);
    assert.equal(mdm.ServerURL, 'https://mdm.example.com/mdm');
    assert.equal(mdm.CheckInURL, 'https://mdm.example.com/checkin');
    assert.equal(mdm.SignMessage, true);
    assert.equal(mdm.AccessRights, 8191);
    assert.equal(mdm.CheckOutWhenRemoved, true);
    assert.deepEqual(mdm.ServerCapabilities, OPTIONS.mdm.serverCapabilities);
  });

  test('served again, it keeps its identifiers (so it replaces the installed one) with fresh UUIDs and a new subject', () => {
    const [a, b] = [buildEnrollmentProfile(OPTIONS), buildEnrollmentProfile(OPTIONS)];
    const [pa, pb] = [decodePlistDict(a.xml), decodePlistDict(b.xml)];
    assert.equal(pa.PayloadIdentifier, pb.PayloadIdentifier);
    const identifiers = (p: PlistDict) => [...payloads(p).values()].map((x) => x.PayloadIdentifier);
    assert.deepEqual(identifiers(pa), identifiers(pb));
    const uuids = (p: PlistDict) => [p.PayloadUUID, ...[...payloads(p).values()].map((x) => x.PayloadUUID)];
    assert.equal(new Set([...uuids(pa), ...uuids(pb)]).size, 6);
    assert.notDeepEqual(a.subject, b.subject);
  });

  test('the options the caller sets: subject, SignMessage, AccessRights, no CheckInURL or capabilities', () => {
    const built = buildEnrollmentProfile({
      ...OPTIONS,
      scep: { ...OPTIONS.scep, subject: [['CN', 'invite 42']], caName: 'Aspen' },
      mdm: { topic: OPTIONS.mdm.topic, serverUrl: OPTIONS.mdm.serverUrl, signMessage: false, accessRights: 1 | 2 | 16 },
    });
    const byType = payloads(decodePlistDict(built.xml));
    const scepContent = dict(byType.get('com.apple.security.scep')!.PayloadContent);
    assert.deepEqual(scepContent.Subject, [[['CN', 'invite 42']]]);
    assert.equal(scepContent.Name, 'Aspen');
    const mdm = byType.get('com.apple.mdm')!;
    assert.equal(mdm.SignMessage, false);
    assert.equal(mdm.AccessRights, 19);
    assert.equal('CheckInURL' in mdm, false);
    assert.equal('ServerCapabilities' in mdm, false);
  });

  test('a private TLS CA goes first, as a trust payload with the certificate DER', () => {
    const built = buildEnrollmentProfile({ ...OPTIONS, trustedCa: { der: root.der, name: 'Example TLS CA' } });
    const profile = decodePlistDict(built.xml);
    const byType = payloads(profile);
    assert.deepEqual([...byType.keys()], ['com.apple.security.root', 'com.apple.security.scep', 'com.apple.mdm']);
    const trust = byType.get('com.apple.security.root')!;
    assert.equal(trust.PayloadIdentifier, 'com.example.mdm.trust');
    assert.equal(trust.PayloadDisplayName, 'Example TLS CA');
    assert.deepEqual(Buffer.from(trust.PayloadContent as Uint8Array), root.der);
  });

  test('options no device would accept are refused, saying which', () => {
    const cases: [Partial<EnrollmentProfileOptions>, RegExp][] = [
      [{ identifier: 'mdm' }, /not reverse-DNS/],
      [{ scep: { url: 'ftp://x/scep', challenge: 'c' } }, /SCEP URL .* not an http\(s\) URL/],
      [{ scep: { url: OPTIONS.scep.url, challenge: '' } }, /challenge is empty/],
      [{ scep: { ...OPTIONS.scep, subject: [['CN', '']] } }, /empty type or value/],
      [{ mdm: { ...OPTIONS.mdm, topic: 'com.example.push' } }, /not an MDM push topic/],
      [{ mdm: { ...OPTIONS.mdm, serverUrl: 'mdm.example.com' } }, /ServerURL/],
      [{ mdm: { ...OPTIONS.mdm, accessRights: 0 } }, /AccessRights 0/],
      [{ mdm: { ...OPTIONS.mdm, accessRights: 2 } }, /2 needs 1/],
      [{ mdm: { ...OPTIONS.mdm, accessRights: 8192 } }, /AccessRights 8192/],
    ];
    for (const [change, message] of cases) {
      assert.throws(() => buildEnrollmentProfile({ ...OPTIONS, ...change }), (e: unknown) => e instanceof EnrollmentProfileError && message.test(e.message));
    }
  });
});

describe('profile signature', () => {
  for (const keyType of ['rsa', 'ec'] as const) {
    test(`signed by an ${keyType.toUpperCase()} certificate with its chain: openssl verifies it against the root alone`, () => {
      const leaf = pki.issue(`profile-signer-${keyType}`, intermediate, { keyType, extensions: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature'] });
      const signer = profileSignerFromPem(leaf.pem + readFileSync(intermediate.cert, 'utf8'), readFileSync(leaf.key, 'utf8'));
      const { xml } = buildEnrollmentProfile(OPTIONS);
      const signed = pki.write(`profile-${keyType}.mobileconfig`, signProfile(xml, signer));

      // The chain must travel in the signature: the trust store holds the root only.
      const content = pki.openssl(['cms', '-verify', '-inform', 'DER', '-in', signed, '-CAfile', root.cert, '-purpose', 'any', '-binary']);
      assert.equal(content.toString('utf8'), xml);
      const viaSmime = pki.openssl(['smime', '-verify', '-noverify', '-inform', 'DER', '-in', signed]);
      assert.equal(viaSmime.toString('utf8'), xml);
      // And the content is still the same profile.
      assert.equal(decodePlistDict(content).PayloadIdentifier, 'com.example.mdm');
      // Without the chain the same check fails: the intermediate came from the signature.
      const unchained = pki.write(`profile-${keyType}-unchained.mobileconfig`, signProfile(xml, { ...signer, chain: [] }));
      assert.throws(() => pki.openssl(['cms', '-verify', '-inform', 'DER', '-in', unchained, '-CAfile', root.cert, '-purpose', 'any', '-binary']));
    });
  }

  test('a changed byte in the signed profile fails verification', () => {
    const leaf = pki.issue('profile-signer-tamper', root);
    const { xml } = buildEnrollmentProfile(OPTIONS);
    const der = signProfile(xml, profileSignerFromPem(leaf.pem, readFileSync(leaf.key, 'utf8')));
    const at = der.indexOf(Buffer.from('one-time-challenge'));
    der[at] = 'O'.charCodeAt(0);
    const file = pki.write('tampered.mobileconfig', der);
    assert.throws(() => pki.openssl(['cms', '-verify', '-inform', 'DER', '-in', file, '-noverify', '-binary']));
  });

  test('a key that does not belong to the certificate is refused when the signer is loaded', () => {
    const a = pki.issue('profile-signer-a', root);
    const b = pki.issue('profile-signer-b', root);
    assert.throws(() => profileSignerFromPem(a.pem, readFileSync(b.key, 'utf8')), /does not belong/);
    assert.throws(() => profileSignerFromPem('', readFileSync(b.key, 'utf8')), /holds no certificate/);
  });
});
