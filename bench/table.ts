// The one table every figure feeds: measured value, the baseline it is divided by, the ratio and,
// where the issue sets one, the target and whether it was met.

export type Verdict = 'PASS' | 'MISS' | '';

export interface Row {
  figure: string;
  metric: string;
  /** Raw numbers of what is being judged, with units. */
  measured: string;
  /** Raw numbers of the same-run baseline, with units. */
  baseline: string;
  ratio: number;
  /** e.g. "≤ 2.5×"; empty when the issue sets none. */
  target: string;
  verdict: Verdict;
}

const HEADERS = ['figure', 'metric', 'measured', 'baseline', 'ratio', 'target', 'verdict'] as const;

function cells(row: Row): string[] {
  return [row.figure, row.metric, row.measured, row.baseline, Number.isNaN(row.ratio) ? '—' : `${row.ratio.toFixed(2)}×`, row.target, row.verdict];
}

export function verdict(pass: boolean): Verdict {
  return pass ? 'PASS' : 'MISS';
}

export function textTable(rows: readonly Row[]): string {
  const lines = [[...HEADERS], ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const line = (l: string[]) => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(lines[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(line)].join('\n');
}

export function markdownTable(rows: readonly Row[]): string {
  const line = (l: readonly string[]) => `| ${l.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(HEADERS), line(HEADERS.map(() => '---')), ...rows.map((r) => line(cells(r)))].join('\n');
}

// Units, so every raw number in the table reads the same way.
export const fmt = {
  count: (n: number): string => Math.round(n).toLocaleString('en-US'),
  perSecond: (n: number): string => `${fmt.count(n)}/s`,
  us: (seconds: number): string => `${(seconds * 1e6).toFixed(0)} µs`,
  ms: (ms: number): string => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`,
  seconds: (s: number): string => `${s.toFixed(2)} s`,
  mb: (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`,
};
