// RSA PKCS#1 v1.5 key transport. Unwrapping must never reveal whether the padding was right: a
// bad encryption yields a random key of the expected length (RFC 3218 §2.3.2), never an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { unwrapContentKey, wrapContentKey } from '../../src/enrollment/cms/key-transport.ts';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const K = 256;

/** Raw RSA of a chosen encoded message, to build any padding, good or bad. */
function rawEncrypt(em: Buffer): Buffer {
  assert.equal(em.length, K);
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, em);
}

function encodedMessage(key: Buffer, change: (em: Buffer) => void = () => {}): Buffer {
  const em = Buffer.alloc(K);
  em[1] = 0x02;
  const padding = K - key.length - 3;
  for (let i = 0; i < padding; i++) em[2 + i] = 1 + (i % 255);
  key.copy(em, K - key.length);
  change(em);
  return em;
}

test('a well-wrapped key comes back, for every content-key length', () => {
  for (const length of [8, 16, 24, 32]) {
    const key = randomBytes(length);
    assert.deepEqual(unwrapContentKey(wrapContentKey(key, publicKey), privateKey, length), key);
    // Our own encoding of the padding agrees with OpenSSL's.
    assert.deepEqual(unwrapContentKey(rawEncrypt(encodedMessage(key)), privateKey, length), key);
  }
});

test('every kind of bad padding gives a random key of the expected length instead of an error', () => {
  const key = randomBytes(16);
  const bad: Record<string, Buffer> = {
    'leading byte not zero': rawEncrypt(encodedMessage(key, (em) => (em[0] = 0x01))),
    'block type 1 (signature padding)': rawEncrypt(encodedMessage(key, (em) => (em[1] = 0x01))),
    'a zero inside the padding': rawEncrypt(encodedMessage(key, (em) => (em[20] = 0))),
    'no zero before the key': rawEncrypt(encodedMessage(key, (em) => (em[K - key.length - 1] = 0x55))),
    'a key of another length': wrapContentKey(randomBytes(24), publicKey),
    'ciphertext of the wrong length': wrapContentKey(key, publicKey).subarray(1),
    // The same number, one byte short: OpenSSL alone would decrypt it to the real key.
    'a leading zero byte left out': withLeadingZero(() => wrapContentKey(key, publicKey)).subarray(1),
    'ciphertext not below the modulus': Buffer.alloc(K, 0xff),
  };
  for (const [name, encrypted] of Object.entries(bad)) {
    const first = unwrapContentKey(encrypted, privateKey, 16);
    const second = unwrapContentKey(encrypted, privateKey, 16);
    assert.equal(first.length, 16, name);
    assert.notDeepEqual(first, key, name);
    // Random each time: nothing about the padding survives into the key.
    assert.notDeepEqual(first, second, name);
  }
});

test('a key transport key too small for the content key is a configuration error', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 512 });
  assert.throws(() => unwrapContentKey(Buffer.alloc(64), small.privateKey, 60), /cannot carry/);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  assert.throws(() => unwrapContentKey(Buffer.alloc(64), ec.privateKey, 16), /needs an RSA key/);
});

/** One of `wrap`'s (random) ciphertexts that starts with a zero byte: about one in 256 does. */
function withLeadingZero(wrap: () => Buffer): Buffer {
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const encrypted = wrap();
    if (encrypted[0] === 0) return encrypted;
  }
  throw new Error('no ciphertext with a leading zero in 10,000 tries');
}
