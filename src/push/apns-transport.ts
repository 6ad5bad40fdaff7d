// What the pusher needs from whatever speaks HTTP/2 to APNs: send one MDM push, report what
// happened. Two implementations exist (see README in this directory for why): node-apn's Provider
// and a direct node:http2 client.
import type { PushCertificate } from './push-certificate.ts';

export const APNS_PRODUCTION_URL = 'https://api.push.apple.com';
export const APNS_SANDBOX_URL = 'https://api.sandbox.push.apple.com';

export interface MdmPush {
  /** Origin of the APNs gateway, e.g. https://api.push.apple.com. */
  gatewayUrl: string;
  /** Lower-case hex of the device's Token bytes. */
  tokenHex: string;
  pushMagic: string;
  topic: string;
  /** apns-expiration, unix seconds. */
  expiration: number;
}

export type ApnsResult =
  /** APNs answered. */
  | { kind: 'response'; status: number; reason?: string; apnsId?: string; retryAfterMs?: number }
  /** No answer: connection refused or dropped, stream reset, timeout. */
  | { kind: 'no-response'; error: string };

export interface ApnsTransport {
  send(push: MdmPush): Promise<ApnsResult>;
  close(): Promise<void>;
}

export interface ApnsTransportOptions {
  certificate: PushCertificate;
  /** Extra CA to trust for the gateway's TLS certificate (a stand-in in tests); default: Node's roots. */
  caPem?: string;
  /** Give up on one request after this long. */
  requestTimeoutMs: number;
}

/** The request APNs expects for an MDM push (docs/protocol.md §9): no `aps`, just the PushMagic. */
export function mdmPushRequest(push: MdmPush): { path: string; headers: Record<string, string>; body: string } {
  return {
    path: `/3/device/${push.tokenHex}`,
    headers: {
      'apns-push-type': 'mdm',
      'apns-topic': push.topic,
      'apns-priority': '10',
      'apns-expiration': String(push.expiration),
    },
    body: JSON.stringify({ mdm: push.pushMagic }),
  };
}
