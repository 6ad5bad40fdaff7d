// The audit log on SQLite: an entry and its targets in one transaction.
import type { Database } from 'better-sqlite3';
import type { Write } from './group-commit.ts';
import { auditListQuery, auditTargetsQuery, toAuditEntries, type AuditRow, type AuditTargetRow } from '../accounts-rows.ts';
import type { AuditEntry, AuditFilter, AuditStore, NewAuditEntry } from '../audit.ts';

export class SqliteAuditStore implements AuditStore {
  private readonly stmt;

  constructor(
    private readonly db: Database,
    private readonly write: Write,
  ) {
    this.stmt = {
      insert: db.prepare(`INSERT INTO audit_log (at, actor, via, account_id, credential, action, method, path, status, outcome, details, client_address)
        VALUES (@at, @actor, @via, @accountId, @credential, @action, @method, @path, @status, @outcome, @details, @clientAddress)`),
      insertTarget: db.prepare('INSERT INTO audit_targets (seq, position, kind, id) VALUES (?, ?, ?, ?)'),
      prune: db.prepare('DELETE FROM audit_log WHERE at < ?'),
    };
  }

  async append(entry: NewAuditEntry): Promise<number> {
    return this.write(() => {
      const { targets, details, ...rest } = entry;
      const seq = Number(this.stmt.insert.run({ ...rest, details: details === null ? null : JSON.stringify(details) }).lastInsertRowid);
      targets.forEach((t, i) => this.stmt.insertTarget.run(seq, i, t.kind, t.id));
      return seq;
    });
  }

  async list(filter: AuditFilter, page: { before?: number; limit: number }): Promise<AuditEntry[]> {
    const query = auditListQuery(filter, page, () => '?');
    const rows = this.db.prepare(query.text).all(query.values) as AuditRow[];
    if (rows.length === 0) return [];
    const targets = auditTargetsQuery(rows.map((r) => r.seq), () => '?');
    return toAuditEntries(rows, this.db.prepare(targets.text).all(targets.values) as AuditTargetRow[]);
  }

  async prune(before: string): Promise<number> {
    return this.write(() => this.stmt.prune.run(before).changes);
  }
}
