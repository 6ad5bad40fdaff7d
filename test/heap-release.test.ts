import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { releaseHeapSoon } from '../src/heap-release.ts';

/** A large object nothing refers to, but the returned weak reference. */
function garbage(): WeakRef<object> {
  return new WeakRef(new Array(1_000_000).fill(0));
}

describe('releaseHeapSoon', () => {
  it('collects what is unreachable once the current callbacks are done, each time it is asked', async () => {
    for (let round = 0; round < 2; round++) {
      const ref = garbage();
      await nextTurn(); // past the job that made it (a WeakRef holds its target until then)
      releaseHeapSoon();
      await nextTurn();
      assert.equal(ref.deref(), undefined, `round ${round}`);
    }
  });

  it('leaves no gc function in the global scope', () => {
    releaseHeapSoon();
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  });
});
