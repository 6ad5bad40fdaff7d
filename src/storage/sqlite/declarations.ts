// The DDM sub-store on SQLite. Decisions that read before they write run in BEGIN IMMEDIATE
// transactions (the write lock first), so they hold across processes sharing the file.
import type { Database } from 'better-sqlite3';
import type { Write } from './group-commit.ts';
import type { StatusSnapshot } from '../../ddm/index.ts';
import type { EventDraft } from '../events.ts';
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
import { boundLimit } from './bound-limit.ts';

/** The sets a statement reads an enrollment's declarations from: its own and everyone's. */
const SETS_OF = (enrollment: string) =>
  `(SELECT set_name FROM ddm_enrollment_sets WHERE enrollment_id = ${enrollment} UNION SELECT set_name FROM ddm_global_sets)`;

/** What a sync candidate row reads of enrollment `e` and its DDM state `s`, and which qualify. */
const SYNC_CANDIDATE_COLUMNS = `SELECT e.id, (SELECT json_group_array(set_name) FROM ddm_enrollment_sets WHERE enrollment_id = e.id) AS sets,
        s.status_items, s.declarations_token`;
const SYNC_CANDIDATE = `e.state = 'enrolled' AND e.awaiting_configuration = 0`;

/** A selector that names enrollments and nothing else, so its candidates need no set or
 *  declaration resolved (a new enrollment's first TokenUpdate, a DeviceConfigured). */
function namesOnlyEnrollments(selector: AffectedSelector): selector is AffectedSelector & { enrollmentIds: readonly string[] } {
  return selector.all !== true && !selector.sets?.length && !selector.declarations?.length && selector.enrollmentIds !== undefined;
}

export class SqliteDeclarationStore implements DeclarationStore {
  private readonly stmt;

  constructor(
    private readonly db: Database,
    private readonly write: Write,
    /** Writes an event in the current transaction (SqliteEventStore.append). */
    private readonly appendEvent: (draft: EventDraft) => void,
  ) {
    this.stmt = prepareStatements(db);
  }

  async putDeclaration(declaration: NewDeclaration, tokenFor: TokenFor, at: string): Promise<DeclarationChange> {
    return this.write((): DeclarationChange => {
      const stored = this.stmt.getDeclaration.get(declaration.identifier) as DeclarationRow | undefined;
      const token = tokenFor(declaration, stored?.touches ?? 0);
      if (stored?.server_token === token) return 'unchanged';
      this.stmt.upsertDeclaration.run({ ...declaration, payload: JSON.stringify(declaration.payload), token, at });
      return stored ? 'updated' : 'created';
    });
  }

  async touchDeclaration(identifier: string, tokenFor: TokenFor, at: string): Promise<boolean> {
    return this.write(() => {
      const row = this.stmt.getDeclaration.get(identifier) as DeclarationRow | undefined;
      if (!row) return false;
      const stored = toStoredDeclaration(row);
      this.stmt.touchDeclaration.run({ identifier, touches: stored.touches + 1, token: tokenFor(stored, stored.touches + 1), at });
      return true;
    });
  }

  async getDeclaration(identifier: string): Promise<StoredDeclaration | undefined> {
    const row = this.stmt.getDeclaration.get(identifier) as DeclarationRow | undefined;
    return row && toStoredDeclaration(row);
  }

  async listDeclarations(): Promise<string[]> {
    return this.stmt.listDeclarations.all() as string[];
  }

  async deleteDeclaration(identifier: string): Promise<DeclarationDeletion> {
    return this.write((): DeclarationDeletion => {
      const sets = this.stmt.declarationSets.all(identifier) as string[];
      if (sets.length > 0) return { outcome: 'in-sets', sets };
      return this.stmt.deleteDeclaration.run(identifier).changes === 1 ? { outcome: 'deleted' } : { outcome: 'absent' };
    });
  }

  async listSets(): Promise<string[]> {
    return this.stmt.listSets.all() as string[];
  }

  async setDeclarations(set: string): Promise<string[]> {
    return this.stmt.setDeclarations.all(set) as string[];
  }

  async declarationSets(identifier: string): Promise<string[]> {
    return this.stmt.declarationSets.all(identifier) as string[];
  }

  async addToSet(set: string, identifier: string): Promise<SetAddition> {
    return this.write((): SetAddition => {
      if (this.stmt.getDeclaration.get(identifier) === undefined) return 'unknown-declaration';
      return this.stmt.addToSet.run(set, identifier).changes === 1 ? 'added' : 'present';
    });
  }

  async removeFromSet(set: string, identifier: string): Promise<boolean> {
    return this.write(() => this.stmt.removeFromSet.run(set, identifier).changes === 1);
  }

  async enrollmentSets(enrollmentId: string): Promise<string[]> {
    return this.stmt.enrollmentSets.all(enrollmentId) as string[];
  }

  async assignSet(enrollmentId: string, set: string): Promise<boolean> {
    return this.write(() => this.stmt.assignSet.run(enrollmentId, set).changes === 1);
  }

  async unassignSet(enrollmentId: string, set: string): Promise<boolean> {
    return this.write(() => this.stmt.unassignSet.run(enrollmentId, set).changes === 1);
  }

  async unassignAllSets(enrollmentId: string): Promise<number> {
    return this.write(() => this.stmt.unassignAllSets.run(enrollmentId).changes);
  }

  async globalSets(): Promise<string[]> {
    return this.stmt.globalSets.all() as string[];
  }

  async assignGlobalSet(set: string): Promise<boolean> {
    return this.write(() => this.stmt.assignGlobalSet.run(set).changes === 1);
  }

  async unassignGlobalSet(set: string): Promise<boolean> {
    return this.write(() => this.stmt.unassignGlobalSet.run(set).changes === 1);
  }

  async enrollmentDeclarations(enrollmentId: string): Promise<EnrollmentDeclarations> {
    // One read transaction: the declarations and the token bookkeeping as of one moment.
    return this.db.transaction((): EnrollmentDeclarations => {
      const assigned = (this.stmt.assignedDeclarations.all(enrollmentId) as DeclarationRow[]).map(toStoredDeclaration);
      const state = this.stmt.enrollmentState.get(enrollmentId) as
        | { status_items: string | null; declarations_token: string | null; token_changed_at: string | null }
        | undefined;
      const token = state?.declarations_token && state.token_changed_at ? { value: state.declarations_token, changedAt: state.token_changed_at } : null;
      return { assigned, statusItems: parseStatusItems(state?.status_items ?? null), token };
    })();
  }

  async declarationsOfSets(sets: readonly string[]): Promise<Map<string, StoredDeclaration[]>> {
    const bySet = new Map<string, StoredDeclaration[]>(sets.map((s) => [s, []]));
    for (const row of this.stmt.declarationsOfSets.all(JSON.stringify(sets)) as (DeclarationRow & { set_name: string })[]) {
      bySet.get(row.set_name)!.push(toStoredDeclaration(row));
    }
    return bySet;
  }

  async recordTokens(tokens: readonly { enrollmentId: string; token: string }[], at: string): Promise<Map<string, string>> {
    return this.write(() => {
      const changedAt = new Map<string, string>();
      for (const { enrollmentId, token } of tokens) {
        this.stmt.recordToken.run({ id: enrollmentId, token, at });
        const time = this.stmt.tokenChangedAt.get(enrollmentId) as string | undefined;
        if (time !== undefined) changedAt.set(enrollmentId, time);
      }
      return changedAt;
    });
  }

  async syncCandidates(selector: AffectedSelector): Promise<SyncCandidate[]> {
    // The selector of every new enrollment's first TokenUpdate: its own id, nothing to resolve.
    if (namesOnlyEnrollments(selector)) {
      return (this.stmt.syncCandidatesByIds.all(JSON.stringify(selector.enrollmentIds)) as SyncCandidateRow[]).map(toSyncCandidate);
    }
    const rows = this.stmt.syncCandidates.all({
      all: selector.all ? 1 : 0,
      declarations: JSON.stringify(selector.declarations ?? []),
      sets: JSON.stringify(selector.sets ?? []),
      ids: JSON.stringify(selector.enrollmentIds ?? []),
    }) as SyncCandidateRow[];
    return rows.map(toSyncCandidate);
  }

  async recordStatusReport(record: StatusReportRecord, merge: SnapshotMerge, eventOf?: SnapshotEvent): Promise<{ previous: StatusSnapshot | undefined; snapshot: StatusSnapshot } | undefined> {
    const id = record.enrollmentId;
    return this.write(() => {
      if (this.stmt.enrollmentExists.get(id) === undefined) return undefined;
      const previous = this.readSnapshot(id);
      const snapshot = merge(previous);
      this.stmt.saveSnapshot.run({ id, snapshot: snapshotJson(snapshot), statusItems: statusItemsJson(snapshot), at: record.receivedAt });
      if (snapshot.declarations !== previous?.declarations) {
        this.stmt.clearDeclarationStatus.run(id);
        for (const row of declarationStatusRows(id, snapshot)) this.stmt.insertDeclarationStatus.run({ ...row, active: row.active ? 1 : 0 });
      }
      this.stmt.insertReport.run({ id, statusId: record.statusId, at: record.receivedAt, raw: Buffer.from(record.raw) });
      this.stmt.pruneReports.run({ id, keep: STATUS_REPORT_HISTORY });
      for (const e of record.errors) this.stmt.insertError.run({ id, statusId: record.statusId, path: e.path, error: JSON.stringify(e.error), at: record.receivedAt });
      if (record.errors.length > 0) this.stmt.pruneErrors.run({ id, keep: STATUS_ERROR_HISTORY });
      const event = eventOf?.(previous, snapshot);
      if (event) this.appendEvent(event);
      return { previous, snapshot };
    });
  }

  private readSnapshot(enrollmentId: string): StatusSnapshot | undefined {
    const json = this.stmt.getSnapshot.get(enrollmentId) as string | null | undefined;
    if (json === undefined || json === null) return undefined;
    return toSnapshot(json, this.stmt.declarationStatus.all(enrollmentId) as DeclarationStatusRow[]);
  }

  async statusSnapshot(enrollmentId: string): Promise<StatusSnapshot | undefined> {
    return this.db.transaction(() => this.readSnapshot(enrollmentId))();
  }

  async statusReport(enrollmentId: string, which: { index: number } | { statusId: string }): Promise<StoredStatusReport | undefined> {
    const row = ('index' in which ? this.stmt.reportByIndex.get({ id: enrollmentId, index: which.index }) : this.stmt.reportById.get(enrollmentId, which.statusId)) as
      | { status_id: string; received_at: string; raw: Buffer; idx: number }
      | undefined;
    return row && { statusId: row.status_id, receivedAt: row.received_at, raw: row.raw, index: row.idx };
  }

  async statusErrors(enrollmentId: string): Promise<StatusErrorEntry[]> {
    return (this.stmt.statusErrors.all(enrollmentId) as StatusErrorRow[]).map(toStatusError);
  }

  async declarationReports(identifier: string): Promise<DeclarationReport[]> {
    const rows = this.stmt.declarationReports.all({ identifier }) as (Partial<DeclarationStatusRow> & { id: string })[];
    return rows.map((r) => (r.server_token === undefined || r.server_token === null ? { enrollmentId: r.id } : { enrollmentId: r.id, status: toDeclarationStatus(r as DeclarationStatusRow) }));
  }

  async putAsset(asset: Omit<DataAsset, 'updatedAt'>, at: string): Promise<DeclarationChange> {
    return this.write((): DeclarationChange => {
      const stored = this.stmt.getAssetInfo.get(asset.name) as AssetRow | undefined;
      if (stored && stored.sha256 === asset.sha256 && stored.content_type === asset.contentType) return 'unchanged';
      this.stmt.upsertAsset.run({ ...asset, data: Buffer.from(asset.data), at });
      return stored ? 'updated' : 'created';
    });
  }

  async getAsset(name: string): Promise<DataAsset | undefined> {
    const row = this.stmt.getAsset.get(name) as (AssetRow & { data: Buffer }) | undefined;
    return row && toAsset(row);
  }

  async listAssets(): Promise<DataAssetInfo[]> {
    return (this.stmt.listAssets.all() as AssetRow[]).map(toAssetInfo);
  }

  async deleteAsset(name: string): Promise<boolean> {
    return this.write(() => this.stmt.deleteAsset.run(name).changes === 1);
  }
}

function prepareStatements(db: Database) {
  const pluck = (sql: string) => db.prepare(sql).pluck();
  return {
    getDeclaration: db.prepare('SELECT * FROM ddm_declarations WHERE identifier = ?'),
    upsertDeclaration: db.prepare(`
      INSERT INTO ddm_declarations (identifier, type, payload, server_token, created_at, updated_at)
      VALUES (@identifier, @type, @payload, @token, @at, @at)
      ON CONFLICT (identifier) DO UPDATE SET type = excluded.type, payload = excluded.payload,
        server_token = excluded.server_token, updated_at = excluded.updated_at`),
    touchDeclaration: db.prepare('UPDATE ddm_declarations SET touches = @touches, server_token = @token, updated_at = @at WHERE identifier = @identifier'),
    listDeclarations: pluck('SELECT identifier FROM ddm_declarations ORDER BY identifier'),
    deleteDeclaration: db.prepare('DELETE FROM ddm_declarations WHERE identifier = ?'),
    listSets: pluck('SELECT DISTINCT set_name FROM ddm_set_declarations ORDER BY set_name'),
    setDeclarations: pluck('SELECT identifier FROM ddm_set_declarations WHERE set_name = ? ORDER BY identifier'),
    declarationSets: pluck('SELECT set_name FROM ddm_set_declarations WHERE identifier = ? ORDER BY set_name'),
    addToSet: db.prepare('INSERT INTO ddm_set_declarations (set_name, identifier) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    removeFromSet: db.prepare('DELETE FROM ddm_set_declarations WHERE set_name = ? AND identifier = ?'),
    enrollmentSets: pluck('SELECT set_name FROM ddm_enrollment_sets WHERE enrollment_id = ? ORDER BY set_name'),
    assignSet: db.prepare('INSERT INTO ddm_enrollment_sets (enrollment_id, set_name) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    unassignSet: db.prepare('DELETE FROM ddm_enrollment_sets WHERE enrollment_id = ? AND set_name = ?'),
    unassignAllSets: db.prepare('DELETE FROM ddm_enrollment_sets WHERE enrollment_id = ?'),
    globalSets: pluck('SELECT set_name FROM ddm_global_sets ORDER BY set_name'),
    assignGlobalSet: db.prepare('INSERT INTO ddm_global_sets (set_name) VALUES (?) ON CONFLICT DO NOTHING'),
    unassignGlobalSet: db.prepare('DELETE FROM ddm_global_sets WHERE set_name = ?'),
    assignedDeclarations: db.prepare(`
      SELECT d.* FROM ddm_declarations d
      WHERE d.identifier IN (SELECT identifier FROM ddm_set_declarations WHERE set_name IN ${SETS_OF('?')})
      ORDER BY d.identifier`),
    enrollmentState: db.prepare('SELECT status_items, declarations_token, token_changed_at FROM ddm_enrollments WHERE enrollment_id = ?'),
    declarationsOfSets: db.prepare(`
      SELECT sd.set_name, d.* FROM ddm_set_declarations sd JOIN ddm_declarations d ON d.identifier = sd.identifier
      WHERE sd.set_name IN (SELECT value FROM json_each(?)) ORDER BY sd.set_name, d.identifier`),
    // The time stays as it is while the token does.
    recordToken: db.prepare(`
      INSERT INTO ddm_enrollments (enrollment_id, declarations_token, token_changed_at)
      SELECT @id, @token, @at WHERE EXISTS (SELECT 1 FROM enrollments WHERE id = @id)
      ON CONFLICT (enrollment_id) DO UPDATE SET declarations_token = excluded.declarations_token, token_changed_at = excluded.token_changed_at
        WHERE ddm_enrollments.declarations_token IS NOT excluded.declarations_token`),
    tokenChangedAt: pluck('SELECT token_changed_at FROM ddm_enrollments WHERE enrollment_id = ?'),
    syncCandidates: db.prepare(`
      WITH sets_hit AS (
        SELECT value AS set_name FROM json_each(@sets)
        UNION SELECT set_name FROM ddm_set_declarations WHERE identifier IN (SELECT value FROM json_each(@declarations))
      ), targets AS (
        -- Every enrollment only when the change is global: the condition is a one-row table joined
        -- first, since as a WHERE on enrollments SQLite scans them all to evaluate it, on every
        -- TokenUpdate of a new device.
        SELECT e.id FROM (SELECT 1 WHERE @all = 1 OR EXISTS (SELECT 1 FROM ddm_global_sets WHERE set_name IN (SELECT set_name FROM sets_hit)))
          CROSS JOIN enrollments e
        UNION SELECT enrollment_id FROM ddm_enrollment_sets WHERE set_name IN (SELECT set_name FROM sets_hit)
        UNION SELECT value FROM json_each(@ids)
      )
      ${SYNC_CANDIDATE_COLUMNS}
      -- CROSS JOIN keeps the targets outermost: with a plain JOIN SQLite scans every enrollment
      -- and probes the targets.
      FROM targets t CROSS JOIN enrollments e ON e.id = t.id LEFT JOIN ddm_enrollments s ON s.enrollment_id = e.id
      WHERE ${SYNC_CANDIDATE} ORDER BY e.id`),
    // The same for named enrollments only, without the CTEs and their temporary tables (half the
    // statement's cost, on the path of every new enrollment: bench figure 10).
    syncCandidatesByIds: db.prepare(`
      ${SYNC_CANDIDATE_COLUMNS}
      FROM enrollments e LEFT JOIN ddm_enrollments s ON s.enrollment_id = e.id
      WHERE e.id IN (SELECT value FROM json_each(?)) AND ${SYNC_CANDIDATE} ORDER BY e.id`),
    enrollmentExists: db.prepare('SELECT 1 FROM enrollments WHERE id = ?'),
    getSnapshot: pluck('SELECT snapshot FROM ddm_enrollments WHERE enrollment_id = ?'),
    declarationStatus: db.prepare('SELECT * FROM ddm_declaration_status WHERE enrollment_id = ? ORDER BY identifier'),
    saveSnapshot: db.prepare(`
      INSERT INTO ddm_enrollments (enrollment_id, snapshot, status_items, last_report_at) VALUES (@id, @snapshot, @statusItems, @at)
      ON CONFLICT (enrollment_id) DO UPDATE SET snapshot = excluded.snapshot, status_items = excluded.status_items,
        last_report_at = excluded.last_report_at`),
    clearDeclarationStatus: db.prepare('DELETE FROM ddm_declaration_status WHERE enrollment_id = ?'),
    insertDeclarationStatus: db.prepare(`
      INSERT INTO ddm_declaration_status (enrollment_id, identifier, kind, server_token, active, valid, reasons, reported_at)
      VALUES (@enrollment_id, @identifier, @kind, @server_token, @active, @valid, @reasons, @reported_at)`),
    insertReport: db.prepare('INSERT INTO ddm_status_reports (enrollment_id, status_id, received_at, raw) VALUES (@id, @statusId, @at, @raw)'),
    pruneReports: db.prepare(`
      DELETE FROM ddm_status_reports WHERE enrollment_id = @id
        AND seq < (SELECT min(seq) FROM (SELECT seq FROM ddm_status_reports WHERE enrollment_id = @id ORDER BY seq DESC LIMIT ${boundLimit('@keep')}))`),
    insertError: db.prepare('INSERT INTO ddm_status_errors (enrollment_id, status_id, path, error, at) VALUES (@id, @statusId, @path, @error, @at)'),
    pruneErrors: db.prepare(`
      DELETE FROM ddm_status_errors WHERE enrollment_id = @id
        AND seq < (SELECT min(seq) FROM (SELECT seq FROM ddm_status_errors WHERE enrollment_id = @id ORDER BY seq DESC LIMIT ${boundLimit('@keep')}))`),
    reportByIndex: db.prepare(`
      SELECT status_id, received_at, raw, @index AS idx FROM ddm_status_reports WHERE enrollment_id = @id
      ORDER BY seq DESC LIMIT 1 OFFSET @index`),
    reportById: db.prepare(`
      SELECT r.status_id, r.received_at, r.raw,
        (SELECT count(*) FROM ddm_status_reports n WHERE n.enrollment_id = r.enrollment_id AND n.seq > r.seq) AS idx
      FROM ddm_status_reports r WHERE r.enrollment_id = ? AND r.status_id = ?`),
    statusErrors: db.prepare('SELECT status_id, path, error, at FROM ddm_status_errors WHERE enrollment_id = ? ORDER BY seq'),
    declarationReports: db.prepare(`
      SELECT e.id, s.kind, s.identifier, s.server_token, s.active, s.valid, s.reasons, s.reported_at
      FROM enrollments e LEFT JOIN ddm_declaration_status s ON s.enrollment_id = e.id AND s.identifier = @identifier
      WHERE e.state <> 'checked-out' AND (
        EXISTS (SELECT 1 FROM ddm_set_declarations sd JOIN ddm_global_sets g ON g.set_name = sd.set_name WHERE sd.identifier = @identifier)
        OR e.id IN (SELECT es.enrollment_id FROM ddm_enrollment_sets es JOIN ddm_set_declarations sd ON sd.set_name = es.set_name WHERE sd.identifier = @identifier))
      ORDER BY e.id`),
    getAssetInfo: db.prepare('SELECT name, content_type, sha256, size, updated_at FROM ddm_assets WHERE name = ?'),
    getAsset: db.prepare('SELECT * FROM ddm_assets WHERE name = ?'),
    listAssets: db.prepare('SELECT name, content_type, sha256, size, updated_at FROM ddm_assets ORDER BY name'),
    upsertAsset: db.prepare(`
      INSERT INTO ddm_assets (name, content_type, data, sha256, size, updated_at) VALUES (@name, @contentType, @data, @sha256, @size, @at)
      ON CONFLICT (name) DO UPDATE SET content_type = excluded.content_type, data = excluded.data, sha256 = excluded.sha256,
        size = excluded.size, updated_at = excluded.updated_at`),
    deleteAsset: db.prepare('DELETE FROM ddm_assets WHERE name = ?'),
  };
}
