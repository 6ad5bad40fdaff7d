// Caps how many tasks run at once across every caller, so concurrent push() calls together stay
// within the number of requests Aspen keeps open towards APNs.
export interface ConcurrencyLimit {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createConcurrencyLimit(limit: number): ConcurrencyLimit {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  let running = 0;
  // A FIFO read from `head`: Array#shift is linear on the large arrays a 100,000-target push makes.
  let waiting: (() => void)[] = [];
  let head = 0;

  function release(): void {
    if (head < waiting.length) {
      const next = waiting[head] as () => void;
      head += 1;
      if (head === waiting.length) {
        waiting = [];
        head = 0;
      }
      next(); // the slot passes straight to the next waiter
    } else {
      running -= 1;
    }
  }

  async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      release();
    }
  }

  return { run };
}
