// A worker thread that answers requests, one answer per request, and the client that sends them.
// For work that would hold the event loop's thread (and so every other device's request) for tens
// of milliseconds: writing a 4 MiB result to SQLite, reading a 4 MiB plist. The worker is started
// on the first request and kept while the server runs; it holds the process open only while it
// has work. A worker that fails fails what it was given (the caller answers 5xx); the next request
// starts a new one.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, Worker } from 'node:worker_threads';

interface Request<T> {
  id: number;
  body: T;
}
type Answer<T> = { id: number; ok: true; value: T } | { id: number; ok: false; error: { name: string; message: string } };

/** Running from source (tests, tsx), the worker registers the TypeScript loader first: loaders
 *  are per thread, and `--import` is not passed on to workers. */
function startWorker(url: URL, workerData: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const boot = `import(${api}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** The URL of the worker module `name` beside the module at `from` (its import.meta.url): `.ts`
 *  when running from source, `.js` when built. */
export function workerModule(from: string, name: string): URL {
  return new URL(`./${name}.${from.endsWith('.ts') ? 'ts' : 'js'}`, from);
}

export class RequestWorker<Req, Res> {
  #worker: Worker | null = null;
  #nextId = 0;
  readonly #waiting = new Map<number, { resolve: (value: Res) => void; reject: (reason: unknown) => void }>();

  constructor(
    private readonly url: URL,
    private readonly workerData?: unknown,
  ) {}

  /** Sends `body` (a structured clone: the caller keeps its own copy) and waits for the answer. */
  request(body: Req): Promise<Res> {
    const worker = this.#started();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#waiting.size === 0) worker.ref();
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ id, body } satisfies Request<Req>);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    if (worker !== null) await worker.terminate();
  }

  #started(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = startWorker(this.url, this.workerData);
    worker.on('message', (answer: Answer<Res>) => {
      const waiter = this.#waiting.get(answer.id);
      this.#waiting.delete(answer.id);
      if (this.#waiting.size === 0) worker.unref();
      if (answer.ok) waiter?.resolve(answer.value);
      else waiter?.reject(Object.assign(new Error(answer.error.message), { name: answer.error.name }));
    });
    const fail = (reason: unknown) => {
      if (this.#worker === worker) this.#worker = null;
      for (const waiter of this.#waiting.values()) waiter.reject(reason);
      this.#waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker ${this.url.pathname.split('/').at(-1)} stopped (exit ${code})`)));
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}

/** In a worker module: answers each request with what `handle` returns, or the error it throws. */
export function answerRequests<Req, Res>(handle: (body: Req) => Res | Promise<Res>): void {
  const port = parentPort!;
  port.on('message', ({ id, body }: Request<Req>) => {
    Promise.resolve()
      .then(() => handle(body))
      .then(
        (value) => port.postMessage({ id, ok: true, value } satisfies Answer<Res>),
        (err: unknown) => {
          const error = err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) };
          port.postMessage({ id, ok: false, error } satisfies Answer<Res>);
        },
      );
  });
}

/** How much lower than the process a background thread runs (nice levels; 19 is the lowest). */
const BACKGROUND_NICE = 10;

/**
 * In a worker module: lowers this thread's CPU priority, so that when the CPUs are busy the event
 * loop's thread (every other device's request) goes first and this work takes what is left; on
 * idle CPUs it runs at full speed. Only for threads that hold no lock the event loop's thread can
 * wait on (a SQLite writer must not: the event loop would wait on a thread it starves). Linux
 * only, where a thread id names one thread for setpriority(2); elsewhere, or if the system
 * refuses, the thread keeps the process's priority.
 */
export function runInBackground(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    setPriority(tid, Math.min(19, getPriority(tid) + BACKGROUND_NICE));
  } catch {
    // Not Linux (no /proc/thread-self), or not allowed: nothing to undo.
  }
}
