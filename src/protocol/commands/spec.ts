// The value-spec tree that validation, XML writing and JSON Schema export all walk.
//
// commands.json describes payload keys the way Apple's YAML does (a key named "ANY" means "any
// other key", a string with `keys` lists its allowed values, an `items` list is a set of dictionary
// variants). `toValueSpec` turns that into a small closed union once, at load, so the walkers never
// re-interpret schema conventions.

export type ScalarKind = 'string' | 'integer' | 'real' | 'boolean' | 'date' | 'data';

/** Inclusive bounds of a number; either may be open. */
export interface NumberRange {
  min?: number;
  max?: number;
}

export interface ScalarSpec {
  kind: ScalarKind;
  /** Enumerated values, when the schema lists them. */
  allowedValues?: readonly (string | number)[];
  /** Bounds of an integer or real, when the schema gives them (declarations do; commands do not). */
  range?: NumberRange;
}

/** Unvalidated: any plist value. */
export interface AnySpec {
  kind: 'any';
}

export interface ArraySpec {
  kind: 'array';
  items: ValueSpec;
}

export interface KeySpec {
  name: string;
  required: boolean;
  value: ValueSpec;
  /** For people (help, docs): the OS versions per platform that take the key, where the schema says. */
  availability?: Readonly<Record<string, string>>;
  /** For people: the value a device assumes when the key is left out. */
  default?: unknown;
}

export interface DictionarySpec {
  kind: 'dictionary';
  keys: ReadonlyMap<string, KeySpec>;
  /** Spec for keys not listed in `keys`; undefined means such keys are errors. */
  otherKeys?: ValueSpec;
}

/** A dictionary that is one of several shapes, told apart by the value of one key (e.g. Settings' `Item`). */
export interface VariantsSpec {
  kind: 'variants';
  discriminator: string;
  variants: ReadonlyMap<string | number, DictionarySpec>;
}

export type ValueSpec = ScalarSpec | AnySpec | ArraySpec | DictionarySpec | VariantsSpec;

/** A payload key as commands.json spells it (the fields that shape values, and two that describe them). */
export interface RawKey {
  name: string;
  type: string;
  required?: boolean;
  allowedValues?: (string | number)[];
  range?: NumberRange;
  keys?: RawKey[];
  items?: RawKey | RawKey[];
  /** Per platform, e.g. `"11.0+"`, or `"n/a"` where the platform does not take the key. */
  availability?: Record<string, string>;
  default?: unknown;
}

/** Apple's YAML marks "any further key" with a key literally named ANY. */
const OTHER_KEYS_MARKER = 'ANY';

const SCALAR_KINDS: ReadonlySet<string> = new Set<ScalarKind>(['string', 'integer', 'real', 'boolean', 'date', 'data']);

/** Converts one schema key to its value spec; throws (naming `path`) on shapes we do not understand. */
export function toValueSpec(raw: RawKey, path: string): ValueSpec {
  if (raw.type === 'any') return { kind: 'any' };
  if (raw.type === 'dictionary') return toDictionarySpec(raw.keys ?? [], path);
  if (raw.type === 'array') {
    if (raw.items === undefined) return { kind: 'array', items: { kind: 'any' } };
    const items = Array.isArray(raw.items)
      ? toVariantsSpec(raw.items, `${path}[]`)
      : toValueSpec(raw.items, `${path}[]`);
    return { kind: 'array', items };
  }
  if (SCALAR_KINDS.has(raw.type)) {
    // A string with sub-keys (DeviceInformation's Queries items) enumerates its allowed values.
    const allowedValues = raw.allowedValues ?? raw.keys?.map((k) => k.name);
    const spec: ScalarSpec = { kind: raw.type as ScalarKind };
    if (allowedValues) spec.allowedValues = allowedValues;
    if (raw.range) spec.range = raw.range;
    return spec;
  }
  throw new Error(`commands.json: unsupported type "${raw.type}" at ${path}`);
}

/** A dictionary without declared keys is open: Apple uses those for free-form payloads. */
export function toDictionarySpec(rawKeys: readonly RawKey[], path: string): DictionarySpec {
  if (rawKeys.length === 0) return { kind: 'dictionary', keys: new Map(), otherKeys: { kind: 'any' } };
  const keys = new Map<string, KeySpec>();
  let otherKeys: ValueSpec | undefined;
  for (const raw of rawKeys) {
    const keyPath = `${path}.${raw.name}`;
    if (raw.name === OTHER_KEYS_MARKER) otherKeys = toValueSpec(raw, keyPath);
    else keys.set(raw.name, keySpec(raw, keyPath));
  }
  return otherKeys ? { kind: 'dictionary', keys, otherKeys } : { kind: 'dictionary', keys };
}

function keySpec(raw: RawKey, path: string): KeySpec {
  const key: KeySpec = { name: raw.name, required: raw.required === true, value: toValueSpec(raw, path) };
  const availability = Object.entries(raw.availability ?? {}).filter(([, since]) => since !== 'n/a');
  if (availability.length > 0) key.availability = Object.fromEntries(availability);
  if (raw.default !== undefined) key.default = raw.default;
  return key;
}

/**
 * Array items given as a list of dictionaries are variants. The discriminator is the key every
 * variant requires with exactly one allowed value, distinct across variants.
 */
function toVariantsSpec(rawVariants: readonly RawKey[], path: string): VariantsSpec {
  const dictionaries = rawVariants.map((raw) => {
    if (raw.type !== 'dictionary') throw new Error(`commands.json: variant ${raw.name} at ${path} is not a dictionary`);
    return { raw, spec: toDictionarySpec(raw.keys ?? [], `${path}<${raw.name}>`) };
  });
  const first = dictionaries[0];
  if (!first) throw new Error(`commands.json: empty variant list at ${path}`);
  for (const candidate of first.spec.keys.keys()) {
    const variants = new Map<string | number, DictionarySpec>();
    for (const { spec } of dictionaries) {
      const tag = fixedValue(spec.keys.get(candidate));
      if (tag === undefined || variants.has(tag)) break;
      variants.set(tag, spec);
    }
    if (variants.size === dictionaries.length) return { kind: 'variants', discriminator: candidate, variants };
  }
  throw new Error(`commands.json: no discriminating key among the variants at ${path}`);
}

/** The one value a required key may take, if the schema pins it to exactly one. */
function fixedValue(key: KeySpec | undefined): string | number | undefined {
  if (!key?.required || !('allowedValues' in key.value)) return undefined;
  const allowed = key.value.allowedValues;
  return allowed?.length === 1 ? allowed[0] : undefined;
}

/** The spec of `key` inside `dict`, or undefined when the dictionary does not allow that key. */
export function childSpec(dict: DictionarySpec, key: string): ValueSpec | undefined {
  return dict.keys.get(key)?.value ?? dict.otherKeys;
}

/** The variant a dictionary value selects through its discriminator, if any. */
export function selectVariant(spec: VariantsSpec, discriminatorValue: unknown): DictionarySpec | undefined {
  if (typeof discriminatorValue !== 'string' && typeof discriminatorValue !== 'number') return undefined;
  return spec.variants.get(discriminatorValue);
}
