// The embedded SQLite backend (better-sqlite3). Each state change is one transaction; with
// synchronous=FULL (the default) a committed transaction survives kill -9 and power loss.
// Several processes may share the file (WAL mode): transactions that read before they write take
// the write lock first (BEGIN IMMEDIATE), so their decisions hold across processes.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
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
  type QueueEntry,
  type NewCommand,
  type QueuedCommand,
  type CommandFilter,
  type CommandSummary,
  type InventoryRecord,
  type RecordedResult,
  type ResultOutcome,
  type ResultRecord,
  type PruneCounts,
  type PushResultRecord,
  type PushTargetRecord,
  type StoredPushCertificate,
  type Storage,
  type StorageStats,
  type TargetState,
  type TokenUpdateOutcome,
  type TokenUpdateRecord,
} from '../storage.ts';
import type { EventDraft } from '../events.ts';
import { commandListQuery, enrollmentListQuery } from '../listing-queries.ts';
import { enqueueOutcomes, fanOutChunks } from '../fan-out.ts';
import { SqliteEventStore } from './events.ts';
import { SqliteAccountStore } from './accounts.ts';
import { SqliteAuditStore } from './audit.ts';
import type { AccountStore } from '../accounts.ts';
import type { AuditStore } from '../audit.ts';
import { SqliteIssuance } from './issuance.ts';
import type { DeclarationStore } from '../declarations.ts';
import { SqliteDeclarationStore } from './declarations.ts';
import type { FleetStore } from '../fleet.ts';
import { SqliteFleet } from './fleet.ts';
import { GroupCommit, type Write } from './group-commit.ts';
import { WalSync } from './wal-sync.ts';
import { LARGE_RESULT_BYTES, LargeResultWriter } from './large-result-writer.ts';
import { migrate } from './migrate.ts';
import {
  countsByState,
  toCommandSummaries,
  toCommandTarget,
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
  toTraits,
} from '../rows.ts';
import { boundLimit } from './bound-limit.ts';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface SqliteOptions {
  /** File path, or ':memory:'. */
  path: string;
  synchronous?: SqliteSynchronous;
  /** Where results of LARGE_RESULT_BYTES or more are written: by a worker thread (the default
   *  for a file, see large-result-writer.ts), or on the calling thread (the worker's own). */
  largeResults?: 'worker' | 'in-place';
}

const PENDING = `state IN ('queued', 'notnow')`;
const NOTHING_QUEUED = Symbol('nothing queued');
/** The longest an Idle's "last seen" waits in memory before it is written. */
const SEEN_FLUSH_MS = 1000;
/**
 * SQLite's page cache per connection, in KiB (as `PRAGMA cache_size = -N` takes it). better-sqlite3
 * builds SQLite with 16 MB, which a large database fills (a fan-out to 100,000 enrollments does)
 * and which stays resident; the stock SQLite default is 2 MB. Pages beyond it are read again from
 * the OS page cache (a pread, microseconds), so a smaller cache costs little on the device path.
 * The bookkeeping connection only touches the webhook delivery tables.
 */
export const CACHE_KIB = 4096;
const BOOKKEEPING_CACHE_KIB = 1024;
/** Rows deleted per pruning statement (about a millisecond of work each). */
const PRUNE_BATCH = 500;

export class SqliteStorage implements Storage {
  readonly backend = 'sqlite';
  readonly db: Database;
  readonly events: SqliteEventStore;
  readonly issuance: SqliteIssuance;
  readonly declarations: DeclarationStore;
  readonly fleet: FleetStore;
  readonly accounts: AccountStore;
  readonly audit: AuditStore;
  private readonly stmt;
  /** Every write on the main connection: committed together per event-loop turn (group-commit.ts). */
  private readonly writes: GroupCommit;
  private readonly walSync: WalSync | null;
  private readonly largeWriter: LargeResultWriter | null;
  private readonly seenBuffer = new Map<string, { status: string; at: string }>();
  private seenTimer: NodeJS.Timeout | null = null;
  /** The last flush's write; settles once it is committed (or failed). */
  private seenWritten: Promise<void> = Promise.resolve();

  constructor(opts: SqliteOptions) {
    if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
    this.db = new BetterSqlite3(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`cache_size = -${CACHE_KIB}`);
    migrate(this.db);
    this.stmt = prepareStatements(this.db);
    // Group commit syncs the WAL off the event loop's thread when every commit must be durable.
    const synced = opts.path !== ':memory:' && (opts.synchronous ?? 'FULL') === 'FULL';
    this.walSync = synced ? new WalSync(`${opts.path}-wal`) : null;
    this.writes = new GroupCommit(this.db, this.walSync);
    const inPlace = opts.path === ':memory:' || opts.largeResults === 'in-place';
    this.largeWriter = inPlace ? null : new LargeResultWriter({ path: opts.path, synchronous: opts.synchronous ?? 'FULL' });
    // Every write goes through a group commit, which takes the write lock without waiting (see
    // group-commit.ts); a transaction of its own would wait in SQLite's busy handler, asleep on
    // this thread, while another writer (the large-result thread, another process) holds it.
    const write: Write = (work) => this.writes.run(work);
    const memory = opts.path === ':memory:';
    const bookkeeping = memory ? this.db : openBookkeeping(opts.path);
    const bookkeepingWrites = memory ? this.writes : new GroupCommit(bookkeeping);
    this.events = new SqliteEventStore(this.db, bookkeeping, write, (work) => bookkeepingWrites.run(work), () => this.walSync?.durable() ?? Promise.resolve());
    this.issuance = new SqliteIssuance(this.db, write, (draft) => this.events.append(draft));
    this.declarations = new SqliteDeclarationStore(this.db, write, (draft) => this.events.append(draft));
    this.fleet = new SqliteFleet(this.db, () => this.flushSeen());
    this.accounts = new SqliteAccountStore(this.db, write);
    this.audit = new SqliteAuditStore(this.db, write);
  }

  /** Writes the event describing a change, in that change's transaction (see ../events.ts). */
  private event(draft: EventDraft | undefined): void {
    if (draft !== undefined) this.events.append(draft);
  }

  async authenticate(rec: AuthenticateRecord): Promise<{ created: boolean }> {
    return this.writes.run(() => this.authenticated(rec));
  }

  /** authenticate's writes, inside the caller's transaction. */
  private authenticated(rec: AuthenticateRecord): { created: boolean } {
    const created = this.stmt.enrollmentExists.get(rec.id) === undefined;
    this.stmt.upsertAuthenticate.run({
      id: rec.id,
      type: rec.type,
      serial: rec.serialNumber,
      platform: rec.platform,
      osVersion: rec.osVersion,
      facts: JSON.stringify(rec.facts),
      topic: rec.topic,
      at: rec.at,
    });
    this.stmt.resetUserChannels.run({ deviceId: rec.id });
    if (!rec.keepPendingCommands) this.stmt.cancelPendingOfDevice.run({ deviceId: rec.id, at: rec.at });
    this.event(rec.event);
    return { created };
  }

  async tokenUpdate(rec: TokenUpdateRecord): Promise<TokenUpdateOutcome> {
    const params = {
      id: rec.id,
      deviceId: rec.deviceId,
      type: rec.type,
      userId: rec.userId,
      userShortName: rec.userShortName,
      userLongName: rec.userLongName,
      topic: rec.topic,
      token: blob(rec.pushToken),
      magic: rec.pushMagic,
      unlock: rec.unlockToken && blob(rec.unlockToken),
      awaiting: rec.awaitingConfiguration ? 1 : 0,
      at: rec.at,
    };
    return this.writes.run((): TokenUpdateOutcome => {
      const before = this.stmt.enrollmentState.get(rec.id) as string | undefined;
      if (rec.channel === 'device') {
        if (before === undefined || this.stmt.deviceTokenUpdate.run(params).changes === 0) return 'unknown';
      } else {
        if (this.stmt.enrollmentExists.get(rec.deviceId) === undefined) return 'unknown';
        this.stmt.upsertUserTokenUpdate.run(params);
      }
      this.event(rec.event);
      return before === 'enrolled' ? 'already-enrolled' : 'newly-enrolled';
    });
  }

  async checkOut(id: string, at: string, event?: EventDraft): Promise<boolean> {
    return this.writes.run(() => {
      if (this.stmt.touch.run({ id, status: 'CheckOut', at }).changes === 0) return false;
      this.stmt.checkOut.run({ id, at });
      this.event(event);
      return true;
    });
  }

  async setBootstrapToken(deviceId: string, token: Uint8Array | null, at: string, event?: EventDraft): Promise<boolean> {
    const params = { id: deviceId, token: token && blob(token), at };
    return this.writes.run(() => {
      if (this.stmt.setBootstrapToken.run(params).changes === 0) return false;
      this.event(event);
      return true;
    });
  }

  async getBootstrapToken(deviceId: string, at: string, event?: EventDraft): Promise<Uint8Array | null | undefined> {
    return this.writes.run(() => {
      if (this.stmt.touch.run({ id: deviceId, status: 'GetBootstrapToken', at }).changes === 0) return undefined;
      const row = this.stmt.getBootstrapToken.get(deviceId) as { bootstrap_token: Buffer | null };
      this.event(event);
      return row.bootstrap_token;
    });
  }

  async recordSeen(id: string, status: string, at: string, event?: EventDraft): Promise<boolean> {
    return this.writes.run(() => {
      if (this.stmt.touch.run({ id, status, at }).changes === 0) return false;
      this.event(event);
      return true;
    });
  }

  async getEnrollment(id: string): Promise<Enrollment | undefined> {
    await this.flushSeen();
    const row = this.stmt.getEnrollment.get(id) as EnrollmentRow | undefined;
    return row && toEnrollment(row);
  }

  async getIdentityBinding(fingerprint: string): Promise<IdentityBinding | undefined> {
    const row = this.stmt.getIdentity.get(fingerprint) as IdentityRow | undefined;
    return row && toIdentityBinding(row);
  }

  async admitIdentity<D extends AdmissionChange>(binding: IdentityBinding, decide: (facts: AdmissionFacts) => D): Promise<D> {
    return this.writes.run(() => this.admitted(binding, decide));
  }

  async admitAuthenticate<D extends AdmissionChange>(
    binding: IdentityBinding,
    decide: (facts: AdmissionFacts) => D,
    record: (decision: D) => AuthenticateRecord | null,
  ): Promise<{ decision: D; created?: boolean }> {
    return this.writes.run(() => {
      const decision = this.admitted(binding, decide);
      const rec = record(decision);
      return rec === null ? { decision } : { decision, ...this.authenticated(rec) };
    });
  }

  /** admitIdentity's reads and writes, inside the caller's transaction. */
  private admitted<D extends AdmissionChange>(binding: IdentityBinding, decide: (facts: AdmissionFacts) => D): D {
    const bound = this.stmt.getIdentity.get(binding.fingerprint) as IdentityRow | undefined;
    const device = this.stmt.getEnrollment.get(binding.deviceId) as EnrollmentRow | undefined;
    const decision = decide({
      boundTo: bound?.device_id,
      deviceBindings: (this.stmt.listIdentities.all(binding.deviceId) as IdentityRow[]).map(toIdentityBinding),
      device: device && { state: device.state, serialNumber: device.serial_number, identityRenewalUntil: device.identity_renewal_until },
      revoked: this.stmt.issuedRevoked.get(binding.fingerprint) !== undefined,
    });
    if (decision.bind) {
      this.stmt.bindIdentity.run(binding);
      this.stmt.issuedBoundTo.run({ fingerprint: binding.fingerprint, deviceId: binding.deviceId });
    }
    if (decision.consumeRenewal) this.stmt.setRenewal.run({ id: binding.deviceId, until: null });
    return decision;
  }

  async identityAnchors(): Promise<{ anchor: string | null; devices: number }[]> {
    return this.stmt.identityAnchors.all() as { anchor: string | null; devices: number }[];
  }

  async listIdentityBindings(deviceId: string): Promise<IdentityBinding[]> {
    return (this.stmt.listIdentities.all(deviceId) as IdentityRow[]).map(toIdentityBinding);
  }

  async unbindIdentities(deviceId: string): Promise<number> {
    return this.writes.run(() => this.stmt.unbindIdentities.run(deviceId).changes);
  }

  async setIdentityRenewal(deviceId: string, until: string | null): Promise<void> {
    await this.writes.run(() => this.stmt.setRenewal.run({ id: deviceId, until }));
  }

  async unbindIdentity(fingerprint: string, deviceId: string): Promise<void> {
    await this.writes.run(() => this.stmt.unbindIdentity.run(fingerprint, deviceId));
  }

  async getPushTargets(ids: string[]): Promise<Map<string, PushTargetRecord>> {
    return this.db.transaction(() => {
      const targets = new Map<string, PushTargetRecord>();
      for (const id of ids) {
        const row = this.stmt.pushTarget.get(id) as PushTargetRow | undefined;
        if (row !== undefined) targets.set(id, toPushTarget(row));
      }
      return targets;
    })();
  }

  async recordPushResults(results: PushResultRecord[], at: string, events: EventDraft[] = []): Promise<void> {
    await this.writes.run(() => {
      for (const r of results) {
        const verdict = { invalid: r.tokenInvalid ? 1 : 0, sandbox: r.sandbox ? 1 : 0 };
        this.stmt.recordPush.run({ id: r.id, result: r.result, ...verdict, token: blob(r.pushToken), at });
      }
      for (const event of events) this.event(event);
    });
  }

  async getPushCertificate(): Promise<StoredPushCertificate | undefined> {
    const row = this.stmt.getPushCertificate.get() as PushCertificateRow | undefined;
    return row && toPushCertificate(row);
  }

  async savePushCertificate(cert: StoredPushCertificate): Promise<void> {
    await this.writes.run(() => this.stmt.savePushCertificate.run(cert));
  }

  async recordInventory(rec: InventoryRecord): Promise<boolean> {
    const bit = (v: boolean | undefined) => (v === undefined ? null : v ? 1 : 0);
    const values = {
      deviceId: rec.deviceId,
      values: JSON.stringify(rec.values),
      deviceName: rec.deviceName ?? null,
      model: rec.model ?? null,
      serialNumber: rec.serialNumber ?? null,
      osVersion: rec.osVersion ?? null,
      supervised: bit(rec.supervised),
      multiUser: bit(rec.multiUser),
      at: rec.at,
    };
    return this.writes.run(() => this.stmt.recordInventory.run(values).changes === 1);
  }

  async deleteEnrollment(id: string): Promise<boolean> {
    // A re-push job left for a deleted channel finds nothing to push, and ends.
    return this.writes.run(() => {
      if (this.stmt.deleteEnrollment.run({ id }).changes === 0) return false;
      this.stmt.unbindIdentities.run(id); // bindings are the device's: none match a user channel id
      return true;
    });
  }

  // Fan-out to 100,000 enrollments is a statement per chunk of ids (fan-out.ts) for traits and
  // targets: the ids go in as one JSON array (json_each), and the traits come back grouped with
  // their ids as JSON arrays, several times faster than a statement, or a row object, per id.
  async groupByTraits(ids: string[]): Promise<{ traits: EnrollmentTraits; ids: string[] }[]> {
    const rows = this.stmt.traitGroups.all(JSON.stringify([...new Set(ids)])) as TraitGroupRow[];
    return rows.map(({ ids: members, ...traits }) => ({ traits: toTraits(traits), ids: JSON.parse(members) as string[] }));
  }

  async enqueue(command: NewCommand, enrollmentIds: string[], at: string, options: EnqueueOptions = {}): Promise<Map<string, EnqueueOutcome>> {
    const unique = [...new Set(enrollmentIds)];
    let queued: ReadonlySet<string> | 'all' = new Set();
    let known = new Set<string>();
    try {
      // In the write transaction (BEGIN IMMEDIATE): with unlessPending, "nothing of this type is
      // pending" must still hold when the row goes in.
      await this.writes.run(() => {
        // The group commit runs this again alone if its batch fails: nothing of a rolled-back run
        // may leak into the answer.
        queued = new Set();
        known = new Set();
        if (this.stmt.insertCommand.run({ ...command, payload: blob(command.payload), at }).changes === 0) {
          throw new DuplicateCommandError(command.uuid);
        }
        const insert = options.unlessPending ? this.stmt.insertTargetsUnlessPending : this.stmt.insertTargets;
        let changes = 0;
        for (const chunk of fanOutChunks(unique)) {
          changes += insert.run({ ids: JSON.stringify(chunk), uuid: command.uuid, requestType: command.requestType, at }).changes;
        }
        // Read before a rollback, which still answers why a known target was passed over.
        if (options.unlessPending && changes < unique.length) {
          known = new Set([...fanOutChunks(unique)].flatMap((chunk) => this.stmt.knownIds.all(JSON.stringify(chunk)) as string[]));
        }
        // A command no enrollment received is not kept: throwing rolls the transaction back.
        if (changes === 0) throw NOTHING_QUEUED;
        // Usually every target was queued (the caller gated on known enrollments), and nothing
        // needs to come back; otherwise the command, new in this transaction, names its targets.
        queued = changes === unique.length ? 'all' : new Set(this.stmt.targetsOfCommand.all(command.uuid) as string[]);
        if (options.event) this.event({ ...options.event, data: { ...options.event.data, targets: queued === 'all' ? unique : [...queued] } });
      });
    } catch (err) {
      if (err !== NOTHING_QUEUED) throw err;
    }
    return enqueueOutcomes(enrollmentIds, queued, known);
  }

  async recordDeviceConfigured(id: string): Promise<boolean> {
    return this.writes.run(() => this.stmt.deviceConfigured.run(id).changes === 1);
  }

  async recordResult(rec: ResultRecord): Promise<RecordedResult> {
    const recorded = await (this.largeWriter !== null && rec.raw.byteLength >= LARGE_RESULT_BYTES ? this.largeWriter.recordResult(rec) : this.storeResult(rec));
    // As for Idle (startSession): the result is durable, its "last seen" is bookkeeping, and
    // leaving it out of the commit spares the enrollment's row and last-seen index pages. It is
    // buffered here, also for a large result, so that this instance's reads flush it.
    if (recorded.outcome !== 'unknown-enrollment') this.bufferSeen(rec.enrollmentId, rec.status, rec.at);
    return recorded;
  }

  /** The result's own write, without its "last seen": what the large-result worker runs. */
  async storeResult(rec: ResultRecord): Promise<RecordedResult> {
    return this.writes.run((): RecordedResult => {
      // The enrollment and its target of this command in one read: no row, no enrollment; a row
      // without a seq, no such command for it.
      const target = this.stmt.resultTarget.get(rec.commandUuid, rec.enrollmentId) as
        | { seq: number | null; state: string; request_type: string }
        | undefined;
      if (target === undefined) return { outcome: 'unknown-enrollment', requestType: null };
      if (target.seq === null) return { outcome: 'unknown-command', requestType: null };
      const outcome = (o: ResultOutcome): RecordedResult => ({ outcome: o, requestType: target.request_type });
      if (rec.status === 'NotNow') {
        // Only a pending command can be deferred; a NotNow for one that is already final (a
        // replay) or cancelled changes nothing.
        if (target.state !== 'queued' && target.state !== 'notnow') return outcome('replayed');
        this.stmt.deferTarget.run({ seq: target.seq, at: rec.at });
        this.event(rec.event);
        return outcome('notnow');
      }
      // A cancelled command that the device ran anyway still gets its result stored.
      if (target.state !== 'queued' && target.state !== 'notnow' && target.state !== 'cancelled') {
        return outcome('replayed');
      }
      this.stmt.completeTarget.run({
        seq: target.seq,
        state: rec.status.toLowerCase(),
        result: blob(rec.raw),
        errorChain: rec.errorChain && JSON.stringify(rec.errorChain),
        at: rec.at,
      });
      this.event(rec.event);
      return outcome('completed');
    });
  }

  async startSession(id: string, at: string, event?: EventDraft): Promise<boolean> {
    // Whether the enrollment exists and has deferred commands, in one read (undefined: unknown).
    const deferred = this.stmt.sessionStart.get(id) as number | undefined;
    if (deferred === undefined) return false;
    // Most sessions follow no deferral and no webhook wants them: the Idle that starts them then
    // writes nothing durable (no fsync on the busiest request), and its "last seen" joins the
    // buffer below.
    const requeue = deferred === 1;
    const recorded = event !== undefined && this.events.wants(event.topic) ? event : undefined;
    if (requeue || recorded !== undefined) {
      await this.writes.run(() => {
        if (requeue) this.stmt.requeueDeferred.run({ id, at });
        this.event(recorded);
      });
    }
    this.bufferSeen(id, 'Idle', at);
    return true;
  }

  /**
   * "Last seen" of Idle requests is written in batches, within SEEN_FLUSH_MS: it is bookkeeping
   * nothing was acknowledged for, so a crash may lose at most that much of it. Every read that
   * returns enrollments flushes first, so readers never see it stale.
   */
  private bufferSeen(id: string, status: string, at: string): void {
    this.seenBuffer.set(id, { status, at });
    if (this.seenTimer === null) {
      // A failed flush has put its times back; the next read or Idle writes them.
      this.seenTimer = setTimeout(() => void this.flushSeen().catch(() => {}), SEEN_FLUSH_MS);
      this.seenTimer.unref();
    }
  }

  /** Writes the buffered times, through group commit: it takes the write lock without waiting.
   *  A transaction of its own would wait in SQLite's busy handler, which sleeps on the event
   *  loop's thread, whenever another writer holds the lock (the large-result thread, for tens of
   *  milliseconds per 4 MiB result), and every request of the process would wait with it. With
   *  nothing buffered, it still waits for the write in flight, whose times a reader must see. */
  private flushSeen(): Promise<void> {
    if (this.seenTimer !== null) clearTimeout(this.seenTimer);
    this.seenTimer = null;
    if (this.seenBuffer.size === 0 || !this.db.open) return this.seenWritten;
    const entries = [...this.seenBuffer];
    this.seenBuffer.clear();
    const written = this.writes
      .run(() => {
        for (const [id, seen] of entries) this.stmt.touchIfNewer.run({ id, ...seen });
      })
      .catch((err: unknown) => {
        // Kept for the next flush, unless newer times came meanwhile (the write keeps the newest).
        for (const [id, seen] of entries) if (!this.seenBuffer.has(id)) this.seenBuffer.set(id, seen);
        throw err;
      });
    this.seenWritten = written.catch(() => {});
    return written;
  }

  async hasDeferred(enrollmentId: string): Promise<boolean> {
    return this.stmt.hasDeferred.get(enrollmentId) !== undefined;
  }

  async nextCommand(enrollmentId: string): Promise<QueuedCommand | undefined> {
    const row = this.stmt.nextCommand.get(enrollmentId) as
      | { uuid: string; request_type: string; payload: Buffer }
      | undefined;
    return row && { uuid: row.uuid, requestType: row.request_type, payload: row.payload };
  }

  async getCommand(uuid: string, page: { after?: string; limit: number } = { limit: -1 }): Promise<CommandRecord | undefined> {
    const cmd = this.stmt.getCommand.get(uuid) as
      | { uuid: string; request_type: string; payload: Buffer; created_at: string }
      | undefined;
    if (cmd === undefined) return undefined;
    const rows = this.stmt.getTargets.all({ uuid, after: page.after ?? null, limit: page.limit }) as TargetRow[];
    return { uuid: cmd.uuid, requestType: cmd.request_type, payload: cmd.payload, createdAt: cmd.created_at, targets: rows.map(toCommandTarget) };
  }

  async listEnrollments(filter: EnrollmentFilter, page: { after?: string; limit: number }): Promise<Enrollment[]> {
    await this.flushSeen();
    const query = enrollmentListQuery(filter, page, () => '?');
    return (this.db.prepare(query.text).all(query.values) as EnrollmentRow[]).map(toEnrollment);
  }

  async listCommands(filter: CommandFilter, page: { before?: { createdAt: string; uuid: string }; limit: number }): Promise<CommandSummary[]> {
    const query = commandListQuery(filter, page, () => '?');
    const commands = this.db.prepare(query.text).all(query.values) as CommandSummaryRow[];
    const counts = this.stmt.targetCounts.all(JSON.stringify(commands.map((c) => c.uuid))) as TargetCountRow[];
    return toCommandSummaries(commands, counts);
  }

  async listQueue(enrollmentId: string): Promise<QueueEntry[] | undefined> {
    return this.db.transaction(() => {
      if (this.stmt.enrollmentExists.get(enrollmentId) === undefined) return undefined;
      return (this.stmt.listQueue.all(enrollmentId) as QueueRow[]).map(toQueueEntry);
    })();
  }

  async cancelPending(enrollmentId: string, commandUuid: string | null, at: string, event?: EventDraft): Promise<number | undefined> {
    return this.writes.run(() => {
      if (this.stmt.enrollmentExists.get(enrollmentId) === undefined) return undefined;
      const cancelled = this.stmt.cancelPending.all({ id: enrollmentId, uuid: commandUuid, at }) as string[];
      if (cancelled.length > 0 && event) this.event({ ...event, data: { ...event.data, command_uuids: cancelled } });
      return cancelled.length;
    });
  }

  async listEnrollmentCommands(enrollmentId: string, page: { before?: number; limit: number }): Promise<HistoryEntry[] | undefined> {
    return this.db.transaction(() => {
      if (this.stmt.enrollmentExists.get(enrollmentId) === undefined) return undefined;
      const rows = this.stmt.history.all({ id: enrollmentId, before: page.before ?? null, limit: page.limit }) as HistoryRow[];
      return rows.map(toHistoryEntry);
    })();
  }

  async prune(cutoffs: { resultsBefore: string | null; checkedOutBefore: string | null }): Promise<PruneCounts> {
    // Each batch is one short transaction, and the event loop gets a turn between batches, so
    // device requests are served while a large backlog is pruned.
    const batches = async (stmt: Statement, params: object) => {
      let total = 0;
      for (let n = -1; n !== 0; total += n) {
        n = await this.writes.run(() => stmt.run({ ...params, batch: PRUNE_BATCH }).changes);
        await new Promise((resolve) => setImmediate(resolve));
      }
      return total;
    };
    const enrollments = cutoffs.checkedOutBefore === null ? 0 : await batches(this.stmt.pruneCheckedOut, { before: cutoffs.checkedOutBefore });
    const results = cutoffs.resultsBefore === null ? 0 : await batches(this.stmt.pruneResults, { before: cutoffs.resultsBefore });
    const commands = await batches(this.stmt.pruneOrphanCommands, {});
    // Bindings of devices that are gone would otherwise keep their certificates from re-enrolling.
    await batches(this.stmt.pruneIdentities, {});
    return { results, commands, enrollments };
  }

  async scheduleJob(job: { key: string; kind: string; payload?: unknown; runAt: string }): Promise<void> {
    await this.writes.run(() => this.stmt.scheduleJob.run({ key: job.key, kind: job.kind, payload: JSON.stringify(job.payload ?? null), runAt: job.runAt }));
  }

  async claimJobs(now: string, leaseUntil: string, limit: number): Promise<ClaimedJob[]> {
    const token = randomUUID();
    const rows = (await this.writes.run(() => this.stmt.claimJobs.all({ token, now, leaseUntil, limit }))) as JobRow[];
    return rows.map((r) => ({ ...toJob(r), token }));
  }

  async finishJob(job: ClaimedJob, next: { runAt: string; error?: string } | null): Promise<void> {
    const params = { key: job.key, token: job.token, runAt: next?.runAt ?? null, error: next?.error ?? null };
    await this.writes.run(() => {
      if (next === null && this.stmt.deleteFinishedJob.run(params).changes === 1) return;
      this.stmt.releaseJob.run(params);
    });
  }

  async listJobs(): Promise<Job[]> {
    return (this.stmt.listJobs.all() as JobRow[]).map(toJob);
  }

  async sharedSecret(name: string, create: () => string): Promise<{ value: string; created: boolean }> {
    const existing = this.stmt.getSecret.get(name) as string | undefined;
    if (existing !== undefined) return { value: existing, created: false };
    // Another process may store its own first; whichever insert wins is the secret for everyone.
    const created = await this.writes.run(() => this.stmt.insertSecret.run({ name, value: create(), at: new Date().toISOString() }).changes === 1);
    return { value: this.stmt.getSecret.get(name) as string, created };
  }

  async heartbeat(at: string): Promise<void> {
    await this.writes.run(() => this.stmt.heartbeat.run(at));
  }

  async stats(): Promise<StorageStats> {
    const targets = this.stmt.targetsByState.all() as { state: TargetState; count: number }[];
    const enrollments = this.stmt.enrollmentsByState.all() as StorageStats['enrollments'];
    const soonestIdentityExpiry = (this.stmt.soonestIdentityExpiry.get() as string | null) ?? null;
    return { commandTargetsByState: countsByState(targets), enrollments, soonestIdentityExpiry };
  }

  async close(): Promise<void> {
    await this.largeWriter?.close();
    await this.flushSeen();
    this.events.close();
    await this.walSync?.close();
    if (this.db.open) this.db.close();
  }
}

/** A second connection for webhook delivery bookkeeping (claims, outcomes), committing with
 *  synchronous=NORMAL: in WAL mode such a commit survives kill -9 and may be lost only to a power
 *  failure, which at worst delivers an event again (delivery is at least once). Device changes and
 *  their events stay on the main connection, durable. In one process the two never wait on each
 *  other: better-sqlite3's transactions are synchronous, so one always ends before the other starts. */
function openBookkeeping(path: string): Database {
  const db = new BetterSqlite3(path);
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${BOOKKEEPING_CACHE_KIB}`);
  return db;
}

/** better-sqlite3 binds Buffers as BLOBs; wrap a Uint8Array's memory without copying it. */
function blob(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function prepareStatements(db: Database) {
  return {
    upsertAuthenticate: db.prepare(`
      INSERT INTO enrollments (id, device_id, channel, type, state, serial_number, platform, os_version,
        facts, topic, first_seen_at, last_seen_at, last_status, authenticated_at)
      VALUES (@id, @id, 'device', @type, 'authenticated', @serial, @platform, @osVersion,
        @facts, @topic, @at, @at, 'Authenticate', @at)
      ON CONFLICT (id) DO UPDATE SET type = excluded.type, state = 'authenticated',
        serial_number = excluded.serial_number, platform = excluded.platform, os_version = excluded.os_version,
        facts = excluded.facts, topic = excluded.topic,
        last_seen_at = excluded.last_seen_at, last_status = 'Authenticate',
        authenticated_at = excluded.authenticated_at, checked_out_at = NULL, awaiting_configuration = 0`),
    resetUserChannels: db.prepare(`
      UPDATE enrollments SET state = 'authenticated' WHERE device_id = @deviceId AND channel = 'user'`),
    cancelPendingOfDevice: db.prepare(`
      UPDATE command_targets SET state = 'cancelled', updated_at = @at
      WHERE ${PENDING} AND enrollment_id IN (SELECT id FROM enrollments WHERE device_id = @deviceId)`),
    enrollmentExists: db.prepare('SELECT 1 FROM enrollments WHERE id = ?'),
    enrollmentState: db.prepare('SELECT state FROM enrollments WHERE id = ?').pluck(),
    deviceTokenUpdate: db.prepare(`
      UPDATE enrollments SET topic = @topic, push_token = @token, push_magic = @magic,
        unlock_token = COALESCE(@unlock, unlock_token), awaiting_configuration = @awaiting,
        state = 'enrolled', token_updated_at = @at, checked_out_at = NULL, push_token_invalid = 0, apns_sandbox = 0,
        last_seen_at = @at, last_status = 'TokenUpdate'
      WHERE id = @id AND channel = 'device'`),
    upsertUserTokenUpdate: db.prepare(`
      INSERT INTO enrollments (id, device_id, channel, type, state, user_id, user_short_name,
        user_long_name, topic, push_token, push_magic, awaiting_configuration,
        first_seen_at, last_seen_at, last_status, token_updated_at)
      VALUES (@id, @deviceId, 'user', @type, 'enrolled', @userId, @userShortName, @userLongName,
        @topic, @token, @magic, @awaiting, @at, @at, 'TokenUpdate', @at)
      ON CONFLICT (id) DO UPDATE SET type = excluded.type, state = 'enrolled',
        user_id = excluded.user_id, user_short_name = excluded.user_short_name,
        user_long_name = excluded.user_long_name, topic = excluded.topic,
        push_token = excluded.push_token, push_magic = excluded.push_magic,
        awaiting_configuration = excluded.awaiting_configuration,
        token_updated_at = excluded.token_updated_at, checked_out_at = NULL, push_token_invalid = 0, apns_sandbox = 0,
        last_seen_at = excluded.last_seen_at, last_status = 'TokenUpdate'`),
    touch: db.prepare('UPDATE enrollments SET last_seen_at = @at, last_status = @status WHERE id = @id'),
    // A buffered Idle never overwrites something the enrollment did later.
    touchIfNewer: db.prepare('UPDATE enrollments SET last_seen_at = @at, last_status = @status WHERE id = @id AND last_seen_at < @at'),
    // Checking out the device channel ends its user channels too; a user channel ends alone.
    checkOut: db.prepare(`
      UPDATE enrollments SET state = 'checked-out', checked_out_at = @at
      WHERE id = @id OR (device_id = @id AND (SELECT channel FROM enrollments WHERE id = @id) = 'device')`),
    setBootstrapToken: db.prepare(`
      UPDATE enrollments SET bootstrap_token = @token, last_seen_at = @at, last_status = 'SetBootstrapToken'
      WHERE id = @id AND channel = 'device'`),
    getBootstrapToken: db.prepare('SELECT bootstrap_token FROM enrollments WHERE id = ?'),
    getEnrollment: db.prepare('SELECT * FROM enrollments WHERE id = ?'),
    getIdentity: db.prepare('SELECT * FROM device_identities WHERE fingerprint = ?'),
    listIdentities: db.prepare('SELECT * FROM device_identities WHERE device_id = ? ORDER BY bound_at'),
    bindIdentity: db.prepare(`
      INSERT INTO device_identities (fingerprint, device_id, subject, not_after, bound_at, anchor)
      VALUES (@fingerprint, @deviceId, @subject, @notAfter, @boundAt, @anchor) ON CONFLICT (fingerprint) DO NOTHING`),
    issuedRevoked: db.prepare('SELECT 1 FROM issued_identities WHERE fingerprint = ? AND revoked_at IS NOT NULL'),
    issuedBoundTo: db.prepare('UPDATE issued_identities SET device_id = @deviceId WHERE fingerprint = @fingerprint'),
    identityAnchors: db.prepare('SELECT anchor, count(DISTINCT device_id) AS devices FROM device_identities GROUP BY anchor ORDER BY anchor'),
    soonestIdentityExpiry: db
      .prepare(`
        SELECT min(i.not_after) FROM device_identities i JOIN enrollments e ON e.id = i.device_id
        WHERE e.state <> 'checked-out'`)
      .pluck(),
    recordInventory: db.prepare(`
      UPDATE enrollments SET inventory = json_patch(coalesce(inventory, '{}'), @values), inventory_updated_at = @at,
        device_name = coalesce(@deviceName, device_name), model = coalesce(@model, model),
        serial_number = coalesce(@serialNumber, serial_number), os_version = coalesce(@osVersion, os_version),
        supervised = coalesce(@supervised, supervised), multi_user = coalesce(@multiUser, multi_user)
      WHERE id = @deviceId AND channel = 'device'`),
    // A device channel goes with its user channels; cascades take their queues and results.
    deleteEnrollment: db.prepare(`
      DELETE FROM enrollments WHERE id = @id OR (device_id = @id AND (SELECT channel FROM enrollments WHERE id = @id) = 'device')`),
    unbindIdentities: db.prepare('DELETE FROM device_identities WHERE device_id = ?'),
    unbindIdentity: db.prepare('DELETE FROM device_identities WHERE fingerprint = ? AND device_id = ?'),
    setRenewal: db.prepare(`UPDATE enrollments SET identity_renewal_until = @until WHERE id = @id AND channel = 'device'`),
    pruneIdentities: db.prepare(`
      DELETE FROM device_identities WHERE fingerprint IN (
        SELECT fingerprint FROM device_identities d WHERE NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.id = d.device_id)
        LIMIT ${boundLimit('@batch')})`),
    pushTarget: db.prepare('SELECT id, state, topic, push_token, push_magic, push_token_invalid, apns_sandbox FROM enrollments WHERE id = ?'),
    // A dead-token verdict applies to the token that was pushed: if a TokenUpdate replaced it while
    // the push was in flight, the new token stays valid. Only a TokenUpdate clears the flag.
    recordPush: db.prepare(`
      UPDATE enrollments SET last_push_at = @at, last_push_result = @result,
        push_token_invalid = CASE WHEN @invalid = 1 AND push_token = @token THEN 1 ELSE push_token_invalid END,
        apns_sandbox = CASE WHEN push_token = @token THEN @sandbox ELSE apns_sandbox END
      WHERE id = @id`),
    getPushCertificate: db.prepare('SELECT * FROM push_certificate WHERE id = 1'),
    savePushCertificate: db.prepare(`
      INSERT INTO push_certificate (id, cert_pem, key_pem, topic, not_after, updated_at)
      VALUES (1, @certPem, @keyPem, @topic, @notAfter, @updatedAt)
      ON CONFLICT (id) DO UPDATE SET cert_pem = excluded.cert_pem, key_pem = excluded.key_pem,
        topic = excluded.topic, not_after = excluded.not_after, updated_at = excluded.updated_at`),
    // A user channel runs on its device channel's platform.
    // The ids are distinct (the caller dedupes); a device channel is its own device row.
    traitGroups: db.prepare(`
      SELECT e.type, e.channel, d.platform, d.os_version, d.supervised, d.multi_user, json_group_array(e.id) AS ids
      FROM json_each(?) j JOIN enrollments e ON e.id = j.value LEFT JOIN enrollments d ON d.id = e.device_id
      GROUP BY e.type, e.channel, d.platform, d.os_version, d.supervised, d.multi_user`),
    insertCommand: db.prepare(`
      INSERT INTO commands (uuid, request_type, payload, created_at) VALUES (@uuid, @requestType, @payload, @at)
      ON CONFLICT (uuid) DO NOTHING`),
    insertTargets: db.prepare(`
      INSERT INTO command_targets (enrollment_id, command_uuid, state, queued_at, updated_at)
      SELECT e.id, @uuid, 'queued', @at, @at FROM json_each(@ids) j JOIN enrollments e ON e.id = j.value`),
    insertTargetsUnlessPending: db.prepare(`
      INSERT INTO command_targets (enrollment_id, command_uuid, state, queued_at, updated_at)
      SELECT e.id, @uuid, 'queued', @at, @at FROM json_each(@ids) j JOIN enrollments e ON e.id = j.value
      WHERE NOT EXISTS (SELECT 1 FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
        WHERE t.enrollment_id = e.id AND t.${PENDING} AND c.request_type = @requestType AND t.command_uuid <> @uuid)`),
    targetsOfCommand: db.prepare('SELECT enrollment_id FROM command_targets WHERE command_uuid = ?').pluck(),
    knownIds: db.prepare('SELECT e.id FROM json_each(?) j JOIN enrollments e ON e.id = j.value').pluck(),
    deviceConfigured: db.prepare('UPDATE enrollments SET awaiting_configuration = 0 WHERE id = ?'),
    resultTarget: db.prepare(`
      SELECT t.seq, t.state, c.request_type FROM enrollments e
        LEFT JOIN command_targets t ON t.enrollment_id = e.id AND t.command_uuid = ?
        LEFT JOIN commands c ON c.uuid = t.command_uuid
      WHERE e.id = ?`),
    deferTarget: db.prepare(`
      UPDATE command_targets SET state = 'notnow', notnow_count = notnow_count + 1, updated_at = @at
      WHERE seq = @seq`),
    completeTarget: db.prepare(`
      UPDATE command_targets SET state = @state, result = @result, error_chain = @errorChain, updated_at = @at
      WHERE seq = @seq`),
    requeueDeferred: db.prepare(`
      UPDATE command_targets SET state = 'queued', updated_at = @at WHERE enrollment_id = @id AND state = 'notnow'`),
    hasDeferred: db.prepare(`SELECT 1 FROM command_targets WHERE enrollment_id = ? AND state = 'notnow' LIMIT 1`),
    sessionStart: db
      .prepare(`SELECT EXISTS (SELECT 1 FROM command_targets t WHERE t.enrollment_id = e.id AND t.state = 'notnow') FROM enrollments e WHERE e.id = ?`)
      .pluck(),
    nextCommand: db.prepare(`
      SELECT c.uuid, c.request_type, c.payload FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
      WHERE t.enrollment_id = ? AND t.state = 'queued' ORDER BY t.seq LIMIT 1`),
    getCommand: db.prepare('SELECT * FROM commands WHERE uuid = ?'),
    // A checked-out device goes with its user channels; ON DELETE CASCADE takes their commands.
    pruneCheckedOut: db.prepare(`
      DELETE FROM enrollments WHERE id IN (
        SELECT id FROM enrollments WHERE state = 'checked-out' AND checked_out_at < @before
          AND (channel = 'user' OR NOT EXISTS (
            SELECT 1 FROM enrollments u WHERE u.device_id = enrollments.id AND u.channel = 'user' AND u.state <> 'checked-out'))
        LIMIT ${boundLimit('@batch')})`),
    pruneResults: db.prepare(`
      DELETE FROM command_targets WHERE seq IN (
        SELECT seq FROM command_targets WHERE state NOT IN ('queued', 'notnow') AND updated_at < @before LIMIT ${boundLimit('@batch')})`),
    pruneOrphanCommands: db.prepare(`
      DELETE FROM commands WHERE uuid IN (
        SELECT uuid FROM commands c WHERE NOT EXISTS (SELECT 1 FROM command_targets t WHERE t.command_uuid = c.uuid)
        LIMIT ${boundLimit('@batch')})`),
    // A job that exists keeps its earlier run time; one running now is marked to run again.
    scheduleJob: db.prepare(`
      INSERT INTO jobs (key, kind, payload, run_at) VALUES (@key, @kind, @payload, @runAt)
      ON CONFLICT (key) DO UPDATE SET payload = excluded.payload,
        run_at = CASE WHEN lease_token IS NULL THEN min(run_at, excluded.run_at) ELSE run_at END,
        rerun_at = CASE WHEN lease_token IS NULL THEN rerun_at ELSE min(coalesce(rerun_at, excluded.run_at), excluded.run_at) END`),
    claimJobs: db.prepare(`
      UPDATE jobs SET lease_token = @token, lease_until = @leaseUntil, attempts = attempts + 1
      WHERE key IN (SELECT key FROM jobs WHERE run_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
        ORDER BY run_at LIMIT ${boundLimit('@limit')})
      RETURNING key, kind, payload, run_at, attempts`),
    deleteFinishedJob: db.prepare('DELETE FROM jobs WHERE key = @key AND lease_token = @token AND rerun_at IS NULL'),
    // A retry keeps counting attempts; a periodic run or a re-run asked for meanwhile starts afresh.
    releaseJob: db.prepare(`
      UPDATE jobs SET run_at = CASE WHEN @runAt IS NULL THEN rerun_at ELSE min(@runAt, coalesce(rerun_at, @runAt)) END,
        attempts = CASE WHEN @error IS NULL THEN 0 ELSE attempts END, last_error = @error,
        rerun_at = NULL, lease_token = NULL, lease_until = NULL
      WHERE key = @key AND lease_token = @token`),
    listJobs: db.prepare('SELECT key, kind, payload, run_at, attempts FROM jobs ORDER BY run_at, key'),
    getSecret: db.prepare('SELECT value FROM secrets WHERE name = ?').pluck(),
    insertSecret: db.prepare('INSERT INTO secrets (name, value, created_at) VALUES (@name, @value, @at) ON CONFLICT (name) DO NOTHING'),
    heartbeat: db.prepare('INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
    targetsByState: db.prepare('SELECT state, count(*) AS count FROM command_targets GROUP BY state'),
    targetCounts: db.prepare(`
      SELECT command_uuid, state, count(*) AS count FROM command_targets
      WHERE command_uuid IN (SELECT value FROM json_each(?)) GROUP BY command_uuid, state`),
    enrollmentsByState: db.prepare('SELECT state, channel, count(*) AS count FROM enrollments GROUP BY state, channel ORDER BY state, channel'),
    // LIMIT -1 is SQLite's "no limit".
    getTargets: db.prepare(`
      SELECT * FROM command_targets WHERE command_uuid = @uuid AND (@after IS NULL OR enrollment_id > @after)
      ORDER BY enrollment_id LIMIT ${boundLimit('@limit')}`),
    listQueue: db.prepare(`
      SELECT t.*, c.request_type FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
      WHERE t.enrollment_id = ? AND t.${PENDING} ORDER BY t.seq`),
    cancelPending: db
      .prepare(`
        UPDATE command_targets SET state = 'cancelled', updated_at = @at
        WHERE enrollment_id = @id AND ${PENDING} AND (@uuid IS NULL OR command_uuid = @uuid) RETURNING command_uuid`)
      .pluck(),
    history: db.prepare(`
      SELECT t.*, c.request_type FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
      WHERE t.enrollment_id = @id AND (@before IS NULL OR t.seq < @before) ORDER BY t.seq DESC LIMIT ${boundLimit('@limit')}`),
  };
}
