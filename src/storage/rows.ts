// Row shapes of the tables, as either backend returns them, and their mapping to the contract's
// types. The two differ only in how they spell a few column types: SQLite gives booleans as 0/1
// and JSON as text; PostgreSQL gives booleans and parsed jsonb (timestamps are ISO strings in both:
// the PostgreSQL backend parses timestamptz into them).
import type { Channel, EnrollmentType } from '../protocol/enrollment-id.ts';
import type {
  CommandSummary,
  CommandTarget,
  Enrollment,
  EnrollmentState,
  EnrollmentTraits,
  HistoryEntry,
  IdentityBinding,
  Job,
  PushTargetRecord,
  QueueEntry,
  StorageStats,
  StoredPushCertificate,
  TargetState,
} from './storage.ts';

/** A boolean column: 0/1 in SQLite, a boolean in PostgreSQL. */
export type Flag = number | boolean;
/** A JSON column: text in SQLite, parsed jsonb in PostgreSQL. */
export type Json = string | object | null;

export function flag(value: Flag): boolean {
  return value === true || value === 1;
}

export function optionalFlag(value: Flag | null): boolean | null {
  return value === null ? null : flag(value);
}

function json(value: Json): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

export interface EnrollmentRow {
  id: string;
  device_id: string;
  channel: Channel;
  type: EnrollmentType;
  state: EnrollmentState;
  serial_number: string | null;
  platform: string | null;
  os_version: string | null;
  facts: Json;
  user_id: string | null;
  user_short_name: string | null;
  user_long_name: string | null;
  topic: string | null;
  push_token: Buffer | null;
  push_magic: string | null;
  unlock_token: Buffer | null;
  awaiting_configuration: Flag;
  bootstrap_token: Buffer | null;
  first_seen_at: string;
  last_seen_at: string;
  last_status: string;
  authenticated_at: string | null;
  token_updated_at: string | null;
  checked_out_at: string | null;
  push_token_invalid: Flag;
  last_push_at: string | null;
  last_push_result: string | null;
  identity_renewal_until: string | null;
  device_name: string | null;
  model: string | null;
  supervised: Flag | null;
  multi_user: Flag | null;
  inventory: Json;
  inventory_updated_at: string | null;
}

export function toEnrollment(r: EnrollmentRow): Enrollment {
  return {
    id: r.id,
    deviceId: r.device_id,
    channel: r.channel,
    type: r.type,
    state: r.state,
    serialNumber: r.serial_number,
    platform: r.platform,
    osVersion: r.os_version,
    facts: json(r.facts) as Record<string, unknown> | null,
    userId: r.user_id,
    userShortName: r.user_short_name,
    userLongName: r.user_long_name,
    topic: r.topic,
    pushToken: r.push_token,
    pushMagic: r.push_magic,
    hasUnlockToken: r.unlock_token !== null,
    awaitingConfiguration: flag(r.awaiting_configuration),
    hasBootstrapToken: r.bootstrap_token !== null,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    lastStatus: r.last_status,
    authenticatedAt: r.authenticated_at,
    tokenUpdatedAt: r.token_updated_at,
    checkedOutAt: r.checked_out_at,
    pushTokenInvalid: flag(r.push_token_invalid),
    lastPushAt: r.last_push_at,
    lastPushResult: r.last_push_result,
    identityRenewalUntil: r.identity_renewal_until,
    deviceName: r.device_name,
    model: r.model,
    supervised: optionalFlag(r.supervised),
    multiUser: optionalFlag(r.multi_user),
    inventory: json(r.inventory) as Record<string, unknown> | null,
    inventoryUpdatedAt: r.inventory_updated_at,
  };
}

export interface TargetRow {
  seq: number;
  enrollment_id: string;
  command_uuid: string;
  state: TargetState;
  queued_at: string;
  updated_at: string;
  notnow_count: number;
  result: Buffer | null;
  error_chain: Json;
}

export function toCommandTarget(r: TargetRow): CommandTarget {
  return {
    enrollmentId: r.enrollment_id,
    state: r.state,
    queuedAt: r.queued_at,
    updatedAt: r.updated_at,
    notNowCount: r.notnow_count,
    result: r.result,
    errorChain: json(r.error_chain) as unknown[] | null,
  };
}

export interface HistoryRow extends TargetRow {
  request_type: string;
}

export function toHistoryEntry(r: HistoryRow): HistoryEntry {
  return { ...toCommandTarget(r), seq: r.seq, commandUuid: r.command_uuid, requestType: r.request_type };
}

export type QueueRow = HistoryRow & { state: 'queued' | 'notnow' };

export function toQueueEntry(r: QueueRow): QueueEntry {
  return {
    commandUuid: r.command_uuid,
    requestType: r.request_type,
    state: r.state,
    queuedAt: r.queued_at,
    updatedAt: r.updated_at,
    notNowCount: r.notnow_count,
  };
}

export interface IdentityRow {
  fingerprint: string;
  device_id: string;
  subject: string;
  not_after: string;
  bound_at: string;
  anchor: string | null;
}

export function toIdentityBinding(r: IdentityRow): IdentityBinding {
  return { fingerprint: r.fingerprint, deviceId: r.device_id, subject: r.subject, notAfter: r.not_after, boundAt: r.bound_at, anchor: r.anchor };
}

export interface CommandSummaryRow {
  uuid: string;
  request_type: string;
  created_at: string;
}

export interface TargetCountRow {
  command_uuid: string;
  state: TargetState;
  count: number;
}

/** The commands of a listing with their targets counted by state. */
export function toCommandSummaries(commands: CommandSummaryRow[], counts: TargetCountRow[]): CommandSummary[] {
  const byCommand = new Map<string, TargetCountRow[]>();
  for (const row of counts) byCommand.set(row.command_uuid, [...(byCommand.get(row.command_uuid) ?? []), row]);
  return commands.map((c) => ({
    uuid: c.uuid,
    requestType: c.request_type,
    createdAt: c.created_at,
    targetsByState: countsByState(byCommand.get(c.uuid) ?? []),
  }));
}

export interface TraitGroupRow {
  type: EnrollmentType;
  channel: Channel;
  platform: string | null;
  os_version: string | null;
  supervised: Flag | null;
  multi_user: Flag | null;
  ids: string;
}

export function toTraits(r: Omit<TraitGroupRow, 'ids'>): EnrollmentTraits {
  return {
    type: r.type,
    channel: r.channel,
    platform: r.platform,
    osVersion: r.os_version,
    supervised: optionalFlag(r.supervised),
    multiUser: optionalFlag(r.multi_user),
  };
}

export interface PushTargetRow {
  id: string;
  state: EnrollmentState;
  topic: string | null;
  push_token: Buffer | null;
  push_magic: string | null;
  push_token_invalid: Flag;
  apns_sandbox: Flag;
}

export function toPushTarget(r: PushTargetRow): PushTargetRecord {
  return {
    id: r.id,
    state: r.state,
    topic: r.topic,
    pushToken: r.push_token,
    pushMagic: r.push_magic,
    pushTokenInvalid: flag(r.push_token_invalid),
    sandbox: flag(r.apns_sandbox),
  };
}

export interface PushCertificateRow {
  cert_pem: string;
  key_pem: string;
  topic: string;
  not_after: string;
  updated_at: string;
}

export function toPushCertificate(r: PushCertificateRow): StoredPushCertificate {
  return { certPem: r.cert_pem, keyPem: r.key_pem, topic: r.topic, notAfter: r.not_after, updatedAt: r.updated_at };
}

export interface JobRow {
  key: string;
  kind: string;
  payload: Json;
  run_at: string;
  attempts: number;
}

export function toJob(r: JobRow): Job {
  return { key: r.key, kind: r.kind, payload: json(r.payload), runAt: r.run_at, attempts: r.attempts };
}

/** Command targets by state, every state present (zero when no row has it). */
export function countsByState(rows: { state: TargetState; count: number }[]): StorageStats['commandTargetsByState'] {
  const counts: StorageStats['commandTargetsByState'] = { queued: 0, notnow: 0, acknowledged: 0, error: 0, commandformaterror: 0, cancelled: 0 };
  for (const row of rows) counts[row.state] = row.count;
  return counts;
}
