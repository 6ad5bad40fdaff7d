// The storage contract of built-in enrollment (storage.issuance): invites, the identities Aspen
// issues through SCEP, and their renewal. Both backends implement it (sqlite/issuance.ts,
// postgres/issuance.ts); test/storage/issuance-contract.ts holds them to the same behaviour.
//
// Secrets never reach storage: invites are found by the SHA-256 of their token or challenge.
import type { EventDraft } from './events.ts';
import type { TargetState } from './storage.ts';

/** What an invite asks for the devices it brings, kept for Declarative Device Management. */
export interface InviteAssignment {
  sets: string[];
  tags: string[];
}

export interface NewInvite {
  id: string;
  tokenHash: string;
  challengeHash: string;
  label: string | null;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  assign: InviteAssignment | null;
  /** Set for the one-time invite Aspen makes to renew a device's identity (never listed). */
  renews: { serial: string; deviceId: string } | null;
}

export interface Invite {
  id: string;
  label: string | null;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  revokedAt: string | null;
  assign: InviteAssignment | null;
  renews: { serial: string; deviceId: string } | null;
}

/** live: usable; used: every use taken; the others say so. A revoked invite is `revoked` first. */
export const INVITE_STATES = ['live', 'used', 'expired', 'revoked'] as const;
export type InviteState = (typeof INVITE_STATES)[number];

/** A certificate issued through SCEP, as it is recorded before it is sent. */
export interface NewIssuedIdentity {
  /** Uppercase hex, as X509Certificate reports it. */
  serial: string;
  /** SHA-256 of the DER, lowercase hex (as a binding's fingerprint). */
  fingerprint: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  /** SHA-256 of the issuing CA certificate (a binding's anchor). */
  anchor: string;
}

export interface IssuedIdentity extends Omit<NewIssuedIdentity, 'anchor'> {
  /** The invite that brought the device (renewals keep it); null: the static challenge. */
  inviteId: string | null;
  /** The serial of the identity this one renewed. */
  renewalOf: string | null;
  /** The device it is bound to (or was last); null until a device speaks with it. */
  deviceId: string | null;
  revokedAt: string | null;
  /** The InstallProfile queued to replace it before it expires. */
  renewalCommand: string | null;
  renewalQueuedAt: string | null;
}

/** Why an issuance was refused, for the log (the requester only learns it was refused). */
export type IssueRefusal = 'unknown' | 'revoked' | 'expired' | 'used';
export type IssueOutcome = { issued: IssuedIdentity } | { refused: IssueRefusal };

export interface IssuedFilter {
  /** not_after before this. */
  expiringBefore?: string;
  deviceId?: string;
  revoked?: boolean;
}

/** A device whose current identity (the newest Aspen-issued one bound to it, not revoked)
 *  expires before some time, with where its renewal stands. */
export interface RenewalStatusRecord {
  deviceId: string;
  identity: IssuedIdentity;
  /** The state of the renewal command in the device's queue; null when none was queued (or it
   *  was pruned). */
  commandState: TargetState | null;
}

/** The event describing an identity issued or revoked, written in the same transaction (see
 *  events.ts); built from the record as stored, so it carries the invite and device it was linked to. */
export type IdentityEvent = (identity: IssuedIdentity) => EventDraft;

export interface IssuanceStore {
  createInvite(invite: NewInvite): Promise<Invite>;
  /** Admins' invites (not renewal ones), newest first, those after the cursor. */
  listInvites(filter: { state?: InviteState; at: string }, page: { before?: { createdAt: string; id: string }; limit: number }): Promise<Invite[]>;
  inviteByTokenHash(tokenHash: string): Promise<Invite | undefined>;
  /** Revokes an admin's invite (its uses left are void); revoking it again keeps the first time.
   *  Undefined when there is none. */
  revokeInvite(id: string, at: string): Promise<Invite | undefined>;

  /**
   * Takes one use of the invite whose challenge hashes to `challengeHash` (live at
   * `identity.issuedAt`) and records `identity` as issued through it, in one atomic step: of two
   * requests racing for its last use, across instances, exactly one is recorded.
   */
  issueWithChallenge(challengeHash: string, identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssueOutcome>;
  /** Records an identity issued with the static challenge. */
  issueWithStaticChallenge(identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssuedIdentity>;
  /**
   * Records `identity` as the renewal (SCEP RenewalReq) of the issued identity `renewedFingerprint`,
   * which must be recorded, not revoked and not expired at `identity.issuedAt`. The new identity
   * is bound to the device the renewed one is bound to in the same step, so it speaks for that
   * device at once.
   */
  issueRenewal(renewedFingerprint: string, identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssueOutcome>;

  getIssued(serial: string): Promise<IssuedIdentity | undefined>;
  /** Ordered by expiry, then serial, those after the cursor. */
  listIssued(filter: IssuedFilter, page: { after?: { notAfter: string; serial: string }; limit: number }): Promise<IssuedIdentity[]>;
  /** Marks an identity revoked and removes its binding, in one step (with the same locks as
   *  admission). Revoking it again keeps the first time (and writes no second event). Undefined
   *  when it is unknown. */
  revokeIssued(serial: string, at: string, eventOf?: IdentityEvent): Promise<IssuedIdentity | undefined>;
  /** The invite that brought a device: that of the newest issued identity last bound to it. */
  inviteOfDevice(deviceId: string): Promise<Invite | undefined>;

  /** Enrolled devices whose current identity expires between `now` and `before` and whose
   *  renewal is not queued yet, soonest first. */
  renewalCandidates(now: string, before: string, limit: number): Promise<RenewalStatusRecord[]>;
  markRenewalQueued(serial: string, commandUuid: string, at: string): Promise<void>;
  /** Devices (not checked out) whose current identity expires before `before`, expired ones too. */
  renewalReport(before: string): Promise<RenewalStatusRecord[]>;
}
