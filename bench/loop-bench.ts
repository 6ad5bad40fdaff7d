// The check-in loop measured against one server: the same fleet enrolls, then runs one warm-up
// session and `measuredRounds` timed sessions (Idle → command → Acknowledged → … → empty 200),
// with the server's CPU time read from /proc around each timed session. Figures 1, 2 and 6 compare
// servers through this; each server is measured once per run and shared between figures.
import { fileURLToPath } from 'node:url';
import { queueCommand } from './admin.ts';
import type { BenchContext } from './context.ts';
import type { ServerProcess } from './server-process.ts';
import type { Phase } from './simulator/protocol.ts';
import { median } from './stats.ts';
import { roundCommands, udids } from './workload.ts';

export type LoopServer =
  | 'baseline'
  | 'aspen'
  | 'aspen-identity-off'
  | 'aspen-synchronous-normal'
  | 'aspen-two-workers'
  | 'aspen-postgres'
  | 'aspen-postgres-two-instances'
  | 'aspen-webhook';

/** Medians over the timed sessions (one per measured round); errors are summed. */
export interface LoopMeasurement {
  server: LoopServer;
  /** Aspen processes serving the loop. */
  instances: number;
  requests: number;
  /** CPU of the Aspen processes (all of them), per request. */
  cpuPerRequest: number;
  /** CPU of the PostgreSQL server and its backends, per request (0 on SQLite: it runs inside Aspen). */
  databaseCpuPerRequest: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorSamples: string[];
}

const FLEET = 'check-in loop';
const BASELINE_ENTRY = fileURLToPath(new URL('./baseline-server.ts', import.meta.url));

/** The servers one loop runs against: one process, or several behind an imaginary load balancer. */
interface ServerGroup {
  urls: string[];
  timed<T>(phase: () => Promise<T>): Promise<{ result: T; cpuSeconds: number; databaseCpuSeconds: number }>;
  stop(): Promise<void>;
}

function single(server: ServerProcess): ServerGroup {
  return {
    urls: [server.url],
    timed: async (phase) => ({ ...(await server.timed(phase)), databaseCpuSeconds: 0 }),
    stop: () => server.stop(),
  };
}

/** `instances` Aspen processes on one new PostgreSQL database. */
async function onPostgres(ctx: BenchContext, name: string, instances: number): Promise<ServerGroup> {
  const postgres = await ctx.postgres();
  const database = await postgres.database();
  const servers = await Promise.all(Array.from({ length: instances }, (_, i) => ctx.startAspen(`${name}-${i}`, { DATABASE_URL: database.url })));
  return {
    urls: servers.map((s) => s.url),
    async timed(phase) {
      const cpu = () => servers.reduce((sum, s) => sum + s.cpuSeconds(), 0);
      const [before, databaseBefore] = [cpu(), postgres.cpuSeconds()];
      const result = await phase();
      return { result, cpuSeconds: cpu() - before, databaseCpuSeconds: postgres.cpuSeconds() - databaseBefore };
    },
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      await database.drop();
    },
  };
}

interface ServerSetup {
  signed: boolean;
  start(ctx: BenchContext, rounds: number): Promise<ServerGroup>;
  /** Queues the round's commands to every device before its session; the baseline knows them. */
  queues: boolean;
}

const SETUPS: Record<LoopServer, ServerSetup> = {
  baseline: {
    signed: false,
    queues: false,
    start: async (ctx, rounds) =>
      single(
        await ctx.startServer('loop-baseline', {
          entry: BASELINE_ENTRY,
          env: { BENCH_ROUNDS: String(rounds), BENCH_COMMANDS_PER_ROUND: String(ctx.sizes.loop.commandsPerRound) },
        }),
      ),
  },
  aspen: { signed: true, queues: true, start: async (ctx) => single(await ctx.startAspen('loop-aspen', {})) },
  'aspen-identity-off': {
    signed: false,
    queues: true,
    start: async (ctx) => single(await ctx.startAspen('loop-aspen-identity-off', { DEVICE_IDENTITY: 'off' })),
  },
  'aspen-synchronous-normal': {
    signed: true,
    queues: true,
    start: async (ctx) => single(await ctx.startAspen('loop-aspen-synchronous-normal', { SQLITE_SYNCHRONOUS: 'NORMAL' })),
  },
  // Server CPU is the primary's alone here (its workers are other processes): figure 12 compares throughput.
  'aspen-two-workers': { signed: true, queues: true, start: async (ctx) => single(await ctx.startAspen('loop-aspen-two-workers', { WORKERS: '2' })) },
  'aspen-postgres': { signed: true, queues: true, start: (ctx) => onPostgres(ctx, 'loop-aspen-postgres', 1) },
  // Every request then writes its event (mdm.Connect for reports) durably, and deliveries run beside it.
  'aspen-webhook': {
    signed: true,
    queues: true,
    start: async (ctx) => single(await ctx.startAspen('loop-aspen-webhook', { WEBHOOK_URL: (await ctx.webhookReceiver()).url })),
  },
  'aspen-postgres-two-instances': { signed: true, queues: true, start: (ctx) => onPostgres(ctx, 'loop-aspen-postgres-two', 2) },
};

export class LoopBench {
  private readonly measured = new Map<LoopServer, Promise<LoopMeasurement>>();
  private prepared: Promise<number> | undefined;
  private readonly ids: string[];
  private readonly rounds: number;

  constructor(private readonly ctx: BenchContext) {
    this.ids = udids(ctx.sizes.loop.devices);
    this.rounds = 1 + ctx.sizes.loop.measuredRounds;
  }

  /** Measured at most once per run, however many figures ask. */
  measure(server: LoopServer): Promise<LoopMeasurement> {
    let measurement = this.measured.get(server);
    if (measurement === undefined) this.measured.set(server, (measurement = this.run(server)));
    return measurement;
  }

  private async run(name: LoopServer): Promise<LoopMeasurement> {
    const { ctx } = this;
    const { concurrency, commandsPerRound } = ctx.sizes.loop;
    const setup = SETUPS[name];
    await this.prepareFleet();
    ctx.log(`check-in loop: ${name}, ${this.ids.length} devices`);
    const server = await setup.start(ctx, this.rounds);
    try {
      const run = (phase: Phase) => ctx.simulator.run({ fleet: FLEET, urls: server.urls, phase, signed: setup.signed, concurrency });
      const enrolled = await run({ kind: 'enroll' });
      if (enrolled.errors > 0) throw new Error(`${name}: enrollment failed: ${enrolled.errorSamples.join('; ')}`);
      const sessions = [];
      for (let round = 0; round < this.rounds; round += 1) {
        if (setup.queues) {
          for (const uuid of roundCommands(round, commandsPerRound)) await queueCommand(server.urls[0]!, this.ids, uuid);
        }
        // Round 0 warms up the JIT, SQLite's page cache and the connections; it is not counted.
        if (round === 0) await run({ kind: 'session', round });
        else {
          const { result, cpuSeconds, databaseCpuSeconds } = await server.timed(() => run({ kind: 'session', round }));
          sessions.push({ ...result, cpu: cpuSeconds, databaseCpu: databaseCpuSeconds });
        }
      }
      return {
        server: name,
        instances: server.urls.length,
        requests: median(sessions.map((s) => s.requests)),
        cpuPerRequest: median(sessions.map((s) => s.cpu / s.requests)),
        databaseCpuPerRequest: median(sessions.map((s) => s.databaseCpu / s.requests)),
        throughput: median(sessions.map((s) => s.requests / s.wallSeconds)),
        p50Ms: median(sessions.map((s) => s.p50Ms)),
        p99Ms: median(sessions.map((s) => s.p99Ms)),
        errors: sessions.reduce((sum, s) => sum + s.errors, 0),
        errorSamples: sessions.flatMap((s) => s.errorSamples).slice(0, 5),
      };
    } finally {
      await server.stop();
    }
  }

  /** Certificates and signatures are made once for every server: all of them trust the same CA. */
  private prepareFleet(): Promise<number> {
    this.prepared ??= (async () => {
      const seconds = await this.ctx.simulator.prepare({
        name: FLEET,
        ids: this.ids,
        rounds: this.rounds,
        commandsPerRound: this.ctx.sizes.loop.commandsPerRound,
        signing: { caCertPem: this.ctx.deviceCa.certPem, caKeyPem: this.ctx.deviceCa.keyPem },
      });
      this.ctx.log(`check-in loop: signed every body of ${this.ids.length} devices in ${seconds.toFixed(1)} s`);
      return seconds;
    })();
    return this.prepared;
  }
}
