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
import { Worker } from 'node:worker_threads';
import type { RecordedResult, ResultRecord } from '../storage.ts';
import type { SqliteOptions } from './sqlite-storage.ts';

/** Results at least this large go to the worker; below it a write costs less than a hop. */
export const LARGE_RESULT_BYTES = 256 * 1024;

/** A message to the worker, and its answer. */
export interface WriteRequest {
  id: number;
  rec: ResultRecord;
}
export type WriteAnswer = { id: number; ok: true; value: RecordedResult } | { id: number; ok: false; error: { name: string; message: string } };

/** Running from source (tests, tsx), the worker registers the TypeScript loader first: loaders
 *  are per thread, and `--import` is not passed on to workers. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./large-result-worker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

function startWorker(workerData: SqliteOptions): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData });
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import(${api}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export class LargeResultWriter {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (value: RecordedResult) => void; reject: (reason: unknown) => void }>();

  constructor(private readonly options: SqliteOptions) {}

  recordResult(rec: ResultRecord): Promise<RecordedResult> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // A writer with work keeps the process alive until it is done; an idle one does not.
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, rec } satisfies WriteRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }

  private started(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = startWorker(this.options);
    worker.on('message', (answer: WriteAnswer) => {
      const waiter = this.waiting.get(answer.id);
      this.waiting.delete(answer.id);
      if (this.waiting.size === 0) worker.unref();
      if (answer.ok) waiter?.resolve(answer.value);
      else waiter?.reject(Object.assign(new Error(answer.error.message), { name: answer.error.name }));
    });
    // A worker that fails (it cannot open the database) fails what it was given; the next large
    // result starts a new one. Whatever it had not committed is not stored, and says so.
    const fail = (reason: unknown) => {
      if (this.worker === worker) this.worker = null;
      for (const waiter of this.waiting.values()) waiter.reject(reason);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the large-result writer stopped (exit ${code})`)));
    this.worker = worker;
    return worker;
  }
}
