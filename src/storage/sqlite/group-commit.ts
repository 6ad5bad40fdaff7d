// Group commit for the SQLite backend. With synchronous=FULL every commit waits for an fsync of
// the WAL, and better-sqlite3 waits on the event loop's thread: one fsync per device result caps
// throughput at the disk's flush rate. Writes that arrive in the same event-loop turn are instead
// run in one BEGIN IMMEDIATE transaction on the next setImmediate, each in its own savepoint, and
// committed with one fsync; every caller's promise settles only after that commit, so no device
// is answered before its write is on disk.
//
// Isolation: a write that throws rolls back its own savepoint and fails only its caller. If the
// batch as a whole cannot commit (the transaction was aborted under a write, BEGIN or COMMIT
// failed), nothing of it is kept, and every write of it runs again alone, so each caller gets the
// outcome of its own write, as without batching. Writes are synchronous closures over the
// database: running one again after a rollback is the same as running it the first time.
//
// The write lock is taken without waiting: when another process holds it, SQLite's busy handler
// would sleep on this thread (and every request of the process with it), so the batch tries again
// on the event loop's next turn, and after LOCK_POLL_MS of that every millisecond, while requests
// go on being served and what arrives meanwhile joins it.
//
// With synchronous=FULL the batch's fsync is not run on this thread either: the batch commits with
// synchronous=NORMAL and its callers are answered once WalSync has synced the WAL (wal-sync.ts),
// so requests keep being served, and join the next batch, while the disk works.
//
// The cost: a write waits for the rest of its turn (the requests being handled at the same time)
// and for the fdatasync before its promise settles, instead of committing at once.
import type { Database } from 'better-sqlite3';
import type { WalSync } from './wal-sync.ts';

interface PendingWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/** A write transaction of a store's own, through a group commit: `work` runs synchronously inside
 *  it, and the promise settles once it is committed. */
export type Write = <T>(work: () => T) => Promise<T>;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** For how long a batch tries again for the write lock on every event-loop turn when another
 *  process holds it. Another worker's batch holds it for well under a millisecond, so with
 *  WORKERS=2 a 1 ms timer after each collision kept that batch's devices waiting for nothing:
 *  figure 12 read 1.21-1.31× polling against 1.19-1.28× with the timer alone (four runs each,
 *  interleaved; a noisy machine). A longer hold (a large result, a fan-out) is waited for with
 *  LOCK_RETRY_MS timers, so polling costs at most this much CPU per hold. */
const LOCK_POLL_MS = 2;
/** How soon a batch tries again for the write lock after LOCK_POLL_MS of polling. */
const LOCK_RETRY_MS = 1;

export class GroupCommit {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  /** When the pending batch first found the write lock taken (null: it has not). */
  private waitingSince: number | null = null;
  private readonly busyTimeoutMs: number;
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackTo;

  /** `wal`: when given, commits skip SQLite's own fsync and wait for `wal.durable()` instead; the
   *  connection must be at synchronous=FULL, which every other transaction on it keeps. */
  constructor(
    private readonly db: Database,
    private readonly wal: WalSync | null = null,
  ) {
    this.busyTimeoutMs = db.pragma('busy_timeout', { simple: true }) as number;
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT group_commit_write');
    this.release = db.prepare('RELEASE group_commit_write');
    this.rollbackTo = db.prepare('ROLLBACK TO group_commit_write');
  }

  /** Runs `work` in a write transaction shared with the writes of this turn; resolves with its
   *  result once that transaction is committed. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (!this.db.open) {
      for (const write of this.pending.splice(0)) write.reject(new TypeError('The database connection is not open'));
      return;
    }
    this.deferSync(true);
    if (!this.locked()) {
      this.deferSync(false);
      // Another process (WORKERS, a second instance) is writing. SQLite's busy handler would
      // sleep on this thread, and every request of this process with it; instead the event loop
      // keeps serving, and what arrives meanwhile joins the batch.
      this.scheduled = true;
      if (Date.now() - this.waitingSince! < LOCK_POLL_MS) setImmediate(() => this.flush());
      else setTimeout(() => this.flush(), LOCK_RETRY_MS);
      return;
    }
    const batch = this.pending.splice(0);
    const outcomes = this.together(batch);
    this.deferSync(false);
    if (outcomes === null) {
      for (const write of batch) settle(write, this.alone(write));
      return;
    }
    if (this.wal === null) {
      batch.forEach((write, i) => settle(write, outcomes[i]!));
      return;
    }
    this.wal.durable().then(
      () => batch.forEach((write, i) => settle(write, outcomes[i]!)),
      (error: unknown) => batch.forEach((write) => write.reject(error)),
    );
  }

  /** BEGIN IMMEDIATE without waiting; false when the write lock is taken. After the connection's
   *  busy timeout of trying, it waits as any statement would (and fails as it would). */
  private locked(): boolean {
    const waited = this.waitingSince === null ? 0 : Date.now() - this.waitingSince;
    if (waited >= this.busyTimeoutMs) {
      this.waitingSince = null;
      return this.tryBegin();
    }
    // db.exec compiles each time, and must: SQLite applies busy_timeout while compiling the
    // PRAGMA, so a statement prepared once would change nothing when run again. (exec, not
    // db.pragma: that builds a statement object and reads its result rows, 2.5 µs against 0.5.)
    this.db.exec('PRAGMA busy_timeout = 0');
    try {
      const ok = this.tryBegin();
      this.waitingSince = ok ? null : (this.waitingSince ?? Date.now());
      return ok;
    } finally {
      this.db.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /** False: the write lock is taken, try later. True: go on, with the transaction open or, when
   *  BEGIN failed otherwise, without one (each write then runs alone and reports the failure). */
  private tryBegin(): boolean {
    try {
      this.begin.run();
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_BUSY' && this.busyTimeoutMs > 0) return false;
      return true;
    }
  }

  /** The batch in the open transaction, a savepoint each, then committed; null when it could
   *  not be committed (nothing of it is kept). */
  private together(batch: PendingWrite[]): Outcome[] | null {
    if (!this.db.inTransaction) return null;
    const outcomes: Outcome[] = [];
    try {
      for (const write of batch) {
        outcomes.push(this.inSavepoint(write));
        // Some errors (SQLITE_FULL, SQLITE_IOERR) end the whole transaction, not just the
        // savepoint: what ran before is gone, so the batch must not be reported committed.
        if (!this.db.inTransaction) return null;
      }
      this.commit.run();
      return outcomes;
    } catch {
      if (this.db.inTransaction) this.rollback.run();
      return null;
    }
  }

  /** One write of the batch; if it throws, what it did is undone and the batch goes on. (Prepared
   *  savepoint statements: better-sqlite3's db.transaction() builds four wrappers per call.) */
  private inSavepoint(write: PendingWrite): Outcome {
    this.savepoint.run();
    try {
      const value = write.work();
      this.release.run();
      return { ok: true, value };
    } catch (error) {
      // Unless the error ended the whole transaction (see together()).
      if (this.db.inTransaction) {
        this.rollbackTo.run();
        this.release.run();
      }
      return { ok: false, error };
    }
  }

  /** With a WalSync, the batch commits without SQLite's fsync (its callers wait for WalSync's).
   *  SQLite refuses to change this inside a transaction, so it brackets BEGIN…COMMIT. */
  private deferSync(defer: boolean): void {
    if (this.wal !== null) this.db.exec(`PRAGMA synchronous = ${defer ? 'NORMAL' : 'FULL'}`);
  }

  /** A write alone commits with the connection's own fsync: it is the rare path. */
  private alone(write: PendingWrite): Outcome {
    try {
      return { ok: true, value: this.db.transaction(write.work).immediate() };
    } catch (error) {
      return { ok: false, error };
    }
  }
}

function settle(write: PendingWrite, outcome: Outcome): void {
  if (outcome.ok) write.resolve(outcome.value);
  else write.reject(outcome.error);
}
