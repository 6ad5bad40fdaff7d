// When a failed delivery is tried again: the Standard Webhooks schedule (5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h, 10 h), carried on with two daily tries so that the last falls about three days after
// the first, each step with ±20% jitter (so that endpoints coming back are not hit in step). A
// receiver's Retry-After on 429 or 503 replaces the step, up to a cap. After the last try the
// delivery is dead-lettered: kept, listed, and replayable through the API.
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const RETRY_STEPS_MS = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR, 24 * HOUR, 24 * HOUR];
const JITTER = 0.2;

/**
 * When to try again after the `attempt`th attempt failed, or null when that was the last.
 * `retryAfterMs` is the receiver's Retry-After, when it gave one with a 429 or 503.
 */
export function nextAttempt(attempt: number, now: Date, retryAfterMs: number | undefined, maxRetryAfterMs: number, random: () => number = Math.random): Date | null {
  const step = RETRY_STEPS_MS[attempt - 1];
  if (step === undefined) return null;
  const delay = retryAfterMs !== undefined ? Math.min(retryAfterMs, maxRetryAfterMs) : step * (1 - JITTER + 2 * JITTER * random());
  return new Date(now.getTime() + delay);
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * SECOND;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
