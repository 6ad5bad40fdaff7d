// The XML property list codec used on the device wire. Pure: no I/O.
//
// Devices only ever send XML plists, so only XML is read, by our own reader (plist-reader.ts, which
// says why); a DTD internal subset, and so any entity declaration, is refused before a value is
// read. Writing (plist-writer.ts) gives the bytes the `plist` package gave, which devices know.
import { PlistError, PlistReader, type ReadOptions } from './plist-reader.ts';
import { writePlist } from './plist-writer.ts';

export { MAX_PLIST_DEPTH, PlistError, type ReadOptions, type UnreadablePolicy } from './plist-reader.ts';

export type PlistValue =
  | string
  | number
  | boolean
  | Date
  | Uint8Array
  | PlistValue[]
  | { [key: string]: PlistValue };

export type PlistDict = { [key: string]: PlistValue };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses an XML plist whose root must be a dictionary (every MDM message and command is one). */
export function decodePlistDict(body: Uint8Array | string, options?: ReadOptions): PlistDict {
  return rootDict(decodePlist(body, options));
}

/** Parses an XML plist of any root type (a dictionary, an array, a string...). */
export function decodePlist(body: Uint8Array | string, options?: ReadOptions): PlistValue {
  return new PlistReader(text(body), options).read();
}

function text(body: Uint8Array | string): string {
  let decoded: string;
  try {
    decoded = typeof body === 'string' ? body : utf8.decode(body);
  } catch {
    throw new PlistError('body is not valid UTF-8');
  }
  return decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
}

function rootDict(value: PlistValue): PlistDict {
  if (!isDict(value)) throw new PlistError('plist root is not a dictionary');
  return value;
}

export function encodePlist(value: PlistValue): string {
  return writePlist(value);
}

export function isDict(value: unknown): value is PlistDict {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Date)
  );
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Plist → JSON for admins: `<data>` becomes base64, `<date>` becomes ISO 8601. */
export function plistToJson(value: PlistValue): JsonValue {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plistToJson);
  if (isDict(value)) {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) out[k] = plistToJson(v);
    return out;
  }
  return value;
}
