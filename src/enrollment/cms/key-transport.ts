// RSA PKCS#1 v1.5 key transport (RFC 8017 §7.2.2), the key transport every SCEP client uses.
//
// Node 20 refuses RSA_PKCS1_PADDING for private decryption (CVE-2023-46809): OpenSSL's unpadding
// there is a Bleichenbacher oracle. The raw RSA operation (RSA_NO_PADDING) is still available and
// is OpenSSL's constant-time, blinded one, so the padding check happens here instead, without
// branching on secret data; and whenever padding or length is wrong, a random key of the expected
// length takes the real one's place (RFC 3218 §2.3.2). A bad padding then fails later, exactly as
// a wrong key or garbage content does, and nothing tells the sender which it was. (A pure-JS RSA
// such as node-forge's would also work, but costs ~30 ms of blocked event loop per 2048-bit
// decryption and ~140 ms at 3072 bits, against ~1-3 ms here; and its big-integer arithmetic is not
// constant-time.)
import { constants, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';

/** 00 02, at least eight non-zero padding bytes, 00: the overhead around the key. */
const MIN_PADDING = 11;

/**
 * The content-encryption key in `encryptedKey`, or, if it does not decrypt to a well-padded key
 * of `keyLength` bytes, a random one. Never throws for anything the sender controls.
 */
export function unwrapContentKey(encryptedKey: Uint8Array, privateKey: KeyObject, keyLength: number): Buffer {
  const modulusBits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (privateKey.asymmetricKeyType !== 'rsa' || modulusBits === undefined) throw new Error('key transport needs an RSA key');
  const k = Math.ceil(modulusBits / 8);
  if (k < keyLength + MIN_PADDING) throw new Error(`a ${modulusBits}-bit RSA key cannot carry a ${keyLength}-byte key`);

  const substitute = randomBytes(keyLength);
  let em: Buffer;
  let bad = 0;
  try {
    // OpenSSL takes a shorter ciphertext as the same number with leading zeros, which would make a
    // wrong length decrypt once in 256 tries: it is refused here (the length is a public fact).
    if (encryptedKey.length !== k) throw new Error('ciphertext of the wrong length');
    // Throws only for a ciphertext not below the modulus: also a public fact. Without padding, a
    // k-byte ciphertext decrypts to exactly k bytes.
    em = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encryptedKey);
  } catch {
    em = Buffer.alloc(k);
    bad = 1;
  }
  // The key must be the last keyLength bytes, so the zero separator has one fixed position and
  // every byte between it and the 00 02 prefix must be non-zero. Checked without early exits.
  const separator = k - keyLength - 1;
  bad |= em[0]! | (em[1]! ^ 0x02) | em[separator]!;
  for (let i = 2; i < separator; i++) bad |= (em[i]! - 1) >>> 31; // 1 exactly when the byte is 0
  const keep = ((bad - 1) >>> 31) * 0xff; // 0xff when bad is 0, else 0
  const key = Buffer.alloc(keyLength);
  for (let i = 0; i < keyLength; i++) key[i] = (em[separator + 1 + i]! & keep) | (substitute[i]! & ~keep & 0xff);
  return key;
}

export function wrapContentKey(key: Uint8Array, recipient: KeyObject): Buffer {
  return publicEncrypt({ key: recipient, padding: constants.RSA_PKCS1_PADDING }, key);
}
