// A minimal DER writer for the CMS structures Aspen produces (SCEP CertRep, profile signatures).
// Pieces that were encoded elsewhere (certificates, names copied from a request) are embedded byte
// for byte: recipients and signers are matched by those exact bytes, so nothing may re-encode them.

/** Universal tags used here, and the bits that make context-specific tags. */
const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;
const CONTEXT = 0x80;
const CONSTRUCTED = 0x20;

/** One complete element: identifier, definite minimal length, contents. */
export function tlv(tag: number, contents: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthOf(contents.length), contents]);
}

export function sequence(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(items));
}

/** SET OF: DER orders the elements by their encodings (X.690 11.6). */
export function setOf(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.SET, setOfContents(...items));
}

/** The contents of a DER SET OF, for use under another tag (e.g. [0] IMPLICIT SET OF). */
export function setOfContents(...items: readonly Uint8Array[]): Buffer {
  return Buffer.concat([...items].sort(Buffer.compare));
}

export function set(contents: Uint8Array): Buffer {
  return tlv(TAG.SET, contents);
}

/** A small non-negative INTEGER (versions, counts). */
export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 127) throw new RangeError(`smallInteger(${value})`);
  return tlv(TAG.INTEGER, Buffer.from([value]));
}

/** An INTEGER from its content octets, which the caller has already made minimal. */
export function integerFromContent(contents: Uint8Array): Buffer {
  return tlv(TAG.INTEGER, contents);
}

export function octetString(contents: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, contents);
}

export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new RangeError('not a PrintableString');
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'ascii'));
}

export const NULL = Buffer.from([TAG.NULL, 0]);

export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) {
    throw new RangeError(`bad OID ${dotted}`);
  }
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const digits = [arc % 128];
    for (let rem = Math.floor(arc / 128); rem > 0; rem = Math.floor(rem / 128)) digits.unshift((rem % 128) | 0x80);
    bytes.push(...digits);
  }
  return tlv(TAG.OBJECT_IDENTIFIER, Buffer.from(bytes));
}

/** SEQUENCE { algorithm OID, parameters } with parameters omitted, NULL, or given. */
export function algorithmIdentifier(oid: string, parameters?: Uint8Array): Buffer {
  return sequence(objectIdentifier(oid), ...(parameters ? [parameters] : []));
}

/** RFC 5652 §11.3 signingTime: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  return date.getUTCFullYear() < 2050
    ? tlv(TAG.UTC_TIME, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(TAG.GENERALIZED_TIME, Buffer.from(digits, 'ascii'));
}

/** [n] EXPLICIT: a constructed context tag around one complete element. */
export function explicit(tagNumber: number, element: Uint8Array): Buffer {
  return tlv(contextTag(tagNumber, true), element);
}

/** [n] IMPLICIT: the contents of the underlying type under a context tag. */
export function implicit(tagNumber: number, contents: Uint8Array, constructed: boolean): Buffer {
  return tlv(contextTag(tagNumber, constructed), contents);
}

function contextTag(tagNumber: number, constructed: boolean): number {
  if (tagNumber > 30) throw new RangeError(`context tag [${tagNumber}]`);
  return CONTEXT | (constructed ? CONSTRUCTED : 0) | tagNumber;
}

function lengthOf(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rem = length; rem > 0; rem = Math.floor(rem / 256)) bytes.unshift(rem % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
