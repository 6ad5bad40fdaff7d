import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as asn1js from 'asn1js';
import { join } from 'node:path';
import { decodeBer, type BerNode } from '../../src/identity/ber.ts';
import { IdentityError, type IdentityFailure } from '../../src/identity/errors.ts';
import { MAX_MDM_SIGNATURE_LENGTH, parseMdmSignature } from '../../src/identity/mdm-signature.ts';
import { signerOfValidSignature } from '../helpers/mdm-signer.ts';
import { OpensslPki, type Issued, type KeyType, type SignOptions } from '../helpers/openssl-pki.ts';

const FIXTURES = new URL('../fixtures/nanomdm/cryptoutil-mdm-signature/', import.meta.url).pathname;
const realHeader1 = readFileSync(join(FIXTURES, 'mdmSignatureHeader1.b64'), 'utf8').trim();
const realHeader2 = readFileSync(join(FIXTURES, 'mdmSignatureHeader2.b64'), 'utf8').trim();
const realBody2 = readFileSync(join(FIXTURES, 'mdmSignatureBody2.plist'));

const body = Buffer.from('<?xml version="1.0"?><plist version="1.0"><dict><key>Status</key><string>Idle</string></dict></plist>\n');

function refusedWith(reason: IdentityFailure) {
  return (error: unknown) => error instanceof IdentityError && error.reason === reason;
}

function tampered(bytes: Uint8Array): Buffer {
  const copy = Buffer.from(bytes);
  copy[copy.length >> 1] = (copy[copy.length >> 1] ?? 0) ^ 0x01;
  return copy;
}

let pki: OpensslPki;
const signers = new Map<KeyType, Issued>();

before(() => {
  pki = new OpensslPki();
  const ca = pki.rootCa('Signature Test CA');
  signers.set('rsa', pki.issue('rsa-device', ca, { keyType: 'rsa' }));
  signers.set('ec', pki.issue('ec-device', ca, { keyType: 'ec' }));
});
after(() => pki.cleanup());

describe('real device headers', () => {
  test('Header2 verifies over the body it signed and yields the signer certificate openssl finds', () => {
    const headerFile = pki.write('header2.der', Buffer.from(realHeader2, 'base64'));
    const bodyFile = pki.write('body2.plist', realBody2);
    pki.openssl(['cms', '-verify', '-inform', 'DER', '-in', headerFile, '-content', bodyFile, '-noverify', '-binary', '-signer', 'signer2.pem', '-out', '/dev/null']);
    const opensslSigner = pki.openssl(['x509', '-in', 'signer2.pem', '-outform', 'DER']);

    const certDer = signerOfValidSignature(realHeader2, realBody2);
    assert.deepEqual(certDer, opensslSigner);
  });

  test('Header2 is SHA-1 without signed attributes, as devices send it', () => {
    const signature = parseMdmSignature(realHeader2);
    assert.equal(signature.digest, 'sha1');
    assert.equal(signature.keyType, 'rsa');
    assert.equal(signature.signedAttributes, undefined);
  });

  test('Header2 fails over a body changed by one byte', () => {
    assert.throws(() => signerOfValidSignature(realHeader2, tampered(realBody2)), refusedWith('bad-signature'));
  });

  test('Header1 parses to its signer certificate but does not verify over Body2', () => {
    const certs = pki.openssl(['pkcs7', '-inform', 'DER', '-print_certs'], Buffer.from(realHeader1, 'base64')).toString();
    const opensslCert = pki.openssl(['x509', '-outform', 'DER'], Buffer.from(certs));
    assert.deepEqual(parseMdmSignature(realHeader1).signerCertDer, opensslCert);
    assert.throws(() => signerOfValidSignature(realHeader1, realBody2), refusedWith('bad-signature'));
  });
});

describe('openssl cms signatures', () => {
  const variants: { keyType: KeyType; options: SignOptions }[] = [];
  for (const keyType of ['rsa', 'ec'] as const) {
    for (const md of ['sha1', 'sha256', 'sha384', 'sha512'] as const) {
      for (const noattr of [true, false]) variants.push({ keyType, options: { md, noattr } });
    }
    variants.push({ keyType, options: { md: 'sha256', keyid: true } });
  }

  for (const { keyType, options } of variants) {
    const name = `${keyType} ${options.md} ${options.noattr ? 'without' : 'with'} signed attributes${options.keyid ? ', signer by key id' : ''}`;
    test(`${name}: accepted with the signer's certificate, refused over a tampered body`, () => {
      const signer = signers.get(keyType) as Issued;
      const header = pki.sign(body, signer, options);
      const signature = parseMdmSignature(header);
      assert.equal(signature.digest, options.md);
      assert.equal(signature.signedAttributes === undefined, options.noattr === true);
      assert.deepEqual(signerOfValidSignature(header, body), signer.der);
      assert.throws(() => signerOfValidSignature(header, tampered(body)), refusedWith('bad-signature'));
    });
  }

  test('the signer is chosen by its SignerInfo, not by position among the certificates', () => {
    // openssl sorts the certificate SET by encoding, so one of these two has the signer second.
    const rsa = signers.get('rsa') as Issued;
    const ec = signers.get('ec') as Issued;
    for (const [signer, other] of [[rsa, ec], [ec, rsa]] as const) {
      for (const keyid of [false, true]) {
        const header = pki.sign(body, signer, { md: 'sha256', certfile: other.cert, keyid });
        assert.deepEqual(signerOfValidSignature(header, body), signer.der);
      }
    }
  });

  test('a signature by another key than the included certificate is refused', () => {
    // RSA PKCS#1 v1.5 is deterministic, so the signature openssl made can be found and replaced
    // by one from a different key of the same size, leaving the structure intact.
    const signer = signers.get('rsa') as Issued;
    const header = Buffer.from(pki.sign(body, signer, { md: 'sha256', noattr: true }), 'base64');
    const genuine = sign('sha256', body, createPrivateKey(readFileSync(signer.key)));
    const offset = header.indexOf(genuine);
    assert.ok(offset > 0, 'signature value found in the CMS');
    const otherKey = createPrivateKey(readFileSync(pki.newKey('impostor', 'rsa')));
    const forged = Buffer.from(header);
    sign('sha256', body, otherKey).copy(forged, offset);

    assert.deepEqual(signerOfValidSignature(header.toString('base64'), body), signer.der);
    assert.throws(() => signerOfValidSignature(forged.toString('base64'), body), refusedWith('bad-signature'));
  });

  test('a signature algorithm that contradicts the signer key type is refused', () => {
    // Without signed attributes nothing covers the algorithm label, so relabel a valid ECDSA
    // signature as RSA: accepting it would mean trusting a label the signer never vouched for.
    const signer = signers.get('ec') as Issued;
    const header = pki.sign(body, signer, { md: 'sha256', noattr: true });
    const contentInfo = asn1js.fromBER(Buffer.from(header, 'base64'), { parseEmbedded: false }).result as asn1js.Sequence;
    const signedData = (contentInfo.valueBlock.value[1] as asn1js.Constructed).valueBlock.value[0] as asn1js.Sequence;
    const signerInfo = (signedData.valueBlock.value.at(-1) as asn1js.Set).valueBlock.value[0] as asn1js.Sequence;
    const signatureAlgorithm = signerInfo.valueBlock.value[3] as asn1js.Sequence;
    assert.equal((signatureAlgorithm.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString(), '1.2.840.10045.4.3.2');
    signatureAlgorithm.valueBlock.value[0] = new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.1.11' });
    const relabelled = Buffer.from(contentInfo.toBER()).toString('base64');

    assert.deepEqual(signerOfValidSignature(header, body), signer.der);
    assert.throws(() => signerOfValidSignature(relabelled, body), refusedWith('bad-signature'));
  });

  test('an attached (non-detached) signature is refused', () => {
    const input = pki.write('attached-body', body);
    const signer = signers.get('rsa') as Issued;
    const der = pki.openssl(['cms', '-sign', '-nodetach', '-binary', '-in', input, '-signer', signer.cert, '-inkey', signer.key, '-outform', 'DER']);
    assert.throws(() => signerOfValidSignature(der.toString('base64'), body), refusedWith('malformed'));
  });
});

/** How `reencode` writes an element's length: DER, indefinite, or in four bytes where one would do. */
type LengthForm = 'der' | 'indefinite' | 'long';

/** Re-encodes a decoded element, choosing each constructed element's length form. Low tag numbers only. */
function reencode(node: BerNode, form: (node: BerNode) => LengthForm): Buffer {
  const identifier = node.bytes.subarray(node.start, node.start + 1);
  const content = node.constructed
    ? Buffer.concat(node.children.map((child) => reencode(child, form)))
    : Buffer.from(node.bytes.subarray(node.valueStart, node.valueEnd));
  const chosen = node.constructed ? form(node) : 'der';
  if (chosen === 'indefinite') return Buffer.concat([identifier, Buffer.from([0x80]), content, Buffer.alloc(2)]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(content.length);
  if (chosen === 'long') return Buffer.concat([identifier, Buffer.from([0x84]), length, content]);
  const significant = length.subarray(length.findIndex((byte) => byte !== 0));
  const header = content.length < 0x80 ? Buffer.from([content.length]) : Buffer.concat([Buffer.from([0x80 | significant.length]), significant]);
  return Buffer.concat([identifier, header, content]);
}

describe('BER encodings of an openssl signature', () => {
  // The parts of a SignedData by position: ContentInfo > [0] > SignedData > fields.
  function parts(header: string) {
    const contentInfo = decodeBer(Buffer.from(header, 'base64'), 'test');
    const signedData = contentInfo.children[1]?.children[0] as BerNode;
    const signerInfo = signedData.children.at(-1)?.children[0] as BerNode;
    return { contentInfo, signedData, signerCert: signedData.children[3]?.children[0] as BerNode, signedAttrs: signerInfo.children[3] as BerNode };
  }
  const signed = () => pki.sign(body, signers.get('rsa') as Issued, { md: 'sha256' });

  test('indefinite lengths on the layers enclosing the certificate and signer are accepted, as devices send them', () => {
    const header = signed();
    const { contentInfo, signerCert, signedAttrs } = parts(header);
    const encloses = (outer: BerNode, node: BerNode) => outer !== node && node.start >= outer.start && node.end <= outer.end;
    const ber = reencode(contentInfo, (node) => (encloses(node, signerCert) || encloses(node, signedAttrs) ? 'indefinite' : 'der'));
    assert.notDeepEqual(ber, Buffer.from(header, 'base64'));
    assert.deepEqual(signerOfValidSignature(ber.toString('base64'), body), (signers.get('rsa') as Issued).der);
  });

  for (const form of ['indefinite', 'long'] as const) {
    test(`a signer certificate with a ${form} length is refused: it would not be the DER its CA signed`, () => {
      const { contentInfo, signerCert } = parts(signed());
      const header = reencode(contentInfo, (node) => (node === signerCert ? form : 'der')).toString('base64');
      assert.throws(() => parseMdmSignature(header), refusedWith('malformed'));
    });

    test(`signed attributes with a ${form} length are refused: the signature covers their DER`, () => {
      const { contentInfo, signedAttrs } = parts(signed());
      const header = reencode(contentInfo, (node) => (node === signedAttrs ? form : 'der')).toString('base64');
      assert.throws(() => parseMdmSignature(header), refusedWith('malformed'));
    });
  }

  test('the re-encoder reproduces the DER openssl wrote', () => {
    const header = signed();
    assert.equal(reencode(parts(header).contentInfo, () => 'der').toString('base64'), header);
  });
});

describe('malformed headers', () => {
  const signerDer = () => (signers.get('rsa') as Issued).der.toString('base64');
  const cases: [string, () => string][] = [
    ['empty', () => ''],
    ['not base64', () => 'this is not base64!'],
    ['base64 with junk inside', () => realHeader2.slice(0, 100) + '*' + realHeader2.slice(100)],
    ['random bytes', () => Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff)).toString('base64')],
    ['a certificate instead of a signature', signerDer],
    ['truncated', () => Buffer.from(realHeader2, 'base64').subarray(0, 600).toString('base64')],
    ['trailing bytes', () => Buffer.concat([Buffer.from(realHeader2, 'base64'), Buffer.from([0, 0])]).toString('base64')],
    ['over the size limit', () => 'A'.repeat(MAX_MDM_SIGNATURE_LENGTH + 4)],
  ];
  for (const [name, header] of cases) {
    test(`${name}: refused as malformed`, () => {
      assert.throws(() => signerOfValidSignature(header(), body), refusedWith('malformed'));
    });
  }

  test('10,000 nested indefinite-length SEQUENCEs are refused without exhausting the stack', () => {
    const depth = 10_000;
    const nested = Buffer.concat([Buffer.alloc(depth * 2, Buffer.from([0x30, 0x80])), Buffer.alloc(depth * 2)]);
    const header = nested.toString('base64');
    assert.ok(header.length < MAX_MDM_SIGNATURE_LENGTH, 'reaches the parser, not just the size limit');
    const started = performance.now();
    assert.throws(() => signerOfValidSignature(header, body), refusedWith('malformed'));
    console.log(`  deep nesting refused in ${(performance.now() - started).toFixed(2)} ms`);
  });
});
