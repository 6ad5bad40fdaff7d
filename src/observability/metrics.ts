// Prometheus metrics. Request counts and latencies are recorded as requests finish; queue depth,
// commands by state and enrollments by state are read from storage when scraped, so they are
// always true rather than drifting counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestSummary } from '../service/device-reply.ts';
import type { StorageStats } from '../storage/storage.ts';

const STATS_TTL_MS = 10_000;

export class Metrics {
  readonly registry = new Registry();
  private readonly deviceRequests: Counter<'message' | 'status'>;
  private readonly deviceLatency: Histogram<'message'>;
  private readonly pushes: Counter<'outcome' | 'reason'>;
  private readonly identityRefusals: Counter<'reason'>;

  constructor(stats: () => Promise<StorageStats>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'aspen_' });
    this.deviceRequests = new Counter({
      name: 'aspen_device_requests_total',
      help: 'Device requests by check-in MessageType or report Status, and HTTP status',
      labelNames: ['message', 'status'],
      registers: [this.registry],
    });
    this.deviceLatency = new Histogram({
      name: 'aspen_device_request_duration_seconds',
      help: 'Time to answer a device request',
      labelNames: ['message'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.identityRefusals = new Counter({
      name: 'aspen_device_identity_refusals_total',
      help: 'Device requests refused for their identity (403), by reason: unknown-ca, expired, not-bound, ...',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.pushes = new Counter({
      name: 'aspen_pushes_total',
      help: 'APNs pushes by outcome (pushed, failed, skipped) and reason',
      labelNames: ['outcome', 'reason'],
      registers: [this.registry],
    });

    // The storage-backed gauges share one query, reused for STATS_TTL_MS: counting states
    // scans the command table, which should not run once per scraper per second.
    let cached: { at: number; stats: Promise<StorageStats> } | null = null;
    const current = () => {
      if (cached === null || performance.now() - cached.at > STATS_TTL_MS) cached = { at: performance.now(), stats: stats() };
      return cached.stats;
    };
    new Gauge({
      name: 'aspen_queue_depth',
      help: 'Pending commands (queued or deferred by NotNow) over all enrollments',
      registers: [this.registry],
      async collect() {
        const s = await current();
        this.set(s.commandTargetsByState.queued + s.commandTargetsByState.notnow);
      },
    });
    new Gauge({
      name: 'aspen_commands',
      help: 'Per-enrollment commands by state',
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const s = await current();
        for (const [state, count] of Object.entries(s.commandTargetsByState)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'aspen_enrollments',
      help: 'Enrollment channels by state and channel',
      labelNames: ['state', 'channel'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const e of (await current()).enrollments) this.set({ state: e.state, channel: e.channel }, e.count);
      },
    });
    new Gauge({
      name: 'aspen_device_identity_expiry_seconds',
      help: 'Seconds until the soonest certificate bound to an enrolled device expires (no sample when none is bound)',
      registers: [this.registry],
      async collect() {
        this.reset();
        const soonest = (await current()).soonestIdentityExpiry;
        if (soonest !== null) this.set(Math.round((Date.parse(soonest) - Date.now()) / 1000));
      },
    });
  }

  /** A finished device request: by MessageType or Status; `refused` when its identity was refused
   *  (the body is not read then), `unreadable` when no message could be read from it. */
  deviceRequest(summary: RequestSummary | null, status: number, seconds: number): void {
    const message = summary?.refusal !== undefined ? 'refused' : (summary?.message ?? 'unreadable');
    this.deviceRequests.inc({ message, status: String(status) });
    this.deviceLatency.observe({ message }, seconds);
    if (summary?.refusal !== undefined) this.identityRefusals.inc({ reason: summary.refusal });
  }

  /** Seconds until the push certificate expires (negative once it has), read when scraped; no
   *  sample while none is loaded. */
  watchPushCertificate(current: () => Promise<{ topic: string; notAfter: Date } | null>, now: () => Date = () => new Date()): void {
    new Gauge({
      name: 'aspen_push_certificate_expiry_seconds',
      help: 'Seconds until the MDM push certificate expires, labelled with its topic',
      labelNames: ['topic'],
      registers: [this.registry],
      async collect() {
        const cert = await current();
        this.reset();
        if (cert !== null) this.set({ topic: cert.topic }, Math.round((cert.notAfter.getTime() - now().getTime()) / 1000));
      },
    });
  }

  push(outcome: string, reason: string): void {
    this.pushes.inc({ outcome, reason });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
