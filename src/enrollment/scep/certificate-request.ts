// PKCS#10 certificate requests (RFC 2986) as SCEP clients send them inside the encrypted envelope:
// the subject to certify, the key, and the challengePassword attribute that authorizes it. The
// request's own signature is checked here: it proves the sender holds the key it wants certified.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { assertDerLengths, childrenOf, contentOf, decodeBer, encodingOf, expectTag, hasTag, oidOf, Tag, type BerNode } from '../../identity/ber.ts';
import { signatureByOid } from '../../identity/signature-algorithms.ts';
import { CmsError } from '../cms/errors.ts';
import { OID } from '../cms/oids.ts';
import { algorithmOf, malformed } from '../cms/reading.ts';

export interface CertificateRequest {
  /** DER of the requested subject Name, to be copied into the certificate verbatim. */
  readonly subjectDer: Buffer;
  readonly publicKey: KeyObject;
  /** The challengePassword attribute, if the request has one. */
  readonly challengePassword: string | undefined;
}

const BIT_STRING = { tagClass: 0, tagNumber: 3, name: 'BIT STRING' };
/** DirectoryString choices (RFC 2985 §5.4.1 allows challengePassword in any of them). */
const STRING_DECODERS = new Map<number, (bytes: Uint8Array) => string>([
  [12, (b) => new TextDecoder('utf-8', { fatal: true }).decode(b)], // UTF8String
  [19, (b) => Buffer.from(b).toString('latin1')], // PrintableString
  [20, (b) => Buffer.from(b).toString('latin1')], // TeletexString, read as Latin-1 like everyone does
  [22, (b) => Buffer.from(b).toString('latin1')], // IA5String
  [30, (b) => new TextDecoder('utf-16be', { fatal: true }).decode(b)], // BMPString
]);

/** Parses and verifies a DER certificate request; throws CmsError if it is not a valid one. */
export function parseCertificateRequest(der: Uint8Array): CertificateRequest {
  // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }
  const [infoNode, algorithmNode, signatureNode] = childrenOf(decodeBer(der, 'CertificationRequest'), Tag.SEQUENCE, 'CertificationRequest');
  const info = expectTag(infoNode, Tag.SEQUENCE, 'CertificationRequestInfo');
  // CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, attributes [0] }
  const [version, subjectNode, subjectPublicKeyInfo, attributes] = info.children;
  const versionBytes = contentOf(version, Tag.INTEGER, 'CertificationRequestInfo.version');
  if (versionBytes.length !== 1 || versionBytes[0] !== 0) throw malformed('CertificationRequestInfo', 'version is not 1');
  const subject = expectTag(subjectNode, Tag.SEQUENCE, 'CertificationRequestInfo.subject');
  assertDerLengths(subject, 'CertificationRequestInfo.subject');

  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(encodingOf(expectTag(subjectPublicKeyInfo, Tag.SEQUENCE, 'subjectPKInfo'))), format: 'der', type: 'spki' });
  } catch {
    throw malformed('CertificationRequestInfo.subjectPKInfo', 'not a public key');
  }

  const algorithm = signatureByOid(algorithmOf(algorithmNode, 'CertificationRequest.signatureAlgorithm').oid);
  if (algorithm?.digest === undefined) throw new CmsError('unsupported-algorithm', 'certificate request signature algorithm');
  const signature = contentOf(signatureNode, BIT_STRING, 'CertificationRequest.signature');
  if (signature[0] !== 0) throw malformed('CertificationRequest.signature', 'not whole bytes');
  let valid: boolean;
  try {
    valid = verify(algorithm.digest, encodingOf(info), publicKey, signature.subarray(1));
  } catch {
    valid = false; // OpenSSL throws for some malformed signature values or key/algorithm mismatches
  }
  if (!valid) throw malformed('CertificationRequest', 'signature does not verify with its own key');

  return {
    subjectDer: Buffer.from(encodingOf(subject)),
    publicKey,
    challengePassword: hasTag(attributes, Tag.context(0)) ? challengePasswordOf(attributes) : undefined,
  };
}

function challengePasswordOf(attributes: BerNode): string | undefined {
  for (const attribute of childrenOf(attributes, Tag.context(0), 'CertificationRequestInfo.attributes')) {
    const [type, values] = childrenOf(attribute, Tag.SEQUENCE, 'Attribute');
    if (oidOf(type, 'Attribute.type') !== OID.challengePassword) continue;
    const [value, ...more] = childrenOf(values, Tag.SET, 'challengePassword values');
    if (value === undefined || more.length > 0) throw malformed('challengePassword', 'not exactly one value');
    const decode = value.tagClass === 0 && !value.constructed ? STRING_DECODERS.get(value.tagNumber) : undefined;
    if (decode === undefined) throw malformed('challengePassword', 'not a directory string');
    try {
      return decode(value.bytes.subarray(value.valueStart, value.valueEnd));
    } catch {
      throw malformed('challengePassword', 'not valid text');
    }
  }
  return undefined;
}
