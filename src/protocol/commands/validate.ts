// Validates a `Command` dictionary against its RequestType's schema and returns the plist value
// tree to send. One walker (value-walker.ts) serves both input forms (admin JSON and raw plist).
//
// Every problem is collected, each naming its key path (`Command.Settings[2].Item`), so an admin
// fixes a command in one round trip instead of one error at a time.
import { commandUuidProblem } from '../command-envelope.ts';
import { decodePlistDict, isDict, PlistError } from '../plist.ts';
import { didYouMean } from '../suggest.ts';
import type { PlistDict } from '../plist.ts';
import { jsonForm, plistForm } from './input-forms.ts';
import type { InputForm } from './input-forms.ts';
import { commandRegistry } from './registry.ts';
import type { CommandRegistry } from './registry.ts';
import { Walker } from './value-walker.ts';
import type { ValueIssue } from './value-walker.ts';

export type CommandIssue = ValueIssue;

export type CommandValidation =
  | { ok: true; requestType: string; command: PlistDict }
  | { ok: false; errors: CommandIssue[] };

export type CommandPlistValidation =
  | { ok: true; commandUuid?: string; requestType: string; command: PlistDict }
  | { ok: false; errors: CommandIssue[] };

/** Thrown where a caller hands over a command it should have validated first. */
export class CommandValidationError extends Error {
  override readonly name = 'CommandValidationError';
  constructor(readonly errors: CommandIssue[]) {
    super(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  }
}

/** Validates the admin's JSON form of a `Command` dictionary (data as base64, dates as ISO 8601). */
export function validateCommandJson(input: unknown, registry: CommandRegistry = commandRegistry): CommandValidation {
  return validateCommand(input, jsonForm, registry);
}

/** Validates a `Command` dictionary that is already a plist value tree (real data and dates). */
export function validateCommandDict(command: PlistDict, registry: CommandRegistry = commandRegistry): CommandValidation {
  return validateCommand(command, plistForm, registry);
}

/** Validates a complete command plist `{ CommandUUID?, Command }` as an admin might post it. */
export function validateCommandPlist(
  xml: string | Uint8Array,
  registry: CommandRegistry = commandRegistry,
): CommandPlistValidation {
  let root: PlistDict;
  try {
    root = decodePlistDict(xml);
  } catch (err) {
    if (err instanceof PlistError) return { ok: false, errors: [{ path: '$', message: err.message }] };
    throw err;
  }
  const errors: CommandIssue[] = [];
  const { CommandUUID: commandUuid, Command: command, ...rest } = root;
  for (const key of Object.keys(rest)) errors.push({ path: key, message: 'unknown key (expected CommandUUID and Command)' });
  if (commandUuid !== undefined) errors.push(...commandUuidIssues(commandUuid));
  const result = validateCommand(command, plistForm, registry);
  if (!result.ok) errors.push(...result.errors);
  if (!result.ok || errors.length > 0) return { ok: false, errors };
  return typeof commandUuid === 'string' ? { ...result, commandUuid } : result;
}

/** A CommandUUID an admin chose: the same rule in a raw plist as in JSON (`COMMAND_UUID_RULE`). */
export function commandUuidIssues(commandUuid: unknown): CommandIssue[] {
  const problem = typeof commandUuid === 'string' ? commandUuidProblem(commandUuid) : 'expected a string';
  return problem === undefined ? [] : [{ path: 'CommandUUID', message: problem }];
}

function validateCommand(input: unknown, form: InputForm, registry: CommandRegistry): CommandValidation {
  if (input === undefined) return { ok: false, errors: [{ path: 'Command', message: 'missing required key' }] };
  if (!isDict(input)) return { ok: false, errors: [{ path: 'Command', message: 'expected a dictionary' }] };
  const requestType = input.RequestType;
  if (typeof requestType !== 'string') {
    return { ok: false, errors: [{ path: 'Command.RequestType', message: 'missing required string' }] };
  }
  const definition = registry.get(requestType);
  if (!definition) {
    const hint = didYouMean(requestType, registry.all().map((d) => d.requestType));
    return { ok: false, errors: [{ path: 'Command.RequestType', message: `unknown RequestType "${requestType}"${hint && ` (${hint})`}` }] };
  }
  const walker = new Walker(form);
  const command = walker.dictionary(input, definition.command, 'Command');
  return walker.errors.length > 0 ? { ok: false, errors: walker.errors } : { ok: true, requestType, command };
}
