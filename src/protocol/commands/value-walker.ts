// Walks a value tree alongside its ValueSpec, collecting every problem with its key path.
//
// Shared by MDM command validation (validate.ts) and DDM declaration validation (src/ddm): both
// schemas describe keys the same way, so one walker gives both the same checks and messages. The
// input form (admin JSON or a parsed plist) decides how data, dates and free-form values are read.
import { isDict } from '../plist.ts';
import { didYouMean } from '../suggest.ts';
import type { PlistDict, PlistValue } from '../plist.ts';
import { defineEntry, isXmlText } from './input-forms.ts';
import type { Decoded, InputForm } from './input-forms.ts';
import { childSpec, selectVariant } from './spec.ts';
import type { DictionarySpec, NumberRange, ScalarSpec, ValueSpec, VariantsSpec } from './spec.ts';

export interface ValueIssue {
  /** Where the problem is, e.g. `Command.Settings[2].Item`; `$` for the document itself. */
  path: string;
  message: string;
}

export class Walker {
  readonly errors: ValueIssue[] = [];

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
    if (wellTyped && spec.range && typeof value === 'number' && !withinRange(value, spec.range)) {
      this.errors.push({ path, message: `expected ${describeRange(spec.range)}, got ${describeInput(input)}` });
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

function withinRange(value: number, range: NumberRange): boolean {
  return (range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max);
}

function describeRange(range: NumberRange): string {
  if (range.max === undefined) return `a number of at least ${range.min}`;
  if (range.min === undefined) return `a number of at most ${range.max}`;
  return `a number from ${range.min} to ${range.max}`;
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
  const hint = (typeof got === 'string' && didYouMean(got, allowed.map(String))) || 'see the schema';
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
