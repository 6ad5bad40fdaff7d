// The ceiling for push throughput: the very requests Aspen's pusher sends (same path, headers and
// body, from src/push/apns-transport.ts), over one node:http2 session with a fixed number in
// flight, and nothing else: no retries, no timeouts, no outcome bookkeeping.
import http2 from 'node:http2';
import type { PushTarget } from '../../src/push/apns-pusher.ts';
import { mdmPushRequest } from '../../src/push/apns-transport.ts';
import type { PushCertificate } from '../../src/push/push-certificate.ts';

/** Returns how many pushes were answered 200. */
export async function pushBare(
  url: string,
  caPem: string,
  certificate: PushCertificate,
  targets: readonly PushTarget[],
  concurrency: number,
): Promise<number> {
  const session = http2.connect(url, { ca: caPem, cert: certificate.certPem, key: certificate.keyPem });
  const expiration = Math.floor(Date.now() / 1000) + 3 * 24 * 3600;
  let next = 0;
  let ok = 0;
  const one = (target: PushTarget): Promise<void> =>
    new Promise((resolve, reject) => {
      const { path, headers, body } = mdmPushRequest({
        gatewayUrl: url,
        tokenHex: Buffer.from(target.token).toString('hex'),
        pushMagic: target.pushMagic,
        topic: certificate.topic,
        expiration,
      });
      const stream = session.request({ ':method': 'POST', ':path': path, ...headers });
      stream.on('response', (h) => {
        if (h[':status'] === 200) ok += 1;
      });
      stream.on('error', reject);
      stream.on('close', () => resolve());
      stream.resume();
      stream.end(body);
    });
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < targets.length) await one(targets[next++]!);
      }),
    );
  } finally {
    await new Promise<void>((resolve) => session.close(resolve));
  }
  return ok;
}
