// Large results (a Mac's InstalledApplicationList, a CertificateList: megabytes) are written by a
// worker thread with its own connection to the database. better-sqlite3 runs on the thread that
// calls it, and writing a 4 MiB row, with its fsync and the WAL checkpoint it sets off, holds that
// thread 30-70 ms: on the event loop's thread every other device would wait that long. The worker
// runs the same recordResult (the same transaction, under the same write lock: decisions hold
// as with any second connection), and the caller's promise resolves once it is committed, so the
// device is still answered only after its result is on disk.
//
// The cost: a copy of the result into the worker, and a connection and a thread kept while the
// server runs (started on the first large result). A `:memory:` database cannot be shared with
// a thread: there every result is written in place.
import { RequestWorker, workerModule } from '../../threads/request-worker.ts';
import type { RecordedResult, ResultRecord } from '../storage.ts';
import type { SqliteOptions } from './sqlite-storage.ts';

/** Results at least this large go to the worker; below it a write costs less than a hop. */
export const LARGE_RESULT_BYTES = 256 * 1024;

export class LargeResultWriter {
  private readonly worker: RequestWorker<ResultRecord, RecordedResult>;

  constructor(options: SqliteOptions) {
    this.worker = new RequestWorker(workerModule(import.meta.url, 'large-result-worker'), options);
  }

  recordResult(rec: ResultRecord): Promise<RecordedResult> {
    return this.worker.request(rec);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
