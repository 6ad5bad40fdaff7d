// Sends MDM pushes ("come and fetch your commands") to many devices: one request per target,
// a bounded number in flight, retries for answers that invite them, and one outcome per target
// that tells the core whether the device's token is dead.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  APNS_PRODUCTION_URL,
  APNS_SANDBOX_URL,
  type ApnsResult,
  type ApnsTransport,
  type ApnsTransportOptions,
  type MdmPush,
} from './apns-transport.ts';
import { createConcurrencyLimit } from './concurrency-limit.ts';
import { createHttp2Transport } from './http2-transport.ts';
import type { PushCertificate } from './push-certificate.ts';
import { isRetryable, isTokenInvalid, retryDelayMs, type RetryOptions } from './retry-policy.ts';

export interface PushTarget {
  /** The caller's key for this channel (e.g. the enrollment id); echoed in the outcome. */
  id: string;
  /** The TokenUpdate's Token bytes. */
  token: Uint8Array;
  pushMagic: string;
  /** Use the development gateway (the device's profile set UseDevelopmentAPNS). */
  sandbox?: boolean;
}

export interface PushOutcome {
  id: string;
  ok: boolean;
  /** HTTP status of the last answer, absent if APNs never answered. */
  status?: number;
  /** APNs reason of the last answer, e.g. "Unregistered". */
  reason?: string;
  apnsId?: string;
  /** Stop pushing this channel until its next TokenUpdate. */
  tokenInvalid: boolean;
  attempts: number;
  /** Why the last attempt failed, when it did not get an answer. */
  error?: string;
}

export interface PushLogger {
  warn(details: object, message: string): void;
}

export interface ApnsPusherOptions {
  certificate: PushCertificate;
  /** Send production pushes here instead of Apple's gateway (APNS_URL; a stand-in or proxy), and
   *  sandbox pushes too unless `sandboxUrl` is set. */
  url?: string;
  /** Send sandbox pushes here instead of Apple's development gateway (APNS_SANDBOX_URL). */
  sandboxUrl?: string;
  /** Extra CA to trust for the gateway's TLS certificate; default: Node's bundled roots. */
  caPem?: string;
  /** How long APNs keeps trying an offline device (apns-expiration = now + this). Default 3 days. */
  expirationSeconds?: number;
  /** Requests in flight at once, across all push() calls. Default 100. */
  concurrency?: number;
  retry?: Partial<RetryOptions>;
  /** Default 10 s. */
  requestTimeoutMs?: number;
  /** Default 'http2' (see src/push/README.md for why not node-apn). */
  transport?: 'http2' | 'node-apn';
  logger?: PushLogger;
}

export interface ApnsPusher {
  /** One outcome per target, in the order of `targets`. Never rejects for a failed push. */
  push(targets: readonly PushTarget[]): Promise<PushOutcome[]>;
  /** Waits for open requests, then closes the connections. */
  close(): Promise<void>;
}

const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 500, maxDelayMs: 60_000 };

function outcomeOf(id: string, result: ApnsResult, attempts: number): PushOutcome {
  if (result.kind === 'no-response') return { id, ok: false, tokenInvalid: false, attempts, error: result.error };
  return {
    id,
    ok: result.status === 200,
    status: result.status,
    ...(result.reason === undefined ? {} : { reason: result.reason }),
    ...(result.apnsId === undefined ? {} : { apnsId: result.apnsId }),
    tokenInvalid: isTokenInvalid(result),
    attempts,
  };
}

export function createApnsPusher(options: ApnsPusherOptions): ApnsPusher {
  const { certificate, logger } = options;
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  const expirationSeconds = options.expirationSeconds ?? 3 * 24 * 3600;
  const concurrency = options.concurrency ?? 100;
  const limit = createConcurrencyLimit(concurrency);
  const transportOptions: ApnsTransportOptions = {
    certificate,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    ...(options.caPem === undefined ? {} : { caPem: options.caPem }),
  };
  const transport: ApnsTransport = options.transport === 'node-apn'
    ? nodeApnTransport(transportOptions)
    : createHttp2Transport(transportOptions);

  function pushFor(target: PushTarget, tokenHex: string): MdmPush {
    return {
      gatewayUrl: target.sandbox ? (options.sandboxUrl ?? options.url ?? APNS_SANDBOX_URL) : (options.url ?? APNS_PRODUCTION_URL),
      tokenHex,
      pushMagic: target.pushMagic,
      topic: certificate.topic,
      expiration: Math.floor(Date.now() / 1000) + expirationSeconds,
    };
  }

  /** One line per push() call, not per device: a bad certificate fails every target at once. */
  function logFailures(outcomes: PushOutcome[]): void {
    const failed = outcomes.filter((outcome) => !outcome.ok);
    if (failed.length === 0) return;
    const tokenInvalid = failed.filter((outcome) => outcome.tokenInvalid).length;
    logger?.warn({ total: outcomes.length, failed: failed.length, tokenInvalid, example: failed[0] }, 'APNs pushes failed');
  }

  async function deliver(target: PushTarget): Promise<PushOutcome> {
    const tokenHex = Buffer.from(target.token).toString('hex');
    let attempts = 0;
    try {
      for (;;) {
        attempts += 1;
        // The slot is held for the request only, not while waiting to retry.
        const result = await limit.run(() => transport.send(pushFor(target, tokenHex)));
        if (attempts >= retry.attempts || !isRetryable(result)) return outcomeOf(target.id, result, attempts);
        await sleep(retryDelayMs(attempts, result, retry));
      }
    } catch (error) {
      // A transport that throws (e.g. node-apn refusing the certificate) won't do better next time.
      return { id: target.id, ok: false, tokenInvalid: false, attempts, error: (error as Error).message };
    }
  }

  async function push(targets: readonly PushTarget[]): Promise<PushOutcome[]> {
    // `concurrency` lanes walk the list, so a 100,000-target push holds a few hundred pending
    // deliveries in memory, not 100,000. The shared limit still bounds requests across calls.
    const outcomes = new Array<PushOutcome>(targets.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let i = next++; i < targets.length; i = next++) outcomes[i] = await deliver(targets[i] as PushTarget);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, lane));
    logFailures(outcomes);
    return outcomes;
  }

  return {
    push,
    close: () => transport.close(),
  };
}

/**
 * node-apn (and the JWT, HTTP/2 and logging libraries it brings, a few MB) is loaded on the first
 * push through it, not at start: the default transport is http2, and most servers never load it.
 */
function nodeApnTransport(options: ApnsTransportOptions): ApnsTransport {
  let loaded: Promise<ApnsTransport> | undefined;
  const transport = () => (loaded ??= import('./node-apn-transport.ts').then((m) => m.createNodeApnTransport(options)));
  return {
    send: async (push) => (await transport()).send(push),
    close: async () => {
      if (loaded !== undefined) await (await loaded).close();
    },
  };
}
