// The PostgreSQL backend (node-postgres, pooled), for several Aspen instances on one database.
//
// Every decision holds across instances: a state change that depends on what it reads is one
// statement (PostgreSQL re-checks a row's WHERE clause against its latest committed version when
// another transaction changed it meanwhile), or one transaction under advisory locks (identity
// admission). Everything is committed durably before the device is answered, and the event a
// change makes (see ../events.ts) is written by the same statement or transaction.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import {
  DuplicateCommandError,
  type AdmissionChange,
  type AdmissionFacts,
  type AuthenticateRecord,
  type ClaimedJob,
  type CommandRecord,
  type EnqueueOptions,
  type EnqueueOutcome,
  type Enrollment,
  type EnrollmentFilter,
  type EnrollmentTraits,
  type HistoryEntry,
  type IdentityBinding,
  type Job,
  type NewCommand,
  type PruneCounts,
  type PushResultRecord,
  type PushTargetRecord,
  type QueueEntry,
  type QueuedCommand,
  type CommandFilter,
  type CommandSummary,
  type InventoryRecord,
  type RecordedResult,
  type ResultRecord,
  type Storage,
  type StorageStats,
  type StoredPushCertificate,
  type TargetState,
  type TokenUpdateOutcome,
  type TokenUpdateRecord,
} from '../storage.ts';
import {
  countsByState,
  toCommandSummaries,
  toCommandTarget,
  toTraits,
  toEnrollment,
  toHistoryEntry,
  toIdentityBinding,
  toJob,
  toPushCertificate,
  toPushTarget,
  toQueueEntry,
  type CommandSummaryRow,
  type EnrollmentRow,
  type HistoryRow,
  type IdentityRow,
  type JobRow,
  type PushCertificateRow,
  type PushTargetRow,
  type QueueRow,
  type TargetCountRow,
  type TargetRow,
  type TraitGroupRow,
} from '../rows.ts';
import { commandListQuery, enrollmentListQuery } from '../listing-queries.ts';
import type { EventDraft } from '../events.ts';
import type { AccountStore } from '../accounts.ts';
import type { AuditStore } from '../audit.ts';
import { PostgresAccountStore } from './accounts.ts';
import { PostgresAuditStore } from './audit.ts';
import { appendEvent, binder, eventCtes, PostgresEventStore } from './events.ts';
import { lockIdentity } from './identity-locks.ts';
import { inTransaction } from './transaction.ts';
import { PostgresIssuance } from './issuance.ts';
import type { DeclarationStore } from '../declarations.ts';
import { PostgresDeclarationStore } from './declarations.ts';
import type { FleetStore } from '../fleet.ts';
import { PostgresFleet } from './fleet.ts';
import { migrate } from './migrate.ts';
import { enqueueOutcomes, fanOutChunks } from '../fan-out.ts';

export interface PostgresOptions {
  /** postgres:// or postgresql:// connection string. */
  url: string;
  /** Connections per instance. */
  poolSize: number;
}

const PENDING = `state IN ('queued', 'notnow')`;
/** Rows deleted per pruning statement: short transactions, so device requests are not held up. */
const PRUNE_BATCH = 1000;
const TIMESTAMPTZ_OID = 1184;
const INT8_OID = 20;

// Timestamps travel as the contract's ISO 8601 strings; counts and seqs (bigint) as numbers
// (they stay far below 2^53).
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) {
      const parseDate = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (value: string) => Date;
      return (value: string) => parseDate(value).toISOString();
    }
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
};

export class PostgresStorage implements Storage {
  readonly backend = 'postgres';
  readonly events: PostgresEventStore;
  readonly issuance: PostgresIssuance;
  readonly declarations: DeclarationStore;
  readonly fleet: FleetStore;
  readonly accounts: AccountStore;
  readonly audit: AuditStore;

  private constructor(private readonly pool: Pool) {
    this.events = new PostgresEventStore(pool);
    this.issuance = new PostgresIssuance(pool);
    this.declarations = new PostgresDeclarationStore(pool);
    this.fleet = new PostgresFleet(pool);
    this.accounts = new PostgresAccountStore(pool);
    this.audit = new PostgresAuditStore(pool);
  }

  static async open(opts: PostgresOptions): Promise<PostgresStorage> {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize, types });
    // An idle connection that dies (a database restart) must not crash the process; the pool
    // replaces it on the next query.
    pool.on('error', () => {});
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return new PostgresStorage(pool);
  }

  /**
   * Runs a data-modifying statement (with RETURNING) and, when the change happened (it returned
   * a row), writes its event in the same statement.
   */
  private async change<R extends QueryResultRow>(sql: string, values: unknown[], event: EventDraft | undefined, name?: string): Promise<R[]> {
    if (event === undefined) return this.rows<R>(sql, values, name);
    const all = [...values];
    const ctes = eventCtes(event, binder(all), 'EXISTS (SELECT 1 FROM change)');
    return this.rows<R>(`WITH change AS (${sql}), ${ctes} SELECT * FROM change`, all, name && `${name}+event`);
  }

  private async rows<R extends QueryResultRow>(text: string, values: unknown[] = [], name?: string): Promise<R[]> {
    return (await this.pool.query<R>(name ? { name, text, values } : { text, values })).rows;
  }

  private async one<R extends QueryResultRow>(text: string, values: unknown[] = [], name?: string): Promise<R | undefined> {
    return (await this.rows<R>(text, values, name))[0];
  }

  /** Runs `fn` in a transaction, again if PostgreSQL aborted it for a deadlock or serialization conflict. */
  private transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  async authenticate(rec: AuthenticateRecord): Promise<{ created: boolean }> {
    return this.authenticated(this.pool, rec);
  }

  /** authenticate's statement, on the pool or inside a transaction. */
  private async authenticated(db: Pool | PoolClient, rec: AuthenticateRecord): Promise<{ created: boolean }> {
    // One statement: the upsert (xmax = 0 marks a row it inserted), the user channels' reset and,
    // unless kept, the cancelling of every pending command of the device and its users.
    const values: unknown[] = [rec.id, rec.type, rec.serialNumber, rec.platform, rec.osVersion, JSON.stringify(rec.facts), rec.topic, rec.at, rec.keepPendingCommands];
    const event = rec.event ? `, ${eventCtes(rec.event, binder(values))}` : '';
    const result = await db.query<{ created: boolean }>({
      text: `WITH up AS (
        INSERT INTO enrollments (id, device_id, channel, type, state, serial_number, platform, os_version,
          facts, topic, first_seen_at, last_seen_at, last_status, authenticated_at)
        VALUES ($1, $1, 'device', $2, 'authenticated', $3, $4, $5, $6, $7, $8, $8, 'Authenticate', $8)
        ON CONFLICT (id) DO UPDATE SET type = excluded.type, state = 'authenticated',
          serial_number = excluded.serial_number, platform = excluded.platform, os_version = excluded.os_version,
          facts = excluded.facts, topic = excluded.topic,
          last_seen_at = excluded.last_seen_at, last_status = 'Authenticate',
          authenticated_at = excluded.authenticated_at, checked_out_at = NULL, awaiting_configuration = false
        RETURNING (xmax = 0) AS created
      ), users AS (
        UPDATE enrollments SET state = 'authenticated' WHERE device_id = $1 AND channel = 'user'
      ), cancelled AS (
        UPDATE command_targets SET state = 'cancelled', updated_at = $8
        WHERE NOT $9 AND ${PENDING} AND enrollment_id IN (SELECT id FROM enrollments WHERE device_id = $1)
      )${event}
      SELECT created FROM up`,
      values,
      name: rec.event ? 'authenticate+event' : 'authenticate',
    });
    return { created: result.rows[0]!.created };
  }

  async tokenUpdate(rec: TokenUpdateRecord): Promise<TokenUpdateOutcome> {
    // `was`: the channel's state before this statement (a subquery sees the statement's snapshot,
    // not its own change); NULL for a user channel it creates.
    const outcome = (rows: { was: string | null }[]): TokenUpdateOutcome =>
      rows.length === 0 ? 'unknown' : rows[0]!.was === 'enrolled' ? 'already-enrolled' : 'newly-enrolled';
    if (rec.channel === 'device') {
      const rows = await this.change<{ was: string | null }>(
        `UPDATE enrollments SET topic = $2, push_token = $3, push_magic = $4,
          unlock_token = COALESCE($5, unlock_token), awaiting_configuration = $6,
          state = 'enrolled', token_updated_at = $7, checked_out_at = NULL, push_token_invalid = false, apns_sandbox = false,
          last_seen_at = $7, last_status = 'TokenUpdate'
        WHERE id = $1 AND channel = 'device' RETURNING (SELECT state FROM enrollments WHERE id = $1) AS was`,
        [rec.id, rec.topic, rec.pushToken, rec.pushMagic, rec.unlockToken, rec.awaitingConfiguration, rec.at],
        rec.event,
        'device-token-update',
      );
      return outcome(rows);
    }
    // A user channel is created by its first TokenUpdate, provided its device channel exists.
    const rows = await this.change<{ was: string | null }>(
      `INSERT INTO enrollments (id, device_id, channel, type, state, user_id, user_short_name,
        user_long_name, topic, push_token, push_magic, awaiting_configuration,
        first_seen_at, last_seen_at, last_status, token_updated_at)
      SELECT $1, $2, 'user', $3, 'enrolled', $4, $5, $6, $7, $8, $9, $10, $11, $11, 'TokenUpdate', $11
      WHERE EXISTS (SELECT 1 FROM enrollments WHERE id = $2)
      ON CONFLICT (id) DO UPDATE SET type = excluded.type, state = 'enrolled',
        user_id = excluded.user_id, user_short_name = excluded.user_short_name,
        user_long_name = excluded.user_long_name, topic = excluded.topic,
        push_token = excluded.push_token, push_magic = excluded.push_magic,
        awaiting_configuration = excluded.awaiting_configuration,
        token_updated_at = excluded.token_updated_at, checked_out_at = NULL, push_token_invalid = false, apns_sandbox = false,
        last_seen_at = excluded.last_seen_at, last_status = 'TokenUpdate'
      RETURNING (SELECT state FROM enrollments WHERE id = $1) AS was`,
      [rec.id, rec.deviceId, rec.type, rec.userId, rec.userShortName, rec.userLongName, rec.topic, rec.pushToken, rec.pushMagic, rec.awaitingConfiguration, rec.at],
      rec.event,
      'user-token-update',
    );
    return outcome(rows);
  }

  async checkOut(id: string, at: string, event?: EventDraft): Promise<boolean> {
    // Checking out the device channel ends its user channels too; a user channel ends alone.
    const rows = await this.change(
      `UPDATE enrollments SET state = 'checked-out', checked_out_at = $2,
        last_seen_at = CASE WHEN id = $1 THEN $2 ELSE last_seen_at END,
        last_status = CASE WHEN id = $1 THEN 'CheckOut' ELSE last_status END
      WHERE id = $1 OR (device_id = $1 AND EXISTS (SELECT 1 FROM enrollments d WHERE d.id = $1 AND d.channel = 'device'))
      RETURNING 1`,
      [id, at],
      event,
    );
    return rows.length > 0;
  }

  async setBootstrapToken(deviceId: string, token: Uint8Array | null, at: string, event?: EventDraft): Promise<boolean> {
    const rows = await this.change(
      `UPDATE enrollments SET bootstrap_token = $2, last_seen_at = $3, last_status = 'SetBootstrapToken'
      WHERE id = $1 AND channel = 'device' RETURNING 1`,
      [deviceId, token, at],
      event,
    );
    return rows.length === 1;
  }

  async getBootstrapToken(deviceId: string, at: string, event?: EventDraft): Promise<Uint8Array | null | undefined> {
    const [row] = await this.change<{ bootstrap_token: Buffer | null }>(
      `UPDATE enrollments SET last_seen_at = $2, last_status = 'GetBootstrapToken' WHERE id = $1 RETURNING bootstrap_token`,
      [deviceId, at],
      event,
    );
    return row === undefined ? undefined : row.bootstrap_token;
  }

  async recordSeen(id: string, status: string, at: string, event?: EventDraft): Promise<boolean> {
    const rows = await this.change('UPDATE enrollments SET last_seen_at = $2, last_status = $3 WHERE id = $1 RETURNING 1', [id, at, status], event, 'seen');
    return rows.length === 1;
  }

  async getEnrollment(id: string): Promise<Enrollment | undefined> {
    const row = await this.one<EnrollmentRow>('SELECT * FROM enrollments WHERE id = $1', [id], 'get-enrollment');
    return row && toEnrollment(row);
  }

  async listEnrollments(filter: EnrollmentFilter, page: { after?: string; limit: number }): Promise<Enrollment[]> {
    const query = enrollmentListQuery(filter, page, (n) => `$${n}`);
    return (await this.rows<EnrollmentRow>(query.text, query.values)).map(toEnrollment);
  }

  async groupByTraits(ids: string[]): Promise<{ traits: EnrollmentTraits; ids: string[] }[]> {
    // A user channel runs on its device channel's platform (for a device channel, d is itself).
    const rows = await this.rows<Omit<TraitGroupRow, 'ids'> & { ids: string[] }>(
      `SELECT e.type, e.channel, d.platform, d.os_version, d.supervised, d.multi_user, array_agg(e.id) AS ids
      FROM unnest($1::text[]) AS i (id) JOIN enrollments e ON e.id = i.id LEFT JOIN enrollments d ON d.id = e.device_id
      GROUP BY e.type, e.channel, d.platform, d.os_version, d.supervised, d.multi_user`,
      [[...new Set(ids)]],
    );
    return rows.map(({ ids: members, ...traits }) => ({ traits: toTraits(traits), ids: members }));
  }

  async recordInventory(rec: InventoryRecord): Promise<boolean> {
    const rows = await this.rows(
      `UPDATE enrollments SET inventory = coalesce(inventory, '{}'::jsonb) || $2::jsonb, inventory_updated_at = $3,
        device_name = coalesce($4, device_name), model = coalesce($5, model), serial_number = coalesce($6, serial_number),
        os_version = coalesce($7, os_version), supervised = coalesce($8, supervised), multi_user = coalesce($9, multi_user)
      WHERE id = $1 AND channel = 'device' RETURNING 1`,
      [
        rec.deviceId,
        JSON.stringify(rec.values),
        rec.at,
        rec.deviceName ?? null,
        rec.model ?? null,
        rec.serialNumber ?? null,
        rec.osVersion ?? null,
        rec.supervised ?? null,
        rec.multiUser ?? null,
      ],
    );
    return rows.length === 1;
  }

  async deleteEnrollment(id: string): Promise<boolean> {
    // A device channel goes with its user channels; cascades take their queues and results. A
    // re-push job left for a deleted channel finds nothing to push, and ends.
    return this.transaction(async (c) => {
      await lockIdentity(c, null, id);
      const deleted = await c.query(
        `DELETE FROM enrollments WHERE id = $1 OR (device_id = $1 AND EXISTS (SELECT 1 FROM enrollments d WHERE d.id = $1 AND d.channel = 'device'))`,
        [id],
      );
      if (deleted.rowCount === 0) return false;
      await c.query('DELETE FROM device_identities WHERE device_id = $1', [id]); // none match a user channel id
      return true;
    });
  }

  async enqueue(command: NewCommand, enrollmentIds: string[], at: string, options: EnqueueOptions = {}): Promise<Map<string, EnqueueOutcome>> {
    const unique = [...new Set(enrollmentIds)];
    const { queued, known } = await this.transaction(async (c) => {
      const inserted = await c.query(
        'INSERT INTO commands (uuid, request_type, payload, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (uuid) DO NOTHING',
        [command.uuid, command.requestType, command.payload, at],
      );
      if (inserted.rowCount === 0) throw new DuplicateCommandError(command.uuid);
      // unlessPending: the enrollments are locked (in id order, so two fan-outs cannot deadlock)
      // before looking at their queues, so an instance coalescing at the same moment waits and
      // then sees this one's command pending.
      const locked = options.unlessPending
        ? (await c.query<{ id: string }>('SELECT id FROM enrollments WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE', [unique])).rows.map((r) => r.id)
        : [];
      // One set-based statement per chunk of targets (fan-out.ts).
      let count = 0;
      for (const chunk of fanOutChunks(unique)) {
        const targets = await c.query(
          `INSERT INTO command_targets (enrollment_id, command_uuid, state, queued_at, updated_at)
          SELECT e.id, $2, 'queued', $3, $3 FROM unnest($1::text[]) AS i (id) JOIN enrollments e ON e.id = i.id
          WHERE NOT $4 OR NOT EXISTS (SELECT 1 FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
            WHERE t.enrollment_id = e.id AND t.${PENDING} AND c.request_type = $5 AND t.command_uuid <> $2)`,
          [chunk, command.uuid, at, options.unlessPending === true, command.requestType],
        );
        count += targets.rowCount ?? 0;
      }
      // A command no enrollment received is not kept.
      if (count === 0) {
        await c.query('DELETE FROM commands WHERE uuid = $1', [command.uuid]);
        return { queued: new Set<string>(), known: new Set(locked) };
      }
      // Usually every target was queued (the caller gated on known enrollments), and nothing needs
      // to come back; otherwise the command, new in this transaction, names its targets.
      const queued =
        count === unique.length
          ? ('all' as const)
          : new Set((await c.query<{ enrollment_id: string }>('SELECT enrollment_id FROM command_targets WHERE command_uuid = $1', [command.uuid])).rows.map((r) => r.enrollment_id));
      if (options.event) await appendEvent(c, { ...options.event, data: { ...options.event.data, targets: queued === 'all' ? unique : [...queued] } });
      return { queued, known: new Set(locked) };
    });
    return enqueueOutcomes(enrollmentIds, queued, known);
  }

  async recordDeviceConfigured(id: string): Promise<boolean> {
    return (await this.rows('UPDATE enrollments SET awaiting_configuration = false WHERE id = $1 RETURNING 1', [id])).length === 1;
  }

  async recordResult(rec: ResultRecord): Promise<RecordedResult> {
    // One statement. Only a pending command can be deferred; a final result is also stored for a
    // cancelled command the device ran anyway. The state condition is re-checked against the
    // latest version of the row, so of two identical results arriving at once exactly one
    // changes it; the other finds it final: a replay.
    const values: unknown[] = [rec.enrollmentId, rec.commandUuid, rec.at, rec.status, rec.raw, rec.errorChain && JSON.stringify(rec.errorChain)];
    // The event only when the result changed something: a replay has had its event already.
    const event = rec.event ? `, ${eventCtes(rec.event, binder(values), 'EXISTS (SELECT 1 FROM changed)')}` : '';
    const row = await this.one<{ known: number; changed: number; request_type: string | null }>(
      `WITH touched AS (
        UPDATE enrollments SET last_seen_at = $3, last_status = $4 WHERE id = $1 RETURNING id
      ), changed AS (
        UPDATE command_targets t SET
          state = CASE WHEN $4 = 'NotNow' THEN 'notnow' ELSE lower($4) END,
          notnow_count = t.notnow_count + CASE WHEN $4 = 'NotNow' THEN 1 ELSE 0 END,
          result = CASE WHEN $4 = 'NotNow' THEN t.result ELSE $5::bytea END,
          error_chain = CASE WHEN $4 = 'NotNow' THEN t.error_chain ELSE $6::jsonb END,
          updated_at = $3
        WHERE t.enrollment_id = $1 AND t.command_uuid = $2 AND EXISTS (SELECT 1 FROM touched)
          AND (t.state IN ('queued', 'notnow') OR ($4 <> 'NotNow' AND t.state = 'cancelled'))
        RETURNING 1
      )${event}
      SELECT (SELECT count(*) FROM touched)::int AS known, (SELECT count(*) FROM changed)::int AS changed,
        (SELECT c.request_type FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
          WHERE t.enrollment_id = $1 AND t.command_uuid = $2) AS request_type`,
      values,
      rec.event ? 'record-result+event' : 'record-result',
    );
    const requestType = row!.request_type;
    if (row!.known === 0) return { outcome: 'unknown-enrollment', requestType: null };
    if (row!.changed === 1) return { outcome: rec.status === 'NotNow' ? 'notnow' : 'completed', requestType };
    return { outcome: requestType === null ? 'unknown-command' : 'replayed', requestType };
  }

  async startSession(id: string, at: string, event?: EventDraft): Promise<boolean> {
    const values: unknown[] = [id, at];
    const written = event ? `, ${eventCtes(event, binder(values), 'EXISTS (SELECT 1 FROM e)')}` : '';
    const row = await this.one<{ known: number }>(
      `WITH e AS (
        UPDATE enrollments SET last_seen_at = $2, last_status = 'Idle' WHERE id = $1 RETURNING id
      ), requeued AS (
        UPDATE command_targets SET state = 'queued', updated_at = $2
        WHERE enrollment_id = $1 AND state = 'notnow' AND EXISTS (SELECT 1 FROM e)
      )${written}
      SELECT count(*)::int AS known FROM e`,
      values,
      event ? 'start-session+event' : 'start-session',
    );
    return row!.known === 1;
  }

  async hasDeferred(enrollmentId: string): Promise<boolean> {
    return (await this.rows(`SELECT 1 FROM command_targets WHERE enrollment_id = $1 AND state = 'notnow' LIMIT 1`, [enrollmentId], 'has-deferred')).length > 0;
  }

  async nextCommand(enrollmentId: string): Promise<QueuedCommand | undefined> {
    const row = await this.one<{ uuid: string; request_type: string; payload: Buffer }>(
      `SELECT c.uuid, c.request_type, c.payload FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
      WHERE t.enrollment_id = $1 AND t.state = 'queued' ORDER BY t.seq LIMIT 1`,
      [enrollmentId],
      'next-command',
    );
    return row && { uuid: row.uuid, requestType: row.request_type, payload: row.payload };
  }

  async getCommand(uuid: string, page?: { after?: string; limit: number }): Promise<CommandRecord | undefined> {
    const cmd = await this.one<{ uuid: string; request_type: string; payload: Buffer; created_at: string }>('SELECT * FROM commands WHERE uuid = $1', [uuid]);
    if (cmd === undefined) return undefined;
    const targets = await this.rows<TargetRow>(
      `SELECT * FROM command_targets WHERE command_uuid = $1 AND ($2::text IS NULL OR enrollment_id > $2)
      ORDER BY enrollment_id LIMIT $3`,
      [uuid, page?.after ?? null, page?.limit ?? null], // LIMIT NULL: all of them
    );
    return { uuid: cmd.uuid, requestType: cmd.request_type, payload: cmd.payload, createdAt: cmd.created_at, targets: targets.map(toCommandTarget) };
  }

  async listQueue(enrollmentId: string): Promise<QueueEntry[] | undefined> {
    if (!(await this.enrollmentExists(enrollmentId))) return undefined;
    const rows = await this.rows<QueueRow>(
      `SELECT t.*, c.request_type FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
      WHERE t.enrollment_id = $1 AND t.${PENDING} ORDER BY t.seq`,
      [enrollmentId],
    );
    return rows.map(toQueueEntry);
  }

  async cancelPending(enrollmentId: string, commandUuid: string | null, at: string, event?: EventDraft): Promise<number | undefined> {
    return this.transaction(async (c) => {
      const row = (
        await c.query<{ known: number; cancelled: string[] }>(
          `WITH e AS (SELECT 1 FROM enrollments WHERE id = $1), c AS (
            UPDATE command_targets SET state = 'cancelled', updated_at = $3
            WHERE enrollment_id = $1 AND ${PENDING} AND ($2::text IS NULL OR command_uuid = $2) RETURNING command_uuid
          )
          SELECT (SELECT count(*) FROM e)::int AS known, ARRAY(SELECT command_uuid FROM c) AS cancelled`,
          [enrollmentId, commandUuid, at],
        )
      ).rows[0]!;
      if (row.known === 0) return undefined;
      if (row.cancelled.length > 0 && event) await appendEvent(c, { ...event, data: { ...event.data, command_uuids: row.cancelled } });
      return row.cancelled.length;
    });
  }

  async listEnrollmentCommands(enrollmentId: string, page: { before?: number; limit: number }): Promise<HistoryEntry[] | undefined> {
    if (!(await this.enrollmentExists(enrollmentId))) return undefined;
    const rows = await this.rows<HistoryRow>(
      `SELECT t.*, c.request_type FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
      WHERE t.enrollment_id = $1 AND ($2::bigint IS NULL OR t.seq < $2) ORDER BY t.seq DESC LIMIT $3`,
      [enrollmentId, page.before ?? null, page.limit],
    );
    return rows.map(toHistoryEntry);
  }

  async listCommands(filter: CommandFilter, page: { before?: { createdAt: string; uuid: string }; limit: number }): Promise<CommandSummary[]> {
    const query = commandListQuery(filter, page, (n) => `$${n}`);
    const commands = await this.rows<CommandSummaryRow>(query.text, query.values);
    const counts = await this.rows<TargetCountRow>(
      `SELECT command_uuid, state, count(*)::int AS count FROM command_targets WHERE command_uuid = ANY($1::text[]) GROUP BY command_uuid, state`,
      [commands.map((c) => c.uuid)],
    );
    return toCommandSummaries(commands, counts);
  }

  private async enrollmentExists(id: string): Promise<boolean> {
    return (await this.one('SELECT 1 FROM enrollments WHERE id = $1', [id])) !== undefined;
  }

  async getIdentityBinding(fingerprint: string): Promise<IdentityBinding | undefined> {
    const row = await this.one<IdentityRow>('SELECT * FROM device_identities WHERE fingerprint = $1', [fingerprint], 'get-identity');
    return row && toIdentityBinding(row);
  }

  async admitIdentity<D extends AdmissionChange>(binding: IdentityBinding, decide: (facts: AdmissionFacts) => D): Promise<D> {
    return this.transaction((c) => this.admitted(c, binding, decide));
  }

  async admitAuthenticate<D extends AdmissionChange>(
    binding: IdentityBinding,
    decide: (facts: AdmissionFacts) => D,
    record: (decision: D) => AuthenticateRecord | null,
  ): Promise<{ decision: D; created?: boolean }> {
    return this.transaction(async (c) => {
      const decision = await this.admitted(c, binding, decide);
      const rec = record(decision);
      return rec === null ? { decision } : { decision, ...(await this.authenticated(c, rec)) };
    });
  }

  /** admitIdentity's locks, reads and writes, inside the caller's transaction. */
  private async admitted<D extends AdmissionChange>(c: PoolClient, binding: IdentityBinding, decide: (facts: AdmissionFacts) => D): Promise<D> {
    await lockIdentity(c, binding.fingerprint, binding.deviceId);
    const bound = await c.query<{ device_id: string }>('SELECT device_id FROM device_identities WHERE fingerprint = $1', [binding.fingerprint]);
    const bindings = await c.query<IdentityRow>('SELECT * FROM device_identities WHERE device_id = $1 ORDER BY bound_at', [binding.deviceId]);
    const device = await c.query<Pick<EnrollmentRow, 'state' | 'serial_number' | 'identity_renewal_until'>>(
      'SELECT state, serial_number, identity_renewal_until FROM enrollments WHERE id = $1',
      [binding.deviceId],
    );
    const revoked = await c.query('SELECT 1 FROM issued_identities WHERE fingerprint = $1 AND revoked_at IS NOT NULL', [binding.fingerprint]);
    const d = device.rows[0];
    const decision = decide({
      boundTo: bound.rows[0]?.device_id,
      deviceBindings: bindings.rows.map(toIdentityBinding),
      device: d && { state: d.state, serialNumber: d.serial_number, identityRenewalUntil: d.identity_renewal_until },
      revoked: revoked.rows.length > 0,
    });
    if (decision.bind) {
      await c.query(
        `INSERT INTO device_identities (fingerprint, device_id, subject, not_after, bound_at, anchor) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (fingerprint) DO NOTHING`,
        [binding.fingerprint, binding.deviceId, binding.subject, binding.notAfter, binding.boundAt, binding.anchor],
      );
      await c.query('UPDATE issued_identities SET device_id = $2 WHERE fingerprint = $1', [binding.fingerprint, binding.deviceId]);
    }
    if (decision.consumeRenewal) await c.query(`UPDATE enrollments SET identity_renewal_until = NULL WHERE id = $1`, [binding.deviceId]);
    return decision;
  }

  async listIdentityBindings(deviceId: string): Promise<IdentityBinding[]> {
    return (await this.rows<IdentityRow>('SELECT * FROM device_identities WHERE device_id = $1 ORDER BY bound_at', [deviceId])).map(toIdentityBinding);
  }

  async setIdentityRenewal(deviceId: string, until: string | null): Promise<void> {
    await this.rows(`UPDATE enrollments SET identity_renewal_until = $2 WHERE id = $1 AND channel = 'device'`, [deviceId, until]);
  }

  async unbindIdentities(deviceId: string): Promise<number> {
    return this.transaction(async (c) => {
      await lockIdentity(c, null, deviceId);
      return (await c.query('DELETE FROM device_identities WHERE device_id = $1', [deviceId])).rowCount ?? 0;
    });
  }

  async unbindIdentity(fingerprint: string, deviceId: string): Promise<void> {
    await this.transaction(async (c) => {
      await lockIdentity(c, fingerprint, deviceId);
      await c.query('DELETE FROM device_identities WHERE fingerprint = $1 AND device_id = $2', [fingerprint, deviceId]);
    });
  }

  async identityAnchors(): Promise<{ anchor: string | null; devices: number }[]> {
    return this.rows('SELECT anchor, count(DISTINCT device_id)::int AS devices FROM device_identities GROUP BY anchor ORDER BY anchor');
  }

  async getPushTargets(ids: string[]): Promise<Map<string, PushTargetRecord>> {
    const rows = await this.rows<PushTargetRow>(
      'SELECT id, state, topic, push_token, push_magic, push_token_invalid, apns_sandbox FROM enrollments WHERE id = ANY($1::text[])',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, toPushTarget(r)]));
  }

  async recordPushResults(results: PushResultRecord[], at: string, events: EventDraft[] = []): Promise<void> {
    if (results.length === 0) return;
    // A dead-token verdict applies to the token that was pushed: if a TokenUpdate replaced it while
    // the push was in flight, the new token stays valid. Only a TokenUpdate clears the flag.
    const record = (db: Pool | PoolClient) => db.query(
      `UPDATE enrollments e SET last_push_at = $1, last_push_result = r.result,
        push_token_invalid = CASE WHEN r.invalid AND e.push_token = r.token THEN true ELSE e.push_token_invalid END,
        apns_sandbox = CASE WHEN e.push_token = r.token THEN r.sandbox ELSE e.apns_sandbox END
      FROM unnest($2::text[], $3::text[], $4::boolean[], $5::boolean[], $6::bytea[]) AS r (id, result, invalid, sandbox, token)
      WHERE e.id = r.id`,
      [
        at,
        results.map((r) => r.id),
        results.map((r) => r.result),
        results.map((r) => r.tokenInvalid),
        results.map((r) => r.sandbox),
        results.map((r) => Buffer.from(r.pushToken)),
      ],
    );
    if (events.length === 0) {
      await record(this.pool);
      return;
    }
    await this.transaction(async (c) => {
      await record(c);
      for (const event of events) await appendEvent(c, event);
    });
  }

  async getPushCertificate(): Promise<StoredPushCertificate | undefined> {
    const row = await this.one<PushCertificateRow>('SELECT * FROM push_certificate WHERE id = 1', [], 'get-push-certificate');
    return row && toPushCertificate(row);
  }

  async savePushCertificate(cert: StoredPushCertificate): Promise<void> {
    await this.rows(
      `INSERT INTO push_certificate (id, cert_pem, key_pem, topic, not_after, updated_at) VALUES (1, $1, $2, $3, $4, $5)
      ON CONFLICT (id) DO UPDATE SET cert_pem = excluded.cert_pem, key_pem = excluded.key_pem,
        topic = excluded.topic, not_after = excluded.not_after, updated_at = excluded.updated_at`,
      [cert.certPem, cert.keyPem, cert.topic, cert.notAfter, cert.updatedAt],
    );
  }

  async scheduleJob(job: { key: string; kind: string; payload?: unknown; runAt: string }): Promise<void> {
    // A job that exists keeps its earlier run time; one running now is marked to run again.
    await this.rows(
      `INSERT INTO jobs (key, kind, payload, run_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (key) DO UPDATE SET payload = excluded.payload,
        run_at = CASE WHEN jobs.lease_token IS NULL THEN LEAST(jobs.run_at, excluded.run_at) ELSE jobs.run_at END,
        rerun_at = CASE WHEN jobs.lease_token IS NULL THEN jobs.rerun_at ELSE LEAST(jobs.rerun_at, excluded.run_at) END`,
      [job.key, job.kind, JSON.stringify(job.payload ?? null), job.runAt],
      'schedule-job',
    );
  }

  async claimJobs(now: string, leaseUntil: string, limit: number): Promise<ClaimedJob[]> {
    // SKIP LOCKED: instances polling at once take different jobs instead of waiting on each other.
    const token = randomUUID();
    const rows = await this.rows<JobRow>(
      `UPDATE jobs SET lease_token = $1, lease_until = $3, attempts = attempts + 1
      WHERE key IN (SELECT key FROM jobs WHERE run_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
        ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED)
      RETURNING key, kind, payload, run_at, attempts`,
      [token, now, leaseUntil, limit],
      'claim-jobs',
    );
    return rows.map((r) => ({ ...toJob(r), token }));
  }

  async finishJob(job: ClaimedJob, next: { runAt: string; error?: string } | null): Promise<void> {
    await this.transaction(async (c) => {
      if (next === null) {
        const deleted = await c.query('DELETE FROM jobs WHERE key = $1 AND lease_token = $2 AND rerun_at IS NULL', [job.key, job.token]);
        if (deleted.rowCount === 1) return;
      }
      // A retry keeps counting attempts; a periodic run or a re-run asked for meanwhile starts afresh.
      await c.query(
        `UPDATE jobs SET run_at = CASE WHEN $3::timestamptz IS NULL THEN rerun_at ELSE LEAST($3::timestamptz, rerun_at) END,
          attempts = CASE WHEN $4::text IS NULL THEN 0 ELSE attempts END, last_error = $4,
          rerun_at = NULL, lease_token = NULL, lease_until = NULL
        WHERE key = $1 AND lease_token = $2`,
        [job.key, job.token, next?.runAt ?? null, next?.error ?? null],
      );
    });
  }

  async listJobs(): Promise<Job[]> {
    return (await this.rows<JobRow>('SELECT key, kind, payload, run_at, attempts FROM jobs ORDER BY run_at, key')).map(toJob);
  }

  async sharedSecret(name: string, create: () => string): Promise<{ value: string; created: boolean }> {
    const read = async () => (await this.one<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [name]))?.value;
    const existing = await read();
    if (existing !== undefined) return { value: existing, created: false };
    // Another instance may store its own first; whichever insert wins is the secret for everyone.
    const inserted = await this.rows('INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, now()) ON CONFLICT (name) DO NOTHING RETURNING 1', [name, create()]);
    return { value: (await read())!, created: inserted.length === 1 };
  }

  async prune(cutoffs: { resultsBefore: string | null; checkedOutBefore: string | null }): Promise<PruneCounts> {
    const batches = async (sql: string, values: unknown[]) => {
      let total = 0;
      for (let n = -1; n !== 0; total += n) n = (await this.pool.query(sql, [...values, PRUNE_BATCH])).rowCount ?? 0;
      return total;
    };
    // A checked-out device goes with its user channels; ON DELETE CASCADE takes their commands.
    const enrollments =
      cutoffs.checkedOutBefore === null
        ? 0
        : await batches(
            `DELETE FROM enrollments WHERE id IN (
              SELECT id FROM enrollments e WHERE state = 'checked-out' AND checked_out_at < $1
                AND (channel = 'user' OR NOT EXISTS (
                  SELECT 1 FROM enrollments u WHERE u.device_id = e.id AND u.channel = 'user' AND u.state <> 'checked-out'))
              LIMIT $2)`,
            [cutoffs.checkedOutBefore],
          );
    const results =
      cutoffs.resultsBefore === null
        ? 0
        : await batches(
            `DELETE FROM command_targets WHERE seq IN (
              SELECT seq FROM command_targets WHERE state NOT IN ('queued', 'notnow') AND updated_at < $1 LIMIT $2)`,
            [cutoffs.resultsBefore],
          );
    const commands = await batches(
      `DELETE FROM commands WHERE uuid IN (
        SELECT uuid FROM commands c WHERE NOT EXISTS (SELECT 1 FROM command_targets t WHERE t.command_uuid = c.uuid) LIMIT $1)`,
      [],
    );
    // Bindings of devices that are gone would otherwise keep their certificates from re-enrolling.
    await batches(
      `DELETE FROM device_identities WHERE fingerprint IN (
        SELECT fingerprint FROM device_identities d WHERE NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.id = d.device_id) LIMIT $1)`,
      [],
    );
    return { results, commands, enrollments };
  }

  async heartbeat(at: string): Promise<void> {
    await this.rows('INSERT INTO heartbeat (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at', [at]);
  }

  async stats(): Promise<StorageStats> {
    const targets = await this.rows<{ state: TargetState; count: number }>('SELECT state, count(*)::int AS count FROM command_targets GROUP BY state');
    const enrollments = await this.rows<StorageStats['enrollments'][number]>(
      'SELECT state, channel, count(*)::int AS count FROM enrollments GROUP BY state, channel ORDER BY state, channel',
    );
    const soonest = await this.one<{ soonest: string | null }>(
      `SELECT min(i.not_after) AS soonest FROM device_identities i JOIN enrollments e ON e.id = i.device_id WHERE e.state <> 'checked-out'`,
    );
    return { commandTargetsByState: countsByState(targets), enrollments, soonestIdentityExpiry: soonest?.soonest ?? null };
  }

  private closing: Promise<void> | undefined;

  async close(): Promise<void> {
    this.closing ??= this.pool.end();
    await this.closing;
  }
}
