// The events Aspen writes, as drafts storage stores with the change each describes (see
// src/storage/events.ts). Device messages become MicroMDM/NanoMDM-shaped events — topic
// `mdm.<MessageType>` with a `checkin_event`, or `mdm.Connect` with an `acknowledge_event` for
// every command report — so receivers written for those servers work; Aspen's own topics name
// what the server did (`command.queued`, `push.failed`, ...).
import { randomUUID } from 'node:crypto';
import type { DeclarationStatus } from '../ddm/index.ts';
import type { EnrollmentType, ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import { decodePlistDict, encodePlist, type PlistDict } from '../protocol/plist.ts';
import type { EventDraft } from '../storage/events.ts';
import type { IssuedIdentity } from '../storage/issuance.ts';

/** Every topic Aspen writes (what an endpoint's `topics` filter can name). */
export const EVENT_TOPICS = [
  'mdm.Authenticate',
  'mdm.TokenUpdate',
  'mdm.CheckOut',
  'mdm.UserAuthenticate',
  'mdm.SetBootstrapToken',
  'mdm.GetBootstrapToken',
  'mdm.GetToken',
  'mdm.DeclarativeManagement',
  'mdm.ReturnToService',
  'mdm.Connect',
  'command.queued',
  'command.cancelled',
  'push.failed',
  'identity.refused',
  'identity.issued',
  'identity.revoked',
  'declaration.status_changed',
  'aspen.test',
] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

/** Keys of device messages that carry secrets, removed from events unless an endpoint opts in. */
const SECRET_KEYS = ['UnlockToken', 'BootstrapToken'];

/** NanoMDM's names for the kinds of enrollment. */
const ID_TYPES: Record<EnrollmentType, string> = {
  device: 'Device',
  'user-enrollment-device': 'User Enrollment (Device)',
  user: 'User',
  'user-enrollment-user': 'User Enrollment',
  'shared-ipad-user': 'Shared iPad',
};

/** Where a device message came from: its enrollment, its exact bytes, the URL's query. */
export interface DeviceMessage {
  who: ResolvedEnrollment;
  raw: Uint8Array;
  message: PlistDict;
  /** The query parameters of the URL the device used (admins put some in ServerURL). */
  params: Record<string, string>;
  at: string;
}

function draft(topic: EventTopic, chain: string | null, at: string, data: Record<string, unknown>, raw: Uint8Array | null = null, redacted: Uint8Array | null = null): EventDraft {
  return { id: randomUUID(), topic, chain, at, data, raw, redacted };
}

function deviceFields(m: DeviceMessage): Record<string, unknown> {
  const { who, message } = m;
  return {
    ...(typeof message.UDID === 'string' ? { udid: message.UDID } : {}),
    ...(typeof message.EnrollmentID === 'string' ? { enrollment_id: message.EnrollmentID } : {}),
    ids: { id: who.id, type: ID_TYPES[who.type], ...(who.channel === 'user' ? { parent_id: who.deviceId } : {}) },
    // MicroMDM and NanoMDM call the URL's query parameters url_params; params is the same.
    url_params: m.params,
    params: m.params,
  };
}

/** `mdm.<MessageType>` with a `checkin_event`. */
export function checkinEvent(m: DeviceMessage): EventDraft {
  return draft(`mdm.${String(m.message.MessageType)}` as EventTopic, m.who.deviceId, m.at, deviceFields(m), m.raw, withoutSecrets(m));
}

/** `mdm.Connect` with an `acknowledge_event`: a command report (Idle included). */
export function reportEvent(m: DeviceMessage): EventDraft {
  const fields = deviceFields(m);
  const report = { ...fields, status: m.message.Status, ...(typeof m.message.CommandUUID === 'string' ? { command_uuid: m.message.CommandUUID } : {}) };
  return draft('mdm.Connect', m.who.deviceId, m.at, report, m.raw);
}

/** A command queued (storage adds the `targets` it reached). */
export function commandQueued(uuid: string, requestType: string, at: string): EventDraft {
  return draft('command.queued', null, at, { command_uuid: uuid, request_type: requestType });
}

/** Pending commands of an enrollment cancelled (storage adds which, as `command_uuids`). */
export function commandCancelled(enrollmentId: string, deviceId: string, at: string): EventDraft {
  return draft('command.cancelled', deviceId, at, { enrollment_id: enrollmentId });
}

export function pushFailed(enrollmentId: string, deviceId: string, reason: string, at: string): EventDraft {
  return draft('push.failed', deviceId, at, { enrollment_id: enrollmentId, reason });
}

/** A device request refused for its identity; what the body said it was, when it could be read. */
export function identityRefused(refusal: string, reason: string, who: ResolvedEnrollment | undefined, at: string): EventDraft {
  return draft('identity.refused', who?.deviceId ?? null, at, { refusal, reason, ...(who ? { enrollment_id: who.id } : {}) });
}

/** An identity Aspen issued through SCEP (a renewal names the serial it renews, and is already
 *  bound to its device) or revoked: the certificate's facts, never its key. */
export function identityChanged(topic: 'identity.issued' | 'identity.revoked', identity: IssuedIdentity): EventDraft {
  const at = topic === 'identity.revoked' ? identity.revokedAt! : identity.issuedAt;
  return draft(topic, identity.deviceId, at, {
    serial: identity.serial,
    fingerprint: identity.fingerprint,
    subject: identity.subject,
    not_before: identity.notBefore,
    not_after: identity.notAfter,
    invite_id: identity.inviteId,
    renewal_of: identity.renewalOf,
    ...(identity.deviceId !== null ? { enrollment_id: identity.deviceId } : {}),
  });
}

/** Declarations whose reported status a DDM status report changed (`changes`: identifier, the
 *  status before and after, each absent when not reported). */
export function declarationStatusChanged(
  enrollmentId: string,
  deviceId: string,
  changes: readonly { identifier: string; before?: DeclarationStatus; after?: DeclarationStatus }[],
  at: string,
): EventDraft {
  const status = (s: DeclarationStatus) => ({ identifier: s.identifier, kind: s.kind, server_token: s.serverToken, active: s.active, valid: s.valid, reasons: s.reasons });
  const change = (c: (typeof changes)[number]) => ({ identifier: c.identifier, ...(c.before ? { before: status(c.before) } : {}), ...(c.after ? { after: status(c.after) } : {}) });
  return draft('declaration.status_changed', deviceId, at, { enrollment_id: enrollmentId, changes: changes.map(change) });
}

/** What `POST /v1/webhooks/{id}/test` sends, straight to the endpoint (it is not stored). */
export function testEvent(endpointId: string, at: string): EventDraft {
  return draft('aspen.test', null, at, { endpoint_id: endpointId, message: 'a test event from Aspen' });
}

/** The message re-encoded without its secrets; null when it had none (the raw bytes are then
 *  what every endpoint gets). */
function withoutSecrets(m: DeviceMessage): Uint8Array | null {
  if (!SECRET_KEYS.some((key) => Object.hasOwn(m.message, key))) return null;
  const plain = decodePlistDict(m.raw);
  for (const key of SECRET_KEYS) delete plain[key];
  return Buffer.from(encodePlist(plain), 'utf8');
}
