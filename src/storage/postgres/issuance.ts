// The issuance store on PostgreSQL, for several instances on one database. Taking an invite's use
// is one UPDATE whose WHERE clause PostgreSQL re-checks against the row's latest version, so of
// two requests racing for the last use exactly one gets it; binding and revoking take the same
// advisory locks as identity admission (identity-locks.ts).
import type { Pool, PoolClient, QueryResultRow } from 'pg';
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
import { appendEvent } from './events.ts';
import { lockIdentity } from './identity-locks.ts';
import { inTransaction } from './transaction.ts';

const placeholder = (n: number) => `$${n}`;

export class PostgresIssuance implements IssuanceStore {
  constructor(private readonly pool: Pool) {}

  private async rows<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  async createInvite(invite: NewInvite): Promise<Invite> {
    const [row] = await this.rows<InviteRow>(
      `INSERT INTO enrollment_invites (id, token_hash, challenge_hash, label, created_at, expires_at, max_uses, assign, renews, device_id)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [
        invite.id,
        invite.tokenHash,
        invite.challengeHash,
        invite.label,
        invite.createdAt,
        invite.expiresAt,
        invite.maxUses,
        invite.assign && JSON.stringify(invite.assign),
        invite.renews?.serial ?? null,
        invite.renews?.deviceId ?? null,
      ],
    );
    return toInvite(row!);
  }

  async listInvites(filter: { state?: InviteState; at: string }, page: { before?: { createdAt: string; id: string }; limit: number }): Promise<Invite[]> {
    const query = inviteListQuery(filter, page, placeholder);
    return (await this.rows<InviteRow>(query.text, query.values)).map(toInvite);
  }

  async inviteByTokenHash(tokenHash: string): Promise<Invite | undefined> {
    const [row] = await this.rows<InviteRow>('SELECT * FROM enrollment_invites WHERE token_hash = $1', [tokenHash]);
    return row && toInvite(row);
  }

  async revokeInvite(id: string, at: string): Promise<Invite | undefined> {
    await this.rows('UPDATE enrollment_invites SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 AND renews IS NULL', [id, at]);
    const [row] = await this.rows<InviteRow>('SELECT * FROM enrollment_invites WHERE id = $1', [id]);
    return row && toInvite(row);
  }

  async issueWithChallenge(challengeHash: string, identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssueOutcome> {
    return inTransaction(this.pool, async (c) => {
      const used = await c.query<{ id: string; renews: string | null; inherited: string | null }>(
        `UPDATE enrollment_invites v SET uses = uses + 1
        WHERE challenge_hash = $1 AND revoked_at IS NULL AND uses < max_uses AND expires_at > $2
        RETURNING id, renews, (SELECT i.invite_id FROM issued_identities i WHERE i.serial = v.renews) AS inherited`,
        [challengeHash, identity.issuedAt],
      );
      const invite = used.rows[0];
      if (invite === undefined) {
        const found = await c.query<InviteRow>('SELECT * FROM enrollment_invites WHERE challenge_hash = $1', [challengeHash]);
        const row = found.rows[0];
        return { refused: row === undefined ? 'unknown' : (unusable(row, identity.issuedAt) ?? 'used') };
      }
      // A renewal invite's identity belongs to the enrollment the renewed one came from.
      const inviteId = invite.renews === null ? invite.id : invite.inherited;
      return { issued: await insert(c, identity, { inviteId, renewalOf: invite.renews, deviceId: null }, eventOf) };
    });
  }

  async issueWithStaticChallenge(identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssuedIdentity> {
    return inTransaction(this.pool, (c) => insert(c, identity, { inviteId: null, renewalOf: null, deviceId: null }, eventOf));
  }

  async issueRenewal(renewedFingerprint: string, identity: NewIssuedIdentity, eventOf?: IdentityEvent): Promise<IssueOutcome> {
    return inTransaction(this.pool, async (c) => {
      const renewedRow = async () =>
        (
          await c.query<IssuedRow & { bound_device: string | null }>(
            `SELECT i.*, (SELECT b.device_id FROM device_identities b WHERE b.fingerprint = i.fingerprint) AS bound_device
            FROM issued_identities i WHERE i.fingerprint = $1`,
            [renewedFingerprint],
          )
        ).rows[0];
      // The new certificate's lock, then the device's (read first, read again once locked: a
      // revocation or an unbind may have come in between).
      await lockIdentity(c, identity.fingerprint, null);
      const first = await renewedRow();
      if (first?.bound_device) await lockIdentity(c, null, first.bound_device);
      const renewed = first?.bound_device ? await renewedRow() : first;
      if (renewed === undefined) return { refused: 'unknown' };
      if (renewed.revoked_at !== null) return { refused: 'revoked' };
      if (renewed.not_after <= identity.issuedAt) return { refused: 'expired' };
      // Bound only to the device that was locked (an unbind in between leaves it unbound).
      const deviceId = renewed.bound_device !== null && renewed.bound_device === first?.bound_device ? renewed.bound_device : null;
      const issued = await insert(c, identity, { inviteId: renewed.invite_id, renewalOf: renewed.serial, deviceId }, eventOf);
      if (deviceId !== null) {
        await c.query(
          `INSERT INTO device_identities (fingerprint, device_id, subject, not_after, bound_at, anchor) VALUES ($1, $2, $3, $4, $5, $6)
          ON CONFLICT (fingerprint) DO NOTHING`,
          [identity.fingerprint, deviceId, identity.subject, identity.notAfter, identity.issuedAt, identity.anchor],
        );
      }
      return { issued };
    });
  }

  async getIssued(serial: string): Promise<IssuedIdentity | undefined> {
    const [row] = await this.rows<IssuedRow>('SELECT * FROM issued_identities WHERE serial = $1', [serial]);
    return row && toIssued(row);
  }

  async listIssued(filter: IssuedFilter, page: { after?: { notAfter: string; serial: string }; limit: number }): Promise<IssuedIdentity[]> {
    const query = issuedListQuery(filter, page, placeholder);
    return (await this.rows<IssuedRow>(query.text, query.values)).map(toIssued);
  }

  async revokeIssued(serial: string, at: string, eventOf?: IdentityEvent): Promise<IssuedIdentity | undefined> {
    return inTransaction(this.pool, async (c) => {
      const found = (await c.query<IssuedRow>('SELECT * FROM issued_identities WHERE serial = $1', [serial])).rows[0];
      if (found === undefined) return undefined;
      await lockIdentity(c, found.fingerprint, null);
      const bound = await c.query<{ device_id: string }>('SELECT device_id FROM device_identities WHERE fingerprint = $1', [found.fingerprint]);
      await lockIdentity(c, null, bound.rows[0]?.device_id ?? null);
      // The UPDATE re-checks revoked_at against the row's latest version: of two revocations
      // racing, one revokes (and writes the event), the other finds it done.
      const revoked = await c.query<IssuedRow>('UPDATE issued_identities SET revoked_at = $2 WHERE serial = $1 AND revoked_at IS NULL RETURNING *', [serial, at]);
      await c.query('DELETE FROM device_identities WHERE fingerprint = $1', [found.fingerprint]);
      const row = revoked.rows[0] ?? (await c.query<IssuedRow>('SELECT * FROM issued_identities WHERE serial = $1', [serial])).rows[0]!;
      const record = toIssued(row);
      if (revoked.rows.length > 0 && eventOf) await appendEvent(c, eventOf(record));
      return record;
    });
  }

  async inviteOfDevice(deviceId: string): Promise<Invite | undefined> {
    const [row] = await this.rows<InviteRow>(
      `SELECT v.* FROM issued_identities i JOIN enrollment_invites v ON v.id = i.invite_id
      WHERE i.device_id = $1 ORDER BY i.issued_at DESC, i.serial DESC LIMIT 1`,
      [deviceId],
    );
    return row && toInvite(row);
  }

  async renewalCandidates(now: string, before: string, limit: number): Promise<RenewalStatusRecord[]> {
    return this.current({ before, after: now, unqueued: true, enrolledOnly: true, limit });
  }

  async markRenewalQueued(serial: string, commandUuid: string, at: string): Promise<void> {
    await this.rows('UPDATE issued_identities SET renewal_command = $2, renewal_queued_at = $3 WHERE serial = $1', [serial, commandUuid, at]);
  }

  async renewalReport(before: string): Promise<RenewalStatusRecord[]> {
    return this.current({ before });
  }

  private async current(options: Parameters<typeof currentIdentitiesQuery>[0]): Promise<RenewalStatusRecord[]> {
    const query = currentIdentitiesQuery(options, placeholder);
    return (await this.rows<RenewalRow>(query.text, query.values)).map((r) => ({ deviceId: r.bound_device, identity: toIssued(r), commandState: r.command_state }));
  }
}

async function insert(
  c: PoolClient,
  identity: NewIssuedIdentity,
  links: { inviteId: string | null; renewalOf: string | null; deviceId: string | null },
  eventOf?: IdentityEvent,
): Promise<IssuedIdentity> {
  const inserted = await c.query<IssuedRow>(
    `INSERT INTO issued_identities (serial, fingerprint, subject, not_before, not_after, issued_at, invite_id, renewal_of, device_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [identity.serial, identity.fingerprint, identity.subject, identity.notBefore, identity.notAfter, identity.issuedAt, links.inviteId, links.renewalOf, links.deviceId],
  );
  const issued = toIssued(inserted.rows[0]!);
  if (eventOf) await appendEvent(c, eventOf(issued));
  return issued;
}
