// Figure 9: webhooks. (a) Events delivered per second: Aspen draining a backlog of events (seeded
// through the storage contract into a fresh SQLite database, spread over many enrollments) to a
// receiver in its own process, against a bare fetch client posting the same rendered bodies with
// the same concurrency. (b) What a configured webhook costs the signed check-in loop: every
// request then writes its event durably, and deliveries run beside the device traffic. The
// issue sets no targets.
import { join } from 'node:path';
import { eventJson } from '../../src/events/render.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import type { StoredEvent } from '../../src/storage/events.ts';
import type { BenchContext } from '../context.ts';
import type { LoopBench } from '../loop-bench.ts';
import { fmt, type Row } from '../table.ts';
import { cpuText, throughputText } from './checkin-loop.ts';

const FIGURE = '9. webhooks';
/** Aspen's default WEBHOOK_CONCURRENCY: the bare client posts as many at once. */
const CONCURRENCY = 16;

export async function webhooks(ctx: BenchContext, loops: LoopBench): Promise<Row[]> {
  const { events, chains } = ctx.sizes.webhooks;
  const receiver = await ctx.webhookReceiver();
  const dir = ctx.dir('webhooks');
  const path = join(dir, 'aspen.db');
  ctx.log(`webhooks: seeding ${fmt.count(events)} events over ${fmt.count(chains)} enrollments`);
  const bodies = await seed(path, receiver.url, events, chains);

  // The bare client: the same bodies, CONCURRENCY at a time, no order to keep.
  await receiver.reset();
  let next = 0;
  const bareStarted = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const res = await fetch(receiver.url, { method: 'POST', body: bodies[i], headers: { 'content-type': 'application/json' } });
        await res.arrayBuffer();
      }
    }),
  );
  const bareRate = bodies.length / ((performance.now() - bareStarted) / 1000);

  await receiver.reset();
  const server = await ctx.startAspen('webhooks-drain', { DATABASE_URL: path, DEVICE_IDENTITY: 'off' });
  let delivered: { count: number; first: number; last: number };
  try {
    delivered = await receiver.waitFor(events);
  } finally {
    await server.stop();
  }
  const aspenRate = (delivered.count - 1) / ((delivered.last - delivered.first) / 1000);

  const withWebhook = await loops.measure('aspen-webhook');
  const without = await loops.measure('aspen');
  return [
    {
      figure: FIGURE,
      metric: `events delivered to a local receiver (${fmt.count(events)}, in order per enrollment)`,
      measured: `${fmt.perSecond(aspenRate)} (Aspen, ${CONCURRENCY} in flight)`,
      baseline: `${fmt.perSecond(bareRate)} (bare fetch client, same bodies, ${CONCURRENCY} in flight)`,
      ratio: aspenRate / bareRate,
      target: '',
      verdict: '',
    },
    {
      figure: FIGURE,
      metric: 'signed loop server CPU per request, webhook configured vs not',
      measured: `${cpuText(withWebhook)}; ${throughputText(withWebhook)}`,
      baseline: `${cpuText(without)}; ${throughputText(without)}`,
      ratio: withWebhook.cpuPerRequest / without.cpuPerRequest,
      target: '',
      verdict: '',
    },
  ];
}

/** A database whose one endpoint has `events` deliveries waiting; returns the bodies Aspen will send. */
async function seed(path: string, url: string, events: number, chains: number): Promise<string[]> {
  const storage = await openStorage({ kind: 'sqlite', path, synchronous: 'NORMAL' });
  try {
    const at = new Date().toISOString();
    await storage.events.createEndpoint({
      id: 'bench',
      url,
      secret: 'bench-secret',
      format: 'micromdm',
      topics: null,
      includeSecrets: false,
      enabled: true,
      disabledReason: null,
      source: 'api',
      createdAt: at,
      updatedAt: at,
    });
    const raw = Buffer.from('<?xml version="1.0"?><plist version="1.0"><dict><key>Status</key><string>Idle</string></dict></plist>');
    const bodies: string[] = [];
    for (let i = 0; i < events; i++) {
      const chain = `BENCH-${i % chains}`;
      const draft = { id: `bench-event-${i}`, topic: 'mdm.Connect', chain, at, data: { udid: chain, status: 'Idle' }, raw, redacted: null };
      await storage.events.record(draft);
      const stored: StoredEvent = { ...draft, seq: i + 1, sequence: Math.floor(i / chains) + 1 };
      bodies.push(JSON.stringify(eventJson(stored, false)));
    }
    return bodies;
  } finally {
    await storage.close();
  }
}
