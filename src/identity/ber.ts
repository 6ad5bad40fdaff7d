// A strict BER reader for the untrusted bytes in device identity headers.
//
// Every device request carries an Mdm-Signature, so decoding sits on the hot path: asn1js, used here
// before, builds a rich object per element and took ~85% of a cached verification. This
// reader makes one iterative pass (an explicit stack, no recursion) that bounds nesting, rejects
// truncated or overrunning lengths and trailing bytes, and records for each element only its tag
// and byte ranges. Primitive contents, OCTET STRINGs and BIT STRINGs included, are never looked
// into, so an encoding hidden inside one costs nothing until a caller decodes it on purpose.
import { IdentityError } from './errors.ts';

/** CMS SignedData with a certificate nests about 12 deep; 32 leaves room for unusual encoders. */
export const MAX_BER_DEPTH = 32;

/** One decoded element. Offsets index `bytes`, the buffer the element was decoded from. */
export interface BerNode {
  readonly bytes: Uint8Array;
  /** The identifier's top two bits: 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly tagClass: number;
  readonly constructed: boolean;
  readonly tagNumber: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  readonly valueStart: number;
  /** End of the contents, before any end-of-contents octets. */
  readonly valueEnd: number;
  /** End of the whole element, end-of-contents octets included. */
  readonly end: number;
  /** Every length in the element, its own included, is definite and in its shortest form (DER). */
  readonly derLengths: boolean;
  /** Empty for a primitive element. */
  readonly children: readonly BerNode[];
}

interface OpenNode extends BerNode {
  valueEnd: number;
  end: number;
  derLengths: boolean;
  readonly children: BerNode[];
}

const INDEFINITE = -1;
const NO_CHILDREN: readonly BerNode[] = Object.freeze([]);

/** Decodes one complete BER element that must fill `bytes` exactly. */
export function decodeBer(bytes: Uint8Array, what: string): BerNode {
  // Open constructed elements, innermost last, and for each the offset no child may pass: its own
  // end if definite, else inherited from the nearest definite-length ancestor.
  const open: OpenNode[] = [];
  const limits: number[] = [];
  let root: BerNode | undefined;
  let pos = 0;
  do {
    const limit = limits[limits.length - 1] ?? bytes.length;
    const start = pos;
    // Every read below is preceded by a check against `limit`, which never exceeds bytes.length.
    if (pos >= limit) throw truncated(what, start);
    const identifier = bytes[pos++]!;
    let tagNumber = identifier & 0x1f;
    if (tagNumber === 0x1f) {
      // High tag number: base-128 with no leading zero digit, for tags that do not fit in five bits
      // (X.690 8.1.2.4). Both rules keep one tag from having two encodings. Four digits carry 28
      // bits, more than any real tag.
      tagNumber = 0;
      let digit: number;
      do {
        if (pos >= limit) throw truncated(what, start);
        digit = bytes[pos++]!;
        if (tagNumber === 0 && digit === 0x80) throw malformed(what, `tag number with a leading zero at ${start}`);
        tagNumber = tagNumber * 128 + (digit & 0x7f);
        if (pos - start > 5) throw malformed(what, `tag number too long at ${start}`);
      } while (digit & 0x80);
      if (tagNumber < 0x1f) throw malformed(what, `tag number ${tagNumber} in long form at ${start}`);
    }
    const tagClass = identifier >> 6;
    const constructed = (identifier & 0x20) !== 0;

    if (pos >= limit) throw truncated(what, start);
    const first = bytes[pos++]!;
    let length: number;
    let derLength = true;
    if (first < 0x80) {
      length = first;
    } else if (first === 0x80) {
      if (!constructed) throw malformed(what, `indefinite length on a primitive at ${start}`);
      length = INDEFINITE;
      derLength = false;
    } else {
      const lengthBytes = first & 0x7f;
      if (lengthBytes > 4) throw malformed(what, `length field too long at ${start}`);
      if (pos + lengthBytes > limit) throw truncated(what, start);
      derLength = bytes[pos] !== 0;
      length = 0;
      for (let i = 0; i < lengthBytes; i++) length = length * 256 + bytes[pos++]!;
      derLength &&= length >= 0x80;
    }
    if (length !== INDEFINITE && pos + length > limit) throw malformed(what, `length overruns its container at ${start}`);

    if (identifier === 0) {
      // End-of-contents, exactly 00 00: closes the innermost open element, which must be indefinite.
      if (pos !== start + 2 || length !== 0) throw malformed(what, `end-of-contents other than 00 00 at ${start}`);
      const closing = open.pop();
      limits.pop();
      if (closing?.end !== INDEFINITE) throw malformed(what, `stray end-of-contents at ${start}`);
      closing.valueEnd = start;
      closing.end = pos;
    } else {
      if (tagClass === 0 && tagNumber === 0) throw malformed(what, `reserved universal tag 0 at ${start}`);
      const end = length === INDEFINITE ? INDEFINITE : pos + length;
      const node: OpenNode = {
        bytes,
        tagClass,
        constructed,
        tagNumber,
        start,
        valueStart: pos,
        valueEnd: end,
        end,
        derLengths: derLength,
        children: constructed ? [] : (NO_CHILDREN as BerNode[]),
      };
      if (!derLength) {
        // Mark the enclosing elements too, stopping at one already marked: its own ancestors are.
        for (let i = open.length - 1; i >= 0 && open[i]!.derLengths; i--) open[i]!.derLengths = false;
      }
      const parent = open[open.length - 1];
      if (parent === undefined) root = node;
      else parent.children.push(node);
      if (constructed) {
        if (open.length >= MAX_BER_DEPTH) throw malformed(what, `nested deeper than ${MAX_BER_DEPTH}`);
        open.push(node);
        limits.push(end === INDEFINITE ? limit : end);
      } else {
        pos = end;
      }
    }
    while (open.length > 0 && open[open.length - 1]!.end === pos) {
      open.pop();
      limits.pop();
    }
  } while (open.length > 0);
  if (pos !== bytes.length) throw malformed(what, `${bytes.length - pos} trailing bytes`);
  return root!;
}

// Accessors over decoded elements. Each states what it expected, so a refusal says where the input
// departed from the structure we parse.

/** The children of a constructed element with the given tag. */
export function childrenOf(node: BerNode | undefined, tag: BerTag, what: string): readonly BerNode[] {
  if (!hasTag(node, tag) || !node.constructed) throw malformed(what, `expected a constructed ${tag.name}`);
  return node.children;
}

/** The content octets of a primitive element with the given tag (header stripped). */
export function contentOf(node: BerNode | undefined, tag: BerTag, what: string): Uint8Array {
  if (!hasTag(node, tag) || node.constructed) throw malformed(what, `expected a primitive ${tag.name}`);
  return node.bytes.subarray(node.valueStart, node.valueEnd);
}

/** An OBJECT IDENTIFIER in dotted form. Arcs must be minimally encoded and fit in a double. */
export function oidOf(node: BerNode | undefined, what: string): string {
  const content = contentOf(node, Tag.OBJECT_IDENTIFIER, what);
  if (content.length === 0 || content[content.length - 1]! & 0x80) throw malformed(what, 'truncated OBJECT IDENTIFIER');
  let dotted = '';
  let arc = 0;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i]!;
    if (arc === 0 && byte === 0x80) throw malformed(what, 'OBJECT IDENTIFIER arc with a leading zero');
    arc = arc * 128 + (byte & 0x7f);
    if (arc > Number.MAX_SAFE_INTEGER) throw malformed(what, 'OBJECT IDENTIFIER arc too large');
    if (byte & 0x80) continue;
    if (dotted === '') {
      // The first subidentifier packs the first two arcs as 40 * first + second (X.690 8.19.4).
      const top = Math.min(Math.floor(arc / 40), 2);
      dotted = `${top}.${arc - 40 * top}`;
    } else {
      dotted += `.${arc}`;
    }
    arc = 0;
  }
  return dotted;
}

export function expectTag(node: BerNode | undefined, tag: BerTag, what: string): BerNode {
  if (!hasTag(node, tag)) throw malformed(what, `expected ${tag.name}`);
  return node;
}

/** The element's encoding exactly as received, header (and any end-of-contents octets) included. */
export function encodingOf(node: BerNode): Uint8Array {
  return node.bytes.subarray(node.start, node.end);
}

/**
 * Refuses an element whose received bytes cannot be its DER encoding because some length in it is
 * indefinite or longer than needed. (Other DER rules, such as SET OF ordering, are not checked:
 * what consumes such bytes, a signature check or X.509 parsing, refuses those.)
 */
export function assertDerLengths(node: BerNode, what: string): void {
  if (!node.derLengths) throw malformed(what, 'not DER: an indefinite or non-minimal length');
}

export function hasTag(node: BerNode | undefined, tag: BerTag): node is BerNode {
  return node !== undefined && node.tagClass === tag.tagClass && node.tagNumber === tag.tagNumber;
}

export interface BerTag {
  tagClass: number;
  tagNumber: number;
  name: string;
}

const UNIVERSAL = 0;
const CONTEXT = 2;

export const Tag = {
  INTEGER: { tagClass: UNIVERSAL, tagNumber: 2, name: 'INTEGER' },
  OCTET_STRING: { tagClass: UNIVERSAL, tagNumber: 4, name: 'OCTET STRING' },
  OBJECT_IDENTIFIER: { tagClass: UNIVERSAL, tagNumber: 6, name: 'OBJECT IDENTIFIER' },
  SEQUENCE: { tagClass: UNIVERSAL, tagNumber: 16, name: 'SEQUENCE' },
  SET: { tagClass: UNIVERSAL, tagNumber: 17, name: 'SET' },
  context: (tagNumber: number): BerTag => ({ tagClass: CONTEXT, tagNumber, name: `[${tagNumber}]` }),
} as const satisfies Record<string, BerTag | ((n: number) => BerTag)>;

export function malformed(what: string, detail: string): IdentityError {
  return new IdentityError('malformed', `${what}: ${detail}`);
}

function truncated(what: string, start: number): IdentityError {
  return malformed(what, `truncated at ${start}`);
}
