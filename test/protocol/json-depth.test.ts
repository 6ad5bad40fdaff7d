import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestsDeeperThan } from '../../src/protocol/json-depth.ts';

/** `levels` containers, arrays and objects taking turns, around one string. */
function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

describe('nestsDeeperThan', () => {
  it('counts arrays and objects alike, up to the limit and not past it', () => {
    assert.equal(nestsDeeperThan(nested(4), 4), false);
    assert.equal(nestsDeeperThan(nested(5), 4), true);
  });

  it('finds the deep member of a wide array, wherever it stands', () => {
    const wide: unknown[] = Array.from({ length: 100_000 }, (_, i) => `id-${i}`);
    assert.equal(nestsDeeperThan({ targets: wide }, 4), false);
    wide.splice(50_000, 0, nested(4));
    assert.equal(nestsDeeperThan({ targets: wide }, 4), true);
  });

  it('takes scalars and null as no nesting', () => {
    for (const value of ['x', 1, true, null]) assert.equal(nestsDeeperThan(value, 0), false);
  });
});
