// Reading a SCEP request (RFC 8894 §3.2): a CMS SignedData whose signed attributes say what the
// request is (messageType, transactionID, senderNonce) and whose content is the encrypted
// pkcsPKIEnvelope. BER is accepted throughout (Apple devices send indefinite lengths), except
// where bytes are signed or kept: the signed attributes and the signer certificate must be DER.
//
// Reading stops as soon as the transaction attributes are known; everything after that
// (`verifyPkiMessage`) fails with a ScepFailure, which the client receives as a signed FAILURE
// that echoes its transaction. Only a message we cannot even answer is refused outright.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { assertDerLengths, childrenOf, contentOf, decodeBer, encodingOf, expectTag, hasTag, oidOf, Tag, type BerNode } from '../../identity/ber.ts';
import { checkMdmSignature } from '../../identity/mdm-signature.ts';
import { readSignedAttributes } from '../../identity/signed-attributes.ts';
import { digestByOid, signatureByOid, type DigestName } from '../../identity/signature-algorithms.ts';
import { identifiesCertificate, parseSignerIdentifier, type SignerIdentifier } from '../../identity/signer-identifier.ts';
import { OID } from '../cms/oids.ts';
import { algorithmOf, malformed, octetsOf } from '../cms/reading.ts';
import { ScepFailure } from './failure.ts';

/** SCEP's signed attributes (RFC 8894 §3.2.1). */
export const SCEP_ATTRIBUTE = {
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
} as const;

/** Generous bounds on the transaction attributes we echo back (RFC 8894 nonces are 16 bytes). */
const MAX_TRANSACTION_ID = 256;
const MAX_NONCE = 64;
/** Text string tags a client may use for messageType and transactionID. */
const TEXT_TAGS = new Set([12, 19, 22]); // UTF8String, PrintableString, IA5String

export interface PkiMessage {
  /** As sent, in decimal: '19' PKCSReq, '17' RenewalReq, ... */
  readonly messageType: string;
  readonly transactionId: string;
  /** The transactionID value's encoding, echoed verbatim in the reply. */
  readonly transactionIdValue: Buffer;
  readonly senderNonce: Buffer;
  /** The encapsulated content: the pkcsPKIEnvelope. */
  readonly content: Buffer;
  readonly signer: UncheckedSigner;
}

/** The SignerInfo and certificates as received; see verifyPkiMessage. */
interface UncheckedSigner {
  readonly sid: SignerIdentifier;
  readonly certificates: readonly BerNode[];
  readonly digestOid: string;
  readonly signatureOid: string;
  readonly signedAttributesDer: Buffer;
  readonly messageDigest: Uint8Array;
  readonly signature: Uint8Array;
}

export interface VerifiedSigner {
  readonly certificate: X509Certificate;
  /** The signer certificate decoded, for matching it as a CMS recipient. */
  readonly certificateNode: BerNode;
  readonly digest: DigestName;
}

/** Reads `bytes` up to the transaction attributes. Throws CmsError or IdentityError if it cannot. */
export function readPkiMessage(bytes: Uint8Array): PkiMessage {
  const contentInfo = childrenOf(decodeBer(bytes, 'pkiMessage'), Tag.SEQUENCE, 'ContentInfo');
  if (oidOf(contentInfo[0], 'ContentInfo.contentType') !== OID.signedData) throw malformed('ContentInfo', 'not a SignedData');
  const [signedData] = childrenOf(contentInfo[1], Tag.context(0), 'ContentInfo.content');
  // SignedData ::= SEQUENCE { version, digestAlgorithms, encapContentInfo,
  //   certificates [0] IMPLICIT OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos }
  const fields = childrenOf(signedData, Tag.SEQUENCE, 'SignedData');
  const [eContentType, eContent] = childrenOf(fields[2], Tag.SEQUENCE, 'EncapsulatedContentInfo');
  if (oidOf(eContentType, 'eContentType') !== OID.data) throw malformed('EncapsulatedContentInfo', 'not id-data');
  const [contentOctets] = childrenOf(eContent, Tag.context(0), 'eContent');
  const content = octetsOf(contentOctets, Tag.OCTET_STRING, 'eContent');

  const certificates = hasTag(fields[3], Tag.context(0)) ? childrenOf(fields[3], Tag.context(0), 'certificates') : [];
  const signerInfos = childrenOf(fields[fields.length - 1], Tag.SET, 'SignedData.signerInfos');
  if (signerInfos.length !== 1) throw malformed('SignedData', `${signerInfos.length} signers; expected exactly one`);
  // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT,
  //   signatureAlgorithm, signature, unsignedAttrs [1] IMPLICIT OPTIONAL }
  const [, sid, digestAlgorithm, signedAttrsNode, signatureAlgorithm, signature] = childrenOf(signerInfos[0], Tag.SEQUENCE, 'SignerInfo');
  const { der: signedAttributesDer, values: attributes } = readSignedAttributes(expectTag(signedAttrsNode, Tag.context(0), 'SignerInfo.signedAttrs'));

  const transactionIdNode = single(attributes, SCEP_ATTRIBUTE.transactionID, 'transactionID');
  const transactionId = text(transactionIdNode, 'transactionID');
  if (transactionId.length === 0 || transactionId.length > MAX_TRANSACTION_ID) throw malformed('transactionID', 'empty or too long');
  const senderNonce = Buffer.from(contentOf(single(attributes, SCEP_ATTRIBUTE.senderNonce, 'senderNonce'), Tag.OCTET_STRING, 'senderNonce'));
  if (senderNonce.length === 0 || senderNonce.length > MAX_NONCE) throw malformed('senderNonce', `${senderNonce.length} bytes`);
  const contentType = single(attributes, OID.contentType, 'contentType');
  if (oidOf(contentType, 'contentType') !== OID.data) throw malformed('contentType', 'not id-data');

  return {
    messageType: text(single(attributes, SCEP_ATTRIBUTE.messageType, 'messageType'), 'messageType'),
    transactionId,
    transactionIdValue: Buffer.from(encodingOf(transactionIdNode)),
    senderNonce,
    content,
    signer: {
      sid: parseSignerIdentifier(sid),
      certificates,
      digestOid: algorithmOf(digestAlgorithm, 'SignerInfo.digestAlgorithm').oid,
      signatureOid: algorithmOf(signatureAlgorithm, 'SignerInfo.signatureAlgorithm').oid,
      signedAttributesDer,
      messageDigest: contentOf(single(attributes, OID.messageDigest, 'messageDigest'), Tag.OCTET_STRING, 'messageDigest'),
      signature: contentOf(signature, Tag.OCTET_STRING, 'SignerInfo.signature'),
    },
  };
}

/**
 * Finds the signer certificate among those the message carries and checks that it signed the
 * message. Says nothing about whether the certificate is trusted: that depends on the messageType.
 */
export function verifyPkiMessage(message: PkiMessage): VerifiedSigner {
  const { signer } = message;
  const certificateNode = signer.certificates.find((c) => hasTag(c, Tag.SEQUENCE) && identifiesCertificate(signer.sid, c));
  if (certificateNode === undefined) throw new ScepFailure('badMessageCheck', 'no included certificate matches the SignerInfo');
  assertDerLengths(certificateNode, 'signer certificate');
  const digest = digestByOid(signer.digestOid);
  if (digest === undefined) throw new ScepFailure('badAlg', `digest algorithm ${signer.digestOid}`);
  const algorithm = signatureByOid(signer.signatureOid);
  if (algorithm === undefined || (algorithm.digest !== undefined && algorithm.digest !== digest)) {
    throw new ScepFailure('badAlg', `signature algorithm ${signer.signatureOid} with digest ${digest}`);
  }
  let certificate: X509Certificate;
  let publicKey: KeyObject;
  try {
    certificate = new X509Certificate(encodingOf(certificateNode));
    publicKey = certificate.publicKey; // parsed on first use, and throws for a mangled key
  } catch {
    throw new ScepFailure('badMessageCheck', 'signer certificate does not parse');
  }
  // Throws IdentityError('bad-signature') when the content or the attributes were changed.
  checkMdmSignature(
    {
      signerCertDer: certificate.raw,
      digest,
      keyType: algorithm.keyType,
      signedAttributes: { der: signer.signedAttributesDer, messageDigest: signer.messageDigest },
      signature: signer.signature,
    },
    message.content,
    publicKey,
  );
  return { certificate, certificateNode, digest };
}

function single(attributes: ReadonlyMap<string, readonly BerNode[]>, oid: string, what: string): BerNode {
  const values = attributes.get(oid);
  if (values?.length !== 1) throw malformed('SignerInfo.signedAttrs', `${what} missing or not single-valued`);
  return values[0]!;
}

function text(node: BerNode, what: string): string {
  if (node.tagClass !== 0 || node.constructed || !TEXT_TAGS.has(node.tagNumber)) throw malformed(what, 'not a text string');
  return Buffer.from(node.bytes.subarray(node.valueStart, node.valueEnd)).toString('latin1');
}
