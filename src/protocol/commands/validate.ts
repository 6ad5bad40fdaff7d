// Validates a `Command` dictionary against its RequestType's schema and returns the plist value
// tree to send. One walker serves both input forms (admin JSON and raw plist); see input-forms.ts.
//
// Every problem is collected, each naming its key path (`Command.Settings[2].Item`), so an admin
// fixes a command in one round trip instead of one error at a time.
import { decodePlistDict, isDict, PlistError } from '../plist.ts';
import { didYouMean } from '../suggest.ts';
import type { PlistDict, PlistValue } from '../plist.ts';
import { defineEntry, isXmlText, jsonForm, plistForm } from './input-forms.ts';
import type { Decoded, InputForm } from './input-forms.ts';
import { commandRegistry } from './registry.ts';
import type { CommandRegistry } from './registry.ts';
import { childSpec, selectVariant } from './spec.ts';
import type { DictionarySpec, ScalarSpec, ValueSpec, VariantsSpec } from './spec.ts';

export interface CommandIssue {
  /** Where the problem is, e.g. `Command.Settings[2].Item`; `$` for the document itself. */
  path: string;
  message: string;
}

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

/** CommandUUID is any non-empty string (Apple's own examples use `0001_DeviceInformation`). */
export function commandUuidIssues(commandUuid: unknown): CommandIssue[] {
  return typeof commandUuid === 'string' && commandUuid !== '' ? [] : [{ path: 'CommandUUID', message: 'expected a non-empty string' }];
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

class Walker {
  readonly errors: CommandIssue[] = [];

  constructor(private readonly form: InputForm) {}

  value(input: unknown, spec: ValueSpec, path: string): PlistValue {
    switch (spec.kind) {
      case 'dictionary':
        return isDict(input) ? this.dictionary(input, spec, path) : this.fail(path, 'expected a dictionary', input);
      case 'variants':
        return isDict(input) ? this.variant(input, spec, path) : this.fail(path, 'expected a dictionary', input);
      case 'array':
        return Array.isArray(input)
          ? input.map((item, i) => this.value(item, spec.items, `${path}[${i}]`))
          : this.fail(path, 'expected an array', input);
      case 'any':
        return this.decoded(this.form.any(input), path, input);
      default:
        return this.scalar(input, spec, path);
    }
  }

  dictionary(input: { [key: string]: unknown }, spec: DictionarySpec, path: string): PlistDict {
    const out: PlistDict = {};
    for (const [key, item] of Object.entries(input)) {
      const keyPath = `${path}.${key}`;
      const itemSpec = childSpec(spec, key);
      if (itemSpec === undefined) this.errors.push({ path: keyPath, message: unknownKeyMessage(spec, key) });
      else if (!isXmlText(key)) this.errors.push({ path: keyPath, message: 'key contains characters XML cannot carry' });
      else defineEntry(out, key, this.value(item, itemSpec, keyPath));
    }
    for (const key of spec.keys.values()) {
      if (key.required && !Object.hasOwn(input, key.name)) {
        this.errors.push({ path: `${path}.${key.name}`, message: `missing required key (${describe(key.value)})` });
      }
    }
    return out;
  }

  private variant(input: { [key: string]: unknown }, spec: VariantsSpec, path: string): PlistDict {
    const chosen = selectVariant(spec, input[spec.discriminator]);
    if (chosen) return this.dictionary(input, chosen, path);
    const allowed = [...spec.variants.keys()];
    const message = Object.hasOwn(input, spec.discriminator)
      ? `${expectedOneOf(allowed, input[spec.discriminator])}, got ${describeInput(input[spec.discriminator])}`
      : `missing required key (${expectedOneOf(allowed, undefined)})`;
    this.errors.push({ path: `${path}.${spec.discriminator}`, message });
    return {};
  }

  private scalar(input: unknown, spec: ScalarSpec, path: string): PlistValue {
    const errorsBefore = this.errors.length;
    const value = this.scalarValue(input, spec, path);
    const wellTyped = this.errors.length === errorsBefore;
    if (wellTyped && spec.allowedValues && !spec.allowedValues.includes(value as string | number)) {
      this.errors.push({ path, message: `${expectedOneOf(spec.allowedValues, input)}, got ${describeInput(input)}` });
    }
    return value;
  }

  private scalarValue(input: unknown, spec: ScalarSpec, path: string): PlistValue {
    switch (spec.kind) {
      case 'string':
        if (typeof input !== 'string') return this.fail(path, 'expected a string', input);
        return isXmlText(input) ? input : this.fail(path, 'expected a string without characters XML cannot carry', input);
      case 'integer':
        return Number.isSafeInteger(input) ? (input as number) : this.fail(path, 'expected an integer', input);
      case 'real':
        return typeof input === 'number' && Number.isFinite(input) ? input : this.fail(path, 'expected a number', input);
      case 'boolean':
        return typeof input === 'boolean' ? input : this.fail(path, 'expected a boolean', input);
      case 'data':
        return this.decoded(this.form.data(input), path, input);
      case 'date':
        return this.decoded(this.form.date(input), path, input);
    }
  }

  private decoded<T extends PlistValue>(result: Decoded<T>, path: string, input: unknown): PlistValue {
    return result.ok ? result.value : this.fail(path, `expected ${result.expected}`, input);
  }

  /** Records an error; the returned placeholder is never used because the result is then `ok: false`. */
  private fail(path: string, expected: string, input: unknown): PlistValue {
    this.errors.push({ path, message: `${expected}, got ${describeInput(input)}` });
    return '';
  }
}

function unknownKeyMessage(spec: DictionarySpec, key: string): string {
  const known = [...spec.keys.keys()];
  return `unknown key (${didYouMean(key, known) || `allowed: ${known.join(', ')}`})`;
}

// Long enumerations (DeviceInformation has ~100 query names) are summarised, not dumped.
const MAX_LISTED_VALUES = 12;

function expectedOneOf(allowed: readonly (string | number)[], got: unknown): string {
  if (allowed.length === 1) return `expected ${JSON.stringify(allowed[0])}`;
  if (allowed.length <= MAX_LISTED_VALUES) return `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  const hint = (typeof got === 'string' && didYouMean(got, allowed.map(String))) || 'see the command schema';
  return `expected one of ${allowed.length} allowed values (${hint})`;
}

/** Short description of what a spec wants, for "missing required key" messages. */
function describe(spec: ValueSpec): string {
  if (spec.kind === 'variants') return 'dictionary';
  if ('allowedValues' in spec && spec.allowedValues) return `${spec.kind}, ${expectedOneOf(spec.allowedValues, undefined)}`;
  return spec.kind;
}

function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (input instanceof Uint8Array) return 'data';
  if (input instanceof Date) return 'a date';
  if (typeof input === 'object') return 'a dictionary';
  if (typeof input === 'string') return `string ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`;
  return `${typeof input} ${String(input)}`;
}
