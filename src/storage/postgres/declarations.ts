// The DDM sub-store on PostgreSQL. Decisions about one declaration (is this PUT a change, may it be
// deleted, may a set take it) are serialized across instances by a transaction-scoped advisory lock
// on its identifier; a status report is merged under a row lock on its enrollment's DDM state;
// everything else is one statement.
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { StatusSnapshot } from '../../ddm/index.ts';
import {
  STATUS_ERROR_HISTORY,
  STATUS_REPORT_HISTORY,
  type AffectedSelector,
  type DataAsset,
  type DataAssetInfo,
  type DeclarationChange,
  type DeclarationDeletion,
  type DeclarationReport,
  type DeclarationStore,
  type EnrollmentDeclarations,
  type NewDeclaration,
  type SetAddition,
  type SnapshotEvent,
  type SnapshotMerge,
  type StatusErrorEntry,
  type StatusReportRecord,
  type StoredDeclaration,
  type StoredStatusReport,
  type SyncCandidate,
  type TokenFor,
} from '../declarations.ts';
import {
  declarationStatusRows,
  parseStatusItems,
  snapshotJson,
  statusItemsJson,
  toAsset,
  toAssetInfo,
  toDeclarationStatus,
  toSnapshot,
  toStatusError,
  toStoredDeclaration,
  toSyncCandidate,
  type AssetRow,
  type DeclarationRow,
  type DeclarationStatusRow,
  type StatusErrorRow,
  type SyncCandidateRow,
} from '../declaration-rows.ts';
import { appendEvent } from './events.ts';
import { inTransaction } from './transaction.ts';

/** The sets an enrollment's declarations come from: its own and everyone's. */
const SETS_OF = (enrollment: string) =>
  `(SELECT set_name FROM ddm_enrollment_sets WHERE enrollment_id = ${enrollment} UNION SELECT set_name FROM ddm_global_sets)`;

export class PostgresDeclarationStore implements DeclarationStore {
  constructor(private readonly pool: Pool) {}

  private async rows<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  private async strings(text: string, values: unknown[] = []): Promise<string[]> {
    return (await this.pool.query<{ v: string }>(text, values)).rows.map((r) => r.v);
  }

  /** Serializes the decisions about one declaration across instances, until the transaction ends. */
  private async lockDeclaration(c: PoolClient, identifier: string): Promise<void> {
    await c.query(`SELECT pg_advisory_xact_lock(hashtextextended('aspen.ddm.declaration:' || $1, 0))`, [identifier]);
  }

  async putDeclaration(declaration: NewDeclaration, tokenFor: TokenFor, at: string): Promise<DeclarationChange> {
    return inTransaction(this.pool, async (c) => {
      await this.lockDeclaration(c, declaration.identifier);
      const stored = (await c.query<DeclarationRow>('SELECT * FROM ddm_declarations WHERE identifier = $1', [declaration.identifier])).rows[0];
      const token = tokenFor(declaration, stored?.touches ?? 0);
      if (stored?.server_token === token) return 'unchanged';
      await c.query(
        `INSERT INTO ddm_declarations (identifier, type, payload, server_token, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
        ON CONFLICT (identifier) DO UPDATE SET type = excluded.type, payload = excluded.payload,
          server_token = excluded.server_token, updated_at = excluded.updated_at`,
        [declaration.identifier, declaration.type, JSON.stringify(declaration.payload), token, at],
      );
      return stored ? 'updated' : 'created';
    });
  }

  async touchDeclaration(identifier: string, tokenFor: TokenFor, at: string): Promise<boolean> {
    return inTransaction(this.pool, async (c) => {
      await this.lockDeclaration(c, identifier);
      const row = (await c.query<DeclarationRow>('SELECT * FROM ddm_declarations WHERE identifier = $1', [identifier])).rows[0];
      if (!row) return false;
      const stored = toStoredDeclaration(row);
      const touches = stored.touches + 1;
      await c.query('UPDATE ddm_declarations SET touches = $2, server_token = $3, updated_at = $4 WHERE identifier = $1', [identifier, touches, tokenFor(stored, touches), at]);
      return true;
    });
  }

  async getDeclaration(identifier: string): Promise<StoredDeclaration | undefined> {
    const [row] = await this.rows<DeclarationRow>('SELECT * FROM ddm_declarations WHERE identifier = $1', [identifier]);
    return row && toStoredDeclaration(row);
  }

  async listDeclarations(): Promise<string[]> {
    return this.strings('SELECT identifier AS v FROM ddm_declarations ORDER BY identifier');
  }

  async deleteDeclaration(identifier: string): Promise<DeclarationDeletion> {
    return inTransaction(this.pool, async (c): Promise<DeclarationDeletion> => {
      await this.lockDeclaration(c, identifier);
      const sets = (await c.query<{ v: string }>('SELECT set_name AS v FROM ddm_set_declarations WHERE identifier = $1 ORDER BY set_name', [identifier])).rows.map((r) => r.v);
      if (sets.length > 0) return { outcome: 'in-sets', sets };
      const deleted = await c.query('DELETE FROM ddm_declarations WHERE identifier = $1', [identifier]);
      return deleted.rowCount === 1 ? { outcome: 'deleted' } : { outcome: 'absent' };
    });
  }

  async listSets(): Promise<string[]> {
    return this.strings('SELECT DISTINCT set_name AS v FROM ddm_set_declarations ORDER BY set_name');
  }

  async setDeclarations(set: string): Promise<string[]> {
    return this.strings('SELECT identifier AS v FROM ddm_set_declarations WHERE set_name = $1 ORDER BY identifier', [set]);
  }

  async declarationSets(identifier: string): Promise<string[]> {
    return this.strings('SELECT set_name AS v FROM ddm_set_declarations WHERE identifier = $1 ORDER BY set_name', [identifier]);
  }

  async addToSet(set: string, identifier: string): Promise<SetAddition> {
    return inTransaction(this.pool, async (c): Promise<SetAddition> => {
      await this.lockDeclaration(c, identifier);
      if ((await c.query('SELECT 1 FROM ddm_declarations WHERE identifier = $1', [identifier])).rowCount === 0) return 'unknown-declaration';
      const added = await c.query('INSERT INTO ddm_set_declarations (set_name, identifier) VALUES ($1, $2) ON CONFLICT DO NOTHING', [set, identifier]);
      return added.rowCount === 1 ? 'added' : 'present';
    });
  }

  private async changed(text: string, values: unknown[]): Promise<number> {
    return (await this.pool.query(text, values)).rowCount ?? 0;
  }

  async removeFromSet(set: string, identifier: string): Promise<boolean> {
    return (await this.changed('DELETE FROM ddm_set_declarations WHERE set_name = $1 AND identifier = $2', [set, identifier])) === 1;
  }

  async enrollmentSets(enrollmentId: string): Promise<string[]> {
    return this.strings('SELECT set_name AS v FROM ddm_enrollment_sets WHERE enrollment_id = $1 ORDER BY set_name', [enrollmentId]);
  }

  async assignSet(enrollmentId: string, set: string): Promise<boolean> {
    return (await this.changed('INSERT INTO ddm_enrollment_sets (enrollment_id, set_name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [enrollmentId, set])) === 1;
  }

  async unassignSet(enrollmentId: string, set: string): Promise<boolean> {
    return (await this.changed('DELETE FROM ddm_enrollment_sets WHERE enrollment_id = $1 AND set_name = $2', [enrollmentId, set])) === 1;
  }

  async unassignAllSets(enrollmentId: string): Promise<number> {
    return this.changed('DELETE FROM ddm_enrollment_sets WHERE enrollment_id = $1', [enrollmentId]);
  }

  async globalSets(): Promise<string[]> {
    return this.strings('SELECT set_name AS v FROM ddm_global_sets ORDER BY set_name');
  }

  async assignGlobalSet(set: string): Promise<boolean> {
    return (await this.changed('INSERT INTO ddm_global_sets (set_name) VALUES ($1) ON CONFLICT DO NOTHING', [set])) === 1;
  }

  async unassignGlobalSet(set: string): Promise<boolean> {
    return (await this.changed('DELETE FROM ddm_global_sets WHERE set_name = $1', [set])) === 1;
  }

  async enrollmentDeclarations(enrollmentId: string): Promise<EnrollmentDeclarations> {
    const [assigned, [state]] = await Promise.all([
      this.rows<DeclarationRow>(
        `SELECT d.* FROM ddm_declarations d
        WHERE d.identifier IN (SELECT identifier FROM ddm_set_declarations WHERE set_name IN ${SETS_OF('$1')})
        ORDER BY d.identifier`,
        [enrollmentId],
      ),
      this.rows<{ status_items: string | null; declarations_token: string | null; token_changed_at: string | null }>(
        'SELECT status_items, declarations_token, token_changed_at FROM ddm_enrollments WHERE enrollment_id = $1',
        [enrollmentId],
      ),
    ]);
    const token = state?.declarations_token && state.token_changed_at ? { value: state.declarations_token, changedAt: state.token_changed_at } : null;
    return { assigned: assigned.map(toStoredDeclaration), statusItems: parseStatusItems(state?.status_items ?? null), token };
  }

  async declarationsOfSets(sets: readonly string[]): Promise<Map<string, StoredDeclaration[]>> {
    const bySet = new Map<string, StoredDeclaration[]>(sets.map((s) => [s, []]));
    const rows = await this.rows<DeclarationRow & { set_name: string }>(
      `SELECT sd.set_name, d.* FROM ddm_set_declarations sd JOIN ddm_declarations d ON d.identifier = sd.identifier
      WHERE sd.set_name = ANY($1::text[]) ORDER BY sd.set_name, d.identifier`,
      [sets],
    );
    for (const row of rows) bySet.get(row.set_name)!.push(toStoredDeclaration(row));
    return bySet;
  }

  async recordTokens(tokens: readonly { enrollmentId: string; token: string }[], at: string): Promise<Map<string, string>> {
    // One row per enrollment: an upsert may not touch a row twice.
    const unique = new Map(tokens.map((t) => [t.enrollmentId, t.token]));
    const ids = [...unique.keys()];
    // The time stays as it is while the token does.
    const rows = await this.rows<{ enrollment_id: string; token_changed_at: string }>(
      `WITH up AS (
        INSERT INTO ddm_enrollments (enrollment_id, declarations_token, token_changed_at)
        SELECT t.id, t.token, $3 FROM unnest($1::text[], $2::text[]) AS t (id, token) JOIN enrollments e ON e.id = t.id
        ON CONFLICT (enrollment_id) DO UPDATE SET declarations_token = excluded.declarations_token, token_changed_at = excluded.token_changed_at
          WHERE ddm_enrollments.declarations_token IS DISTINCT FROM excluded.declarations_token
        RETURNING enrollment_id, token_changed_at
      )
      SELECT enrollment_id, token_changed_at FROM up
      UNION ALL SELECT enrollment_id, token_changed_at FROM ddm_enrollments
        WHERE enrollment_id = ANY($1::text[]) AND enrollment_id NOT IN (SELECT enrollment_id FROM up)`,
      [ids, [...unique.values()], at],
    );
    return new Map(rows.filter((r) => r.token_changed_at !== null).map((r) => [r.enrollment_id, r.token_changed_at]));
  }

  async syncCandidates(selector: AffectedSelector): Promise<SyncCandidate[]> {
    const rows = await this.rows<SyncCandidateRow>(
      `WITH sets_hit AS (
        SELECT unnest($2::text[]) AS set_name
        UNION SELECT set_name FROM ddm_set_declarations WHERE identifier = ANY($1::text[])
      ), targets AS (
        SELECT id FROM enrollments WHERE $4 OR EXISTS (SELECT 1 FROM ddm_global_sets WHERE set_name IN (SELECT set_name FROM sets_hit))
        UNION SELECT enrollment_id FROM ddm_enrollment_sets WHERE set_name IN (SELECT set_name FROM sets_hit)
        UNION SELECT unnest($3::text[])
      )
      SELECT e.id, (SELECT array_agg(set_name) FROM ddm_enrollment_sets WHERE enrollment_id = e.id) AS sets,
        s.status_items, s.declarations_token
      FROM targets t JOIN enrollments e ON e.id = t.id LEFT JOIN ddm_enrollments s ON s.enrollment_id = e.id
      WHERE e.state = 'enrolled' AND NOT e.awaiting_configuration
      ORDER BY e.id`,
      [selector.declarations ?? [], selector.sets ?? [], selector.enrollmentIds ?? [], selector.all === true],
    );
    return rows.map(toSyncCandidate);
  }

  async recordStatusReport(record: StatusReportRecord, merge: SnapshotMerge, eventOf?: SnapshotEvent): Promise<{ previous: StatusSnapshot | undefined; snapshot: StatusSnapshot } | undefined> {
    const id = record.enrollmentId;
    return inTransaction(this.pool, async (c) => {
      await c.query(`INSERT INTO ddm_enrollments (enrollment_id) SELECT id FROM enrollments WHERE id = $1 ON CONFLICT (enrollment_id) DO NOTHING`, [id]);
      // Two reports of one device at once: the second merges into what the first stored.
      const state = (await c.query<{ snapshot: string | null }>('SELECT snapshot FROM ddm_enrollments WHERE enrollment_id = $1 FOR UPDATE', [id])).rows[0];
      if (state === undefined) return undefined; // no such enrollment
      const previous = state?.snapshot ? toSnapshot(state.snapshot, await this.declarationStatus(c, id)) : undefined;
      const snapshot = merge(previous);
      await c.query('UPDATE ddm_enrollments SET snapshot = $2, status_items = $3, last_report_at = $4 WHERE enrollment_id = $1', [
        id,
        snapshotJson(snapshot),
        statusItemsJson(snapshot),
        record.receivedAt,
      ]);
      if (snapshot.declarations !== previous?.declarations) {
        await c.query('DELETE FROM ddm_declaration_status WHERE enrollment_id = $1', [id]);
        const rows = declarationStatusRows(id, snapshot);
        if (rows.length > 0) {
          await c.query(
            `INSERT INTO ddm_declaration_status (enrollment_id, identifier, kind, server_token, active, valid, reasons, reported_at)
            SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::text[], $8::timestamptz[])`,
            [
              id,
              rows.map((r) => r.identifier),
              rows.map((r) => r.kind),
              rows.map((r) => r.server_token),
              rows.map((r) => r.active === true),
              rows.map((r) => r.valid),
              rows.map((r) => r.reasons),
              rows.map((r) => r.reported_at),
            ],
          );
        }
      }
      await c.query('INSERT INTO ddm_status_reports (enrollment_id, status_id, received_at, raw) VALUES ($1, $2, $3, $4)', [id, record.statusId, record.receivedAt, Buffer.from(record.raw)]);
      await prune(c, 'ddm_status_reports', id, STATUS_REPORT_HISTORY);
      if (record.errors.length > 0) {
        await c.query(
          `INSERT INTO ddm_status_errors (enrollment_id, status_id, path, error, at)
          SELECT $1, $2, e.path, e.error, $3 FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS e (path, error, n) ORDER BY e.n`,
          [id, record.statusId, record.receivedAt, record.errors.map((e) => e.path), record.errors.map((e) => JSON.stringify(e.error))],
        );
        await prune(c, 'ddm_status_errors', id, STATUS_ERROR_HISTORY);
      }
      const event = eventOf?.(previous, snapshot);
      if (event) await appendEvent(c, event);
      return { previous, snapshot };
    });
  }

  private async declarationStatus(c: PoolClient, enrollmentId: string): Promise<DeclarationStatusRow[]> {
    return (await c.query<DeclarationStatusRow>('SELECT * FROM ddm_declaration_status WHERE enrollment_id = $1 ORDER BY identifier', [enrollmentId])).rows;
  }

  async statusSnapshot(enrollmentId: string): Promise<StatusSnapshot | undefined> {
    // One statement, so the statuses belong to the snapshot read with them.
    const [row] = await this.rows<{ snapshot: string | null; statuses: DeclarationStatusRow[] }>(
      `SELECT s.snapshot, coalesce((SELECT json_agg(d ORDER BY d.identifier) FROM ddm_declaration_status d WHERE d.enrollment_id = s.enrollment_id), '[]') AS statuses
      FROM ddm_enrollments s WHERE s.enrollment_id = $1`,
      [enrollmentId],
    );
    return row?.snapshot ? toSnapshot(row.snapshot, row.statuses) : undefined;
  }

  async statusReport(enrollmentId: string, which: { index: number } | { statusId: string }): Promise<StoredStatusReport | undefined> {
    const [row] =
      'index' in which
        ? await this.rows<{ status_id: string; received_at: string; raw: Buffer; idx: number }>(
            `SELECT status_id, received_at, raw, $2::int AS idx FROM ddm_status_reports WHERE enrollment_id = $1 ORDER BY seq DESC LIMIT 1 OFFSET $2`,
            [enrollmentId, which.index],
          )
        : await this.rows<{ status_id: string; received_at: string; raw: Buffer; idx: number }>(
            `SELECT r.status_id, r.received_at, r.raw,
              (SELECT count(*)::int FROM ddm_status_reports n WHERE n.enrollment_id = r.enrollment_id AND n.seq > r.seq) AS idx
            FROM ddm_status_reports r WHERE r.enrollment_id = $1 AND r.status_id = $2`,
            [enrollmentId, which.statusId],
          );
    return row && { statusId: row.status_id, receivedAt: row.received_at, raw: row.raw, index: row.idx };
  }

  async statusErrors(enrollmentId: string): Promise<StatusErrorEntry[]> {
    return (await this.rows<StatusErrorRow>('SELECT status_id, path, error, at FROM ddm_status_errors WHERE enrollment_id = $1 ORDER BY seq', [enrollmentId])).map(toStatusError);
  }

  async declarationReports(identifier: string): Promise<DeclarationReport[]> {
    const rows = await this.rows<Partial<DeclarationStatusRow> & { id: string }>(
      `SELECT e.id, s.kind, s.identifier, s.server_token, s.active, s.valid, s.reasons, s.reported_at
      FROM enrollments e LEFT JOIN ddm_declaration_status s ON s.enrollment_id = e.id AND s.identifier = $1
      WHERE e.state <> 'checked-out' AND (
        EXISTS (SELECT 1 FROM ddm_set_declarations sd JOIN ddm_global_sets g ON g.set_name = sd.set_name WHERE sd.identifier = $1)
        OR e.id IN (SELECT es.enrollment_id FROM ddm_enrollment_sets es JOIN ddm_set_declarations sd ON sd.set_name = es.set_name WHERE sd.identifier = $1))
      ORDER BY e.id`,
      [identifier],
    );
    return rows.map((r) => (r.server_token == null ? { enrollmentId: r.id } : { enrollmentId: r.id, status: toDeclarationStatus(r as DeclarationStatusRow) }));
  }

  async putAsset(asset: Omit<DataAsset, 'updatedAt'>, at: string): Promise<DeclarationChange> {
    // One statement: an upload identical to the stored asset changes no row.
    const [row] = await this.rows<{ created: boolean }>(
      `INSERT INTO ddm_assets (name, content_type, data, sha256, size, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (name) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, sha256 = excluded.sha256,
        size = excluded.size, updated_at = excluded.updated_at
        WHERE (ddm_assets.sha256, ddm_assets.content_type) IS DISTINCT FROM (excluded.sha256, excluded.content_type)
      RETURNING (xmax = 0) AS created`,
      [asset.name, asset.contentType, Buffer.from(asset.data), asset.sha256, asset.size, at],
    );
    return row === undefined ? 'unchanged' : row.created ? 'created' : 'updated';
  }

  async getAsset(name: string): Promise<DataAsset | undefined> {
    const [row] = await this.rows<AssetRow & { data: Buffer }>('SELECT * FROM ddm_assets WHERE name = $1', [name]);
    return row && toAsset(row);
  }

  async listAssets(): Promise<DataAssetInfo[]> {
    return (await this.rows<AssetRow>('SELECT name, content_type, sha256, size, updated_at FROM ddm_assets ORDER BY name')).map(toAssetInfo);
  }

  async deleteAsset(name: string): Promise<boolean> {
    return (await this.changed('DELETE FROM ddm_assets WHERE name = $1', [name])) === 1;
  }
}

/** Keeps the newest `keep` rows of an enrollment in a history table. */
async function prune(c: PoolClient, table: 'ddm_status_reports' | 'ddm_status_errors', enrollmentId: string, keep: number): Promise<void> {
  await c.query(
    `DELETE FROM ${table} WHERE enrollment_id = $1
      AND seq < (SELECT min(seq) FROM (SELECT seq FROM ${table} WHERE enrollment_id = $1 ORDER BY seq DESC LIMIT $2) AS newest)`,
    [enrollmentId, keep],
  );
}
