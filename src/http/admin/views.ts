// JSON shapes of the admin API (snake_case, as NanoMDM's API), as zod schemas for the OpenAPI
// document, with the functions that produce them. Secrets (push tokens, PushMagic, UnlockToken,
// bootstrap tokens) are never part of a view.
import { z } from 'zod';
import type { CommandView, HistoryView, TargetView } from '../../service/command-queue.ts';
import type { EnrollmentDetail } from '../../service/enrollment-directory.ts';
import { CHANNELS, ENROLLMENT_TYPES } from '../../protocol/enrollment-id.ts';
import { ENROLLMENT_STATES, TARGET_STATES, type CommandSummary, type Enrollment, type QueueEntry } from '../../storage/storage.ts';

const timestamp = z.string().describe('ISO 8601 UTC');
const nullableTimestamp = timestamp.nullable();

export const enrollmentSummarySchema = z.object({
  id: z.string(),
  device_id: z.string(),
  channel: z.enum(CHANNELS),
  type: z.enum(ENROLLMENT_TYPES),
  state: z.enum(ENROLLMENT_STATES),
  serial_number: z.string().nullable(),
  platform: z.string().nullable(),
  os_version: z.string().nullable(),
  user: z.object({ id: z.string().nullable(), short_name: z.string().nullable(), long_name: z.string().nullable() }).nullable(),
  topic: z.string().nullable(),
  awaiting_configuration: z.boolean(),
  has_unlock_token: z.boolean(),
  has_bootstrap_token: z.boolean(),
  first_seen_at: timestamp,
  last_seen_at: timestamp,
  last_status: z.string(),
  authenticated_at: nullableTimestamp,
  token_updated_at: nullableTimestamp,
  checked_out_at: nullableTimestamp,
  push_token_invalid: z.boolean().describe('APNs rejected the token; no pushes until the next TokenUpdate'),
  last_push_at: nullableTimestamp,
  last_push_result: z.string().nullable(),
  device_name: z.string().nullable().describe('from DeviceInformation (device channel)'),
  model: z.string().nullable(),
  supervised: z.boolean().nullable().describe('from DeviceInformation; null until known (commands that need supervision are refused once it is false)'),
  multi_user: z.boolean().nullable().describe('a Shared iPad (DeviceInformation IsMultiUser); null until known'),
});

export const enrollmentDetailSchema = enrollmentSummarySchema.extend({
  facts: z.record(z.string(), z.unknown()).nullable().describe('the Authenticate message (device channel)'),
  inventory: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe('every DeviceInformation answer merged (QueryResponses as JSON), the newest value of each query'),
  inventory_updated_at: nullableTimestamp,
  user_channels: z.array(z.string()),
  identities: z
    .array(z.object({ fingerprint: z.string().describe('SHA-256 of the DER, hex'), subject: z.string(), not_after: timestamp, bound_at: timestamp }))
    .describe("certificates bound to the device (user channels speak with their device's)"),
  invite: z
    .object({ id: z.string(), label: z.string().nullable(), assign: z.object({ sets: z.array(z.string()), tags: z.array(z.string()) }).nullable() })
    .nullable()
    .describe('the enrollment invite that brought the device (through an identity Aspen issued); null: none'),
});

export function enrollmentSummary(e: Enrollment): z.infer<typeof enrollmentSummarySchema> {
  return {
    id: e.id,
    device_id: e.deviceId,
    channel: e.channel,
    type: e.type,
    state: e.state,
    serial_number: e.serialNumber,
    platform: e.platform,
    os_version: e.osVersion,
    user: e.channel === 'user' ? { id: e.userId, short_name: e.userShortName, long_name: e.userLongName } : null,
    topic: e.topic,
    awaiting_configuration: e.awaitingConfiguration,
    has_unlock_token: e.hasUnlockToken,
    has_bootstrap_token: e.hasBootstrapToken,
    first_seen_at: e.firstSeenAt,
    last_seen_at: e.lastSeenAt,
    last_status: e.lastStatus,
    authenticated_at: e.authenticatedAt,
    token_updated_at: e.tokenUpdatedAt,
    checked_out_at: e.checkedOutAt,
    push_token_invalid: e.pushTokenInvalid,
    last_push_at: e.lastPushAt,
    last_push_result: e.lastPushResult,
    device_name: e.deviceName,
    model: e.model,
    supervised: e.supervised,
    multi_user: e.multiUser,
  };
}

export function enrollmentDetail(d: EnrollmentDetail): z.infer<typeof enrollmentDetailSchema> {
  return {
    ...enrollmentSummary(d.enrollment),
    facts: d.enrollment.facts,
    inventory: d.enrollment.inventory,
    inventory_updated_at: d.enrollment.inventoryUpdatedAt,
    user_channels: d.userChannels.map((u) => u.id),
    identities: d.identities.map((i) => ({ fingerprint: i.fingerprint, subject: i.subject, not_after: i.notAfter, bound_at: i.boundAt })),
    invite: d.invite ? { id: d.invite.id, label: d.invite.label, assign: d.invite.assign } : null,
  };
}


export const targetSchema = z.object({
  enrollment_id: z.string(),
  state: z.enum(TARGET_STATES),
  queued_at: timestamp,
  updated_at: timestamp,
  notnow_count: z.number().int(),
  result: z.unknown().describe('the device report decoded to JSON: data as base64, dates as ISO 8601'),
  error_chain: z.array(z.unknown()).nullable(),
});

export const commandSchema = z.object({
  command_uuid: z.string(),
  request_type: z.string(),
  created_at: timestamp,
  command: z.unknown().describe('the command plist as JSON'),
  targets: z.array(targetSchema),
});

export const commandSummarySchema = z.object({
  command_uuid: z.string(),
  request_type: z.string(),
  created_at: timestamp,
  targets: z.object(Object.fromEntries(TARGET_STATES.map((s) => [s, z.number().int()]))).describe('how many targets are in each state'),
});

export function commandSummary(c: CommandSummary): z.infer<typeof commandSummarySchema> {
  return { command_uuid: c.uuid, request_type: c.requestType, created_at: c.createdAt, targets: c.targetsByState };
}

export const historySchema = z.object({
  commands: z.array(targetSchema.extend({ command_uuid: z.string(), request_type: z.string() })),
  next_cursor: z.string().nullable(),
});

export const queueSchema = z.object({
  enrollment_id: z.string(),
  commands: z.array(
    z.object({
      command_uuid: z.string(),
      request_type: z.string(),
      state: z.enum(['queued', 'notnow']).describe('notnow: deferred by the device this session; offered again next session'),
      queued_at: timestamp,
      updated_at: timestamp,
      notnow_count: z.number().int(),
    }),
  ),
});

function target(t: TargetView): z.infer<typeof targetSchema> {
  return {
    enrollment_id: t.enrollmentId,
    state: t.state,
    queued_at: t.queuedAt,
    updated_at: t.updatedAt,
    notnow_count: t.notNowCount,
    result: t.result,
    error_chain: t.errorChain,
  };
}

export function commandJson(view: CommandView): z.infer<typeof commandSchema> {
  return {
    command_uuid: view.commandUuid,
    request_type: view.requestType,
    created_at: view.createdAt,
    command: view.command,
    targets: view.targets.map(target),
  };
}

export function historyEntry(h: HistoryView) {
  return { ...target(h), command_uuid: h.commandUuid, request_type: h.requestType };
}

export function queueJson(enrollmentId: string, entries: QueueEntry[]): z.infer<typeof queueSchema> {
  return {
    enrollment_id: enrollmentId,
    commands: entries.map((q) => ({
      command_uuid: q.commandUuid,
      request_type: q.requestType,
      state: q.state,
      queued_at: q.queuedAt,
      updated_at: q.updatedAt,
      notnow_count: q.notNowCount,
    })),
  };
}
