import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertBerShape, decodeBer, MAX_BER_DEPTH } from '../../src/identity/ber.ts';
import { IdentityError } from '../../src/identity/errors.ts';

const malformed = (error: unknown) => error instanceof IdentityError && error.reason === 'malformed';

/** `depth` SEQUENCEs, each holding the next, around one NULL; indefinite or definite lengths. */
function nested(depth: number, indefinite: boolean): Buffer {
  let inner = Buffer.from([0x05, 0x00]);
  if (indefinite) {
    return Buffer.concat([Buffer.alloc(depth * 2, Buffer.from([0x30, 0x80])), inner, Buffer.alloc(depth * 2)]);
  }
  for (let i = 0; i < depth; i++) inner = Buffer.concat([Buffer.from([0x30, 0x82, inner.length >> 8, inner.length & 0xff]), inner]);
  return inner;
}

test('nesting up to the limit is accepted, one more is refused', () => {
  for (const indefinite of [true, false]) {
    assert.doesNotThrow(() => decodeBer(nested(MAX_BER_DEPTH, indefinite), 'test'));
    assert.throws(() => assertBerShape(nested(MAX_BER_DEPTH + 1, indefinite), 'test'), malformed);
  }
});

test('100,000 levels of nesting are refused without recursion', () => {
  assert.throws(() => decodeBer(nested(100_000, true), 'test'), malformed);
});

test('deep nesting inside an OCTET STRING is left opaque, not decoded', () => {
  const deep = nested(5_000, true);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(deep.length);
  const octetString = Buffer.concat([Buffer.from([0x04, 0x84]), length, deep]);
  assert.doesNotThrow(() => decodeBer(octetString, 'test'));
});

test('structural errors are refused', () => {
  const cases: [string, number[]][] = [
    ['empty', []],
    ['truncated header', [0x30]],
    ['length past the end', [0x30, 0x05, 0x05, 0x00]],
    ['child overruns its parent', [0x30, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00]],
    ['trailing bytes', [0x05, 0x00, 0x05, 0x00]],
    ['unterminated indefinite length', [0x30, 0x80, 0x05, 0x00]],
    ['end-of-contents outside an indefinite element', [0x30, 0x02, 0x00, 0x00]],
    ['indefinite length on a primitive', [0x04, 0x80, 0x00, 0x00]],
    ['non-empty end-of-contents', [0x30, 0x80, 0x00, 0x01, 0x00]],
    ['length field of five bytes', [0x04, 0x85, 0, 0, 0, 0, 1, 0]],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(() => assertBerShape(Uint8Array.from(bytes), 'test'), malformed, name);
  }
});

test('high tag numbers and long-form lengths are walked correctly', () => {
  // [APPLICATION 300] primitive (tag in two base-128 bytes) with a long-form length of 2.
  const element = Uint8Array.from([0x5f, 0x82, 0x2c, 0x81, 0x02, 0xaa, 0xbb]);
  assert.doesNotThrow(() => assertBerShape(element, 'test'));
  assert.throws(() => assertBerShape(element.subarray(0, 6), 'test'), malformed);
});
