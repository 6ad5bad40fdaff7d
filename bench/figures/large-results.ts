// Figure 7: one device's large results must not stall everyone else. Devices send Idle check-ins,
// 16 at a time, and their p99 latency is measured twice on the same server in each round: alone,
// and while one more device uploads 4 MiB results with 100,000 keys back to back (the next as soon
// as the last is answered, each signed as it is sent). The target: the p99 with the large
// results at most twice the p99 without. Identity checks on and synchronous=FULL, as Aspen runs.
import { queueCommand } from '../admin.ts';
import type { BenchContext } from '../context.ts';
import { API_KEY, type ServerProcess } from '../server-process.ts';
import type { RunResult } from '../simulator/protocol.ts';
import { median } from '../stats.ts';
import { fmt, verdict, type Row } from '../table.ts';
import { roundCommands, udid, udids } from '../workload.ts';

const FIGURE = '7. large results';
const MAX_P99_RATIO = 2;
const IDLE_FLEET = 'large results: idle devices';
const SENDER_FLEET = 'large results: sender';
/** Command rounds of the sender (distinct from every other figure's). */
const FIRST_ROUND = 700;

export async function largeResults(ctx: BenchContext): Promise<Row[]> {
  const { devices, idleRepeats, rounds, concurrency, resultBytes, resultKeys, commandsPerRound } = ctx.sizes.largeResults;
  const signing = { caCertPem: ctx.deviceCa.certPem, caKeyPem: ctx.deviceCa.keyPem };
  const sender = udid(900_000);
  await ctx.simulator.prepare({ name: IDLE_FLEET, ids: udids(devices), rounds: 0, commandsPerRound: 0, signing });
  await ctx.simulator.prepare({ name: SENDER_FLEET, ids: [sender], rounds: 0, commandsPerRound: 0, signing });

  const server = await ctx.startAspen('large-results', {});
  try {
    for (const fleet of [IDLE_FLEET, SENDER_FLEET]) {
      const enrolled = await ctx.simulator.run({ fleet, urls: [server.url], phase: { kind: 'enroll' }, signed: true, concurrency });
      if (enrolled.errors > 0) throw new Error(`large results: enrollment failed: ${enrolled.errorSamples.join('; ')}`);
    }
    /** The Idle phase, alone or (with the round whose commands the sender has) beside large results. */
    const idle = (largeRound: number | null) =>
      ctx.simulator.run({
        fleet: IDLE_FLEET,
        urls: [server.url],
        phase: { kind: 'idle', repeats: idleRepeats },
        signed: true,
        concurrency,
        ...(largeRound === null
          ? {}
          : { largeResults: { fleet: SENDER_FLEET, commands: roundCommands(FIRST_ROUND + largeRound, commandsPerRound), bytes: resultBytes, keys: resultKeys } }),
      });
    const queueFor = async (round: number) => {
      for (const uuid of roundCommands(FIRST_ROUND + round, commandsPerRound)) await queueCommand(server.url, [sender], uuid);
    };

    ctx.log(`large results: ${devices} devices, ${idleRepeats} Idle each per phase; one device sending ${fmt.mb(resultBytes)} results of ${fmt.count(resultKeys)} keys`);
    // Round 0 warms up (JIT, page cache, connections) with and without; it is not counted.
    const alone: RunResult[] = [];
    const loaded: RunResult[] = [];
    for (let round = 0; round <= rounds; round += 1) {
      await queueFor(round);
      const without = await idle(null);
      const withLarge = await idle(round);
      await clearSenderQueue(server, sender);
      if (round > 0) {
        alone.push(without);
        loaded.push(withLarge);
      }
    }
    const errors = [...alone, ...loaded].reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) ctx.log(`large results: ${[...alone, ...loaded].flatMap((r) => r.errorSamples).slice(0, 3).join('; ')}`);
    const p99Alone = median(alone.map((r) => r.p99Ms));
    const p99Loaded = median(loaded.map((r) => r.p99Ms));
    const sent = loaded.reduce((sum, r) => sum + (r.large?.sent ?? 0), 0);
    const seconds = loaded.reduce((sum, r) => sum + r.wallSeconds, 0);
    const describe = (results: RunResult[]) =>
      `p99 ${fmt.ms(median(results.map((r) => r.p99Ms)))}, p50 ${fmt.ms(median(results.map((r) => r.p50Ms)))}, ${fmt.perSecond(median(results.map((r) => r.requests / r.wallSeconds)))} Idle`;
    const largeP50 = median(loaded.map((r) => r.large?.p50Ms ?? NaN));
    return [
      {
        figure: FIGURE,
        metric: 'Idle check-in p99 while large results arrive',
        measured: `${describe(loaded)}; ${sent} results of ${fmt.mb(resultBytes)} answered (${(sent / seconds).toFixed(1)}/s, p50 ${fmt.ms(largeP50)} each)`,
        baseline: `${describe(alone)} (no large results)`,
        ratio: p99Loaded / p99Alone,
        target: `≤ ${MAX_P99_RATIO}×, 0 errors`,
        verdict: verdict(p99Loaded / p99Alone <= MAX_P99_RATIO && errors === 0 && sent > 0),
      },
    ];
  } finally {
    await server.stop();
  }
}

/** What the sender did not get to is cancelled, so the next round's commands come first. */
async function clearSenderQueue(server: ServerProcess, sender: string): Promise<void> {
  const res = await fetch(`${server.url}/v1/enrollments/${sender}/queue`, { method: 'DELETE', headers: { authorization: `Bearer ${API_KEY}` } });
  if (!res.ok) throw new Error(`clearing the sender's queue answered ${res.status}`);
}
