// Which APNs answers are worth another attempt, how long to wait before it, and which ones mean
// the device token is dead.
import type { ApnsResult } from './apns-transport.ts';

export interface RetryOptions {
  /** Total attempts per push, the first included. */
  attempts: number;
  /** Backoff before the first retry; it doubles for each further one. */
  baseDelayMs: number;
  /** Upper bound for any wait, Retry-After included. */
  maxDelayMs: number;
}

/** 429 and 5xx are APNs asking to come back later; other 4xx won't change by retrying. */
export function isRetryable(result: ApnsResult): boolean {
  if (result.kind === 'no-response') return true;
  return result.status === 429 || result.status >= 500;
}

/**
 * APNs says the token can't receive pushes for this topic until the device sends a new
 * TokenUpdate: 410 (Unregistered, ExpiredToken), 400 BadDeviceToken, 400 DeviceTokenNotForTopic.
 */
export function isTokenInvalid(result: ApnsResult): boolean {
  if (result.kind !== 'response') return false;
  if (result.status === 410) return true;
  return result.status === 400 && (result.reason === 'BadDeviceToken' || result.reason === 'DeviceTokenNotForTopic');
}

/**
 * Wait before retry number `retry` (1 for the first retry). Retry-After wins when APNs sends it;
 * otherwise exponential backoff with "equal jitter" (half fixed, half random), so retries of a
 * large batch spread out but never come back sooner than half the nominal delay.
 */
export function retryDelayMs(retry: number, result: ApnsResult, options: RetryOptions, random = Math.random): number {
  if (result.kind === 'response' && result.retryAfterMs !== undefined) {
    return Math.min(result.retryAfterMs, options.maxDelayMs);
  }
  const nominal = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return nominal / 2 + random() * (nominal / 2);
}
