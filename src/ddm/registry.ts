// The declaration registry: every declaration type and status item in declarations.json, loaded
// once, on first use.
//
// declarations.json keeps Apple's YAML vocabulary (`key`, `<string>`, `presence`, `rangelist`,
// `subkeys`). Each payload key is translated once into the RawKey shape the command schema uses, and
// from there into the same ValueSpec tree, so declarations are validated by the command validator's
// walker. The file's layout is checked with zod on load: a data update that changes the layout fails
// loudly (the test suite loads it) instead of mis-validating declarations.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { builtOnFirstUse } from '../on-first-use.ts';
import { PLATFORMS } from '../protocol/commands/platform.ts';
import type { Platform } from '../protocol/commands/platform.ts';
import { toDictionarySpec } from '../protocol/commands/spec.ts';
import type { DictionarySpec, RawKey } from '../protocol/commands/spec.ts';

export const DECLARATION_KINDS = ['activation', 'asset', 'configuration', 'management'] as const;
export type DeclarationKind = (typeof DECLARATION_KINDS)[number];

/** How one OS supports a declaration type or status item. Platforms without support are absent. */
export interface PlatformAvailability {
  introduced: string;
  deprecated?: string;
  removed?: string;
  /** Enrollment types allowed (supervised, device, user, local); absent when the schema does not say. */
  allowedEnrollments?: string[];
  /** Channels the declaration applies to (system, user); absent when the schema does not say. */
  allowedScopes?: string[];
  /** iOS: scopes on a Shared iPad (empty: not on Shared iPad). */
  sharedIPadScopes?: string[];
}

/** A payload key whose string value (or each string of its array) names another declaration. */
export interface DeclarationReferenceKey {
  /** Key names from the payload root; `[]` steps into array items, `*` into any key of an open dictionary. */
  path: readonly string[];
  /** What the identifier must name: assets (of `allowedTypes`) or, for activations, configurations. */
  targetKind: 'asset' | 'configuration';
  allowedTypes?: readonly string[];
}

export interface DeclarationTypeDefinition {
  type: string;
  kind: DeclarationKind;
  platforms: Partial<Record<Platform, PlatformAvailability>>;
  /** How the device combines several declarations of this type (single, multiple, combined). */
  apply?: string;
  beta: boolean;
  payload: DictionarySpec;
  references: readonly DeclarationReferenceKey[];
}

export interface StatusItemDefinition {
  name: string;
  platforms: Partial<Record<Platform, PlatformAvailability>>;
}

interface YamlKey {
  key: string;
  type: string;
  presence?: 'required' | 'optional' | undefined;
  rangelist?: (string | number)[] | undefined;
  range?: { min?: number | undefined; max?: number | undefined } | undefined;
  assettypes?: string[] | undefined;
  subkeys?: YamlKey[] | undefined;
}

const yamlKey: z.ZodType<YamlKey> = z.lazy(() =>
  z.looseObject({
    key: z.string(),
    type: z.string().regex(/^<[a-z]+>$/),
    presence: z.enum(['required', 'optional']).optional(),
    rangelist: z.array(z.union([z.string(), z.number()])).optional(),
    range: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
    assettypes: z.array(z.string()).optional(),
    subkeys: z.array(yamlKey).optional(),
  }),
);

const platformEntry = z.looseObject({
  introduced: z.string(),
  deprecated: z.string().optional(),
  removed: z.string().optional(),
  'allowed-enrollments': z.array(z.string()).optional(),
  'allowed-scopes': z.array(z.string()).optional(),
  sharedipad: z.looseObject({ 'allowed-scopes': z.array(z.string()).optional() }).optional(),
});

const supportedOS = z.partialRecord(z.enum(PLATFORMS), platformEntry);

const rawDeclarationsFile = z.looseObject({
  declarations: z.record(
    z.string(),
    z.object({
      kind: z.enum(DECLARATION_KINDS),
      payload: z.looseObject({
        declarationtype: z.string(),
        supportedOS,
        apply: z.string().optional(),
        beta: z.boolean().optional(),
      }),
      payloadkeys: z.array(yamlKey),
    }),
  ),
  statusItems: z.record(
    z.string(),
    z.looseObject({ payload: z.looseObject({ statusitemtype: z.string(), supportedOS }) }),
  ),
});

/** Apple's YAML key → the command schema's RawKey (what toValueSpec understands). */
function toRawKey(yaml: YamlKey): RawKey {
  const type = yaml.type.slice(1, -1);
  const raw: RawKey = { name: yaml.key, type, required: yaml.presence === 'required' };
  if (yaml.rangelist) raw.allowedValues = yaml.rangelist;
  if (yaml.range) raw.range = yaml.range;
  // An array's single subkey describes its items; a dictionary's subkeys are its keys.
  const [firstSubkey] = yaml.subkeys ?? [];
  if (type === 'array' && firstSubkey) raw.items = toRawKey(firstSubkey);
  if (type === 'dictionary' && yaml.subkeys) raw.keys = yaml.subkeys.map(toRawKey);
  return raw;
}

const ANY_KEY = 'ANY';

/** Every key that names another declaration: asset references from `assettypes`, and activations' configurations. */
function referenceKeys(kind: DeclarationKind, keys: readonly YamlKey[], prefix: readonly string[] = []): DeclarationReferenceKey[] {
  if (kind === 'activation') return [{ path: ['StandardConfigurations', '[]'], targetKind: 'configuration' }];
  return keys.flatMap((key) => {
    const path = [...prefix, key.key === ANY_KEY ? '*' : key.key];
    const inner = key.type === '<array>' ? [...path, '[]'] : path;
    if (key.assettypes) return [{ path: inner, targetKind: 'asset' as const, allowedTypes: key.assettypes }];
    if (key.type === '<array>') return referenceKeys(kind, key.subkeys?.[0]?.subkeys ?? [], inner);
    return referenceKeys(kind, key.subkeys ?? [], path);
  });
}

/** The schema writes "n/a" for "not on this platform"; such platforms are left out. */
function toPlatforms(raw: z.infer<typeof supportedOS>): Partial<Record<Platform, PlatformAvailability>> {
  const platforms: Partial<Record<Platform, PlatformAvailability>> = {};
  for (const platform of PLATFORMS) {
    const entry = raw[platform];
    if (!entry || entry.introduced === 'n/a') continue;
    const availability: PlatformAvailability = { introduced: entry.introduced };
    if (entry.deprecated) availability.deprecated = entry.deprecated;
    if (entry.removed) availability.removed = entry.removed;
    if (entry['allowed-enrollments']) availability.allowedEnrollments = entry['allowed-enrollments'];
    if (entry['allowed-scopes']) availability.allowedScopes = entry['allowed-scopes'];
    const sharedIPadScopes = entry.sharedipad?.['allowed-scopes'];
    if (sharedIPadScopes) availability.sharedIPadScopes = sharedIPadScopes;
    platforms[platform] = availability;
  }
  return platforms;
}

export class DeclarationRegistry {
  readonly #types: ReadonlyMap<string, DeclarationTypeDefinition>;
  readonly #statusItems: ReadonlyMap<string, StatusItemDefinition>;

  constructor(types: readonly DeclarationTypeDefinition[], statusItems: readonly StatusItemDefinition[]) {
    this.#types = new Map(types.map((t) => [t.type, t]));
    this.#statusItems = new Map(statusItems.map((s) => [s.name, s]));
  }

  type(type: string): DeclarationTypeDefinition | undefined {
    return this.#types.get(type);
  }

  types(): DeclarationTypeDefinition[] {
    return [...this.#types.values()];
  }

  statusItem(name: string): StatusItemDefinition | undefined {
    return this.#statusItems.get(name);
  }

  statusItems(): StatusItemDefinition[] {
    return [...this.#statusItems.values()];
  }
}

/** Builds a registry from the parsed contents of a declarations.json file. */
export function createDeclarationRegistry(json: unknown): DeclarationRegistry {
  const file = rawDeclarationsFile.parse(json);
  const types = Object.entries(file.declarations).map(([type, raw]): DeclarationTypeDefinition => {
    if (raw.payload.declarationtype !== type) throw new Error(`declarations.json: ${type} declares type ${raw.payload.declarationtype}`);
    const definition: DeclarationTypeDefinition = {
      type,
      kind: raw.kind,
      platforms: toPlatforms(raw.payload.supportedOS),
      beta: raw.payload.beta === true,
      payload: toDictionarySpec(raw.payloadkeys.map(toRawKey), 'Payload'),
      references: referenceKeys(raw.kind, raw.payloadkeys),
    };
    if (raw.payload.apply) definition.apply = raw.payload.apply;
    return definition;
  });
  const statusItems = Object.entries(file.statusItems).map(
    ([name, raw]): StatusItemDefinition => ({ name, platforms: toPlatforms(raw.payload.supportedOS) }),
  );
  return new DeclarationRegistry(types, statusItems);
}

const DECLARATIONS_JSON = new URL('./schema/declarations.json', import.meta.url);

/** Built on first use: 170 KB of JSON, a few MB once built, read only by declaration requests. */
export const declarationRegistry: DeclarationRegistry = builtOnFirstUse(() => createDeclarationRegistry(JSON.parse(readFileSync(DECLARATIONS_JSON, 'utf8'))));
