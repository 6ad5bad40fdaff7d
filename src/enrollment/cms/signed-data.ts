// Builds CMS SignedData (RFC 5652 §5): the signed SCEP replies (CertRep), the degenerate
// certificates-only SignedData a CertRep delivers, and signed enrollment profiles. Signatures are
// made with node:crypto over the DER of the signed attributes, so any RSA or EC KeyObject signs.
import { createHash, sign, type KeyObject } from 'node:crypto';
import type { DigestName } from '../../identity/signature-algorithms.ts';
import { issuerAndSerialNumber } from './certificate-fields.ts';
import {
  algorithmIdentifier,
  explicit,
  implicit,
  NULL,
  objectIdentifier,
  octetString,
  sequence,
  set,
  setOf,
  setOfContents,
  smallInteger,
  time,
} from './der.ts';
import { DIGEST_OID, ECDSA_OID, OID } from './oids.ts';

export interface CmsSigner {
  readonly certificateDer: Uint8Array;
  /** RSA (PKCS#1 v1.5 signatures) or EC (ECDSA). */
  readonly privateKey: KeyObject;
}

export interface SignedDataSpec {
  readonly signer: CmsSigner;
  readonly digest: DigestName;
  /**
   * The encapsulated content (id-data). Absent for a SCEP FAILURE reply, which carries none; its
   * messageDigest is then the digest of zero bytes.
   */
  readonly content?: Uint8Array;
  /** Signed attributes besides contentType, messageDigest and signingTime, each a DER Attribute. */
  readonly attributes?: readonly Uint8Array[];
  /** Certificates to include after the signer's own, e.g. its chain. */
  readonly certificates?: readonly Uint8Array[];
  readonly signingTime?: Date;
}

/** Attribute ::= SEQUENCE { attrType OID, attrValues SET OF value } */
export function attribute(oid: string, ...values: readonly Uint8Array[]): Buffer {
  return sequence(objectIdentifier(oid), setOf(...values));
}

/** A ContentInfo holding a SignedData signed by `spec.signer`. */
export function signedData(spec: SignedDataSpec): Buffer {
  const content = spec.content ?? new Uint8Array(0);
  const attributes = setOfContents(
    attribute(OID.contentType, objectIdentifier(OID.data)),
    attribute(OID.signingTime, time(spec.signingTime ?? new Date())),
    attribute(OID.messageDigest, octetString(createHash(spec.digest).update(content).digest())),
    ...(spec.attributes ?? []),
  );
  const signature = sign(spec.digest, set(attributes), spec.signer.privateKey);
  // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT,
  //   signatureAlgorithm, signature }; the signature covers the attributes with their SET tag.
  const signerInfo = sequence(
    smallInteger(1),
    issuerAndSerialNumber(spec.signer.certificateDer),
    algorithmIdentifier(DIGEST_OID[spec.digest], NULL),
    implicit(0, attributes, true),
    signatureAlgorithm(spec.signer.privateKey, spec.digest),
    octetString(signature),
  );
  return contentInfo(
    sequence(
      smallInteger(1),
      setOf(algorithmIdentifier(DIGEST_OID[spec.digest], NULL)),
      sequence(objectIdentifier(OID.data), ...(spec.content ? [explicit(0, octetString(spec.content))] : [])),
      implicit(0, Buffer.concat([spec.signer.certificateDer, ...(spec.certificates ?? [])]), true),
      setOf(signerInfo),
    ),
  );
}

/** A certificates-only ("degenerate") SignedData: no content, no signers (RFC 8894 §3.4). */
export function degenerateSignedData(certificates: readonly Uint8Array[]): Buffer {
  return contentInfo(
    sequence(smallInteger(1), setOf(), sequence(objectIdentifier(OID.data)), implicit(0, Buffer.concat(certificates), true), setOf()),
  );
}

function contentInfo(signedDataDer: Uint8Array): Buffer {
  return sequence(objectIdentifier(OID.signedData), explicit(0, signedDataDer));
}

function signatureAlgorithm(key: KeyObject, digest: DigestName): Buffer {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      // rsaEncryption, as openssl writes it: the digest is named by digestAlgorithm.
      return algorithmIdentifier(OID.rsaEncryption, NULL);
    case 'ec':
      return algorithmIdentifier(ECDSA_OID[digest]);
    default:
      throw new Error(`cannot sign CMS with a ${key.asymmetricKeyType} key`);
  }
}
