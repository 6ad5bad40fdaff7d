// A command's schema as people read it: its keys as a tree (types, required, allowed values,
// defaults, which OS versions take them), and per platform the versions, channels and conditions
// under which a device runs it. `aspen help <RequestType>` prints this, /docs renders it: one
// description, so the two cannot disagree.
import { PLATFORMS, type Platform } from './platform.ts';
import type { CommandDefinition, PlatformSupport } from './registry.ts';
import type { DictionarySpec, KeySpec, ValueSpec } from './spec.ts';

export interface KeyDescription {
  /** The key name; for a variant of a dictionary, `<discriminator> = <value>`. */
  label: string;
  /** Nesting level: 0 for the command's own keys. */
  depth: number;
  /** e.g. `string`, `array of data`, `dictionary (one kind per Item)`; empty for a variant heading. */
  type: string;
  required: boolean;
  /** Allowed values (of the items, for an array of scalars). */
  allowed?: readonly (string | number)[];
  default?: unknown;
  /** e.g. `iOS 11.0+, watchOS 10.0+`. */
  availability?: string;
}

export interface PlatformDescription {
  platform: Platform;
  /** e.g. `4.0+`, `9.0+, deprecated 26.0, removed 27.0`. */
  versions: string;
  /** Where and under which conditions it runs: channels, supervision, enrollment kinds, access right. */
  conditions: string[];
}

export interface CommandDescription {
  requestType: string;
  title: string;
  status: string;
  current: boolean;
  platforms: PlatformDescription[];
  keys: KeyDescription[];
  /** Notes from the schema; for a removed command, what replaces it. */
  notes: string[];
}

/** How the JSON API and the CLI spell data and dates, said once wherever descriptions are shown. */
export const VALUE_FORMS = 'data: base64 in JSON (on the command line, --Key @file reads a file); date: ISO 8601';

export function describeCommand(definition: CommandDefinition): CommandDescription {
  const keys: KeyDescription[] = [];
  // RequestType is the command's name, already said; every other key is the admin's to choose.
  for (const key of definition.command.keys.values()) if (key.name !== 'RequestType') describeKey(key, 0, keys);
  describeOtherKeys(definition.command, 0, keys);
  return {
    requestType: definition.requestType,
    title: definition.title,
    status: definition.status,
    current: definition.current,
    platforms: PLATFORMS.flatMap((platform) => {
      const support = definition.platforms[platform];
      return support ? [{ platform, versions: versions(support), conditions: conditions(platform, support) }] : [];
    }),
    keys,
    notes: definition.notes,
  };
}

function describeKey(key: KeySpec, depth: number, out: KeyDescription[]): void {
  const allowed = allowedValues(key.value);
  out.push({
    label: key.name,
    depth,
    type: typeName(key.value),
    required: key.required,
    ...(allowed ? { allowed } : {}),
    ...(key.default !== undefined ? { default: key.default } : {}),
    ...(key.availability ? { availability: Object.entries(key.availability).map(([p, since]) => `${p} ${since}`).join(', ') } : {}),
  });
  describeChildren(key.value, depth + 1, out);
}

/** The keys inside a dictionary (or inside the dictionaries an array holds). */
function describeChildren(spec: ValueSpec, depth: number, out: KeyDescription[]): void {
  if (spec.kind === 'array') return describeChildren(spec.items, depth, out);
  if (spec.kind === 'dictionary') {
    for (const key of spec.keys.values()) describeKey(key, depth, out);
    describeOtherKeys(spec, depth, out);
  }
  if (spec.kind === 'variants') {
    for (const [tag, variant] of spec.variants) {
      out.push({ label: `${spec.discriminator} = ${JSON.stringify(tag)}`, depth, type: '', required: false });
      for (const key of variant.keys.values()) if (key.name !== spec.discriminator) describeKey(key, depth + 1, out);
      describeOtherKeys(variant, depth + 1, out);
    }
  }
}

/** A dictionary that takes keys beyond those it lists; open free-form dictionaries say so in their type. */
function describeOtherKeys(spec: DictionarySpec, depth: number, out: KeyDescription[]): void {
  if (spec.otherKeys === undefined || spec.keys.size === 0) return;
  out.push({ label: '(any other key)', depth, type: typeName(spec.otherKeys), required: false });
}

function typeName(spec: ValueSpec): string {
  switch (spec.kind) {
    case 'array':
      return `array of ${typeName(spec.items)}`;
    case 'dictionary':
      return spec.keys.size === 0 && spec.otherKeys ? 'dictionary (any keys)' : 'dictionary';
    case 'variants':
      return `dictionary (one kind per ${spec.discriminator})`;
    default:
      return spec.kind;
  }
}

function allowedValues(spec: ValueSpec): readonly (string | number)[] | undefined {
  if (spec.kind === 'array') return allowedValues(spec.items);
  return 'allowedValues' in spec ? spec.allowedValues : undefined;
}

function versions(support: PlatformSupport): string {
  return [`${support.introduced}+`, support.deprecated && `deprecated ${support.deprecated}`, support.removed && `removed ${support.removed}`]
    .filter(Boolean)
    .join(', ');
}

function conditions(platform: Platform, support: PlatformSupport): string[] {
  const channels = [support.deviceChannel && 'device channel', support.userChannel && (platform === 'iOS' ? 'Shared iPad user channel' : 'user channel')];
  const shared = support.sharedIPad;
  return [
    channels.filter(Boolean).join(' and ') || 'no channel',
    support.supervised && 'supervised only',
    support.requiresADE && 'Automated Device Enrollment only',
    support.userEnrollment && support.userEnrollment !== 'ignored' && `user enrollment: ${support.userEnrollment}`,
    shared && shared.mode !== 'allowed' && `Shared iPad: ${shared.mode}`,
    support.accessRight && accessRight(support.accessRight),
  ].filter((c): c is string => typeof c === 'string');
}

/** The profile's AccessRights bit the command needs (`com.apple.mdm` payload, docs/protocol.md §8). */
function accessRight(right: NonNullable<PlatformSupport['accessRight']>): string | false {
  if (right.bit === 0) return false; // "None": no right needed
  if (right.bit === null) return 'access right: per query';
  return `access right: ${right.name} (${right.bit})`;
}
