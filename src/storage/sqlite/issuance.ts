// The issuance store on SQLite: each decision that reads before it writes is one BEGIN IMMEDIATE
// transaction, so it holds across processes sharing the file.
import type { Database } from 'better-sqlite3';
import type { Write } from './group-commit.ts';
import type { EventDraft } from '../events.ts';
import { currentIdentitiesQuery, inviteListQuery, issuedListQuery } from '../issuance-queries.ts';
import { toInvite, toIssued, unusable, type InviteRow, type IssuedRow, type RenewalRow } from '../issuance-rows.ts';
import type {
  Invite,
  InviteState,
  IssuanceStore,
  IdentityEvent,
  IssuedFilter,
  IssuedIdentity,
  IssueOutcome,
  NewInvite,
  NewIssuedIdentity,
  RenewalStatusRecord,
} from '../issuance.ts';

export class SqliteIssuance implements IssuanceStore {
  private readonly stmt;

  constructor(
    private readonly db: Database,
    private readonly write: Write,
    private readonly appendEvent: (draft: EventDraft) => void,
  ) {
    this.stmt = prepare(db);
  }

  async createInvite(invite: NewInvite): Promise<Invite> {
    await this.write(() =>
      this.stmt.insertInvite.run({
        ...invite,
        assign: invite.assign && JSON.stringify(invite.assign),
        renews: invite.renews?.serial ?? null,
        deviceId: invite.renews?.deviceId ?? null,
      }),
    );
    return toInvite(this.stmt.getInvite.get(invite.id) as InviteRow);
  }

  async listInvites(filter: { state?: InviteState; at: string }, page: { before?: { createdAt: string; id: string }; limit: number }): Promise<Invite[]> {
    const query = inviteListQuery(filter, page, () => '?');
    return (this.db.prepare(query.text).all(query.values) as InviteRow[]).map(toInvite);
  }

  async inviteByTokenHash(tokenHash: string): Promise<Invite | undefined> {
    const row = this.stmt.inviteByToken.get(tokenHash) as InviteRow | undefined;
    return row && toInvite(row);
  }

  async revokeInvite(id: string, at: string): Promise<Invite | undefined> {
    await this.write(() => this.stmt.revokeInvite.run({ id, at }));
    const row = this.stmt.getInvite.get(id) as InviteRow | undefined;
    return row && toInvite(row);
  }

  async issueWithChallenge(challengeHash: string, identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssueOutcome> {
    return this.write((): IssueOutcome => {
      const invite = this.stmt.inviteByChallenge.get(challengeHash) as (InviteRow & { inherited: string | null }) | undefined;
      const refusal = invite === undefined ? 'unknown' : unusable(invite, identity.issuedAt);
      if (refusal !== undefined) return { refused: refusal };
      this.stmt.useInvite.run(invite!.id);
      // A renewal invite's identity belongs to the enrollment the renewed one came from.
      const inviteId = invite!.renews === null ? invite!.id : invite!.inherited;
      return { issued: this.insert(identity, { inviteId, renewalOf: invite!.renews, deviceId: null }, eventOf) };
    });
  }

  async issueWithStaticChallenge(identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssuedIdentity> {
    return this.write(() => this.insert(identity, { inviteId: null, renewalOf: null, deviceId: null }, eventOf));
  }

  async issueRenewal(renewedFingerprint: string, identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssueOutcome> {
    return this.write((): IssueOutcome => {
      const renewed = this.stmt.issuedByFingerprint.get(renewedFingerprint) as (IssuedRow & { bound_device: string | null }) | undefined;
      if (renewed === undefined) return { refused: 'unknown' };
      if (renewed.revoked_at !== null) return { refused: 'revoked' };
      if (renewed.not_after <= identity.issuedAt) return { refused: 'expired' };
      const deviceId = renewed.bound_device;
      const issued = this.insert(identity, { inviteId: renewed.invite_id, renewalOf: renewed.serial, deviceId }, eventOf);
      if (deviceId !== null) {
        this.stmt.bind.run({ fingerprint: identity.fingerprint, deviceId, subject: identity.subject, notAfter: identity.notAfter, boundAt: identity.issuedAt, anchor: identity.anchor });
      }
      return { issued };
    });
  }

  async getIssued(serial: string): Promise<IssuedIdentity | undefined> {
    const row = this.stmt.getIssued.get(serial) as IssuedRow | undefined;
    return row && toIssued(row);
  }

  async listIssued(filter: IssuedFilter, page: { after?: { notAfter: string; serial: string }; limit: number }): Promise<IssuedIdentity[]> {
    const query = issuedListQuery(filter, page, () => '?');
    return (this.db.prepare(query.text).all(query.values) as IssuedRow[]).map(toIssued);
  }

  async revokeIssued(serial: string, at: string, eventOf?: IdentityEvent): Promise<IssuedIdentity | undefined> {
    return this.write(() => {
      const row = this.stmt.getIssued.get(serial) as IssuedRow | undefined;
      if (row === undefined) return undefined;
      this.stmt.revokeIssued.run({ serial, at });
      this.stmt.unbindFingerprint.run(row.fingerprint);
      const revoked = toIssued(this.stmt.getIssued.get(serial) as IssuedRow);
      if (row.revoked_at === null && eventOf) this.appendEvent(eventOf(revoked));
      return revoked;
    });
  }

  async inviteOfDevice(deviceId: string): Promise<Invite | undefined> {
    const row = this.stmt.inviteOfDevice.get(deviceId) as InviteRow | undefined;
    return row && toInvite(row);
  }

  async renewalCandidates(now: string, before: string, limit: number): Promise<RenewalStatusRecord[]> {
    return this.current({ before, after: now, unqueued: true, enrolledOnly: true, limit });
  }

  async markRenewalQueued(serial: string, commandUuid: string, at: string): Promise<void> {
    await this.write(() => this.stmt.markRenewal.run({ serial, command: commandUuid, at }));
  }

  async renewalReport(before: string): Promise<RenewalStatusRecord[]> {
    return this.current({ before });
  }

  private current(options: Parameters<typeof currentIdentitiesQuery>[0]): RenewalStatusRecord[] {
    const query = currentIdentitiesQuery(options, () => '?');
    return (this.db.prepare(query.text).all(query.values) as RenewalRow[]).map((r) => ({
      deviceId: r.bound_device,
      identity: toIssued(r),
      commandState: r.command_state,
    }));
  }

  /** Call inside a transaction: the event is written with the record. */
  private insert(identity: NewIssuedIdentity, links: { inviteId: string | null; renewalOf: string | null; deviceId: string | null }, eventOf?: IdentityEvent): IssuedIdentity {
    const { anchor: _anchor, ...fields } = identity;
    this.stmt.insertIssued.run({ ...fields, ...links });
    const issued = toIssued(this.stmt.getIssued.get(identity.serial) as IssuedRow);
    if (eventOf) this.appendEvent(eventOf(issued));
    return issued;
  }
}

function prepare(db: Database) {
  return {
    insertInvite: db.prepare(`
      INSERT INTO enrollment_invites (id, token_hash, challenge_hash, label, created_at, expires_at, max_uses, assign, renews, device_id)
      VALUES (@id, @tokenHash, @challengeHash, @label, @createdAt, @expiresAt, @maxUses, @assign, @renews, @deviceId)`),
    getInvite: db.prepare('SELECT * FROM enrollment_invites WHERE id = ?'),
    inviteByToken: db.prepare('SELECT * FROM enrollment_invites WHERE token_hash = ?'),
    inviteByChallenge: db.prepare(`
      SELECT v.*, (SELECT i.invite_id FROM issued_identities i WHERE i.serial = v.renews) AS inherited
      FROM enrollment_invites v WHERE v.challenge_hash = ?`),
    useInvite: db.prepare('UPDATE enrollment_invites SET uses = uses + 1 WHERE id = ?'),
    revokeInvite: db.prepare('UPDATE enrollment_invites SET revoked_at = coalesce(revoked_at, @at) WHERE id = @id AND renews IS NULL'),
    insertIssued: db.prepare(`
      INSERT INTO issued_identities (serial, fingerprint, subject, not_before, not_after, issued_at, invite_id, renewal_of, device_id)
      VALUES (@serial, @fingerprint, @subject, @notBefore, @notAfter, @issuedAt, @inviteId, @renewalOf, @deviceId)`),
    getIssued: db.prepare('SELECT * FROM issued_identities WHERE serial = ?'),
    issuedByFingerprint: db.prepare(`
      SELECT i.*, (SELECT b.device_id FROM device_identities b WHERE b.fingerprint = i.fingerprint) AS bound_device
      FROM issued_identities i WHERE i.fingerprint = ?`),
    bind: db.prepare(`
      INSERT INTO device_identities (fingerprint, device_id, subject, not_after, bound_at, anchor)
      VALUES (@fingerprint, @deviceId, @subject, @notAfter, @boundAt, @anchor) ON CONFLICT (fingerprint) DO NOTHING`),
    revokeIssued: db.prepare('UPDATE issued_identities SET revoked_at = coalesce(revoked_at, @at) WHERE serial = @serial'),
    unbindFingerprint: db.prepare('DELETE FROM device_identities WHERE fingerprint = ?'),
    inviteOfDevice: db.prepare(`
      SELECT v.* FROM issued_identities i JOIN enrollment_invites v ON v.id = i.invite_id
      WHERE i.device_id = ? ORDER BY i.issued_at DESC, i.serial DESC LIMIT 1`),
    markRenewal: db.prepare('UPDATE issued_identities SET renewal_command = @command, renewal_queued_at = @at WHERE serial = @serial'),
  };
}
