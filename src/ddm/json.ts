// JSON values as DDM carries them (declarations, status reports) and the one canonical
// serialization that content tokens are computed over.
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../protocol/json-depth.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * JSON with object keys sorted (by UTF-16 code unit) and no whitespace, so two documents that differ
 * only in key order or formatting serialize identically. Numbers use JSON.stringify's shortest
 * round-trip form, so `1` and `1.0` are the same value, as they are to the device.
 */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export type JsonParse = { ok: true; value: JsonValue } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON document from bytes or text; never throws. */
export function parseJson(body: Uint8Array | string): JsonParse {
  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8.decode(body);
  } catch {
    return { ok: false, reason: 'not valid UTF-8' };
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
  }
  return nestsDeeperThan(value) ? { ok: false, reason: `nested deeper than ${MAX_JSON_DEPTH} levels` } : { ok: true, value };
}
