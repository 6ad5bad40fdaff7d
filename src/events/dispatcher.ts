// Delivers events to webhook endpoints: claims due deliveries (each the first pending one of its
// endpoint and chain, so an enrollment's events arrive in order), posts them with a bounded
// timeout, and records what came of it. Runs on every instance; a claim is a lease in the
// database, so each delivery is attempted by one instance at a time and a crashed instance's
// claims are taken over when they run out. Device requests never wait for it: they only write the
// event.
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { ClaimedDelivery, EventStore } from '../storage/events.ts';
import { renderDelivery } from './render.ts';
import { nextAttempt, retryAfterMs } from './retry-schedule.ts';

export interface DispatcherOptions {
  /** How often an idle dispatcher looks for due deliveries. */
  pollMs: number;
  /** A whole attempt (connect, send, the receiver's answer) must finish within this. */
  timeoutMs: number;
  /** Attempts in flight at once, per instance. */
  concurrency: number;
  /** The longest a receiver's Retry-After may postpone the next try. */
  maxRetryAfterMs: number;
}

/** A claim outlives any attempt by a wide margin (an attempt is bounded by timeoutMs). */
const LEASE_OVER_TIMEOUT = 6;

export class WebhookDispatcher {
  /** Attempts under way; a slow receiver holds only its own slots, never the loop. */
  private readonly attempts = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: DispatcherOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Delivers until stop(): claims as long as deliveries are due and slots are free; otherwise
   *  waits for a slot or the next poll. */
  start(): void {
    const loop = () => {
      this.running = this.claimAndStart()
        .catch((err: unknown) => {
          this.log.error({ err }, 'webhooks: claiming deliveries failed');
          return 0;
        })
        .then((claimed) => {
          if (this.stopped) return;
          const busy = this.attempts.size >= this.options.concurrency;
          if (claimed > 0 && !busy) return loop();
          this.wake = loop;
          this.timer = setTimeout(() => this.nudge(), this.options.pollMs);
          this.timer.unref();
        });
    };
    loop();
  }

  /** Claims what is due (as many as there are free slots) and starts attempting it; returns how many. */
  async claimAndStart(): Promise<number> {
    const free = this.options.concurrency - this.attempts.size;
    if (free <= 0) return 0;
    const now = this.now();
    const lease = new Date(now.getTime() + LEASE_OVER_TIMEOUT * this.options.timeoutMs);
    const claimed = await this.store.claimDeliveries(now.toISOString(), lease.toISOString(), free);
    for (const d of claimed) {
      const attempt: Promise<void> = this.attempt(d)
        .catch((err: unknown) => this.log.error({ err, endpoint: d.endpoint.id, event: d.event.id }, 'webhooks: recording an attempt failed'))
        .finally(() => {
          this.attempts.delete(attempt);
          this.nudge(); // a slot is free
        });
      this.attempts.add(attempt);
    }
    return claimed.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await Promise.all(this.attempts);
  }

  /** Runs the loop now, if it is waiting. */
  private nudge(): void {
    const wake = this.wake;
    if (wake === null || this.stopped) return;
    this.wake = null;
    if (this.timer) clearTimeout(this.timer);
    wake();
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    let request: ReturnType<typeof renderDelivery>;
    try {
      request = renderDelivery(d.event, d.endpoint, this.now());
    } catch (err) {
      // An event that cannot be rendered would fail the same way on every try.
      await this.failed(d, null, (err as Error).message, 0, undefined, true);
      return;
    }
    let res: Response;
    try {
      // Redirects are not followed: a receiver that moved must be updated, not chased.
      res = await fetch(d.endpoint.url, { method: 'POST', ...request, redirect: 'manual', signal: AbortSignal.timeout(this.options.timeoutMs) });
      await res.arrayBuffer(); // read to the end, so the connection can be reused
    } catch (err) {
      const error = (err as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : errorText(err);
      await this.failed(d, null, error, ms(), undefined);
      return;
    }
    if (res.status >= 200 && res.status < 300) {
      await this.store.finishDelivery(d, { delivered: true, status: res.status, latencyMs: ms() }, this.now().toISOString());
      this.metrics.webhookAttempt('delivered');
    } else if (res.status === 410) {
      // Gone: the receiver asks not to be called again. Its deliveries wait until it is enabled.
      const reason = `the receiver answered 410 Gone at ${this.now().toISOString()}`;
      await this.store.updateEndpoint(d.endpoint.id, { enabled: false, disabledReason: reason }, this.now().toISOString());
      await this.store.releaseDelivery(d);
      this.metrics.webhookAttempt('gone');
      this.log.warn({ endpoint: d.endpoint.id, url: d.endpoint.url }, 'webhooks: the receiver answered 410 Gone; the endpoint is disabled');
    } else {
      const wait = res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get('retry-after'), this.now()) : undefined;
      await this.failed(d, res.status, `HTTP ${res.status}`, ms(), wait);
    }
  }

  private async failed(d: ClaimedDelivery, status: number | null, error: string, latencyMs: number, retryAfter: number | undefined, final = false): Promise<void> {
    const retry = final ? null : nextAttempt(d.attempt, this.now(), retryAfter, this.options.maxRetryAfterMs);
    await this.store.finishDelivery(d, { delivered: false, retryAt: retry?.toISOString() ?? null, status, error, latencyMs }, this.now().toISOString());
    this.metrics.webhookAttempt(retry === null ? 'dead' : 'failed');
    const fields = { endpoint: d.endpoint.id, event: d.event.id, attempt: d.attempt, status, error };
    if (retry === null) this.log.error(fields, 'webhooks: delivery failed for the last time; dead-lettered (replay it through the API)');
    else this.log.warn({ ...fields, retryAt: retry.toISOString() }, 'webhooks: delivery failed; will retry');
  }
}

/** fetch's network errors say "fetch failed" and keep the reason in `cause`. */
function errorText(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
