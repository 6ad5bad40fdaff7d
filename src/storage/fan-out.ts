// Fan-out of one command to many enrollments, shared by both backends and the command queue.
// A fan-out to 100,000 enrollments is worked through in chunks: each chunk's intermediates (the
// ids as one JSON array or SQL array, the rows back) are small and die young, where 100,000-sized
// ones would be kept into the old generation and held as memory long after the request (bench
// figure 11). The chunks of one enqueue still go in one transaction.
import type { EnqueueOutcome } from './storage.ts';

/** Ids per statement: few statements (round trips on PostgreSQL, where 5,000 made bench figure 8's
 *  fan-out about 15% slower), each chunk's intermediates still small enough to die young. */
export const FAN_OUT_CHUNK = 20_000;

/** `ids` in consecutive slices of FAN_OUT_CHUNK. */
export function* fanOutChunks<T>(ids: readonly T[]): Generator<T[]> {
  for (let i = 0; i < ids.length; i += FAN_OUT_CHUNK) yield ids.slice(i, i + FAN_OUT_CHUNK);
}

/** The per-target answer of CommandStore.enqueue. A fan-out usually queues every target: `'all'`
 *  says so without a 100,000-entry set. */
export function enqueueOutcomes(
  enrollmentIds: readonly string[],
  queued: ReadonlySet<string> | 'all',
  /** Known enrollments (with unlessPending): one not queued had a command of the type pending. */
  known: ReadonlySet<string>,
): Map<string, EnqueueOutcome> {
  const outcomes = new Map<string, EnqueueOutcome>();
  for (const id of enrollmentIds) {
    outcomes.set(id, queued === 'all' || queued.has(id) ? 'queued' : known.has(id) ? 'already-pending' : 'unknown-enrollment');
  }
  return outcomes;
}
