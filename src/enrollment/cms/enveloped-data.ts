// CMS EnvelopedData (RFC 5652 §6) with RSA key transport: opening what a SCEP client encrypted to
// the CA, and encrypting the CA's reply to the client's certificate.
//
// Opening is split in two. `readEnvelope` checks everything the sender states in the clear
// (structure, algorithms, recipient) and may say precisely what is wrong. `openEnvelope` then
// handles the secret-dependent part and never fails: a wrong key, a bad padding and a good
// decryption all come back as bytes plus a flag, so the caller can give every one of them the
// same treatment (parse the bytes anyway, then refuse them alike).
import { randomBytes, type KeyObject } from 'node:crypto';
import { childrenOf, decodeBer, hasTag, oidOf, Tag, type BerNode } from '../../identity/ber.ts';
import { identifiesCertificate, parseSignerIdentifier } from '../../identity/signer-identifier.ts';
import { issuerAndSerialNumber } from './certificate-fields.ts';
import { contentCipherByOid, type ContentCipher } from './content-ciphers.ts';
import { algorithmIdentifier, explicit, implicit, NULL, objectIdentifier, octetString, sequence, setOf, smallInteger } from './der.ts';
import { CmsError } from './errors.ts';
import { unwrapContentKey, wrapContentKey } from './key-transport.ts';
import { OID } from './oids.ts';
import { algorithmOf, malformed, octetsOf } from './reading.ts';

/** An EnvelopedData addressed to us, not yet decrypted. */
export interface SealedEnvelope {
  readonly cipher: ContentCipher;
  readonly iv: Buffer;
  readonly encryptedKey: Buffer;
  readonly ciphertext: Buffer;
}

/**
 * Reads a ContentInfo holding an EnvelopedData (BER accepted) and picks the RecipientInfo that
 * names `recipient` (a decoded certificate).
 */
export function readEnvelope(bytes: Uint8Array, recipient: BerNode): SealedEnvelope {
  const contentInfo = childrenOf(decodeBer(bytes, 'pkcsPKIEnvelope'), Tag.SEQUENCE, 'ContentInfo');
  if (oidOf(contentInfo[0], 'ContentInfo.contentType') !== OID.envelopedData) throw malformed('ContentInfo', 'not an EnvelopedData');
  const [envelopedData] = childrenOf(contentInfo[1], Tag.context(0), 'ContentInfo.content');
  // EnvelopedData ::= SEQUENCE { version, originatorInfo [0] IMPLICIT OPTIONAL,
  //   recipientInfos SET, encryptedContentInfo, unprotectedAttrs [1] IMPLICIT OPTIONAL }
  const fields = childrenOf(envelopedData, Tag.SEQUENCE, 'EnvelopedData');
  const next = hasTag(fields[1], Tag.context(0)) ? 2 : 1;
  const recipientInfos = childrenOf(fields[next], Tag.SET, 'EnvelopedData.recipientInfos');
  const encryptedKey = ourEncryptedKey(recipientInfos, recipient);

  // EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
  //   encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
  const [, algorithmNode, encryptedContent] = childrenOf(fields[next + 1], Tag.SEQUENCE, 'EncryptedContentInfo');
  const algorithm = algorithmOf(algorithmNode, 'contentEncryptionAlgorithm');
  const cipher = contentCipherByOid(algorithm.oid);
  if (cipher === undefined) throw new CmsError('unsupported-algorithm', `content encryption ${algorithm.oid}`);
  const iv = octetsOf(algorithm.parameters, Tag.OCTET_STRING, 'content encryption IV');
  if (iv.length !== cipher.blockSize) throw malformed('content encryption IV', `${iv.length} bytes`);
  const ciphertext = octetsOf(encryptedContent, Tag.context(0), 'encryptedContent');
  if (ciphertext.length === 0 || ciphertext.length % cipher.blockSize !== 0) {
    throw malformed('encryptedContent', `${ciphertext.length} bytes is not whole cipher blocks`);
  }
  return { cipher, iv, encryptedKey, ciphertext };
}

function ourEncryptedKey(recipientInfos: readonly BerNode[], recipient: BerNode): Buffer {
  for (const info of recipientInfos) {
    // Other RecipientInfo kinds (key agreement, KEK, password) are tagged; only key transport is a
    // plain SEQUENCE. KeyTransRecipientInfo ::= SEQUENCE { version, rid,
    //   keyEncryptionAlgorithm, encryptedKey OCTET STRING }
    if (!hasTag(info, Tag.SEQUENCE)) continue;
    const [, rid, keyAlgorithm, encryptedKey] = childrenOf(info, Tag.SEQUENCE, 'KeyTransRecipientInfo');
    if (!identifiesCertificate(parseSignerIdentifier(rid), recipient)) continue;
    const { oid } = algorithmOf(keyAlgorithm, 'keyEncryptionAlgorithm');
    if (oid !== OID.rsaEncryption) throw new CmsError('unsupported-algorithm', `key transport ${oid}`);
    return octetsOf(encryptedKey, Tag.OCTET_STRING, 'encryptedKey');
  }
  throw new CmsError('wrong-recipient', 'no RecipientInfo names the CA certificate');
}

/**
 * Decrypts `envelope` with the recipient's RSA key. `paddingOk` is false when the content's
 * PKCS#7 padding is wrong, which is also what a wrong key usually produces; the plaintext is then
 * the whole decryption, for the caller to treat like any other unusable content.
 */
export function openEnvelope(envelope: SealedEnvelope, privateKey: KeyObject): { plaintext: Buffer; paddingOk: boolean } {
  const { cipher } = envelope;
  const key = unwrapContentKey(envelope.encryptedKey, privateKey, cipher.keyLength);
  const padded = cipher.decryptBlocks(key, envelope.iv, envelope.ciphertext);
  const { length, ok } = paddedLength(padded, cipher.blockSize);
  return { plaintext: padded.subarray(0, length), paddingOk: ok };
}

/** PKCS#7 padding (RFC 5652 §6.3) checked over the whole last block, without early exits. */
function paddedLength(padded: Buffer, blockSize: number): { length: number; ok: boolean } {
  const end = padded.length;
  const count = padded[end - 1]!;
  let bad = ((count - 1) >>> 31) | ((blockSize - count) >>> 31); // count is 0, or above blockSize
  for (let i = 1; i <= blockSize; i++) {
    const inPadding = (i - count - 1) >>> 31; // 1 when i <= count
    bad |= inPadding & (((padded[end - i]! ^ count) + 0xff) >>> 8); // ...and the byte is not count
  }
  const ok = bad === 0;
  return { length: end - (count & -(1 - bad)), ok };
}

/** Encrypts `content` to `recipientCertDer` (RSA key `recipientKey`) with `cipher`. */
export function envelopedData(content: Uint8Array, recipientCertDer: Uint8Array, recipientKey: KeyObject, cipher: ContentCipher): Buffer {
  const key = cipher.generateKey();
  const iv = randomBytes(cipher.blockSize);
  const padding = cipher.blockSize - (content.length % cipher.blockSize);
  const ciphertext = cipher.encryptBlocks(key, iv, Buffer.concat([content, Buffer.alloc(padding, padding)]));
  const recipientInfo = sequence(
    smallInteger(0),
    issuerAndSerialNumber(recipientCertDer),
    algorithmIdentifier(OID.rsaEncryption, NULL),
    octetString(wrapContentKey(key, recipientKey)),
  );
  const encryptedContentInfo = sequence(
    objectIdentifier(OID.data),
    algorithmIdentifier(cipher.oid, octetString(iv)),
    implicit(0, ciphertext, false),
  );
  return sequence(objectIdentifier(OID.envelopedData), explicit(0, sequence(smallInteger(0), setOf(recipientInfo), encryptedContentInfo)));
}
