// Figure 1: the signed check-in loop on Aspen (defaults: identity checks on, synchronous=FULL)
// against the baseline Fastify server that only decodes the plist and answers the same bytes,
// with where Aspen's CPU goes, stage by stage (stages.ts).
import type { BenchContext } from '../context.ts';
import type { LoopBench, LoopMeasurement } from '../loop-bench.ts';
import { measureStages, type StageCosts } from '../stages.ts';
import { fmt, verdict, type Row } from '../table.ts';

const FIGURE = '1. check-in loop';
const MAX_CPU_RATIO = 2.0;

export async function checkinLoop(ctx: BenchContext, loops: LoopBench): Promise<Row[]> {
  const aspen = await loops.measure('aspen');
  const baseline = await loops.measure('baseline');
  ctx.log('check-in loop: stage costs');
  const stages = await measureStages(ctx);
  return [
    {
      figure: FIGURE,
      metric: 'server CPU per request',
      measured: cpuText(aspen),
      baseline: `${cpuText(baseline)} (Fastify + the plist package only)`,
      ratio: aspen.cpuPerRequest / baseline.cpuPerRequest,
      target: `≤ ${MAX_CPU_RATIO}×`,
      verdict: verdict(aspen.cpuPerRequest / baseline.cpuPerRequest <= MAX_CPU_RATIO),
    },
    {
      figure: FIGURE,
      metric: 'throughput (errors)',
      measured: throughputText(aspen),
      baseline: throughputText(baseline),
      ratio: aspen.throughput / baseline.throughput,
      target: '0 errors',
      verdict: verdict(aspen.errors === 0 && baseline.errors === 0),
    },
    {
      figure: FIGURE,
      metric: 'server CPU per request by stage',
      measured: stageText(stages, aspen.cpuPerRequest, baseline.cpuPerRequest),
      baseline: 'each stage alone in the bench process (bench/stages.ts)',
      ratio: NaN,
      target: '',
      verdict: '',
    },
  ];
}

/** The stages, in request order, and what they leave unexplained of Aspen's measured total. */
function stageText(stages: StageCosts, aspen: number, baseline: number): string {
  const parts: [string, number][] = [
    ['framework + reply', Math.max(0, baseline - stages.baselineParse)],
    ['signature', stages.signature],
    ['parse', stages.parse],
    ['validate + service + storage (SQLite FULL)', stages.storage],
    ['logging', stages.logging],
    ['metrics', stages.metrics],
  ];
  const explained = parts.reduce((sum, [, cost]) => sum + cost, 0);
  return [...parts, ['unattributed', aspen - explained] as [string, number]].map(([name, cost]) => `${name} ${fmt.us(cost)}`).join(', ');
}

export function cpuText(m: LoopMeasurement): string {
  return `${fmt.us(m.cpuPerRequest)}/req`;
}

/** Requests per second with latency and errors beside it: a fast answer that is wrong is no answer. */
export function throughputText(m: LoopMeasurement): string {
  return `${fmt.perSecond(m.throughput)}, p50 ${fmt.ms(m.p50Ms)}, p99 ${fmt.ms(m.p99Ms)}, ${m.errors} errors / ${fmt.count(m.requests)} req`;
}
