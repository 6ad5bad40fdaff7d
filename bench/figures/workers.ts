// Figure 12: WORKERS=2 (two server processes on one port, one SQLite database in WAL mode) against
// one, on the same signed check-in loop (identity on, synchronous=FULL), with the device simulator
// on the same 2-core machine. The target: at least 1.4× the throughput of one process.
import type { LoopBench, LoopMeasurement } from '../loop-bench.ts';
import { fmt, verdict, type Row } from '../table.ts';
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
    {
      figure: FIGURE,
      // Why the ratio is what it is: one process is bound by its event-loop thread, two share the
      // machine's cores with each other and with the client.
      metric: 'CPU per request, WORKERS=2 vs 1: server (every process) + client',
      measured: cpuText(two),
      baseline: cpuText(one),
      ratio: (two.cpuPerRequest + two.clientCpuPerRequest) / (one.cpuPerRequest + one.clientCpuPerRequest),
      target: '',
      verdict: '',
    },
  ];
}

function cpuText(m: LoopMeasurement): string {
  return `server ${fmt.us(m.cpuPerRequest)} + client ${fmt.us(m.clientCpuPerRequest)}`;
}
