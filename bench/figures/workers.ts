// Figure 12: WORKERS=2 (two server processes on one port, one SQLite database in WAL mode) against
// one, on the same signed check-in loop (identity on, synchronous=FULL), with the device simulator
// on the same 2-core machine. The target: at least 1.4× the throughput of one process.
import type { LoopBench } from '../loop-bench.ts';
import { verdict, type Row } from '../table.ts';
import { throughputText } from './checkin-loop.ts';

const FIGURE = '12. workers';
const MIN_THROUGHPUT_RATIO = 1.4;

export async function workers(loops: LoopBench): Promise<Row[]> {
  const two = await loops.measure('aspen-two-workers');
  const one = await loops.measure('aspen');
  const ratio = two.throughput / one.throughput;
  return [
    {
      figure: FIGURE,
      metric: 'signed check-in throughput, WORKERS=2 vs 1',
      measured: throughputText(two),
      baseline: throughputText(one),
      ratio,
      target: `≥ ${MIN_THROUGHPUT_RATIO}×, 0 errors`,
      verdict: verdict(ratio >= MIN_THROUGHPUT_RATIO && two.errors + one.errors === 0),
    },
  ];
}
