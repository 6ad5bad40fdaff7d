// "Did you mean ...?" for names people type: RequestTypes, command keys, enumerated values, CLI
// commands. Pure. A suggestion must be likely, or it is noise: the same name in another case, a
// name a couple of keystrokes away, or the one name that starts with what was typed.

/** Up to `max` candidates close to `input`, best first; empty when none is close enough. */
export function suggestions(input: string, candidates: Iterable<string>, max = 3): string[] {
  const typed = input.toLowerCase();
  const all = [...new Set(candidates)];
  const sameName = all.filter((c) => c.toLowerCase() === typed);
  if (sameName.length > 0) return sameName.slice(0, max);
  // Typos: more slack for longer names, never so much that short names match anything.
  const slack = typed.length < 3 ? 0 : typed.length < 5 ? 1 : typed.length < 10 ? 2 : 3;
  const near = all
    .map((c) => ({ c, d: editDistance(typed, c.toLowerCase()) }))
    .filter(({ d }) => d <= slack)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .map(({ c }) => c);
  if (near.length > 0) return near.slice(0, max);
  // A prefix ("DeviceInfo"), when it names one thing; three or more letters, or it names anything.
  const prefixed = typed.length >= 3 ? all.filter((c) => c.toLowerCase().startsWith(typed)) : [];
  return prefixed.length === 1 ? prefixed : [];
}

/** ` (did you mean "X"?)`-style text for messages, or '' when there is nothing to suggest. */
export function didYouMean(input: string, candidates: Iterable<string>, quote: (name: string) => string = (n) => JSON.stringify(n)): string {
  const found = suggestions(input, candidates);
  if (found.length === 0) return '';
  const names = found.map(quote);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  return `did you mean ${list}?`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity; // beyond any slack; skip the table
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
