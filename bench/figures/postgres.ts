// Figure 8: Aspen on PostgreSQL. (a) The signed check-in loop against the same loop on SQLite with
// synchronous=NORMAL (the closer durability: PostgreSQL commits through its WAL with group
// commit); (b) two Aspen instances on one database against one; (c) one command queued to
// 100,000 enrollments against the same INSERT run directly through node-postgres. The cluster
// runs with production durability (fsync on). The issue sets no targets: these are the figures to
// watch, with PostgreSQL's own CPU shown beside Aspen's.
import pg from 'pg';
import { queueCommand, queueRequestBody } from '../admin.ts';
import type { BenchContext } from '../context.ts';
import type { LoopBench, LoopMeasurement } from '../loop-bench.ts';
import { fmt, type Row } from '../table.ts';
import { commandPlist, commandUuid, TOPIC, udids } from '../workload.ts';
import { throughputText } from './checkin-loop.ts';

const FIGURE = '8. PostgreSQL';
/** Rounds of the check-in loop and the other figures use their own command UUIDs. */
const FAN_OUT_ROUND = 800;
const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

const cpu = (m: LoopMeasurement) =>
  `Aspen ${fmt.us(m.cpuPerRequest)}/req${m.databaseCpuPerRequest > 0 ? ` + PostgreSQL ${fmt.us(m.databaseCpuPerRequest)}/req` : ''}`;
const loopText = (m: LoopMeasurement) => `${throughputText(m)}; ${cpu(m)}${m.instances > 1 ? ` (${m.instances} instances)` : ''}`;

export async function postgres(ctx: BenchContext, loops: LoopBench): Promise<Row[]> {
  const onPostgres = await loops.measure('aspen-postgres');
  const normal = await loops.measure('aspen-synchronous-normal');
  const two = await loops.measure('aspen-postgres-two-instances');
  const fan = await fanOut(ctx);
  return [
    {
      figure: FIGURE,
      metric: 'signed loop throughput, PostgreSQL vs SQLite NORMAL',
      measured: loopText(onPostgres),
      baseline: loopText(normal),
      ratio: onPostgres.throughput / normal.throughput,
      target: '',
      verdict: '',
    },
    {
      figure: FIGURE,
      metric: 'signed loop throughput, two instances vs one (PostgreSQL)',
      measured: loopText(two),
      baseline: loopText(onPostgres),
      ratio: two.throughput / onPostgres.throughput,
      target: '',
      verdict: '',
    },
    {
      figure: FIGURE,
      metric: `one command to ${fmt.count(fan.enrollments)} enrollments (PostgreSQL)`,
      measured: `${fmt.seconds(fan.api)} (POST /v1/commands)`,
      baseline: `${fmt.seconds(fan.bare)} (the same INSERTs through node-postgres)`,
      ratio: fan.api / fan.bare,
      target: '',
      verdict: '',
    },
  ];
}

async function fanOut(ctx: BenchContext): Promise<{ enrollments: number; api: number; bare: number }> {
  const { enrollments, repetitions } = ctx.sizes.fanOut;
  const ids = udids(enrollments);
  const cluster = await ctx.postgres();
  const [served, bare] = [await cluster.database(), await cluster.database()];
  ctx.log(`PostgreSQL fan-out: seeding ${fmt.count(enrollments)} enrollments twice`);
  await Promise.all([seed(served.url, ids), seed(bare.url, ids)]);
  const requestBytes = Buffer.byteLength(queueRequestBody(ids, commandUuid(FAN_OUT_ROUND, 0)));
  const server = await ctx.startAspen('postgres-fan-out', {
    DATABASE_URL: served.url,
    DEVICE_IDENTITY: 'off',
    BODY_LIMIT: String(Math.max(DEFAULT_BODY_LIMIT, 2 * requestBytes)),
  });
  const api: number[] = [];
  const direct: number[] = [];
  try {
    for (let rep = 0; rep < repetitions; rep += 1) {
      const uuid = commandUuid(FAN_OUT_ROUND, rep);
      const outcome = await queueCommand(server.url, ids, uuid);
      if (outcome.queued !== enrollments) throw new Error(`fan-out queued ${outcome.queued} of ${enrollments}`);
      api.push(outcome.seconds);
      direct.push(await insertDirectly(bare.url, ids, uuid));
      ctx.log(`PostgreSQL fan-out: API ${fmt.seconds(api.at(-1)!)}, direct insert ${fmt.seconds(direct.at(-1)!)}`);
    }
  } finally {
    await server.stop();
    await Promise.all([served.drop(), bare.drop()]);
  }
  // Noise on a shared machine only ever adds time: the fastest repetition is the truest.
  return { enrollments, api: Math.min(...api), bare: Math.min(...direct) };
}

async function seed(url: string, ids: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO enrollments (id, device_id, channel, type, state, platform, os_version, topic, first_seen_at, last_seen_at, last_status)
      SELECT id, id, 'device', 'device', 'enrolled', 'iOS', '17.4', $2, now(), now(), 'TokenUpdate' FROM unnest($1::text[]) AS i (id)`,
      [ids, TOPIC],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

/** Aspen's own two statements for an enqueue, in one transaction; returns the seconds it took. */
async function insertDirectly(url: string, ids: readonly string[], uuid: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = performance.now();
    await client.query('BEGIN');
    await client.query(`INSERT INTO commands (uuid, request_type, payload, created_at) VALUES ($1, 'DeviceInformation', $2, now())`, [
      uuid,
      Buffer.from(commandPlist(uuid), 'utf8'),
    ]);
    await client.query(
      `INSERT INTO command_targets (enrollment_id, command_uuid, state, queued_at, updated_at)
      SELECT e.id, $2, 'queued', now(), now() FROM unnest($1::text[]) AS i (id) JOIN enrollments e ON e.id = i.id`,
      [ids, uuid],
    );
    await client.query('COMMIT');
    return (performance.now() - started) / 1000;
  } finally {
    await client.end();
  }
}
