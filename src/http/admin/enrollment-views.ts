// JSON shapes of the enrollment admin routes (invites, issued identities, renewals), as zod
// schemas for the OpenAPI document, with the functions that produce them. An invite's token and
// challenge appear once, in the answer to its creation; no view carries them afterwards.
import { z } from 'zod';
import { inviteState, type CreatedInvite } from '../../service/invites.ts';
import type { RenewalStatus } from '../../service/issued-identities.ts';
import { INVITE_STATES, type Invite, type IssuedIdentity } from '../../storage/issuance.ts';

const timestamp = z.string().describe('ISO 8601 UTC');

export const assignSchema = z
  .object({ sets: z.array(z.string()), tags: z.array(z.string()) })
  .describe('what the invite assigns the devices it brings, kept for Declarative Device Management');

export const inviteSchema = z.object({
  id: z.string(),
  label: z.string().nullable(),
  created_at: timestamp,
  expires_at: timestamp,
  max_uses: z.number().int(),
  uses: z.number().int().describe('identities issued with its challenge'),
  uses_left: z.number().int(),
  state: z.enum(INVITE_STATES),
  revoked_at: timestamp.nullable(),
  assign: assignSchema.nullable(),
});

export const createdInviteSchema = inviteSchema.extend({
  url: z.string().describe('PUBLIC_URL/enroll/{token}: opening it on the device downloads its enrollment profile'),
  token: z.string().describe('the secret in the URL; shown only here'),
  challenge: z.string().describe("the SCEP challenge in the invite's profile; shown only here"),
});

export const issuedIdentitySchema = z.object({
  serial: z.string().describe('uppercase hex'),
  fingerprint: z.string().describe('SHA-256 of the DER, hex'),
  subject: z.string(),
  not_before: timestamp,
  not_after: timestamp,
  issued_at: timestamp,
  invite_id: z.string().nullable().describe('the invite that brought the device (renewals keep it); null: the static challenge'),
  renewal_of: z.string().nullable().describe('serial of the identity this one renewed'),
  device_id: z.string().nullable().describe('the device it is bound to (or was last); null until a device speaks with it'),
  revoked_at: timestamp.nullable(),
  renewal_command: z.string().nullable().describe('the InstallProfile queued to renew it'),
});

export const renewalSchema = z.object({
  device_id: z.string(),
  identity: issuedIdentitySchema,
  state: z
    .enum(['not-queued', 'queued', 'deferred', 'installed', 'failed', 'cancelled', 'unknown', 'expired'])
    .describe(
      'not-queued: the renewal job has not reached it; queued/deferred: the InstallProfile waits (NotNow); installed: acknowledged, ' +
        'yet no new identity spoke; failed: Error or CommandFormatError; cancelled: by an admin; unknown: the command was pruned; ' +
        'expired: too late, the device must enroll again',
    ),
  stuck: z.boolean().describe('the renewal was queued and is not done'),
});

export function inviteJson(invite: Invite, now: Date = new Date()): z.infer<typeof inviteSchema> {
  return {
    id: invite.id,
    label: invite.label,
    created_at: invite.createdAt,
    expires_at: invite.expiresAt,
    max_uses: invite.maxUses,
    uses: invite.uses,
    uses_left: invite.revokedAt === null ? Math.max(0, invite.maxUses - invite.uses) : 0,
    state: inviteState(invite, now),
    revoked_at: invite.revokedAt,
    assign: invite.assign,
  };
}

export function createdInviteJson(created: CreatedInvite): z.infer<typeof createdInviteSchema> {
  return { ...inviteJson(created.invite), url: created.url, token: created.token, challenge: created.challenge };
}

export function issuedIdentityJson(i: IssuedIdentity): z.infer<typeof issuedIdentitySchema> {
  return {
    serial: i.serial,
    fingerprint: i.fingerprint,
    subject: i.subject,
    not_before: i.notBefore,
    not_after: i.notAfter,
    issued_at: i.issuedAt,
    invite_id: i.inviteId,
    renewal_of: i.renewalOf,
    device_id: i.deviceId,
    revoked_at: i.revokedAt,
    renewal_command: i.renewalCommand,
  };
}

export function renewalJson(r: RenewalStatus): z.infer<typeof renewalSchema> {
  return { device_id: r.deviceId, identity: issuedIdentityJson(r.identity), state: r.state, stuck: r.stuck };
}
