// Figure 11: memory. (a) RSS of an Aspen that has just started (an empty database, trusting the
// bench's device CA, nothing served yet), read from /proc once it answers; (b) RSS of the server
// holding 100,000 enrollments after it has served them (figure 4's large server: a sample of its
// devices checked in, then one command was queued to every enrollment), against a target each.
import type { BenchContext } from '../context.ts';
import { fmt, verdict, type Row } from '../table.ts';
import { scaleMeasurements } from './scale.ts';

const FIGURE = '11. memory';
const MAX_START_RSS = 70 * 1024 * 1024;
const MAX_SERVED_RSS = 160 * 1024 * 1024;
/** Fresh servers started for (a); the median counts (start-up allocation varies a little). */
const STARTS = 3;

export async function memory(ctx: BenchContext): Promise<Row[]> {
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const server = await ctx.startAspen(`memory-start-${i}`, {});
    try {
      starts.push(server.memory().rss);
    } finally {
      await server.stop();
    }
  }
  starts.sort((a, b) => a - b);
  const atStart = starts[Math.floor(STARTS / 2)]!;
  const { large } = await scaleMeasurements(ctx);
  return [
    {
      figure: FIGURE,
      metric: 'RSS right after start',
      measured: `${fmt.mb(atStart)} (median of ${STARTS} starts, ${starts.map(fmt.mb).join(' / ')})`,
      baseline: `target ${fmt.mb(MAX_START_RSS)}`,
      ratio: atStart / MAX_START_RSS,
      target: `≤ ${fmt.mb(MAX_START_RSS)}`,
      verdict: verdict(atStart <= MAX_START_RSS),
    },
    {
      figure: FIGURE,
      metric: `RSS after serving ${fmt.count(large.enrollments)} enrollments (figure 4's server)`,
      measured: `${fmt.mb(large.rss)} RSS, peak ${fmt.mb(large.peakRss)}`,
      baseline: `target ${fmt.mb(MAX_SERVED_RSS)}`,
      ratio: large.rss / MAX_SERVED_RSS,
      target: `≤ ${fmt.mb(MAX_SERVED_RSS)}`,
      verdict: verdict(large.rss <= MAX_SERVED_RSS),
    },
  ];
}
