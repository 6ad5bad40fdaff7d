// The two ways a command reaches us, and how each spells the values JSON cannot express natively.
//
// Admins post JSON (data as base64, dates as ISO 8601) or a raw plist (real <data> and <date>).
// The validator walks both the same way and asks the form only about these leaves.
import { isDict } from '../plist.ts';
import type { PlistValue } from '../plist.ts';

export type Decoded<T> = { ok: true; value: T } | { ok: false; expected: string };

export interface InputForm {
  data(value: unknown): Decoded<Uint8Array>;
  date(value: unknown): Decoded<Date>;
  /** A value under an `any` spec: converted to a plist value, but otherwise unchecked. */
  any(value: unknown): Decoded<PlistValue>;
}

// Standard alphabet, padded; whitespace is tolerated because admins paste wrapped base64.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// A timezone is required: a plist <date> is an instant, and guessing the server's zone is a bug.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

export const jsonForm: InputForm = {
  data(value) {
    const compact = typeof value === 'string' ? value.replace(/\s+/g, '') : undefined;
    if (compact === undefined || !BASE64.test(compact)) return { ok: false, expected: 'base64 string' };
    return { ok: true, value: new Uint8Array(Buffer.from(compact, 'base64')) };
  },
  date(value) {
    const time = typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(time)) return { ok: false, expected: 'ISO 8601 date-time string with timezone' };
    return { ok: true, value: new Date(time) };
  },
  any(value) {
    const converted = jsonToPlist(value);
    return converted === undefined ? { ok: false, expected: 'JSON value without nulls or characters XML cannot carry' } : { ok: true, value: converted };
  },
};

export const plistForm: InputForm = {
  data(value) {
    return value instanceof Uint8Array ? { ok: true, value } : { ok: false, expected: '<data>' };
  },
  date(value) {
    return value instanceof Date && !Number.isNaN(value.getTime()) ? { ok: true, value } : { ok: false, expected: '<date>' };
  },
  any(value) {
    return { ok: true, value: value as PlistValue };
  },
};

// Characters XML 1.0 cannot carry at all, not even escaped (controls, lone surrogates, U+FFFE/F).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NON_XML_CHARACTER = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string can be written into an XML plist at all. */
export function isXmlText(text: string): boolean {
  return !NON_XML_CHARACTER.test(text);
}

/** JSON → plist for schema-free values; undefined when something (null, NaN) has no plist equivalent. */
function jsonToPlist(value: unknown): PlistValue | undefined {
  if (typeof value === 'string') return isXmlText(value) ? value : undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (Array.isArray(value)) {
    const items = value.map(jsonToPlist);
    return items.every((item) => item !== undefined) ? (items as PlistValue[]) : undefined;
  }
  if (isDict(value) && Object.getPrototypeOf(value) === Object.prototype) {
    const out: { [key: string]: PlistValue } = {};
    for (const [key, item] of Object.entries(value)) {
      const converted = jsonToPlist(item);
      if (converted === undefined || !isXmlText(key)) return undefined;
      defineEntry(out, key, converted);
    }
    return out;
  }
  return undefined;
}

/** Sets an own property even for keys like "__proto__", which plain assignment would not. */
export function defineEntry(target: { [key: string]: PlistValue }, key: string, value: PlistValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
