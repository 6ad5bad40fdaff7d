// Runs the background jobs kept in the database (JobStore): NotNow re-pushes, retention, and the
// like. Every instance polls; each due job is claimed by one of them for a lease, so it runs once
// across instances, and survives a restart (a crashed instance's lease runs out and another
// instance takes the job over).
import type { Logger } from 'pino';
import type { ClaimedJob, JobStore } from '../storage/storage.ts';

/** Runs one job. Returns when to run it again (periodic jobs), or null when it is done; a throw
 *  retries it later with backoff. */
export type JobHandler = (job: ClaimedJob) => Promise<{ runAt: Date } | null>;

export interface JobRunnerOptions {
  pollMs: number;
  /** How long a claimed job is left to one instance; longer than any job takes. */
  leaseMs: number;
  /** Jobs claimed per poll. */
  batch: number;
  /** A failing job is dropped after this many attempts. */
  maxAttempts: number;
}

const DEFAULTS: JobRunnerOptions = { pollMs: 1000, leaseMs: 5 * 60_000, batch: 50, maxAttempts: 10 };
const MAX_BACKOFF_MS = 60 * 60_000;

export class JobRunner {
  private readonly options: JobRunnerOptions;
  private readonly handlers = new Map<string, JobHandler>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly store: JobStore,
    private readonly log: Logger,
    options: Partial<JobRunnerOptions> = {},
    private readonly now: () => Date = () => new Date(),
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** What runs jobs of a kind (before start()). */
  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Schedules a job (see JobStore.scheduleJob: an existing one keeps its earlier time). */
  schedule(key: string, kind: string, runAt: Date, payload?: unknown): Promise<void> {
    return this.store.scheduleJob({ key, kind, payload, runAt: runAt.toISOString() });
  }

  /** Polls for due jobs until stop(). */
  start(): void {
    const poll = () => {
      this.running = this.runDue()
        .catch((err: unknown) => this.log.error({ err }, 'jobs: polling failed'))
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(poll, this.options.pollMs);
          this.timer.unref();
        });
    };
    poll();
  }

  /** Claims and runs every job due now; returns how many ran. */
  async runDue(): Promise<number> {
    const now = this.now();
    const jobs = await this.store.claimJobs(now.toISOString(), new Date(now.getTime() + this.options.leaseMs).toISOString(), this.options.batch);
    await Promise.all(jobs.map((job) => this.run(job)));
    return jobs.length;
  }

  /** Stops polling and waits for the jobs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async run(job: ClaimedJob): Promise<void> {
    const handler = this.handlers.get(job.kind);
    try {
      // An instance of another version may have scheduled a kind this one does not know.
      if (handler === undefined) throw new Error(`no handler for job kind ${job.kind}`);
      const next = await handler(job);
      await this.store.finishJob(job, next && { runAt: next.runAt.toISOString() });
    } catch (err) {
      if (job.attempts >= this.options.maxAttempts) {
        this.log.error({ err, job: job.key, attempts: job.attempts }, 'jobs: giving up on a job that keeps failing');
        await this.store.finishJob(job, null);
        return;
      }
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** job.attempts);
      this.log.warn({ err, job: job.key, attempts: job.attempts, retryInMs: delay }, 'jobs: job failed; will retry');
      await this.store.finishJob(job, { runAt: new Date(this.now().getTime() + delay).toISOString(), error: (err as Error).message });
    }
  }
}
