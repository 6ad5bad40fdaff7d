// What `aspen send` submits: a JSON Command built from `--Key value` flags, typed by the command's
// schema, or a file holding a JSON Command dictionary or a command plist.
import { readFileSync } from 'node:fs';
import type { ValueSpec } from '../protocol/commands/index.ts';
import { CliError, UsageError } from './errors.ts';

/** The part of POST /v1/commands that carries the command. */
export type CommandPayload = { command: Record<string, unknown>; command_uuid?: string } | { plist: string };

/**
 * `--Queries SerialNumber,OSVersion` → an array because the schema types Queries as one. Keys the
 * schema does not know (or an unknown RequestType) stay strings: the server's validation names them.
 */
export async function commandFromFlags(requestType: string, pairs: readonly (readonly [string, string])[]): Promise<Record<string, unknown>> {
  // Loaded here, not at the top: the schema costs a few hundred ms that no other command should pay.
  const { commandRegistry } = await import('../protocol/commands/index.ts');
  const spec = commandRegistry.get(requestType)?.command;
  const command: Record<string, unknown> = { RequestType: requestType };
  for (const [key, raw] of pairs) {
    if (key in command) throw new UsageError(`--${key} given twice`);
    command[key] = convert(key, raw, spec?.keys.get(key)?.value ?? spec?.otherKeys);
  }
  return command;
}

function convert(key: string, raw: string, spec: ValueSpec | undefined): unknown {
  switch (spec?.kind) {
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
    case 'array':
      // JSON for arrays whose items hold commas or are dictionaries; a comma list otherwise.
      if (raw.trimStart().startsWith('[')) return json(key, raw);
      return raw === '' ? [] : raw.split(',').map((item) => convert(key, item.trim(), spec.items));
    case 'dictionary':
    case 'variants':
      return json(key, raw);
    case 'any':
      return /^\s*[[{]/.test(raw) ? json(key, raw) : raw;
    default:
      // string, date (ISO 8601) and data (base64) are strings in the JSON API.
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

/**
 * A file is a plist if it starts like XML, else JSON: either the Command dictionary itself or a
 * whole `{CommandUUID?, Command}` envelope, the JSON twin of a command plist.
 */
export function commandFromFile(path: string): CommandPayload {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const start = text.trimStart();
  if (start.startsWith('<')) return { plist: text };
  if (start.startsWith('bplist')) throw new CliError(`${path} is a binary plist; convert it first: plutil -convert xml1 ${path}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is neither an XML plist nor JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new CliError(`${path}: expected a JSON object`);
  if (!isObject(value.Command)) return { command: value };
  const uuid = value.CommandUUID;
  return { command: value.Command, ...(typeof uuid === 'string' ? { command_uuid: uuid } : {}) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
