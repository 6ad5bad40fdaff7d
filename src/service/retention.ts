// Keeps the database bounded under steady load: old results and long checked-out enrollments are
// pruned on a timer. SQLite reuses the pages they free, so the file stops growing.
import type { Logger } from 'pino';
import type { PruneCounts, Storage } from '../storage/storage.ts';

export interface RetentionOptions {
  /** Days to keep final results; 0 keeps them forever. */
  resultDays: number;
  /** Days to keep checked-out enrollments; 0 keeps them forever. */
  checkedOutDays: number;
  intervalMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const FIRST_RUN_DELAY_MS = 60_000;

export class Retention {
  /** The first-run timeout, then the interval (clearTimeout clears either). */
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private readonly options: RetentionOptions,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async runOnce(): Promise<PruneCounts> {
    const cutoff = (days: number) => (days > 0 ? new Date(this.now().getTime() - days * DAY_MS).toISOString() : null);
    const counts = await this.storage.prune({
      resultsBefore: cutoff(this.options.resultDays),
      checkedOutBefore: cutoff(this.options.checkedOutDays),
    });
    if (counts.results + counts.commands + counts.enrollments > 0) this.log.info({ pruned: counts }, 'retention: pruned old data');
    return counts;
  }

  /** Prunes every interval in the background, the first time soon after start (not during it:
   *  a large backlog must not hold up the server becoming ready). */
  start(): void {
    const tick = () => {
      this.running = this.runOnce().catch((err: unknown) => this.log.error({ err }, 'retention: pruning failed'));
    };
    const first = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, this.options.intervalMs);
      this.timer.unref();
    }, Math.min(FIRST_RUN_DELAY_MS, this.options.intervalMs));
    first.unref();
    this.timer = first;
  }

  /** Stops the timer and waits for a run in progress, so the database can close after it. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
