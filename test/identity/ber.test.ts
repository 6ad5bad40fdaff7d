import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertDerLengths, contentOf, decodeBer, encodingOf, MAX_BER_DEPTH, oidOf, Tag, type BerNode } from '../../src/identity/ber.ts';
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
    assert.throws(() => decodeBer(nested(MAX_BER_DEPTH + 1, indefinite), 'test'), malformed);
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
    ['end-of-contents with a long-form length', [0x30, 0x80, 0x00, 0x81, 0x00]],
    ['length field of five bytes', [0x04, 0x85, 0, 0, 0, 0, 1, 0]],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(() => decodeBer(Uint8Array.from(bytes), 'test'), malformed, name);
  }
});

test('high tag numbers and long-form lengths are walked correctly', () => {
  // [APPLICATION 300] primitive (tag in two base-128 bytes) with a long-form length of 2.
  const element = Uint8Array.from([0x5f, 0x82, 0x2c, 0x81, 0x02, 0xaa, 0xbb]);
  assert.doesNotThrow(() => decodeBer(element, 'test'));
  assert.throws(() => decodeBer(element.subarray(0, 6), 'test'), malformed);
});

test('the tree records tags and byte ranges, through nested indefinite lengths', () => {
  // SEQUENCE (indefinite) { OCTET STRING aa bb, [0] (indefinite) { INTEGER 5 }, [1] {} , NULL }
  const bytes = Uint8Array.from([0x30, 0x80, 0x04, 0x02, 0xaa, 0xbb, 0xa0, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00, 0xa1, 0x00, 0x05, 0x00, 0x00, 0x00]);
  const root = decodeBer(bytes, 'test');
  const shape = (node: BerNode): unknown => ({
    tag: [node.tagClass, node.constructed, node.tagNumber],
    range: [node.start, node.valueStart, node.valueEnd, node.end],
    ...(node.constructed && { children: node.children.map(shape) }),
  });
  assert.deepEqual(shape(root), {
    tag: [0, true, 16],
    range: [0, 2, 17, 19],
    children: [
      { tag: [0, false, 4], range: [2, 4, 6, 6] },
      { tag: [2, true, 0], range: [6, 8, 11, 13], children: [{ tag: [0, false, 2], range: [8, 10, 11, 11] }] },
      { tag: [2, true, 1], range: [13, 15, 15, 15], children: [] },
      { tag: [0, false, 5], range: [15, 17, 17, 17] },
    ],
  });
  assert.deepEqual(contentOf(root.children[0], Tag.OCTET_STRING, 'test'), Uint8Array.from([0xaa, 0xbb]));
  assert.deepEqual(encodingOf(root.children[1] as BerNode), bytes.subarray(6, 13));
});

test('long-form lengths up to four bytes are decoded', () => {
  const content = Buffer.alloc(300, 0x41);
  const root = decodeBer(Buffer.concat([Buffer.from([0x04, 0x82, 0x01, 0x2c]), content]), 'test');
  assert.equal(root.valueEnd - root.valueStart, 300);
  const four = decodeBer(Buffer.concat([Buffer.from([0x04, 0x84, 0x00, 0x00, 0x01, 0x2c]), content]), 'test');
  assert.equal(four.valueStart, 6);
  assert.equal(four.end, 306);
});

test('length and tag fields that lie are refused', () => {
  const cases: [string, number[]][] = [
    ['length field cut off', [0x04, 0x82, 0x01]],
    ['four-byte length far beyond the input', [0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00]],
    ['child length beyond its indefinite parent and the input', [0x30, 0x80, 0x04, 0x83, 0x10, 0x00, 0x00, 0x00, 0x00]],
    ['child of an indefinite element inside a definite one overruns the definite one', [0x30, 0x04, 0x30, 0x80, 0x04, 0x01, 0xaa, 0x00, 0x00]],
    ['tag number cut off', [0x5f, 0x82]],
    ['tag number with a leading zero digit', [0x5f, 0x80, 0x82, 0x2c, 0x00]],
    ['tag number in five digits', [0x5f, 0x81, 0x80, 0x80, 0x80, 0x00, 0x00]],
    ['small tag number in long form', [0x9f, 0x05, 0x00]],
    ['reserved universal tag 0, constructed', [0x20, 0x00]],
    ['reserved length form 0xff', [0x04, 0xff]],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(() => decodeBer(Uint8Array.from(bytes), 'test'), malformed, name);
  }
});

test('the largest tag number, in four digits, is decoded', () => {
  const root = decodeBer(Uint8Array.from([0xdf, 0xff, 0xff, 0xff, 0x7f, 0x00]), 'test');
  assert.deepEqual([root.tagClass, root.tagNumber], [3, 2 ** 28 - 1]);
});

test('zero-length elements, primitive and constructed, are accepted', () => {
  assert.equal(decodeBer(Uint8Array.from([0x04, 0x00]), 'test').end, 2);
  assert.deepEqual(decodeBer(Uint8Array.from([0x30, 0x00]), 'test').children, []);
  assert.equal(decodeBer(Uint8Array.from([0x30, 0x80, 0x00, 0x00]), 'test').valueEnd, 2);
});

test('DER lengths are tracked per subtree', () => {
  const lengths = (bytes: number[]) => {
    const root = decodeBer(Uint8Array.from(bytes), 'test');
    return [root.derLengths, ...root.children.map((child) => child.derLengths)];
  };
  assert.deepEqual(lengths([0x30, 0x04, 0x04, 0x00, 0x30, 0x00]), [true, true, true]);
  assert.deepEqual(lengths([0x30, 0x05, 0x04, 0x81, 0x00, 0x30, 0x00]), [false, false, true], 'long form for a short length');
  assert.deepEqual(lengths([0x30, 0x06, 0x04, 0x82, 0x00, 0x00, 0x30, 0x00]), [false, false, true], 'leading zero length byte');
  assert.deepEqual(lengths([0x30, 0x80, 0x04, 0x00, 0x00, 0x00]), [false, true], 'indefinite');
  assert.deepEqual(lengths([0x30, 0x06, 0x30, 0x80, 0x00, 0x00, 0x04, 0x00]), [false, false, true], 'indefinite child');
  assert.throws(() => assertDerLengths(decodeBer(Uint8Array.from([0x30, 0x80, 0x00, 0x00]), 'test'), 'test'), malformed);
});

test('object identifiers decode strictly', () => {
  const oid = (content: number[]) => oidOf(decodeBer(Uint8Array.from([0x06, content.length, ...content]), 'test'), 'test');
  assert.equal(oid([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]), '1.2.840.113549.1.7.2');
  assert.equal(oid([0x00]), '0.0');
  assert.equal(oid([0x88, 0x37]), '2.999');
  for (const bad of [[], [0x2a, 0x86], [0x2a, 0x80, 0x01], [0x2a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]]) {
    assert.throws(() => oid(bad), malformed, bad.join(' '));
  }
  assert.throws(() => oidOf(decodeBer(Uint8Array.from([0x04, 0x01, 0x2a]), 'test'), 'test'), malformed, 'not an OID');
});
