// Figure 6: what synchronous=FULL (an answered result survives power loss) costs against NORMAL
// (survives a crash only) on the same signed loop. FULL waits for an fsync per transaction, which
// shows in latency and throughput more than in CPU. The issue sets no target.
import type { LoopBench } from '../loop-bench.ts';
import type { Row } from '../table.ts';
import { cpuText, throughputText } from './checkin-loop.ts';

const FIGURE = '6. durability cost';

export async function durability(loops: LoopBench): Promise<Row[]> {
  const full = await loops.measure('aspen');
  const normal = await loops.measure('aspen-synchronous-normal');
  return [
    {
      figure: FIGURE,
      metric: 'throughput, FULL vs NORMAL',
      measured: throughputText(full),
      baseline: throughputText(normal),
      ratio: full.throughput / normal.throughput,
      target: '',
      verdict: '',
    },
    {
      figure: FIGURE,
      metric: 'server CPU per request, FULL vs NORMAL',
      measured: cpuText(full),
      baseline: cpuText(normal),
      ratio: full.cpuPerRequest / normal.cpuPerRequest,
      target: '',
      verdict: '',
    },
  ];
}
