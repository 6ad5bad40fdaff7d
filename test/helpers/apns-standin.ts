// A stand-in for Apple's APNs provider API: a real HTTP/2 TLS server on 127.0.0.1 that demands a
// client certificate from the test CA, records every request and answers as the test's
// `behaviour` says. It uses the low-level 'stream' API (not the compatibility layer) so that a
// benchmark can push 100,000 requests through it on a small machine.
import { randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export type StandinReply =
  /** Any HTTP status; 200 gets an `apns-id`, others get `{"reason": ...}` when a reason is given. */
  | { status: number; reason?: string; retryAfter?: string; delayMs?: number }
  /** 'stream' resets just this request; 'connection' destroys the whole HTTP/2 session. */
  | { drop: 'stream' | 'connection' };

/** `attempt` counts requests for that token, starting at 1. */
export type StandinBehaviour = (token: string, attempt: number) => StandinReply;

export const reply = {
  ok: (): StandinReply => ({ status: 200 }),
  unregistered: (): StandinReply => ({ status: 410, reason: 'Unregistered' }),
  badDeviceToken: (): StandinReply => ({ status: 400, reason: 'BadDeviceToken' }),
  notForTopic: (): StandinReply => ({ status: 400, reason: 'DeviceTokenNotForTopic' }),
  tooMany: (retryAfterSeconds: number): StandinReply =>
    ({ status: 429, reason: 'TooManyRequests', retryAfter: String(retryAfterSeconds) }),
  internalError: (): StandinReply => ({ status: 500, reason: 'InternalServerError' }),
  dropStream: (): StandinReply => ({ drop: 'stream' }),
  dropConnection: (): StandinReply => ({ drop: 'connection' }),
};

export interface RecordedRequest {
  method: string;
  path: string;
  /** Incoming headers as Node gives them (lower-case names, pseudo-headers included). */
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** Subject of the client certificate, e.g. "UID=com.apple.mgmt...\nCN=...". */
  clientSubject: string;
  /** When the request's body was complete (performance.now()). */
  receivedAt: number;
  /** The reply the behaviour chose. */
  reply: StandinReply;
}

export interface ApnsStandin {
  /** e.g. https://127.0.0.1:54321 */
  url: string;
  requests: RecordedRequest[];
  /** Highest number of requests that were open at the same time. */
  maxInFlight(): number;
  /** Requests per token (lower-case hex). */
  attemptsFor(token: string): number;
  /** Resolves once a recorded request satisfies `until` (at once when one already does). */
  waitFor(until: (request: RecordedRequest) => boolean): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export interface ApnsStandinOptions {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  behaviour?: StandinBehaviour;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients (Apple advertises about 1000). */
  maxConcurrentStreams?: number;
  /** Keep request records (turn off in benchmarks to save memory; counters still work). */
  record?: boolean;
}

const DEVICE_PATH = /^\/3\/device\/([0-9a-fA-F]+)$/;

export async function startApnsStandin(options: ApnsStandinOptions): Promise<ApnsStandin> {
  const behaviour = options.behaviour ?? reply.ok;
  const record = options.record ?? true;
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let waiters: { until: (request: RecordedRequest) => boolean; resolve: (request: RecordedRequest) => void }[] = [];

  const server = http2.createSecureServer({
    key: options.serverKeyPem,
    cert: options.serverCertPem,
    ca: options.caCertPem,
    requestCert: true,
    rejectUnauthorized: true,
    settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 1000 },
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    // A misbehaving client must not crash the test process.
    session.on('error', () => undefined);
  });

  server.on('stream', (stream, headers) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    stream.on('close', () => { inFlight -= 1; });
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const path = String(headers[':path']);
      const token = DEVICE_PATH.exec(path)?.[1]?.toLowerCase() ?? '';
      const attempt = (attempts.get(token) ?? 0) + 1;
      attempts.set(token, attempt);
      const chosen = behaviour(token, attempt);
      if (record) {
        const socket = stream.session?.socket as TLSSocket | undefined;
        const recorded: RecordedRequest = {
          method: String(headers[':method']),
          path,
          headers,
          body: Buffer.concat(chunks),
          clientSubject: socket?.getPeerX509Certificate()?.subject ?? '',
          receivedAt: performance.now(),
          reply: chosen,
        };
        requests.push(recorded);
        waiters = waiters.filter((w) => (w.until(recorded) ? (w.resolve(recorded), false) : true));
      }
      if ('drop' in chosen) {
        if (chosen.drop === 'stream') stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        else stream.session?.destroy();
        return;
      }
      const answer = (): void => respond(stream, chosen);
      if (chosen.delayMs) setTimeout(answer, chosen.delayMs);
      else answer();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    maxInFlight: () => maxInFlight,
    attemptsFor: (token) => attempts.get(token.toLowerCase()) ?? 0,
    waitFor: (until) =>
      new Promise((resolve) => {
        const already = requests.find(until);
        if (already) resolve(already);
        else waiters.push({ until, resolve });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

function respond(
  stream: http2.ServerHttp2Stream,
  chosen: { status: number; reason?: string; retryAfter?: string },
): void {
  if (stream.destroyed) return;
  const headers: http2.OutgoingHttpHeaders = { ':status': chosen.status, 'apns-id': randomUUID() };
  if (chosen.retryAfter !== undefined) headers['retry-after'] = chosen.retryAfter;
  if (chosen.status === 200 || chosen.reason === undefined) {
    stream.respond(headers, { endStream: true });
    return;
  }
  headers['content-type'] = 'application/json';
  stream.respond(headers);
  stream.end(JSON.stringify({ reason: chosen.reason }));
}
