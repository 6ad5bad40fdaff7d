import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApnsResult } from '../../src/push/apns-transport.ts';
import { parseRetryAfter } from '../../src/push/http2-transport.ts';
import { isRetryable, isTokenInvalid, retryDelayMs } from '../../src/push/retry-policy.ts';

const answer = (status: number, extra: Partial<Extract<ApnsResult, { kind: 'response' }>> = {}): ApnsResult =>
  ({ kind: 'response', status, ...extra });
const options = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };

describe('retry policy', () => {
  it('retries 429, 5xx and missing answers, nothing else', () => {
    assert.deepEqual(
      [200, 400, 403, 404, 410, 413, 429, 500, 503].map((status) => isRetryable(answer(status))),
      [false, false, false, false, false, false, true, true, true],
    );
    assert.equal(isRetryable({ kind: 'no-response', error: 'ECONNRESET' }), true);
  });

  it('declares a token dead only for 410 and the two token reasons of 400', () => {
    assert.equal(isTokenInvalid(answer(410, { reason: 'Unregistered' })), true);
    assert.equal(isTokenInvalid(answer(410, { reason: 'ExpiredToken' })), true);
    assert.equal(isTokenInvalid(answer(400, { reason: 'BadDeviceToken' })), true);
    assert.equal(isTokenInvalid(answer(400, { reason: 'DeviceTokenNotForTopic' })), true);
    assert.equal(isTokenInvalid(answer(400, { reason: 'BadTopic' })), false);
    assert.equal(isTokenInvalid(answer(403, { reason: 'BadCertificate' })), false);
    assert.equal(isTokenInvalid({ kind: 'no-response', error: 'timeout' }), false);
  });

  it('backs off exponentially with equal jitter, capped', () => {
    const least = (retry: number): number => retryDelayMs(retry, answer(500), options, () => 0);
    const most = (retry: number): number => retryDelayMs(retry, answer(500), options, () => 1);
    assert.deepEqual([1, 2, 3, 4, 5].map(least), [50, 100, 200, 400, 500]);
    assert.deepEqual([1, 2, 3, 4, 5].map(most), [100, 200, 400, 800, 1000]);
  });

  it('follows Retry-After instead of backoff, capped at maxDelayMs', () => {
    assert.equal(retryDelayMs(1, answer(429, { retryAfterMs: 700 }), options, () => 0), 700);
    assert.equal(retryDelayMs(1, answer(429, { retryAfterMs: 60_000 }), options, () => 0), 1000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});
