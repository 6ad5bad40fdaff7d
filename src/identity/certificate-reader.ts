// A strict reading of the X.509 certificates the device CAs issue, for verifying a new device
// certificate without `new X509Certificate`: OpenSSL 3 decodes the certificate's public key
// through its provider decoders on construction, about 160 µs of a new device's first request
// here, while reading the DER ourselves and importing the key from its numbers (JWK) costs a few.
//
// It reads only the common shape, and answers undefined for everything else: a v3 certificate in
// DER, single-valued names of plain ASCII (so their text form is OpenSSL's without any escaping),
// UTCTime or GeneralizedTime to the second, an RSA (2048-8192 bits) or P-256/384/521 key,
// RSA PKCS#1 v1.5 or ECDSA signatures with SHA-256/384/512, and no extension beyond basic
// constraints, key usage, extended key usage and the two key identifiers, each at most once and
// in the form OpenSSL accepts. Undefined means "not for this reader", never "refused": the caller
// then verifies with X509Certificate as before, so a certificate outside this shape gets exactly
// the answer it got before, only not faster. Nothing here may accept what OpenSSL would not read.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { childrenOf, contentOf, decodeBer, encodingOf, expectTag, hasTag, oidOf, Tag, type BerNode, type BerTag } from './ber.ts';
import type { DigestName, SignerKeyType } from './signature-algorithms.ts';

/** What verifying a certificate reads of it. Byte fields index the DER it was read from. */
export interface ReadCertificate {
  /** The signed part, exactly as encoded. */
  readonly tbs: Uint8Array;
  readonly signatureDigest: DigestName;
  readonly signatureKeyType: SignerKeyType;
  readonly signature: Uint8Array;
  /** Uppercase hex without leading zero bytes, as X509Certificate's serialNumber. */
  readonly serialNumber: string;
  /** DER of the issuer and subject Names. */
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** The subject in X509Certificate's one-attribute-per-line form. */
  readonly subject: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly publicKey: KeyObject;
  /** basicConstraints: absent (undefined), or its cA flag and path length limit. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number };
  /** keyUsage allows keyCertSign, when keyUsage is present. */
  readonly keyCertSign?: boolean;
  readonly extendedKeyUsage?: readonly string[];
  readonly subjectKeyId?: Uint8Array;
  /** The AuthorityKeyIdentifier's keyIdentifier (the only form read). */
  readonly authorityKeyId?: Uint8Array;
}

const UTF8_STRING: BerTag = { tagClass: 0, tagNumber: 12, name: 'UTF8String' };
const PRINTABLE_STRING: BerTag = { tagClass: 0, tagNumber: 19, name: 'PrintableString' };
const IA5_STRING: BerTag = { tagClass: 0, tagNumber: 22, name: 'IA5String' };
const UTC_TIME: BerTag = { tagClass: 0, tagNumber: 23, name: 'UTCTime' };
const GENERALIZED_TIME: BerTag = { tagClass: 0, tagNumber: 24, name: 'GeneralizedTime' };
const BOOLEAN: BerTag = { tagClass: 0, tagNumber: 1, name: 'BOOLEAN' };
const BIT_STRING: BerTag = { tagClass: 0, tagNumber: 3, name: 'BIT STRING' };
const NULL: BerTag = { tagClass: 0, tagNumber: 5, name: 'NULL' };

/** OpenSSL's short names (X509Certificate prints them) of the attributes this reader formats. */
const ATTRIBUTE_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['1.2.840.113549.1.9.1', 'emailAddress'],
]);

/** Signature algorithms read, with the parameters DER gives them (RSA: NULL; ECDSA: none). */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, { digest: DigestName; keyType: SignerKeyType }> = new Map([
  ['1.2.840.113549.1.1.11', { digest: 'sha256', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.12', { digest: 'sha384', keyType: 'rsa' }],
  ['1.2.840.113549.1.1.13', { digest: 'sha512', keyType: 'rsa' }],
  ['1.2.840.10045.4.3.2', { digest: 'sha256', keyType: 'ec' }],
  ['1.2.840.10045.4.3.3', { digest: 'sha384', keyType: 'ec' }],
  ['1.2.840.10045.4.3.4', { digest: 'sha512', keyType: 'ec' }],
]);

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const CURVES: ReadonlyMap<string, { crv: string; bytes: number }> = new Map([
  ['1.2.840.10045.3.1.7', { crv: 'P-256', bytes: 32 }],
  ['1.3.132.0.34', { crv: 'P-384', bytes: 48 }],
  ['1.3.132.0.35', { crv: 'P-521', bytes: 66 }],
]);

const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const EXTENDED_KEY_USAGE = '2.5.29.37';
const SUBJECT_KEY_ID = '2.5.29.14';
const AUTHORITY_KEY_ID = '2.5.29.35';

/** Bytes of ASCII that X509Certificate prints escaped (RFC 2253 specials) or not as themselves. */
const ESCAPED = new Set([...',+"\\<>;'].map((c) => c.charCodeAt(0)));

/** Why this reader declines a certificate: never shown to anyone, it only means "ask OpenSSL". */
class Outside extends Error {}

/** The certificate's facts, or undefined when it is not of the shape this reader reads. */
export function readCertificate(der: Uint8Array): ReadCertificate | undefined {
  try {
    return read(der);
  } catch {
    // A malformed encoding (IdentityError from the BER reader), a shape not read here (Outside),
    // a key node:crypto will not import: OpenSSL has the last word on all of them.
    return undefined;
  }
}

function read(der: Uint8Array): ReadCertificate {
  const certificate = decodeDer(der);
  const [tbsNode, algorithmNode, signatureNode, ...rest] = childrenOf(certificate, Tag.SEQUENCE, 'Certificate');
  if (rest.length > 0 || tbsNode === undefined || algorithmNode === undefined) throw new Outside();
  // TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature, issuer, validity, subject,
  //   subjectPublicKeyInfo, [1] issuerUniqueID, [2] subjectUniqueID, [3] extensions }
  const [version, serial, innerAlgorithm, issuer, validity, subject, spki, ...more] = childrenOf(tbsNode, Tag.SEQUENCE, 'TBSCertificate');
  const versionFields = childrenOf(version, Tag.context(0), 'version');
  if (versionFields.length !== 1 || !sameBytes(contentOf(versionFields[0], Tag.INTEGER, 'version'), [2])) throw new Outside();
  // X509_verify refuses a certificate whose two algorithm fields differ.
  if (innerAlgorithm === undefined || !sameBytes(encodingOf(innerAlgorithm), encodingOf(algorithmNode))) throw new Outside();
  const algorithm = signatureAlgorithmOf(algorithmNode);
  const [notBefore, notAfter, ...extraTimes] = childrenOf(validity, Tag.SEQUENCE, 'validity');
  if (extraTimes.length > 0) throw new Outside();
  if (more.length > 1 || (more.length === 1 && !hasTag(more[0], Tag.context(3)))) throw new Outside();

  return {
    tbs: encodingOf(tbsNode),
    signatureDigest: algorithm.digest,
    signatureKeyType: algorithm.keyType,
    signature: bitStringBytes(signatureNode),
    serialNumber: serialNumberOf(contentOf(serial, Tag.INTEGER, 'serialNumber')),
    issuerDer: encodingOf(expectTag(issuer, Tag.SEQUENCE, 'issuer')),
    subjectDer: encodingOf(expectTag(subject, Tag.SEQUENCE, 'subject')),
    subject: nameText(subject),
    notBefore: timeOf(notBefore),
    notAfter: timeOf(notAfter),
    publicKey: publicKeyOf(spki),
    ...(more.length === 1 && extensionsOf(childrenOf(more[0], Tag.context(3), 'extensions'))),
  };
}

/** One element in DER lengths (the BER reader does not look inside primitives, so encodings
 *  wrapped in an OCTET or BIT STRING are decoded, and checked, each on its own). */
function decodeDer(bytes: Uint8Array): BerNode {
  const node = decodeBer(bytes, 'certificate');
  if (!node.derLengths) throw new Outside();
  return node;
}

function signatureAlgorithmOf(node: BerNode): { digest: DigestName; keyType: SignerKeyType } {
  const [oid, ...parameters] = childrenOf(node, Tag.SEQUENCE, 'AlgorithmIdentifier');
  const algorithm = SIGNATURE_ALGORITHMS.get(oidOf(oid, 'algorithm'));
  if (algorithm === undefined) throw new Outside();
  const expected = algorithm.keyType === 'rsa' ? 1 : 0;
  if (parameters.length !== expected || (expected === 1 && !isNull(parameters[0]))) throw new Outside();
  return algorithm;
}

/** The bytes of a BIT STRING with no unused bits (signatures and keys are whole bytes). */
function bitStringBytes(node: BerNode | undefined): Uint8Array {
  const content = contentOf(node, BIT_STRING, 'BIT STRING');
  if (content.length < 2 || content[0] !== 0) throw new Outside();
  return content.subarray(1);
}

/** BN_bn2hex of a positive INTEGER, as X509Certificate reports a serial. */
function serialNumberOf(content: Uint8Array): string {
  if (!isMinimalInteger(content) || content[0]! & 0x80 || content.length > 20) throw new Outside();
  const start = content[0] === 0 ? 1 : 0;
  if (start === content.length) throw new Outside(); // zero
  return Buffer.from(content.subarray(start)).toString('hex').toUpperCase();
}

/**
 * A Name in X509Certificate's form (XN_FLAG_MULTILINE: `CN=value` lines), for names whose every
 * RDN is one attribute of a type named above with a non-empty printable ASCII value that needs no
 * escaping. Anything else is left to OpenSSL's printer.
 */
function nameText(name: BerNode | undefined): string {
  const lines: string[] = [];
  for (const rdn of childrenOf(name, Tag.SEQUENCE, 'Name')) {
    const attributes = childrenOf(rdn, Tag.SET, 'RelativeDistinguishedName');
    if (attributes.length !== 1) throw new Outside();
    const [type, value, ...extra] = childrenOf(attributes[0], Tag.SEQUENCE, 'AttributeTypeAndValue');
    const short = ATTRIBUTE_NAMES.get(oidOf(type, 'attribute type'));
    if (short === undefined || extra.length > 0) throw new Outside();
    if (!hasTag(value, UTF8_STRING) && !hasTag(value, PRINTABLE_STRING) && !hasTag(value, IA5_STRING)) throw new Outside();
    const text = contentOf(value, { tagClass: 0, tagNumber: value.tagNumber, name: 'string' }, 'attribute value');
    if (text.length === 0 || text[0] === 0x23 /* # */ || text[0] === 0x20 || text[text.length - 1] === 0x20) throw new Outside();
    for (const byte of text) if (byte < 0x20 || byte > 0x7e || ESCAPED.has(byte)) throw new Outside();
    lines.push(`${short}=${Buffer.from(text).toString('latin1')}`);
  }
  if (lines.length === 0) throw new Outside();
  return lines.join('\n');
}

/** UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (the DER forms), as epoch ms. */
function timeOf(node: BerNode | undefined): number {
  const utc = hasTag(node, UTC_TIME);
  if (!utc && !hasTag(node, GENERALIZED_TIME)) throw new Outside();
  const text = Buffer.from(contentOf(node, { tagClass: 0, tagNumber: node!.tagNumber, name: 'Time' }, 'Time')).toString('latin1');
  if (!(utc ? /^\d{12}Z$/ : /^\d{14}Z$/).test(text)) throw new Outside();
  const digits = utc ? (Number(text.slice(0, 2)) < 50 ? '20' : '19') + text : text;
  const [year, month, day, hour, minute, second] = [0, 4, 6, 8, 10, 12].map((at, i) => Number(digits.slice(at, at + (i === 0 ? 4 : 2))));
  const time = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  const date = new Date(time);
  // Date.UTC rolls over (Feb 30 becomes Mar 2): such a time is not read here.
  if (date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day! || date.getUTCHours() !== hour! || date.getUTCMinutes() !== minute! || date.getUTCSeconds() !== second!) {
    throw new Outside();
  }
  return time;
}

/** The subject's key, imported from its numbers: the same key OpenSSL decodes from the SPKI. */
function publicKeyOf(spki: BerNode | undefined): KeyObject {
  const [algorithm, key, ...extra] = childrenOf(spki, Tag.SEQUENCE, 'SubjectPublicKeyInfo');
  const [oid, parameter, ...more] = childrenOf(algorithm, Tag.SEQUENCE, 'AlgorithmIdentifier');
  if (extra.length > 0 || more.length > 0 || parameter === undefined) throw new Outside();
  const bits = bitStringBytes(key);
  let jwk: JsonWebKey;
  switch (oidOf(oid, 'algorithm')) {
    case RSA_ENCRYPTION: {
      if (!isNull(parameter)) throw new Outside();
      const [n, e, ...rest] = childrenOf(decodeDer(bits), Tag.SEQUENCE, 'RSAPublicKey');
      const modulus = positiveInteger(contentOf(n, Tag.INTEGER, 'modulus'));
      const exponent = positiveInteger(contentOf(e, Tag.INTEGER, 'publicExponent'));
      if (rest.length > 0 || modulus.length < 256 || modulus.length > 1024 || exponent.length > 4 || (exponent[exponent.length - 1]! & 1) === 0) {
        throw new Outside();
      }
      jwk = { kty: 'RSA', n: base64url(modulus), e: base64url(exponent) };
      break;
    }
    case EC_PUBLIC_KEY: {
      const curve = CURVES.get(oidOf(parameter, 'namedCurve'));
      // Uncompressed points only: 04 || X || Y.
      if (curve === undefined || bits.length !== 1 + 2 * curve.bytes || bits[0] !== 4) throw new Outside();
      jwk = { kty: 'EC', crv: curve.crv, x: base64url(bits.subarray(1, 1 + curve.bytes)), y: base64url(bits.subarray(1 + curve.bytes)) };
      break;
    }
    default:
      throw new Outside();
  }
  // Throws for a point not on its curve, which OpenSSL would not decode either.
  return createPublicKey({ key: jwk, format: 'jwk' });
}

type Extensions = Pick<ReadCertificate, 'basicConstraints' | 'keyCertSign' | 'extendedKeyUsage' | 'subjectKeyId' | 'authorityKeyId'>;

function extensionsOf(field: readonly BerNode[]): Extensions {
  if (field.length !== 1) throw new Outside();
  const extensions = childrenOf(field[0], Tag.SEQUENCE, 'Extensions');
  if (extensions.length === 0) throw new Outside();
  const seen = new Set<string>();
  const read: { -readonly [K in keyof Extensions]: Extensions[K] } = {};
  for (const extension of extensions) {
    const [oidNode, ...parts] = childrenOf(extension, Tag.SEQUENCE, 'Extension');
    const oid = oidOf(oidNode, 'extnID');
    // OpenSSL marks a certificate with a repeated extension invalid.
    if (seen.has(oid)) throw new Outside();
    seen.add(oid);
    if (parts.length === 2 && !isBoolean(parts[0])) throw new Outside();
    if (parts.length < 1 || parts.length > 2) throw new Outside();
    const value = decodeDer(contentOf(parts[parts.length - 1], Tag.OCTET_STRING, 'extnValue'));
    switch (oid) {
      case BASIC_CONSTRAINTS:
        read.basicConstraints = basicConstraintsOf(value);
        break;
      case KEY_USAGE:
        read.keyCertSign = keyCertSignOf(value);
        break;
      case EXTENDED_KEY_USAGE: {
        const purposes = childrenOf(value, Tag.SEQUENCE, 'ExtKeyUsageSyntax').map((p) => oidOf(p, 'KeyPurposeId'));
        if (purposes.length === 0) throw new Outside();
        read.extendedKeyUsage = purposes;
        break;
      }
      case SUBJECT_KEY_ID:
        read.subjectKeyId = contentOf(value, Tag.OCTET_STRING, 'SubjectKeyIdentifier');
        break;
      case AUTHORITY_KEY_ID: {
        // Only { keyIdentifier [0] }: an issuer name and serial would have to be matched too.
        const [keyId, ...others] = childrenOf(value, Tag.SEQUENCE, 'AuthorityKeyIdentifier');
        if (others.length > 0 || !hasTag(keyId, Tag.context(0)) || keyId.constructed) throw new Outside();
        read.authorityKeyId = contentOf(keyId, Tag.context(0), 'keyIdentifier');
        break;
      }
      default:
        throw new Outside();
    }
  }
  return read;
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } */
function basicConstraintsOf(value: BerNode): { ca: boolean; pathLength?: number } {
  const fields = childrenOf(value, Tag.SEQUENCE, 'BasicConstraints');
  let i = 0;
  const ca = isBoolean(fields[0]) ? contentOf(fields[i++], BOOLEAN, 'cA')[0] === 0xff : false;
  if (i === fields.length) return { ca };
  // OpenSSL marks a path length without cA, or a negative one, invalid.
  const limit = contentOf(fields[i], Tag.INTEGER, 'pathLenConstraint');
  if (!ca || i + 1 !== fields.length || !isMinimalInteger(limit) || limit[0]! & 0x80 || limit.length > 4) throw new Outside();
  return { ca, pathLength: limit.reduce((n, b) => n * 256 + b, 0) };
}

/** Whether a KeyUsage BIT STRING has keyCertSign (bit 5) set. */
function keyCertSignOf(value: BerNode): boolean {
  const content = contentOf(value, BIT_STRING, 'KeyUsage');
  const unused = content[0];
  if (unused === undefined || unused > 7 || (content.length === 1 && unused !== 0)) throw new Outside();
  return content.length > 1 && (content[1]! & 0x04) !== 0;
}

function isBoolean(node: BerNode | undefined): boolean {
  if (!hasTag(node, BOOLEAN)) return false;
  const content = contentOf(node, BOOLEAN, 'BOOLEAN');
  if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) throw new Outside();
  return true;
}

function isNull(node: BerNode | undefined): boolean {
  return hasTag(node, NULL) && !node.constructed && node.valueEnd === node.valueStart;
}

/** DER INTEGER content: non-empty, no superfluous leading byte. */
function isMinimalInteger(content: Uint8Array): boolean {
  if (content.length === 0) return false;
  if (content.length === 1) return true;
  return !((content[0] === 0 && (content[1]! & 0x80) === 0) || (content[0] === 0xff && (content[1]! & 0x80) !== 0));
}

/** The magnitude of a positive DER INTEGER. */
function positiveInteger(content: Uint8Array): Uint8Array {
  if (!isMinimalInteger(content) || content[0]! & 0x80) throw new Outside();
  const magnitude = content[0] === 0 ? content.subarray(1) : content;
  if (magnitude.length === 0) throw new Outside();
  return magnitude;
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function sameBytes(a: Uint8Array, b: Uint8Array | readonly number[]): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
