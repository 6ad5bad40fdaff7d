// Row shapes of the enrollment tables (enrollment_invites, issued_identities) as either backend
// returns them, and their mapping to the issuance contract's types.
import type { Invite, InviteAssignment, IssuedIdentity, IssueRefusal } from './issuance.ts';
import type { Json } from './rows.ts';
import type { TargetState } from './storage.ts';

export interface InviteRow {
  id: string;
  label: string | null;
  created_at: string;
  expires_at: string;
  max_uses: number;
  uses: number;
  revoked_at: string | null;
  assign: Json;
  renews: string | null;
  device_id: string | null;
}

export function toInvite(r: InviteRow): Invite {
  return {
    id: r.id,
    label: r.label,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    maxUses: r.max_uses,
    uses: r.uses,
    revokedAt: r.revoked_at,
    assign: (typeof r.assign === 'string' ? JSON.parse(r.assign) : r.assign) as InviteAssignment | null,
    renews: r.renews === null || r.device_id === null ? null : { serial: r.renews, deviceId: r.device_id },
  };
}

export interface IssuedRow {
  serial: string;
  fingerprint: string;
  subject: string;
  not_before: string;
  not_after: string;
  issued_at: string;
  invite_id: string | null;
  renewal_of: string | null;
  device_id: string | null;
  revoked_at: string | null;
  renewal_command: string | null;
  renewal_queued_at: string | null;
}

export function toIssued(r: IssuedRow): IssuedIdentity {
  return {
    serial: r.serial,
    fingerprint: r.fingerprint,
    subject: r.subject,
    notBefore: r.not_before,
    notAfter: r.not_after,
    issuedAt: r.issued_at,
    inviteId: r.invite_id,
    renewalOf: r.renewal_of,
    deviceId: r.device_id,
    revokedAt: r.revoked_at,
    renewalCommand: r.renewal_command,
    renewalQueuedAt: r.renewal_queued_at,
  };
}

/** An issued identity row with the device it is bound to and its renewal command's state. */
export interface RenewalRow extends IssuedRow {
  bound_device: string;
  command_state: TargetState | null;
}

/** Why an invite cannot be used at `at`, if it cannot. */
export function unusable(invite: Pick<InviteRow, 'revoked_at' | 'uses' | 'max_uses' | 'expires_at'>, at: string): IssueRefusal | undefined {
  if (invite.revoked_at !== null) return 'revoked';
  if (invite.uses >= invite.max_uses) return 'used';
  if (invite.expires_at <= at) return 'expired';
  return undefined;
}
