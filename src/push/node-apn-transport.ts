// APNs through @parse/node-apn: one Provider (one HTTP/2 session) per gateway. node-apn is told not
// to retry (its retries are immediate, ignore Retry-After and hide the failures they retried), so
// each send() is exactly one request and the pusher decides about retries.
//
// Limits of this transport, from node-apn 8.1 lib/client.js and lib/config.js:
// - it never reports Retry-After (it reads headers['Retry-After'], but Node lower-cases header
//   names, and it deletes the field before rejecting), so 429s fall back to plain backoff;
// - it loses the reason of a 500 InternalServerError (replaced by a generic error);
// - its shutdown() never finishes after a connection error (see shutdown() below);
// - with a non-Apple gateway address it assumes the sandbox and refuses certificates without the
//   development extension, so a real (production-only) MDM certificate can't use an override URL.
import apn from '@parse/node-apn';
import type { ApnsResult, ApnsTransport, ApnsTransportOptions, MdmPush } from './apns-transport.ts';

const SHUTDOWN_WAIT_MS = 1000;

/** The parts of node-apn's send() result the typings leave out. */
interface SendOutcome {
  status?: number;
  response?: { reason?: string };
  error?: Error;
  'apns-id'?: string;
}

function notificationFor(push: MdmPush): apn.Notification {
  const notification = new apn.Notification();
  notification.topic = push.topic;
  notification.pushType = 'mdm';
  notification.priority = 10;
  notification.expiry = push.expiration;
  notification.mdm = push.pushMagic;
  return notification;
}

/**
 * Provider.shutdown() returns nothing despite its typings; only its callback marks the end, and
 * that never comes once the session died of an error (node-apn then calls close() on a destroyed
 * session, which Node ignores). So wait for it only a little.
 */
function shutdown(provider: apn.Provider): Promise<void> {
  return new Promise((resolve) => {
    const giveUp = setTimeout(resolve, SHUTDOWN_WAIT_MS);
    void provider.shutdown(() => {
      clearTimeout(giveUp);
      resolve();
    });
  });
}

export function createNodeApnTransport(options: ApnsTransportOptions): ApnsTransport {
  const providers = new Map<string, apn.Provider>();

  function providerFor(gatewayUrl: string): apn.Provider {
    const existing = providers.get(gatewayUrl);
    if (existing) return existing;
    const url = new URL(gatewayUrl);
    // Throws if the certificate is expired or lacks the gateway's environment extension.
    const provider = new apn.Provider({
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
      ...(options.caPem === undefined ? {} : { ca: [options.caPem] }),
      // node-apn derives production/sandbox from the address.
      address: url.hostname,
      port: url.port === '' ? 443 : Number(url.port),
      connectionRetryLimit: 0,
      requestTimeout: options.requestTimeoutMs,
    });
    providers.set(gatewayUrl, provider);
    return provider;
  }

  async function send(push: MdmPush): Promise<ApnsResult> {
    // One token per send(): the payload carries the device's own PushMagic, so no two devices
    // share a notification.
    const { sent, failed } = await providerFor(push.gatewayUrl).send(notificationFor(push), push.tokenHex);
    const delivered = sent[0] as SendOutcome | undefined;
    if (delivered) return { kind: 'response', status: 200, apnsId: delivered['apns-id'] };
    const failure = (failed[0] ?? {}) as SendOutcome;
    if (failure.status !== undefined) {
      return { kind: 'response', status: failure.status, reason: failure.response?.reason, apnsId: failure['apns-id'] };
    }
    return { kind: 'no-response', error: failure.error?.message ?? 'node-apn reported neither a status nor an error' };
  }

  async function close(): Promise<void> {
    const open = [...providers.values()];
    providers.clear();
    await Promise.all(open.map(shutdown));
  }

  return { send, close };
}
