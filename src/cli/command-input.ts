// What `aspen send` submits: a JSON Command built from `--Key value` flags, typed by the command's
// schema, or a file holding a JSON Command dictionary or a command plist.
import { readFileSync } from 'node:fs';
import type { CommandDefinition, ValueSpec } from '../protocol/commands/index.ts';
import { decodePlist, PlistError, plistToJson } from '../protocol/plist.ts';
import { didYouMean } from '../protocol/suggest.ts';
import { CliError, UsageError } from './errors.ts';

/** The part of POST /v1/commands that carries the command. */
export type CommandPayload = { command: Record<string, unknown>; command_uuid?: string } | { plist: string };

/**
 * `--Queries SerialNumber,OSVersion` → an array because the schema types Queries as one;
 * `--Payload @wifi.mobileconfig` → the file's bytes as base64 because Payload is data. An unknown
 * RequestType or key is refused here, with the names it was probably meant to be.
 */
export async function commandFromFlags(requestType: string, pairs: readonly (readonly [string, string])[]): Promise<Record<string, unknown>> {
  const spec = (await commandDefinition(requestType)).command;
  const command: Record<string, unknown> = { RequestType: requestType };
  for (const [key, raw] of pairs) {
    if (key in command) throw new UsageError(`--${key} given twice`);
    const value = spec.keys.get(key)?.value ?? spec.otherKeys;
    if (value === undefined) {
      const hint = didYouMean(key, [...spec.keys.keys()].filter((k) => k !== 'RequestType'), (k) => `--${k}`);
      throw new UsageError(`${requestType} has no key ${key}${hint && ` (${hint})`}; see aspen help ${requestType}`);
    }
    command[key] = convert(key, raw, value);
  }
  return command;
}

/** The schema of a RequestType, or a usage error naming the likely ones. */
export async function commandDefinition(requestType: string): Promise<CommandDefinition> {
  // Loaded here, not at the top: the schema costs a few hundred ms that no other command should pay.
  const { commandRegistry } = await import('../protocol/commands/index.ts');
  const definition = commandRegistry.get(requestType);
  if (definition !== undefined) return definition;
  const hint = didYouMean(requestType, commandRegistry.all().map((d) => d.requestType), (t) => t);
  throw new UsageError(`unknown RequestType ${requestType}${hint && ` (${hint})`}`);
}

function convert(key: string, raw: string, spec: ValueSpec): unknown {
  switch (spec.kind) {
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw new UsageError(`--${key} expects true or false, not ${JSON.stringify(raw)}`);
      return raw === 'true';
    case 'integer':
    case 'real': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (spec.kind === 'integer' && !Number.isInteger(n))) {
        throw new UsageError(`--${key} expects ${spec.kind === 'integer' ? 'an integer' : 'a number'}, not ${JSON.stringify(raw)}`);
      }
      return n;
    }
    case 'data':
      // Base64 never holds an '@', so `@path` can only mean a file.
      return raw.startsWith('@') ? readFile(key, raw.slice(1)).toString('base64') : raw;
    case 'array':
      // A plist or JSON file, JSON for arrays whose items hold commas or are dictionaries, a comma
      // list otherwise (whose items may be @files themselves, for an array of data).
      if (raw.startsWith('@')) return structuredFile(key, raw.slice(1));
      if (raw.trimStart().startsWith('[')) return json(key, raw);
      return raw === '' ? [] : raw.split(',').map((item) => convert(key, item.trim(), spec.items));
    case 'dictionary':
    case 'variants':
      return raw.startsWith('@') ? structuredFile(key, raw.slice(1)) : json(key, raw);
    case 'any':
      return /^\s*[[{]/.test(raw) ? json(key, raw) : raw;
    default:
      // string and date (ISO 8601) are strings in the JSON API.
      return raw;
  }
}

function json(key: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--${key} expects JSON here: ${(err as Error).message}`);
  }
}

function readFile(key: string, path: string): Buffer {
  if (path === '') throw new UsageError(`--${key} @: give a file name after the @`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`--${key} @${path}: cannot read it: ${(err as Error).message}`);
  }
}

/** A dictionary or array value from an XML plist or a JSON file, in the API's JSON form. */
function structuredFile(key: string, path: string): unknown {
  const parsed = parseStructured(readFile(key, path).toString('utf8'), `--${key} @${path}`);
  return parsed.kind === 'plist' ? plistToJson(decodeOrFail(parsed.text, `--${key} @${path}`)) : parsed.value;
}

function decodeOrFail(text: string, what: string) {
  try {
    return decodePlist(text);
  } catch (err) {
    if (err instanceof PlistError) throw new CliError(`${what}: ${err.message}`);
    throw err;
  }
}

/** A file is a plist if it starts like XML, else JSON. */
function parseStructured(text: string, what: string): { kind: 'plist'; text: string } | { kind: 'json'; value: unknown } {
  const start = text.trimStart();
  if (start.startsWith('<')) return { kind: 'plist', text };
  if (start.startsWith('bplist')) throw new CliError(`${what} is a binary plist; convert it to XML first (plutil -convert xml1)`);
  try {
    return { kind: 'json', value: JSON.parse(text) };
  } catch (err) {
    throw new CliError(`${what} is neither an XML plist nor JSON: ${(err as Error).message}`);
  }
}

/**
 * The command of `--file`: a plist (sent as it is), or JSON holding either the Command dictionary
 * itself or a whole `{CommandUUID?, Command}` envelope, the JSON twin of a command plist.
 */
export function commandFromFile(path: string): CommandPayload {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = parseStructured(text, path);
  if (parsed.kind === 'plist') return { plist: parsed.text };
  const value = parsed.value;
  if (!isObject(value)) throw new CliError(`${path}: expected a JSON object`);
  if (!isObject(value.Command)) return { command: value };
  const uuid = value.CommandUUID;
  return { command: value.Command, ...(typeof uuid === 'string' ? { command_uuid: uuid } : {}) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
