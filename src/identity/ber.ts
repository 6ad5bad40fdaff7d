// Guarded BER decoding for the untrusted bytes in device identity headers.
//
// asn1js decodes recursively, so a crafted input of thousands of nested indefinite-length
// SEQUENCEs costs a deep call stack. Before any byte reaches asn1js we walk the encoding with an
// explicit stack: that bounds nesting, rejects truncated or overrunning lengths and trailing bytes,
// and costs one pass over the input. asn1js is then told not to speculatively decode the contents
// of OCTET STRINGs and BIT STRINGs (`parseEmbedded: false`), so the structure it builds is exactly
// the one the walk measured. (asn1js 3.1 has a recursion cap of its own, 100 by default; ours is
// tighter and does not depend on a library default.)
import * as asn1js from 'asn1js';
import { IdentityError } from './errors.ts';

/** CMS SignedData with a certificate nests about 12 deep; 32 leaves room for unusual encoders. */
export const MAX_BER_DEPTH = 32;

const INDEFINITE = -1;

/** Decodes one complete BER element that must fill `bytes` exactly. */
export function decodeBer(bytes: Uint8Array, what: string): asn1js.AsnType {
  assertBerShape(bytes, what);
  const { offset, result } = asn1js.fromBER(bytes, { parseEmbedded: false });
  if (offset !== bytes.length || result.error !== '') {
    throw malformed(what, result.error || 'does not decode');
  }
  return result;
}

/**
 * Checks that `bytes` is a single well-formed BER element nested at most MAX_BER_DEPTH deep,
 * without recursion.
 */
export function assertBerShape(bytes: Uint8Array, what: string): void {
  // One entry per open constructed element: where it ends (INDEFINITE until its end-of-contents
  // octets) and the offset no child may pass, inherited from the nearest definite-length ancestor.
  const open: { end: number; limit: number }[] = [];
  let pos = 0;
  do {
    const limit = open[open.length - 1]?.limit ?? bytes.length;
    const header = readHeader(bytes, pos, limit, what);
    pos += header.size;
    if (header.endOfContents) {
      if (open.pop()?.end !== INDEFINITE) throw malformed(what, `stray end-of-contents at ${pos}`);
    } else if (header.constructed) {
      if (open.length >= MAX_BER_DEPTH) throw malformed(what, `nested deeper than ${MAX_BER_DEPTH}`);
      const end = header.length === INDEFINITE ? INDEFINITE : pos + header.length;
      open.push({ end, limit: end === INDEFINITE ? limit : end });
    } else {
      pos += header.length;
    }
    while (open.length > 0 && open[open.length - 1]?.end === pos) open.pop();
  } while (open.length > 0);
  if (pos !== bytes.length) throw malformed(what, `${bytes.length - pos} trailing bytes`);
}

interface BerHeader {
  size: number;
  length: number;
  constructed: boolean;
  endOfContents: boolean;
}

function readHeader(bytes: Uint8Array, start: number, limit: number, what: string): BerHeader {
  let pos = start;
  const next = (): number => {
    const byte = bytes[pos++];
    if (byte === undefined || pos > limit) throw malformed(what, `truncated at ${start}`);
    return byte;
  };
  const identifier = next();
  if ((identifier & 0x1f) === 0x1f) {
    // High tag number: base-128 continuation bytes. Four carry 28 bits, more than any real tag.
    let continuationBytes = 0;
    while (next() & 0x80) {
      if (++continuationBytes >= 4) throw malformed(what, `tag number too long at ${start}`);
    }
  }
  const constructed = (identifier & 0x20) !== 0;
  const first = next();
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    if (!constructed) throw malformed(what, `indefinite length on a primitive at ${start}`);
    length = INDEFINITE;
  } else {
    const lengthBytes = first & 0x7f;
    if (lengthBytes > 4) throw malformed(what, `length field too long at ${start}`);
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + next();
  }
  if (length !== INDEFINITE && pos + length > limit) throw malformed(what, `length overruns its container at ${start}`);
  const endOfContents = identifier === 0;
  if (endOfContents && length !== 0) throw malformed(what, `non-empty end-of-contents at ${start}`);
  return { size: pos - start, length, constructed, endOfContents };
}

// Accessors over decoded blocks. Each states what it expected, so a refusal says where the input
// departed from the structure we parse.

/** The children of a constructed block with the given universal or context tag. */
export function childrenOf(block: asn1js.AsnType | undefined, tag: BerTag, what: string): asn1js.AsnType[] {
  if (!hasTag(block, tag) || !(block instanceof asn1js.Constructed)) {
    throw malformed(what, `expected a constructed ${tag.name}`);
  }
  return block.valueBlock.value;
}

/** The content octets of a primitive block with the given tag (header stripped). */
export function contentOf(block: asn1js.AsnType | undefined, tag: BerTag, what: string): Uint8Array {
  if (!hasTag(block, tag) || block.idBlock.isConstructed) {
    throw malformed(what, `expected a primitive ${tag.name}`);
  }
  const headerSize = block.idBlock.blockLength + block.lenBlock.blockLength;
  return block.valueBeforeDecodeView.subarray(headerSize);
}

export function oidOf(block: asn1js.AsnType | undefined, what: string): string {
  if (!(block instanceof asn1js.ObjectIdentifier)) throw malformed(what, 'expected an OBJECT IDENTIFIER');
  return block.valueBlock.toString();
}

export function expectTag(block: asn1js.AsnType | undefined, tag: BerTag, what: string): asn1js.AsnType {
  if (!hasTag(block, tag)) throw malformed(what, `expected ${tag.name}`);
  return block;
}

/** The block's encoding exactly as received, header included. */
export function encodingOf(block: asn1js.AsnType): Uint8Array {
  return block.valueBeforeDecodeView;
}

export function hasTag(block: asn1js.AsnType | undefined, tag: BerTag): block is asn1js.AsnType {
  return block !== undefined && block.idBlock.tagClass === tag.tagClass && block.idBlock.tagNumber === tag.tagNumber;
}

export interface BerTag {
  tagClass: number;
  tagNumber: number;
  name: string;
}

const UNIVERSAL = 1;
const CONTEXT = 3;

export const Tag = {
  INTEGER: { tagClass: UNIVERSAL, tagNumber: 2, name: 'INTEGER' },
  OCTET_STRING: { tagClass: UNIVERSAL, tagNumber: 4, name: 'OCTET STRING' },
  SEQUENCE: { tagClass: UNIVERSAL, tagNumber: 16, name: 'SEQUENCE' },
  SET: { tagClass: UNIVERSAL, tagNumber: 17, name: 'SET' },
  context: (tagNumber: number): BerTag => ({ tagClass: CONTEXT, tagNumber, name: `[${tagNumber}]` }),
} as const satisfies Record<string, BerTag | ((n: number) => BerTag)>;

export function malformed(what: string, detail: string): IdentityError {
  return new IdentityError('malformed', `${what}: ${detail}`);
}
