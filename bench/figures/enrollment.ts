// Figure 10: what enrolling costs. Devices that Aspen has never seen, each with a certificate of
// its own fresh from the device CA (issued and every body signed before any timing), send
// Authenticate then TokenUpdate: the server verifies each new certificate's chain, binds it, and
// records the enrollment. Server CPU per device, against the CPU of one Idle check-in (nothing
// queued, an empty 200) by the same devices on the same server in the same run.
import type { BenchContext } from '../context.ts';
import { fmt, verdict, type Row } from '../table.ts';
import { udid } from '../workload.ts';

const FIGURE = '10. enrollment';
const MAX_RATIO = 3;
/** Device ids far from the other figures' (udid(i) counts up from 0), so fleets never share one. */
const FIRST_DEVICE = 0x10_0000;

export async function enrollment(ctx: BenchContext): Promise<Row[]> {
  const { devices, warmup } = ctx.sizes.enrollment;
  const fleets = { warm: 'enrollment warm-up', timed: 'enrollment' };
  const ids = Array.from({ length: warmup + devices }, (_, i) => udid(FIRST_DEVICE + i));
  const signing = { caCertPem: ctx.deviceCa.certPem, caKeyPem: ctx.deviceCa.keyPem };
  const prepared = await Promise.all([
    ctx.simulator.prepare({ name: fleets.warm, ids: ids.slice(0, warmup), rounds: 0, commandsPerRound: 0, signing }),
    ctx.simulator.prepare({ name: fleets.timed, ids: ids.slice(warmup), rounds: 0, commandsPerRound: 0, signing }),
  ]);
  ctx.log(`enrollment: issued and signed for ${fmt.count(warmup + devices)} devices in ${prepared.reduce((a, b) => a + b, 0).toFixed(1)} s`);

  const server = await ctx.startAspen('enrollment', {});
  try {
    const { concurrency } = ctx.sizes.loop;
    const run = (fleet: string, phase: { kind: 'enroll' } | { kind: 'idle'; repeats: number }) =>
      ctx.simulator.run({ fleet, urls: [server.url], phase, signed: true, concurrency });
    // Warm-up: the JIT, SQLite's page cache, the connections, for both kinds of request. Three
    // times as many devices as are timed: fewer leave the optimizing compiler busy in the timed
    // phase (README).
    await run(fleets.warm, { kind: 'enroll' });
    await run(fleets.warm, { kind: 'idle', repeats: 1 });
    const enrolled = await server.timed(() => run(fleets.timed, { kind: 'enroll' }));
    const idle = await server.timed(() => run(fleets.timed, { kind: 'idle', repeats: 1 }));
    const errors = enrolled.result.errors + idle.result.errors;
    if (errors > 0) ctx.log(`enrollment: ${[...enrolled.result.errorSamples, ...idle.result.errorSamples].join('; ')}`);
    const perDevice = enrolled.cpuSeconds / devices;
    const perIdle = idle.cpuSeconds / idle.result.requests;
    return [
      {
        figure: FIGURE,
        metric: 'server CPU per device, Authenticate + TokenUpdate (a new certificate each)',
        measured: `${fmt.us(perDevice)}/device (${fmt.count(devices)} devices, ${enrolled.result.errors} errors)`,
        baseline: `${fmt.us(perIdle)}/req (one Idle check-in, same devices, ${idle.result.errors} errors)`,
        ratio: perDevice / perIdle,
        target: `≤ ${MAX_RATIO}×, 0 errors`,
        verdict: verdict(perDevice / perIdle <= MAX_RATIO && errors === 0),
      },
    ];
  } finally {
    await server.stop();
  }
}
