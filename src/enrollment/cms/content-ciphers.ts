// The CBC content-encryption algorithms SCEP clients really use, by OID (RFC 8894 §3.5.2): AES
// from SCEPStandard clients and Apple devices, DES3 from older ones, and single DES from
// micromdm's scepclient 2.1, which sends DES-CBC whatever GetCACaps says. Node's OpenSSL 3 has
// no single DES outside its legacy provider, so DES alone runs in node-forge.
//
// Neither direction pads here: the caller adds and checks PKCS#7 padding itself, so that a
// padding failure takes the same path as any other bad message (see enveloped-data.ts).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { forge } from '../../on-first-use.ts';

export interface ContentCipher {
  readonly oid: string;
  readonly keyLength: number;
  readonly blockSize: number;
  /** A fresh random key (DES keys with odd parity, as FIPS 46-3 defines them). */
  generateKey(): Buffer;
  /** CBC over whole blocks, no padding added or removed. */
  encryptBlocks(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Buffer;
  decryptBlocks(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer;
}

/** The part of node-forge's cipher API used for DES (the module's own typings do not cover it). */
interface ForgeBlockCipher {
  start(options: { iv: string }): void;
  update(input: ForgeByteBuffer): void;
  /** `pad` replaces the mode's padding; ours adds and removes nothing. */
  finish(pad: () => boolean): boolean;
  readonly output: ForgeByteBuffer;
}
interface ForgeByteBuffer {
  getBytes(): string;
}
interface ForgeCipherApi {
  cipher: {
    createCipher(algorithm: 'DES-CBC', key: string): ForgeBlockCipher;
    createDecipher(algorithm: 'DES-CBC', key: string): ForgeBlockCipher;
  };
  util: { createBuffer(bytes: string, encoding: 'raw'): ForgeByteBuffer };
}
const forgeCiphers = forge as unknown as ForgeCipherApi; // (a proxy: node-forge loads on first use)

function nodeCipher(oid: string, name: string, keyLength: number, blockSize: number, des = false): ContentCipher {
  const run = (cipher: ReturnType<typeof createCipheriv | typeof createDecipheriv>, input: Uint8Array) => {
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(input), cipher.final()]);
  };
  return {
    oid,
    keyLength,
    blockSize,
    generateKey: () => (des ? desKey(keyLength) : randomBytes(keyLength)),
    encryptBlocks: (key, iv, plaintext) => run(createCipheriv(name, key, iv), plaintext),
    decryptBlocks: (key, iv, ciphertext) => run(createDecipheriv(name, key, iv), ciphertext),
  };
}

function forgeDes(oid: string): ContentCipher {
  const run = (cipher: ForgeBlockCipher, iv: Uint8Array, input: Uint8Array) => {
    cipher.start({ iv: Buffer.from(iv).toString('binary') });
    cipher.update(forgeCiphers.util.createBuffer(Buffer.from(input).toString('binary'), 'raw'));
    cipher.finish(() => true);
    return Buffer.from(cipher.output.getBytes(), 'binary');
  };
  const keyString = (key: Uint8Array) => Buffer.from(key).toString('binary');
  return {
    oid,
    keyLength: 8,
    blockSize: 8,
    generateKey: () => desKey(8),
    encryptBlocks: (key, iv, plaintext) => run(forgeCiphers.cipher.createCipher('DES-CBC', keyString(key)), iv, plaintext),
    decryptBlocks: (key, iv, ciphertext) => run(forgeCiphers.cipher.createDecipher('DES-CBC', keyString(key)), iv, ciphertext),
  };
}

/** Random DES key bytes, each with its low bit set so that it has an odd number of one bits. */
function desKey(length: number): Buffer {
  const key = randomBytes(length);
  for (let i = 0; i < length; i++) {
    let ones = 0;
    for (let bit = 1; bit < 0x100; bit <<= 1) ones += key[i]! & bit ? 1 : 0;
    if (ones % 2 === 0) key[i]! ^= 0x01;
  }
  return key;
}

const CIPHERS: readonly ContentCipher[] = [
  nodeCipher('2.16.840.1.101.3.4.1.2', 'aes-128-cbc', 16, 16),
  nodeCipher('2.16.840.1.101.3.4.1.22', 'aes-192-cbc', 24, 16),
  nodeCipher('2.16.840.1.101.3.4.1.42', 'aes-256-cbc', 32, 16),
  nodeCipher('1.2.840.113549.3.7', 'des-ede3-cbc', 24, 8, true),
  forgeDes('1.3.14.3.2.7'),
];
const BY_OID: ReadonlyMap<string, ContentCipher> = new Map(CIPHERS.map((c) => [c.oid, c]));

export function contentCipherByOid(oid: string): ContentCipher | undefined {
  return BY_OID.get(oid);
}
