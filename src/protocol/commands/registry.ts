// The command registry: every RequestType in commands.json, loaded once, on first use (300 KB of
// JSON, a few MB once built, read only by requests that send or describe commands).
//
// The file is read with fs (not imported) so that a new Apple schema release is a data update to
// src/protocol/schema/commands.json and nothing else. Its shape is checked with zod on load, so a
// data update that changes the layout fails loudly (the test suite loads it) instead of
// mis-validating commands.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { builtOnFirstUse } from '../../on-first-use.ts';
import { toDictionarySpec } from './spec.ts';
import type { DictionarySpec, RawKey } from './spec.ts';
import { PLATFORMS, type Platform } from './platform.ts';

export type UserEnrollmentRule = 'allowed' | 'forbidden' | 'required' | 'ignored';

/** How one OS supports a command, flattened from commands.json's per-platform entry. */
export interface PlatformSupport {
  introduced: string;
  deprecated?: string;
  removed?: string;
  /** Only supervised devices accept it. */
  supervised: boolean;
  /** Only devices enrolled through Automated Device Enrollment accept it. */
  requiresADE: boolean;
  /** Undefined where the OS has no user enrollment (tvOS, watchOS). */
  userEnrollment?: UserEnrollmentRule;
  deviceChannel: boolean;
  /** macOS: the per-user agent; iOS: a Shared iPad user. */
  userChannel: boolean;
  /** iOS only: how the command behaves on a Shared iPad. */
  sharedIPad?: { mode: 'allowed' | 'forbidden' | 'required'; deviceChannel: boolean; userChannel: boolean };
  /** Access right (`com.apple.mdm` AccessRights bit) the command needs; bit null = per-query special case. */
  accessRight?: { name: string; bit: number | null };
}

export interface CommandDefinition {
  requestType: string;
  title: string;
  /** commands.json's status label, e.g. "current" or "deprecated-26.0-removed-from-27.0-seed-schema". */
  status: string;
  /** Still in the latest schema (not removed on every platform that had it). */
  current: boolean;
  platforms: Partial<Record<Platform, PlatformSupport>>;
  /** The whole `Command` dictionary: envelope keys (RequestType, ...) plus the payload keys. */
  command: DictionarySpec;
  /** What an admin should know beyond the keys; for removed commands, what replaces them. */
  notes: string[];
}

const rawKey: z.ZodType<RawKey> = z.lazy(() =>
  z.object({
    name: z.string(),
    type: z.string(),
    required: z.boolean().optional(),
    allowedValues: z.array(z.union([z.string(), z.number()])).optional(),
    keys: z.array(rawKey).optional(),
    items: z.union([rawKey, z.array(rawKey)]).optional(),
    availability: z.record(z.string(), z.string()).optional(),
    default: z.unknown().optional(),
  }),
);

const rawPlatform = z.object({
  introduced: z.string(),
  deprecated: z.string().nullish(),
  removed: z.string().nullish(),
  supervised: z.boolean().nullish(),
  requiresADE: z.boolean().nullish(),
  userEnrollment: z.enum(['allowed', 'forbidden', 'required', 'ignored']).nullish(),
  accessRights: z.string().optional(),
  accessRightsBit: z.number().nullish(),
  sharedIPad: z
    .object({
      mode: z.enum(['allowed', 'forbidden', 'required']),
      deviceChannel: z.boolean().optional(),
      userChannel: z.boolean().optional(),
    })
    .nullish(),
  channels: z.object({ device: z.boolean(), user: z.boolean().optional(), userSharedIPad: z.boolean().optional() }),
});

const rawEnvelopeKey = z.object({ type: z.string(), required: z.boolean() });

const rawCommandsFile = z.object({
  envelope: z.object({
    serverToDevice: z.object({
      // Besides real keys, the file has a "..." placeholder standing for the payload keys.
      Command: z.object({ keys: z.record(z.string(), z.unknown()) }),
    }),
  }),
  commands: z.array(
    z.object({
      requestType: z.string(),
      title: z.string(),
      status: z.string(),
      platforms: z.partialRecord(z.enum(PLATFORMS), rawPlatform.nullable()),
      payloadKeys: z.array(rawKey),
      notes: z.array(z.string()).nullish(),
    }),
  ),
});

type RawPlatform = z.infer<typeof rawPlatform>;

function toPlatformSupport(raw: RawPlatform): PlatformSupport {
  const support: PlatformSupport = {
    introduced: raw.introduced,
    supervised: raw.supervised === true,
    requiresADE: raw.requiresADE === true,
    deviceChannel: raw.channels.device,
    userChannel: raw.channels.user ?? raw.channels.userSharedIPad ?? false,
  };
  if (raw.deprecated) support.deprecated = raw.deprecated;
  if (raw.removed) support.removed = raw.removed;
  if (raw.userEnrollment) support.userEnrollment = raw.userEnrollment;
  if (raw.sharedIPad) {
    // "forbidden" entries carry no channel flags: neither channel may run it on a Shared iPad.
    const allowed = raw.sharedIPad.mode !== 'forbidden';
    support.sharedIPad = {
      mode: raw.sharedIPad.mode,
      deviceChannel: allowed && raw.sharedIPad.deviceChannel !== false,
      userChannel: allowed && raw.sharedIPad.userChannel === true,
    };
  }
  if (raw.accessRights !== undefined) support.accessRight = { name: raw.accessRights, bit: raw.accessRightsBit ?? null };
  return support;
}

/** The envelope keys every `Command` dictionary may carry (RequestType, RequestRequiresNetworkTether). */
function envelopeCommandKeys(keys: Record<string, unknown>): RawKey[] {
  return Object.entries(keys).flatMap(([name, value]) => {
    const parsed = rawEnvelopeKey.safeParse(value);
    return parsed.success ? [{ name, ...parsed.data }] : [];
  });
}

export class CommandRegistry {
  readonly #byRequestType: ReadonlyMap<string, CommandDefinition>;

  constructor(definitions: readonly CommandDefinition[]) {
    this.#byRequestType = new Map(definitions.map((d) => [d.requestType, d]));
  }

  get(requestType: string): CommandDefinition | undefined {
    return this.#byRequestType.get(requestType);
  }

  /** Every RequestType in the file, removed ones included. */
  all(): CommandDefinition[] {
    return [...this.#byRequestType.values()];
  }

  /** RequestTypes still in the latest schema. */
  current(): CommandDefinition[] {
    return this.all().filter((d) => d.current);
  }
}

/** Builds a registry from the parsed contents of a commands.json file. */
export function createCommandRegistry(json: unknown): CommandRegistry {
  const file = rawCommandsFile.parse(json);
  const envelopeKeys = envelopeCommandKeys(file.envelope.serverToDevice.Command.keys);
  const definitions = file.commands.map((raw): CommandDefinition => {
    const platforms: Partial<Record<Platform, PlatformSupport>> = {};
    for (const platform of PLATFORMS) {
      const entry = raw.platforms[platform];
      if (entry) platforms[platform] = toPlatformSupport(entry);
    }
    // Each command's RequestType key only admits its own name.
    const ownEnvelopeKeys = envelopeKeys.map((key) =>
      key.name === 'RequestType' ? { ...key, allowedValues: [raw.requestType] } : key,
    );
    const command = toDictionarySpec([...ownEnvelopeKeys, ...raw.payloadKeys], 'Command');
    return {
      requestType: raw.requestType,
      title: raw.title,
      status: raw.status,
      current: Object.values(platforms).some((p) => p.removed === undefined),
      platforms,
      command,
      notes: raw.notes ?? [],
    };
  });
  return new CommandRegistry(definitions);
}

const COMMANDS_JSON = new URL('../schema/commands.json', import.meta.url);

export const commandRegistry: CommandRegistry = builtOnFirstUse(() => createCommandRegistry(JSON.parse(readFileSync(COMMANDS_JSON, 'utf8'))));
