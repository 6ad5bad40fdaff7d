// How deep a JSON document from outside may nest. JSON.parse accepts nesting far deeper than the
// stack, and the walkers that follow (validators, JSON → plist, canonical serialization) recurse:
// checking first keeps a hostile document a clear refusal instead of a stack overflow (a 500).

/** Deeper than any real command, declaration or status report (they nest a handful of levels). */
export const MAX_JSON_DEPTH = 64;

/** Whether a parsed value nests deeper than `max` levels; iterative, so it cannot overflow itself. */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  // Only objects and arrays are put on the stack, and their members are read in place: a fan-out's
  // 100,000 target strings cost no copy and no stack entry each (bench figure 11).
  const pending: { item: object; depth: number }[] = isObject(value) ? [{ item: value, depth: 0 }] : [];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { item, depth } = next;
    if (depth >= max) return true;
    const children: readonly unknown[] = Array.isArray(item) ? item : Object.values(item);
    for (const child of children) if (isObject(child)) pending.push({ item: child, depth: depth + 1 });
  }
  return false;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
