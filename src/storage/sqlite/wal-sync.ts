// Makes committed WAL frames durable off the event loop's thread, for group commit (group-commit.ts).
//
// With synchronous=FULL, SQLite fsyncs the WAL inside COMMIT, and better-sqlite3 runs COMMIT on the
// event loop's thread: every request of the process waits for the disk (about 0.5 ms each here).
// Group commit instead commits its batches with synchronous=NORMAL, which writes the frames to the
// WAL without syncing it, then calls `durable()` and answers its callers only once that resolves:
// an fdatasync of the WAL file on libuv's thread pool. The WAL is append-only, so one fdatasync
// covers every frame written before it, this process's and any other's; batches committed while
// one is in flight wait for the next, which covers them all. A device is therefore never answered
// before its write is on disk, as with FULL.
//
// What it trades: between its COMMIT and the fdatasync (well under a millisecond) a batch is
// visible to readers but not yet durable: a power loss in that window loses it, and nobody was
// told it was kept. Later writes cannot survive it: they come after it in the same file.
//
// A failed fdatasync is not retried: Linux may have dropped the dirty pages it could not write,
// so a later fdatasync that succeeds proves nothing (PostgreSQL's "fsyncgate"). Every write
// waiting on it and every write after it fails, until the process restarts and SQLite recovers
// from what is on disk.
import { closeSync, fdatasync, openSync } from 'node:fs';

export class WalSync {
  private readonly fd: number;
  /** The fdatasync running now, and the one queued behind it for writes it may not cover. */
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;

  /** `walPath`: the database's `-wal` file; it exists once the connection has opened the
   *  database in WAL mode, and SQLite removes it only when the last connection closes. */
  constructor(walPath: string) {
    this.fd = openSync(walPath, 'r+');
  }

  /** Resolves once every WAL frame written before the call is on disk. */
  durable(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.running === null) {
      this.running = this.sync().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    // The running fdatasync may have started before this caller's frames were written.
    this.queued ??= this.running.then(
      () => {
        this.queued = null;
        return this.durable();
      },
      (err: unknown) => {
        this.queued = null;
        throw err;
      },
    );
    return this.queued;
  }

  /** Waits for what is in flight, then closes the file. */
  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.queued]);
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      fdatasync(this.fd, (err) => {
        if (err === null) return resolve();
        this.failure = new Error(`fdatasync of the SQLite WAL failed: ${err.message}; restart Aspen`, { cause: err });
        reject(this.failure);
      });
    });
  }
}
