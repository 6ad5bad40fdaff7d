// Figure 1: the signed check-in loop on Aspen (defaults: identity checks on, synchronous=FULL)
// against the baseline Fastify server that only decodes the plist and answers the same bytes.
import type { LoopBench, LoopMeasurement } from '../loop-bench.ts';
import { fmt, verdict, type Row } from '../table.ts';

const FIGURE = '1. check-in loop';
const MAX_CPU_RATIO = 2.5;

export async function checkinLoop(loops: LoopBench): Promise<Row[]> {
  const aspen = await loops.measure('aspen');
  const baseline = await loops.measure('baseline');
  return [
    {
      figure: FIGURE,
      metric: 'server CPU per request',
      measured: cpuText(aspen),
      baseline: `${cpuText(baseline)} (Fastify + plist only)`,
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
  ];
}

export function cpuText(m: LoopMeasurement): string {
  return `${fmt.us(m.cpuPerRequest)}/req`;
}

/** Requests per second with latency and errors beside it: a fast answer that is wrong is no answer. */
export function throughputText(m: LoopMeasurement): string {
  return `${fmt.perSecond(m.throughput)}, p50 ${fmt.ms(m.p50Ms)}, p99 ${fmt.ms(m.p99Ms)}, ${m.errors} errors / ${fmt.count(m.requests)} req`;
}
