// Figure 4: does Aspen slow down or swell as its database grows? Two servers, one with 1,000 queued
// rows (1,000 devices, one command each) and one with 1,000,000 (100,000 devices, ten each),
// seeded straight into SQLite. (a) Next-command latency: a sample of devices sends Idle and gets
// the head of its queue, over HTTP, after an identical warm-up pass. (b) Memory: after that, one
// command is queued to every enrollment of each server, and the server's RSS is read from /proc.
// Identity checks are off here: they cost the same at any size (figure 2) and would only add noise.
import { join } from 'node:path';
import { queueCommand } from '../admin.ts';
import type { BenchContext } from '../context.ts';
import { seedDatabase } from '../seed.ts';
import { fmt, verdict, type Row } from '../table.ts';
import { commandUuid, roundCommands, udids } from '../workload.ts';

const FIGURE = '4. scale';
const MAX_P99_RATIO = 1.5;
const MAX_RSS_BYTES = 200 * 1024 * 1024;
/** Seeded queues use this round's commands; the memory fan-out uses the next one. */
const SCALE_ROUND = 400;

export interface ScaleMeasurement {
  enrollments: number;
  queuedRows: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  rss: number;
  peakRss: number;
}

const measured = new WeakMap<BenchContext, Promise<{ small: ScaleMeasurement; large: ScaleMeasurement }>>();

/** Both servers' measurements, made once per run: figure 11 reads the large server's memory. */
export function scaleMeasurements(ctx: BenchContext): Promise<{ small: ScaleMeasurement; large: ScaleMeasurement }> {
  let both = measured.get(ctx);
  if (both === undefined) {
    const { smallEnrollments, largeEnrollments, queuedPerLargeDevice } = ctx.sizes.scale;
    both = (async () => ({
      small: await measure(ctx, 'scale-small', smallEnrollments, 1),
      large: await measure(ctx, 'scale-large', largeEnrollments, queuedPerLargeDevice),
    }))();
    measured.set(ctx, both);
  }
  return both;
}

export async function scale(ctx: BenchContext): Promise<Row[]> {
  const { small, large } = await scaleMeasurements(ctx);
  const describe = (m: ScaleMeasurement) =>
    `p99 ${fmt.ms(m.p99Ms)}, p50 ${fmt.ms(m.p50Ms)} (${fmt.count(m.queuedRows)} queued rows, ${m.errors} errors / ${fmt.count(m.requests)} req)`;
  const memory = (m: ScaleMeasurement) => `${fmt.mb(m.rss)} RSS, peak ${fmt.mb(m.peakRss)} (${fmt.count(m.enrollments)} enrollments)`;
  return [
    {
      figure: FIGURE,
      metric: 'next-command latency p99',
      measured: describe(large),
      baseline: describe(small),
      ratio: large.p99Ms / small.p99Ms,
      target: `≤ ${MAX_P99_RATIO}×, 0 errors`,
      verdict: verdict(large.p99Ms / small.p99Ms <= MAX_P99_RATIO && large.errors + small.errors === 0),
    },
    {
      figure: FIGURE,
      metric: 'server RSS after serving every enrollment',
      measured: memory(large),
      baseline: memory(small),
      ratio: large.rss / small.rss,
      target: `≤ ${fmt.mb(MAX_RSS_BYTES)} at 100,000 enrollments`,
      verdict: verdict(large.rss <= MAX_RSS_BYTES),
    },
  ];
}

async function measure(ctx: BenchContext, name: string, enrollments: number, queuedPerDevice: number): Promise<ScaleMeasurement> {
  const { sample, concurrency } = ctx.sizes.scale;
  const ids = udids(enrollments);
  const queued = roundCommands(SCALE_ROUND, queuedPerDevice);
  const database = join(ctx.dir(`${name}-seed`), 'aspen.db');
  ctx.log(`scale: seeding ${fmt.count(enrollments)} enrollments with ${fmt.count(enrollments * queuedPerDevice)} queued rows`);
  seedDatabase(database, ids, queued);
  // Evenly spread over the id range, so the large server is sampled across its whole index.
  const sampleIds = ids.filter((_, i) => i % Math.max(1, Math.floor(enrollments / sample)) === 0).slice(0, sample);
  await ctx.simulator.prepare({ name, ids: sampleIds, rounds: 0, commandsPerRound: 0, signing: null });

  const server = await ctx.startAspen(name, { DATABASE_URL: database, DEVICE_IDENTITY: 'off' });
  try {
    const roundTrip = () =>
      ctx.simulator.run({ fleet: name, urls: [server.url], phase: { kind: 'first-command', expect: queued[0]! }, signed: false, concurrency });
    await roundTrip(); // warm-up: JIT, connections, the pages these devices' queues live on
    const { result: timed } = await server.timed(roundTrip);
    if (timed.errors > 0) ctx.log(`scale: ${name}: ${timed.errorSamples.join('; ')}`);
    await queueCommand(server.url, ids, commandUuid(SCALE_ROUND + 1, 0));
    const { rss, peak } = server.memory();
    return { enrollments, queuedRows: enrollments * queuedPerDevice, ...timed, rss, peakRss: peak };
  } finally {
    await server.stop();
  }
}
