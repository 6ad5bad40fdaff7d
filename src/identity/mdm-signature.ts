// The `Mdm-Signature` header: base64 of a detached CMS SignedData over the exact request body.
//
// Parsing and checking are separate steps so the caller can look the signer certificate up in its
// trust cache (which also holds the parsed public key) between them; see identity-verifier.ts.
// The signature itself is checked with node:crypto: pkijs's SignedData.verify costs milliseconds
// per call, too slow for a path every device request takes.
import { createHash, verify, webcrypto, type KeyObject } from 'node:crypto';
import { decodeBase64Strict } from './base64.ts';
import { assertDerLengths, childrenOf, contentOf, decodeBer, encodingOf, hasTag, malformed, oidOf, Tag, type BerNode } from './ber.ts';
import { IdentityError } from './errors.ts';
import { readSignedAttributes } from './signed-attributes.ts';
import { identifiesCertificate, parseSignerIdentifier } from './signer-identifier.ts';
import { digestByOid, signatureByOid, type DigestName, type SignerKeyType } from './signature-algorithms.ts';

/** Real headers are under 2 KiB; anything near this is not a device. */
export const MAX_MDM_SIGNATURE_LENGTH = 64 * 1024;

const ID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const ID_DATA = '1.2.840.113549.1.7.1';
const ID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const ID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';

/** A decoded Mdm-Signature: what it claims, none of it checked yet. */
export interface MdmSignature {
  /** DER of the certificate the SignerInfo names. Not trusted until a DeviceCertVerifier says so. */
  readonly signerCertDer: Buffer;
  /** The other certificates the SignedData carries (an issuing CA, say), as sent: candidates for
   *  the path to a trusted CA, nothing more. Absent when nobody looked (a SCEP message). */
  readonly otherCertificatesDer?: readonly Buffer[];
  readonly digest: DigestName;
  readonly keyType: SignerKeyType;
  /**
   * Present when the signer used signed attributes: the signature then covers `der` (the attributes
   * re-tagged as a SET) and the body is bound through `messageDigest` instead.
   */
  readonly signedAttributes?: { readonly der: Buffer; readonly messageDigest: Uint8Array };
  readonly signature: Uint8Array;
}

export function parseMdmSignature(headerValue: string): MdmSignature {
  if (headerValue.length > MAX_MDM_SIGNATURE_LENGTH) {
    throw malformed('Mdm-Signature', `longer than ${MAX_MDM_SIGNATURE_LENGTH} characters`);
  }
  const bytes = decodeBase64Strict(headerValue);
  if (bytes === undefined) throw malformed('Mdm-Signature', 'not base64');

  const contentInfo = childrenOf(decodeBer(bytes, 'Mdm-Signature'), Tag.SEQUENCE, 'ContentInfo');
  if (oidOf(contentInfo[0], 'ContentInfo.contentType') !== ID_SIGNED_DATA) {
    throw malformed('ContentInfo', 'not a SignedData');
  }
  const [signedData] = childrenOf(contentInfo[1], Tag.context(0), 'ContentInfo.content');
  // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
  //   certificates [0] OPTIONAL, crls [1] OPTIONAL, signerInfos }
  const fields = childrenOf(signedData, Tag.SEQUENCE, 'SignedData');
  const encapContentInfo = childrenOf(fields[2], Tag.SEQUENCE, 'EncapsulatedContentInfo');
  if (oidOf(encapContentInfo[0], 'eContentType') !== ID_DATA) throw malformed('EncapsulatedContentInfo', 'not id-data');
  if (encapContentInfo.length !== 1) throw malformed('EncapsulatedContentInfo', 'carries content; expected detached');

  const certificates = hasTag(fields[3], Tag.context(0)) ? childrenOf(fields[3], Tag.context(0), 'certificates') : [];
  const signerInfos = childrenOf(fields[fields.length - 1], Tag.SET, 'SignedData.signerInfos');
  if (signerInfos.length !== 1) throw malformed('SignedData', `${signerInfos.length} signers; expected exactly one`);
  return parseSignerInfo(signerInfos[0], certificates);
}

function parseSignerInfo(signerInfo: BerNode | undefined, certificates: readonly BerNode[]): MdmSignature {
  // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT OPTIONAL,
  //   signatureAlgorithm, signature, unsignedAttrs [1] IMPLICIT OPTIONAL }
  const fields = childrenOf(signerInfo, Tag.SEQUENCE, 'SignerInfo');
  const sid = parseSignerIdentifier(fields[1]);
  // CertificateChoices other than a plain Certificate (attribute certificates etc.) are tagged and
  // can never be the signer, so they are skipped rather than refused.
  const signerCert = certificates.find((c) => hasTag(c, Tag.SEQUENCE) && identifiesCertificate(sid, c));
  if (signerCert === undefined) throw malformed('SignedData', 'no included certificate matches the SignerInfo');
  // Its bytes become the device's identity (fingerprint) and go to X509Certificate, which wants DER.
  // CMS encoders copy certificates verbatim, so a re-encoded one is not worth repairing: refuse it.
  assertDerLengths(signerCert, 'signer certificate');

  const digestOid = algorithmOid(fields[2], 'SignerInfo.digestAlgorithm');
  const digest = digestByOid(digestOid);
  if (digest === undefined) throw unsupported(`digest algorithm ${digestOid}`);

  const signedAttrs = hasTag(fields[3], Tag.context(0)) ? fields[3] : undefined;
  const next = signedAttrs === undefined ? 3 : 4;
  const signatureOid = algorithmOid(fields[next], 'SignerInfo.signatureAlgorithm');
  const algorithm = signatureByOid(signatureOid);
  if (algorithm === undefined) throw unsupported(`signature algorithm ${signatureOid}`);
  if (algorithm.digest !== undefined && algorithm.digest !== digest) {
    throw malformed('SignerInfo', `signature algorithm ${signatureOid} disagrees with digest ${digest}`);
  }

  const others = certificates.filter((c) => c !== signerCert && hasTag(c, Tag.SEQUENCE));
  return {
    signerCertDer: Buffer.from(encodingOf(signerCert)),
    otherCertificatesDer: others.map((c) => Buffer.from(encodingOf(c))),
    digest,
    keyType: algorithm.keyType,
    ...(signedAttrs && { signedAttributes: parseSignedAttributes(signedAttrs) }),
    signature: contentOf(fields[next + 1], Tag.OCTET_STRING, 'SignerInfo.signature'),
  };
}

function parseSignedAttributes(signedAttrs: BerNode): { der: Buffer; messageDigest: Uint8Array } {
  const { der, values } = readSignedAttributes(signedAttrs);
  const contentType = values.get(ID_CONTENT_TYPE);
  const messageDigest = values.get(ID_MESSAGE_DIGEST);
  if (contentType?.length !== 1 || oidOf(contentType[0], 'contentType') !== ID_DATA) {
    throw malformed('SignerInfo.signedAttrs', 'contentType attribute missing or not id-data');
  }
  if (messageDigest?.length !== 1) throw malformed('SignerInfo.signedAttrs', 'messageDigest attribute missing');
  return { der, messageDigest: contentOf(messageDigest[0], Tag.OCTET_STRING, 'messageDigest') };
}

/**
 * Checks that `signature` was made over `body` by the holder of `signerKey` (the public key of
 * `signature.signerCertDer`). Throws IdentityError('bad-signature') if not.
 */
export function checkMdmSignature(signature: MdmSignature, body: Uint8Array, signerKey: KeyObject): void {
  checkKeyType(signature, signerKey);
  const signed = signature.signedAttributes === undefined ? body : signedAttributesFor(signature, createHash(signature.digest).update(body).digest());
  let valid: boolean;
  try {
    valid = verify(signature.digest, signed, signerKey, signature.signature);
  } catch {
    // OpenSSL throws rather than returning false for some malformed signature values (e.g. ECDSA).
    valid = false;
  }
  if (!valid) throw badSignature('signature does not verify with the signer certificate');
}

/**
 * The same check with the body hashed on libuv's thread pool instead of the event loop: for large
 * bodies (a 4 MiB result takes about 3 ms to hash on an idle machine, several times that on a
 * busy one), which would otherwise hold up every other device's request meanwhile.
 */
export async function checkMdmSignatureOffThread(signature: MdmSignature, body: Uint8Array, signerKey: KeyObject): Promise<void> {
  checkKeyType(signature, signerKey);
  const signed =
    signature.signedAttributes === undefined
      ? body
      : signedAttributesFor(signature, Buffer.from(await webcrypto.subtle.digest(WEB_CRYPTO_DIGESTS[signature.digest], body)));
  const valid = await new Promise<boolean>((resolve) => {
    try {
      verify(signature.digest, signed, signerKey, signature.signature, (err, ok) => resolve(err === null && ok));
    } catch {
      resolve(false);
    }
  });
  if (!valid) throw badSignature('signature does not verify with the signer certificate');
}

const WEB_CRYPTO_DIGESTS: Record<DigestName, string> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

function checkKeyType(signature: MdmSignature, signerKey: KeyObject): void {
  if (signerKey.asymmetricKeyType !== signature.keyType) {
    throw badSignature(`signer key is ${signerKey.asymmetricKeyType}, signature algorithm is ${signature.keyType}`);
  }
}

/** With signed attributes the signature covers them, and they bind the body by its digest. */
function signedAttributesFor(signature: MdmSignature, bodyDigest: Buffer): Buffer {
  const attributes = signature.signedAttributes!;
  if (!bodyDigest.equals(attributes.messageDigest)) throw badSignature('messageDigest does not match the body');
  return attributes.der;
}

function algorithmOid(node: BerNode | undefined, what: string): string {
  return oidOf(childrenOf(node, Tag.SEQUENCE, what)[0], `${what}.algorithm`);
}

function unsupported(what: string): IdentityError {
  return new IdentityError('unsupported-algorithm', `Mdm-Signature: unsupported ${what}`);
}

function badSignature(detail: string): IdentityError {
  return new IdentityError('bad-signature', `Mdm-Signature: ${detail}`);
}
