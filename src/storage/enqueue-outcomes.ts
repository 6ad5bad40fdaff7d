// The per-target answer of CommandStore.enqueue, shared by both backends. A fan-out to 100,000
// enrollments usually queues every target: `'all'` says so without a 100,000-entry set.
import type { EnqueueOutcome } from './storage.ts';

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
