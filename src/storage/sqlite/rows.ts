// Row shapes of the SQLite tables and their mapping to the storage contract's types.
import type { Channel, EnrollmentType } from '../../protocol/enrollment-id.ts';
import type {
  CommandTarget,
  Enrollment,
  EnrollmentState,
  HistoryEntry,
  IdentityBinding,
  QueueEntry,
  TargetState,
} from '../storage.ts';

export interface EnrollmentRow {
  id: string;
  device_id: string;
  channel: Channel;
  type: EnrollmentType;
  state: EnrollmentState;
  serial_number: string | null;
  platform: string | null;
  os_version: string | null;
  facts: string | null;
  user_id: string | null;
  user_short_name: string | null;
  user_long_name: string | null;
  topic: string | null;
  push_token: Buffer | null;
  push_magic: string | null;
  unlock_token: Buffer | null;
  awaiting_configuration: number;
  bootstrap_token: Buffer | null;
  first_seen_at: string;
  last_seen_at: string;
  last_status: string;
  authenticated_at: string | null;
  token_updated_at: string | null;
  checked_out_at: string | null;
  push_token_invalid: number;
  last_push_at: string | null;
  last_push_result: string | null;
  identity_renewal_until: string | null;
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
    facts: r.facts === null ? null : (JSON.parse(r.facts) as Record<string, unknown>),
    userId: r.user_id,
    userShortName: r.user_short_name,
    userLongName: r.user_long_name,
    topic: r.topic,
    pushToken: r.push_token,
    pushMagic: r.push_magic,
    hasUnlockToken: r.unlock_token !== null,
    awaitingConfiguration: r.awaiting_configuration === 1,
    hasBootstrapToken: r.bootstrap_token !== null,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    lastStatus: r.last_status,
    authenticatedAt: r.authenticated_at,
    tokenUpdatedAt: r.token_updated_at,
    checkedOutAt: r.checked_out_at,
    pushTokenInvalid: r.push_token_invalid === 1,
    lastPushAt: r.last_push_at,
    lastPushResult: r.last_push_result,
    identityRenewalUntil: r.identity_renewal_until,
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
  error_chain: string | null;
}

export function toCommandTarget(r: TargetRow): CommandTarget {
  return {
    enrollmentId: r.enrollment_id,
    state: r.state,
    queuedAt: r.queued_at,
    updatedAt: r.updated_at,
    notNowCount: r.notnow_count,
    result: r.result,
    errorChain: r.error_chain === null ? null : (JSON.parse(r.error_chain) as unknown[]),
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
}

export function toIdentityBinding(r: IdentityRow): IdentityBinding {
  return { fingerprint: r.fingerprint, deviceId: r.device_id, subject: r.subject, notAfter: r.not_after, boundAt: r.bound_at };
}
