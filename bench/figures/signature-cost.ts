// Figure 2: what checking each request's Mdm-Signature (and its certificate binding) costs: the
// same loop with DEVICE_IDENTITY=off and no headers sent, against the default.
import type { LoopBench } from '../loop-bench.ts';
import { verdict, type Row } from '../table.ts';
import { cpuText, throughputText } from './checkin-loop.ts';

const FIGURE = '2. signature cost';
const MAX_CPU_RATIO = 1.3;

export async function signatureCost(loops: LoopBench): Promise<Row[]> {
  const on = await loops.measure('aspen');
  const off = await loops.measure('aspen-identity-off');
  const cpuRatio = on.cpuPerRequest / off.cpuPerRequest;
  return [
    {
      figure: FIGURE,
      metric: 'server CPU per request, identity on vs off',
      measured: cpuText(on),
      baseline: cpuText(off),
      ratio: cpuRatio,
      target: `≤ ${MAX_CPU_RATIO}× (checks add ≤ 30%)`,
      verdict: verdict(cpuRatio <= MAX_CPU_RATIO),
    },
    {
      figure: FIGURE,
      metric: 'throughput, identity on vs off',
      measured: throughputText(on),
      baseline: throughputText(off),
      ratio: on.throughput / off.throughput,
      target: '',
      verdict: '',
    },
  ];
}
