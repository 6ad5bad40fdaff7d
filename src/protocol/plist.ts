// The XML property list codec used on the device wire. Pure: no I/O.
//
// Devices only ever send XML plists. The `plist` package would also accept OpenStep and binary
// plists and resolves nothing but the five predefined XML entities, so we gate its input: only a
// document that starts like an XML plist, has no DTD internal subset and declares no entities is
// handed to it. That keeps entity-expansion tricks out before any parser sees them.
import { build, parse } from 'plist';

export type PlistValue =
  | string
  | number
  | boolean
  | Date
  | Uint8Array
  | PlistValue[]
  | { [key: string]: PlistValue };

export type PlistDict = { [key: string]: PlistValue };

/** Thrown for input that is not an acceptable XML plist; always the sender's fault (a 4xx). */
export class PlistError extends Error {
  override readonly name = 'PlistError';
}

const XML_START = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*)*(?:<!DOCTYPE\s+plist[^>[]*>\s*)?(?:<!--[\s\S]*?-->\s*)*<plist[\s>]/;
const FORBIDDEN = /<!ENTITY|<!DOCTYPE[^>]*\[/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses an XML plist whose root must be a dictionary (every MDM message and command is one). */
export function decodePlistDict(body: Uint8Array | string): PlistDict {
  const value = decodePlist(body);
  if (!isDict(value)) throw new PlistError('plist root is not a dictionary');
  return value;
}

export function decodePlist(body: Uint8Array | string): PlistValue {
  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8.decode(body);
  } catch {
    throw new PlistError('body is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (FORBIDDEN.test(text)) throw new PlistError('plist declares entities or a DTD internal subset');
  if (!XML_START.test(text)) throw new PlistError('body is not an XML plist');
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new PlistError(`malformed plist: ${(err as Error).message.split('\n')[0]}`);
  }
  if (value === null || value === undefined) throw new PlistError('empty plist');
  return value as PlistValue;
}

export function encodePlist(value: PlistValue): string {
  return build(value as Parameters<typeof build>[0]);
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
