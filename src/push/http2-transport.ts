// A direct node:http2 client for APNs: one long-lived session per gateway, re-opened when APNs
// closes it (GOAWAY), when it dies, or after it has been idle a while. Unlike node-apn it reports
// Retry-After and never retries on its own; retrying is the pusher's job.
import http2 from 'node:http2';
import {
  mdmPushRequest,
  type ApnsResult,
  type ApnsTransport,
  type ApnsTransportOptions,
  type MdmPush,
} from './apns-transport.ts';

/** Idle sessions are closed so that a NAT or load balancer silently dropping them can't stall pushes. */
const IDLE_SESSION_MS = 5 * 60_000;

/** Retry-After is delta-seconds or an HTTP-date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function headerText(value: string | string[] | number | undefined): string | undefined {
  return value === undefined ? undefined : String(Array.isArray(value) ? value[0] : value);
}

function reasonIn(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const reason = (parsed as { reason?: unknown } | null)?.reason;
    return typeof reason === 'string' ? reason : undefined;
  } catch {
    return undefined;
  }
}

/** Lets open streams finish; also settles for a session that is already closing. */
function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.destroyed) {
      resolve();
      return;
    }
    session.once('close', () => resolve());
    if (!session.closed) session.close();
  });
}

export function createHttp2Transport(options: ApnsTransportOptions): ApnsTransport {
  const sessions = new Map<string, http2.ClientHttp2Session>();

  function forget(gatewayUrl: string, session: http2.ClientHttp2Session): void {
    if (sessions.get(gatewayUrl) === session) sessions.delete(gatewayUrl);
  }

  function sessionFor(gatewayUrl: string): http2.ClientHttp2Session {
    const existing = sessions.get(gatewayUrl);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(gatewayUrl, {
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
      ...(options.caPem === undefined ? {} : { ca: options.caPem }),
    });
    // Errors reach the requests on the session as stream errors; here we only stop reusing it.
    session.on('error', () => forget(gatewayUrl, session));
    // After GOAWAY the open streams still finish; new pushes go to a fresh session.
    session.on('goaway', () => forget(gatewayUrl, session));
    session.on('close', () => forget(gatewayUrl, session));
    session.setTimeout(IDLE_SESSION_MS, () => session.close());
    sessions.set(gatewayUrl, session);
    return session;
  }

  function send(push: MdmPush): Promise<ApnsResult> {
    return new Promise((resolve) => {
      const { path, headers, body } = mdmPushRequest(push);
      const session = sessionFor(push.gatewayUrl);
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({ ':method': 'POST', ':path': path, ...headers });
      } catch (error) {
        // The session was closing between the check and the request.
        forget(push.gatewayUrl, session);
        resolve({ kind: 'no-response', error: (error as Error).message });
        return;
      }
      let responseHeaders: http2.IncomingHttpHeaders | undefined;
      let responseBody = '';
      stream.setEncoding('utf8');
      stream.on('response', (received) => { responseHeaders = received; });
      stream.on('data', (chunk: string) => { responseBody += chunk; });
      stream.on('end', () => {
        if (responseHeaders === undefined) return;
        const status = Number(responseHeaders[':status']);
        resolve({
          kind: 'response',
          status,
          reason: status === 200 ? undefined : reasonIn(responseBody),
          apnsId: headerText(responseHeaders['apns-id']),
          retryAfterMs: parseRetryAfter(headerText(responseHeaders['retry-after'])),
        });
      });
      stream.on('error', (error) => resolve({ kind: 'no-response', error: error.message }));
      // Settles whatever else ended the stream (session destroyed, reset without an error event).
      stream.on('close', () =>
        resolve({ kind: 'no-response', error: `stream closed without a response (code ${stream.rstCode})` }));
      stream.setTimeout(options.requestTimeoutMs, () => {
        // A silent gateway usually means a dead connection: drop it so retries reconnect.
        resolve({ kind: 'no-response', error: `no response within ${options.requestTimeoutMs} ms` });
        forget(push.gatewayUrl, session);
        session.destroy();
      });
      stream.end(body);
    });
  }

  async function close(): Promise<void> {
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map(closeSession));
  }

  return { send, close };
}
