// The benchmark suite: `npm run bench` (full, writes bench/RESULTS.md) or `npm run bench -- --quick`.
// Options:
//   --quick          smaller sizes (about a minute); does not write RESULTS.md
//   --write-results  write RESULTS.md even for --quick or --only runs
//   --only 1,3       run only these figures
//   --profile        Aspen servers write V8 CPU profiles to bench/profiles/<time>/ (summarized at
//                    the end); profiling slows the server, so such a run never writes RESULTS.md
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDeviceCa } from '../src/identity/index.ts';
import { BenchContext, FULL, QUICK } from './context.ts';
import { checkinLoop } from './figures/checkin-loop.ts';
import { durability } from './figures/durability.ts';
import { enrollment } from './figures/enrollment.ts';
import { fanOut } from './figures/fan-out.ts';
import { memory } from './figures/memory.ts';
import { largeResults } from './figures/large-results.ts';
import { postgres } from './figures/postgres.ts';
import { push } from './figures/push.ts';
import { webhooks } from './figures/webhooks.ts';
import { workers } from './figures/workers.ts';
import { scale } from './figures/scale.ts';
import { signatureCost } from './figures/signature-cost.ts';
import { LoopBench, type LoopServer } from './loop-bench.ts';
import { describeMachine } from './machine.ts';
import { formatSummary, summarizeProfiles } from './profile.ts';
import { RESULTS_PATH, writeResults } from './results.ts';
import { Simulator } from './simulator/client.ts';
import { textTable, type Row } from './table.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'write-results': { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});

/** The loop servers each figure's target compares: measured in interleaved rounds (loop-bench.ts). */
const COMPARED: Record<number, LoopServer[]> = {
  1: ['aspen', 'baseline'],
  2: ['aspen', 'aspen-identity-off'],
  6: ['aspen', 'aspen-synchronous-normal'],
  12: ['aspen', 'aspen-two-workers'],
};

const started = performance.now();
const sizes = values.quick ? QUICK : FULL;
const only = values.only?.split(',').map(Number);
const profileRoot = values.profile
  ? fileURLToPath(new URL(`./profiles/${new Date().toISOString().replace(/[:.]/g, '-')}/`, import.meta.url))
  : undefined;
const log = (message: string): void => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);

const tempRoot = mkdtempSync(join(tmpdir(), 'aspen-bench-'));
const simulator = new Simulator();
const rows: Row[] = [];
let failed = false;
let ctx: BenchContext | undefined;
try {
  // One device CA for the whole run: every Aspen trusts it (DEVICE_CA), so devices are issued and
  // their bodies signed once, not once per server. RSA, as the CA a new install issues from
  // (SCEP needs it; README, "Which CAs issue and are trusted"); figure 10 checks its signature
  // on every new device certificate.
  const ca = createDeviceCa(new Date(), 'rsa');
  const caPath = join(tempRoot, 'device-ca.pem');
  writeFileSync(caPath, ca.certPem);
  const context = new BenchContext(sizes, simulator, { certPath: caPath, certPem: ca.certPem, keyPem: ca.keyPem }, tempRoot, profileRoot, log);
  ctx = context;
  const compared = Object.entries(COMPARED).flatMap(([figure, servers]) => (only && !only.includes(Number(figure)) ? [] : servers));
  const loops = new LoopBench(context, compared);
  const figures: [number, () => Promise<Row[]>][] = [
    [1, () => checkinLoop(context, loops)],
    [2, () => signatureCost(loops)],
    [3, () => fanOut(context)],
    [4, () => scale(context)],
    [5, () => push(context)],
    [6, () => durability(loops)],
    [7, () => largeResults(context)],
    [8, () => postgres(context, loops)],
    [9, () => webhooks(context, loops)],
    [10, () => enrollment(context)],
    [11, () => memory(context)],
    [12, () => workers(loops)],
  ];
  for (const [figure, measure] of figures) {
    if (only && !only.includes(figure)) continue;
    try {
      rows.push(...(await measure()));
    } catch (err) {
      // One broken figure must not cost the others; the run still fails at the end.
      failed = true;
      log(`figure ${figure} failed: ${(err as Error).stack ?? String(err)}`);
      rows.push({ figure: `${figure}.`, metric: 'failed', measured: (err as Error).message.split('\n')[0]!, baseline: '', ratio: NaN, target: '', verdict: 'MISS' });
    }
  }
} finally {
  await ctx?.close();
  await simulator.close();
  rmSync(tempRoot, { recursive: true, force: true });
}

const seconds = (performance.now() - started) / 1000;
const machine = describeMachine();
console.log(`\n${textTable(rows)}\n`);
console.log(`${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}; ${seconds.toFixed(0)} s`);
if (profileRoot) {
  mkdirSync(profileRoot, { recursive: true });
  for (const summary of summarizeProfiles(profileRoot)) console.log(`\n${formatSummary(summary)}`);
}
const complete = !values.quick && only === undefined;
if (values['write-results'] || (complete && !failed && !values.profile)) {
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  writeResults(rows, machine, sizes, command, seconds);
  console.log(`wrote ${fileURLToPath(RESULTS_PATH)}`);
}
process.exitCode = failed ? 1 : 0;
