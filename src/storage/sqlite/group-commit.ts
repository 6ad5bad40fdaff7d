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
// The cost: a write waits for the rest of its turn (the requests being handled at the same time)
// before its commit, instead of committing at once.
import type { Database } from 'better-sqlite3';

interface PendingWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  private pending: PendingWrite[] = [];
  private scheduled = false;

  constructor(private readonly db: Database) {}

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
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    if (!this.db.open) {
      for (const write of batch) write.reject(new TypeError('The database connection is not open'));
      return;
    }
    const outcomes = batch.length === 1 ? null : this.together(batch);
    if (outcomes === null) {
      for (const write of batch) settle(write, this.alone(write));
      return;
    }
    batch.forEach((write, i) => settle(write, outcomes[i]!));
  }

  /** The batch in one transaction, a savepoint each; null when it could not be committed. */
  private together(batch: PendingWrite[]): Outcome[] | null {
    const outcomes: Outcome[] = [];
    try {
      this.db
        .transaction(() => {
          for (const write of batch) {
            try {
              // A transaction function called inside a transaction runs in a savepoint.
              outcomes.push({ ok: true, value: this.db.transaction(write.work)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
            // Some errors (SQLITE_FULL, SQLITE_IOERR) end the whole transaction, not just the
            // savepoint: what ran before is gone, so the batch must not be reported committed.
            if (!this.db.inTransaction) throw new BatchAborted();
          }
        })
        .immediate();
    } catch {
      return null;
    }
    return outcomes;
  }

  private alone(write: PendingWrite): Outcome {
    try {
      return { ok: true, value: this.db.transaction(write.work).immediate() };
    } catch (error) {
      return { ok: false, error };
    }
  }
}

class BatchAborted extends Error {}

function settle(write: PendingWrite, outcome: Outcome): void {
  if (outcome.ok) write.resolve(outcome.value);
  else write.reject(outcome.error);
}
