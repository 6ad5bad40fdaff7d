// The check-in loop measured against servers: the same fleet enrolls on each, then runs
// WARM_UP_ROUNDS warm-up sessions and `measuredRounds` timed sessions (Idle → command →
// Acknowledged → … → empty 200), with the server's CPU time read from /proc around each timed
// session. Figures 1, 2, 6, 8, 9 and
// 12 compare servers through this; each server is measured once per run and shared between
// figures, and the servers compared for a target have their rounds interleaved (see LoopBench).
import { fileURLToPath } from 'node:url';
import { queueCommand } from './admin.ts';
import type { BenchContext } from './context.ts';
import type { ServerProcess } from './server-process.ts';
import type { Phase, RunResult } from './simulator/protocol.ts';
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
  /** CPU of the device simulator, per request: the client's share of the shared machine. */
  clientCpuPerRequest: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorSamples: string[];
}

const FLEET = 'check-in loop';
/** Sessions each server runs before the timed ones: the JIT, SQLite's page cache and the
 *  connections warm up in them. More than one because V8 compiles per process: with WORKERS=2 each
 *  worker sees half of the warm-up's requests. After a single warm-up round, the two workers' CPU
 *  per request still fell round by round (380, 297, 287, 283, 247 µs) while one process's was
 *  flat from its second round (230, 203, 203, 213 µs). With three, a perf profile of the timed
 *  rounds still showed each worker in baseline (unoptimized) code and TurboFan compiling about
 *  three times as much as the single process (2026-12-06); with eight, figure 12 read 1.22-1.25×
 *  against 1.10-1.19× with three (two and four runs) for about 12 s more of signing. */
const WARM_UP_ROUNDS = 8;
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

/** A server of the loop, started and enrolled, with the sessions measured so far. */
interface Running {
  name: LoopServer;
  setup: ServerSetup;
  group: ServerGroup;
  sessions: (RunResult & { cpu: number; databaseCpu: number })[];
}

export class LoopBench {
  private readonly measured = new Map<LoopServer, Promise<LoopMeasurement>>();
  private prepared: Promise<number> | undefined;
  private together: Promise<Map<LoopServer, LoopMeasurement>> | undefined;
  private readonly ids: string[];
  private readonly rounds: number;

  /**
   * `interleaved`: the servers this run compares with each other (figures 1, 2, 6, 12). They are
   * started together and their timed sessions alternate, round by round, so that a change in the
   * machine's load (other processes, CPU frequency) falls on each of them alike instead of on
   * whichever was measured during it: on this shared 2-core machine, measuring one server's rounds
   * after the other's moved ratios by up to 2×.
   */
  constructor(
    private readonly ctx: BenchContext,
    private readonly interleaved: readonly LoopServer[] = [],
  ) {
    this.ids = udids(ctx.sizes.loop.devices);
    this.rounds = WARM_UP_ROUNDS + ctx.sizes.loop.measuredRounds;
  }

  /** Measured at most once per run, however many figures ask; the interleaved servers all at once,
   *  when the first of them is asked for. */
  measure(server: LoopServer): Promise<LoopMeasurement> {
    let measurement = this.measured.get(server);
    if (measurement === undefined) {
      const together = this.interleaved.includes(server) ? (this.together ??= this.runTogether([...new Set(this.interleaved)])) : this.runTogether([server]);
      this.measured.set(server, (measurement = together.then((all) => all.get(server)!)));
    }
    return measurement;
  }

  /** Every server warms up (the first WARM_UP_ROUNDS, not counted), then each measured round runs
   *  one timed session on each server, starting each round with the next server in turn. */
  private async runTogether(names: LoopServer[]): Promise<Map<LoopServer, LoopMeasurement>> {
    await this.prepareFleet();
    const running: Running[] = [];
    try {
      for (const name of names) running.push(await this.start(name));
      for (let round = 0; round < WARM_UP_ROUNDS; round += 1) {
        for (const server of running) await this.session(server, round);
      }
      for (let round = WARM_UP_ROUNDS; round < this.rounds; round += 1) {
        for (let i = 0; i < running.length; i += 1) await this.session(running[(round + i) % running.length]!, round);
      }
      return new Map(running.map((server) => [server.name, summary(server)]));
    } finally {
      await Promise.all(running.map((server) => server.group.stop()));
    }
  }

  private async start(name: LoopServer): Promise<Running> {
    const setup = SETUPS[name];
    this.ctx.log(`check-in loop: ${name}, ${this.ids.length} devices`);
    const group = await setup.start(this.ctx, this.rounds);
    const server: Running = { name, setup, group, sessions: [] };
    try {
      const enrolled = await this.run(server, { kind: 'enroll' });
      if (enrolled.errors > 0) throw new Error(`${name}: enrollment failed: ${enrolled.errorSamples.join('; ')}`);
    } catch (err) {
      await group.stop();
      throw err;
    }
    return server;
  }

  /** One session of `round`: its commands are queued, then every device runs through them. The
   *  warm-up rounds are not counted. */
  private async session(server: Running, round: number): Promise<void> {
    if (server.setup.queues) {
      for (const uuid of roundCommands(round, this.ctx.sizes.loop.commandsPerRound)) await queueCommand(server.group.urls[0]!, this.ids, uuid);
    }
    if (round < WARM_UP_ROUNDS) {
      await this.run(server, { kind: 'session', round });
      return;
    }
    const { result, cpuSeconds, databaseCpuSeconds } = await server.group.timed(() => this.run(server, { kind: 'session', round }));
    server.sessions.push({ ...result, cpu: cpuSeconds, databaseCpu: databaseCpuSeconds });
  }

  private run(server: Running, phase: Phase): Promise<RunResult> {
    return this.ctx.simulator.run({ fleet: FLEET, urls: server.group.urls, phase, signed: server.setup.signed, concurrency: this.ctx.sizes.loop.concurrency });
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

function summary({ name, group, sessions }: Running): LoopMeasurement {
  return {
    server: name,
    instances: group.urls.length,
    requests: median(sessions.map((s) => s.requests)),
    cpuPerRequest: median(sessions.map((s) => s.cpu / s.requests)),
    databaseCpuPerRequest: median(sessions.map((s) => s.databaseCpu / s.requests)),
    clientCpuPerRequest: median(sessions.map((s) => s.clientCpuSeconds / s.requests)),
    throughput: median(sessions.map((s) => s.requests / s.wallSeconds)),
    p50Ms: median(sessions.map((s) => s.p50Ms)),
    p99Ms: median(sessions.map((s) => s.p99Ms)),
    errors: sessions.reduce((sum, s) => sum + s.errors, 0),
    errorSamples: sessions.flatMap((s) => s.errorSamples).slice(0, 5),
  };
}
