// Plain-text output for people: aligned columns, key/value blocks and short local times.

/** Columns padded to their widest cell; the last column is not padded, so lines carry no trailing blanks. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, col) => Math.max(...all.map((row) => (row[col] ?? '').length)));
  return all
    .map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  '))
    .join('\n');
}

/** `label  value` lines with the labels aligned; pairs whose value is undefined are left out. */
export function keyValues(pairs: readonly (readonly [string, string | undefined])[]): string {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * An API timestamp in local time, without the noise: `HH:MM:SS` for today, `YYYY-MM-DD HH:MM`
 * otherwise. Scripts that need the exact instant use --json.
 */
export function shortTime(iso: string | null, now: Date = new Date()): string {
  if (iso === null) return '-';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const date = `${t.getFullYear()}-${pad2(t.getMonth() + 1)}-${pad2(t.getDate())}`;
  const sameDay = t.toDateString() === now.toDateString();
  return sameDay ? `${pad2(t.getHours())}:${pad2(t.getMinutes())}:${pad2(t.getSeconds())}` : `${date} ${pad2(t.getHours())}:${pad2(t.getMinutes())}`;
}

/** `-` for absent values, so empty cells stay visible in a table. */
export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}

export function prettyJson(value: unknown, indent = ''): string {
  return JSON.stringify(value, null, 2)
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
}
