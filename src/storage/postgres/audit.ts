// The audit log on PostgreSQL: an entry and its targets in one statement.
import type { Pool } from 'pg';
import { auditListQuery, auditTargetsQuery, toAuditEntries, type AuditRow, type AuditTargetRow } from '../accounts-rows.ts';
import type { AuditEntry, AuditFilter, AuditStore, NewAuditEntry } from '../audit.ts';

const placeholder = (n: number) => `$${n}`;

export class PostgresAuditStore implements AuditStore {
  constructor(private readonly pool: Pool) {}

  async append(e: NewAuditEntry): Promise<number> {
    const { rows } = await this.pool.query<{ seq: number }>(
      `WITH entry AS (
        INSERT INTO audit_log (at, actor, via, account_id, credential, action, method, path, status, outcome, details, client_address)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq
      ), targets AS (
        INSERT INTO audit_targets (seq, position, kind, id)
        SELECT entry.seq, t.position - 1, t.kind, t.id FROM entry, ROWS FROM (jsonb_to_recordset($13::jsonb) AS (kind text, id text)) WITH ORDINALITY AS t(kind, id, position)
      )
      SELECT seq FROM entry`,
      [e.at, e.actor, e.via, e.accountId, e.credential, e.action, e.method, e.path, e.status, e.outcome, e.details === null ? null : JSON.stringify(e.details), e.clientAddress, JSON.stringify(e.targets)],
    );
    return rows[0]!.seq;
  }

  async list(filter: AuditFilter, page: { before?: number; limit: number }): Promise<AuditEntry[]> {
    const query = auditListQuery(filter, page, placeholder);
    const { rows } = await this.pool.query<AuditRow>(query.text, query.values);
    if (rows.length === 0) return [];
    const targets = auditTargetsQuery(rows.map((r) => r.seq), placeholder);
    return toAuditEntries(rows, (await this.pool.query<AuditTargetRow>(targets.text, targets.values)).rows);
  }

  async prune(before: string): Promise<number> {
    return (await this.pool.query('DELETE FROM audit_log WHERE at < $1', [before])).rowCount ?? 0;
  }
}
