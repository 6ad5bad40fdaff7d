// Figure 6: what synchronous=FULL (an answered result survives power loss) costs against NORMAL
// (survives a crash only) on the same signed loop. FULL waits for an fsync per transaction, which
// shows in latency and throughput more than in CPU. Group commit (src/storage/sqlite/group-commit.ts)
// shares one fsync among the results of an event-loop turn; the target: FULL keeps at
// least 0.85× NORMAL's throughput.
import type { LoopBench } from '../loop-bench.ts';
import { verdict, type Row } from '../table.ts';
import { cpuText, throughputText } from './checkin-loop.ts';

const FIGURE = '6. durability cost';
const MIN_THROUGHPUT_RATIO = 0.85;

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
      target: `≥ ${MIN_THROUGHPUT_RATIO}×, 0 errors`,
      verdict: verdict(full.throughput / normal.throughput >= MIN_THROUGHPUT_RATIO && full.errors + normal.errors === 0),
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
