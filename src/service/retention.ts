// Keeps the database bounded under steady load: old results and long checked-out enrollments are
// pruned by a periodic job (one instance at a time, see job-runner.ts). SQLite reuses the pages
// they free, so the file stops growing.
import type { Logger } from 'pino';
import type { AccountStore } from '../storage/accounts.ts';
import type { EventStore } from '../storage/events.ts';
import type { MaintenanceStore, PruneCounts } from '../storage/storage.ts';
import type { JobHandler, JobRunner } from './job-runner.ts';

export interface RetentionOptions {
  /** Days to keep final results; 0 keeps them forever. */
  resultDays: number;
  /** Days to keep checked-out enrollments; 0 keeps them forever. */
  checkedOutDays: number;
  /** Days to keep events (one still to be delivered stays until it is, or is dead-lettered). */
  eventDays: number;
  intervalMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The first run comes soon after start, not during it: a large backlog must not hold up the
 *  server becoming ready. */
const FIRST_RUN_DELAY_MS = 60_000;
export const PRUNE_JOB = 'prune';

export class Retention {
  constructor(
    private readonly storage: MaintenanceStore & { events: Pick<EventStore, 'prune'>; accounts: Pick<AccountStore, 'prune'> },
    private readonly options: RetentionOptions,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async runOnce(): Promise<PruneCounts & { events: number; sessions: number; loginFailures: number }> {
    const cutoff = (days: number) => (days > 0 ? new Date(this.now().getTime() - days * DAY_MS).toISOString() : null);
    const counts = await this.storage.prune({
      resultsBefore: cutoff(this.options.resultDays),
      checkedOutBefore: cutoff(this.options.checkedOutDays),
    });
    const events = await this.storage.events.prune(cutoff(this.options.eventDays)!);
    // Ended sessions and login failures older than a day (the login limit counts one minute).
    const accounts = await this.storage.accounts.prune({ at: this.now().toISOString(), failuresBefore: cutoff(1)! });
    const pruned = { ...counts, events, ...accounts };
    if (Object.values(pruned).some((n) => n > 0)) this.log.info({ pruned }, 'retention: pruned old data');
    return pruned;
  }

  /** The periodic job: a failed run is logged and the next one comes at the usual interval. */
  readonly job: JobHandler = async () => {
    await this.runOnce().catch((err: unknown) => this.log.error({ err }, 'retention: pruning failed'));
    return { runAt: new Date(this.now().getTime() + this.options.intervalMs) };
  };

  /** Makes sure the job is scheduled (a restart does not postpone a run already due). */
  schedule(jobs: JobRunner): Promise<void> {
    return jobs.schedule(PRUNE_JOB, PRUNE_JOB, new Date(this.now().getTime() + Math.min(FIRST_RUN_DELAY_MS, this.options.intervalMs)));
  }
}
