// How deep a JSON document from outside may nest. JSON.parse accepts nesting far deeper than the
// stack, and the walkers that follow (validators, JSON → plist, canonical serialization) recurse:
// checking first keeps a hostile document a clear refusal instead of a stack overflow (a 500).

/** Deeper than any real command, declaration or status report (they nest a handful of levels). */
export const MAX_JSON_DEPTH = 64;

/** Whether a parsed value nests deeper than `max` levels; iterative, so it cannot overflow itself. */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}
