// What the service answers a device, independent of HTTP framing.
import type { IdentityFailure } from '../identity/errors.ts';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import { encodePlist, type PlistDict } from '../protocol/plist.ts';

export interface DeviceReply {
  status: number;
  /** null means a zero-length body: "no command" on the command endpoint. */
  body: string | Uint8Array | null;
  contentType?: string;
  /** What happened, for the one log line per device request. */
  summary: RequestSummary;
}

export interface RequestSummary {
  enrollmentId?: string;
  /** The check-in MessageType or the report Status. */
  message?: string;
  /** The command a report answered. */
  commandUuid?: string;
  /** The command handed to the device in this reply. */
  nextCommandUuid?: string;
  nextRequestType?: string;
  /** The session ended with commands the device deferred (NotNow) still waiting. */
  deferredLeft?: boolean;
  /**
   * Set when the request was refused for the identity it carries (a 403): a short stable reason,
   * e.g. `unknown-ca` or `not-bound`. Such a refusal is worth a warning: a misconfigured CA or a
   * device that lost its binding looks exactly like this.
   */
  refusal?: IdentityRefusal;
  outcome: string;
}

/** Why a device's identity was refused: the certificate itself (IdentityFailure), or its binding. */
export type IdentityRefusal =
  | IdentityFailure
  | 'no-identity' // no Mdm-Signature, forwarded or TLS client certificate at all
  | 'not-bound' // a trusted certificate, but not one bound to this enrollment
  | 'bound-elsewhere' // the certificate is bound to another device
  | 'revoked'; // an identity Aspen issued, since revoked

/**
 * A request the server refuses: always a 4xx other than 401 (401 makes a real device remove its
 * MDM profile), and nothing has been changed when it is thrown.
 */
export class DeviceRequestError extends Error {
  override readonly name = 'DeviceRequestError';
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly summary: Omit<RequestSummary, 'outcome'> = {},
  ) {
    super(reason);
    if (status < 400 || status > 499 || status === 401) throw new Error(`not a device refusal status: ${status}`);
  }
}

export function unknownEnrollment(who: ResolvedEnrollment, message: string): DeviceRequestError {
  const hint = who.channel === 'user' ? 'the device channel must Authenticate first' : 'the device must Authenticate first';
  return new DeviceRequestError(400, `unknown enrollment ${who.id}: ${hint}`, { enrollmentId: who.id, message });
}

export function emptyReply(summary: RequestSummary): DeviceReply {
  return { status: 200, body: null, summary };
}

export function plistReply(value: PlistDict, summary: RequestSummary): DeviceReply {
  return { status: 200, body: encodePlist(value), contentType: 'application/xml; charset=UTF-8', summary };
}

export function jsonReply(value: unknown, summary: RequestSummary): DeviceReply {
  return { status: 200, body: JSON.stringify(value), contentType: 'application/json', summary };
}
