// The core service: turns the raw bytes of a device request into a reply, using storage.
// HTTP layers only translate to and from this.
//
// Order matters: the identity is checked on the raw bytes before anything is parsed, and whether
// it may speak for the enrollment is decided before anything is changed, so a refused request
// changes nothing. A new certificate is bound only once the request has succeeded.
import { resolveEnrollment, type ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import { decodePlistDict, PlistError, type PlistDict } from '../protocol/plist.ts';
import type { Storage } from '../storage/storage.ts';
import { checkinHandler, type CheckinOptions } from './checkin.ts';
import { handleReport } from './command-loop.ts';
import type { DeviceAuth, DeviceCredentials } from './device-auth.ts';
import { DeviceRequestError, type DeviceReply } from './device-reply.ts';

export type MdmServiceOptions = CheckinOptions;

export class MdmService {
  constructor(
    readonly storage: Storage,
    private readonly options: MdmServiceOptions,
    /** null when device identity checks are off (DEVICE_IDENTITY=off). */
    private readonly auth: DeviceAuth | null,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A check-in (MessageType) message. */
  async checkin(body: Uint8Array, credentials: DeviceCredentials): Promise<DeviceReply> {
    return this.handle(body, credentials, 'checkin', async (message, who, at) => {
      const handler = checkinHandler(message);
      return handler({ storage: this.storage, options: this.options, message, who, at });
    });
  }

  /** A command report (Status) message. */
  async report(body: Uint8Array, credentials: DeviceCredentials): Promise<DeviceReply> {
    return this.handle(body, credentials, 'report', (message, who, at) => handleReport(this.storage, message, body, who, at));
  }

  private async handle(
    body: Uint8Array,
    credentials: DeviceCredentials,
    kind: 'checkin' | 'report',
    run: (message: PlistDict, who: ResolvedEnrollment, at: string) => Promise<DeviceReply>,
  ): Promise<DeviceReply> {
    const now = this.now();
    const identity = this.auth?.identify(credentials, body, now) ?? null;
    const message = decode(body);
    checkKind(message, kind);
    const who = resolve(message);
    const authenticate = message.MessageType === 'Authenticate';
    const serialNumber = typeof message.SerialNumber === 'string' ? message.SerialNumber : undefined;
    const mustBind = identity !== null && (await this.auth!.authorize(identity, who, { authenticate, serialNumber }, now));

    const reply = await run(message, who, now.toISOString());

    if (mustBind && reply.status < 300) await this.auth!.bind(identity, who.deviceId, now);
    // Handing out InstallProfile may replace the MDM profile, which re-enrolls the device with a
    // new identity: let that Authenticate through (see device-auth.ts).
    if (this.auth !== null && reply.summary.nextRequestType === 'InstallProfile') await this.auth.openRenewal(who.deviceId, now);
    return reply;
  }
}

function decode(body: Uint8Array): PlistDict {
  try {
    return decodePlistDict(body);
  } catch (err) {
    if (err instanceof PlistError) throw new DeviceRequestError(400, err.message);
    throw err;
  }
}

function checkKind(message: PlistDict, kind: 'checkin' | 'report'): void {
  if (kind === 'checkin' && message.Status !== undefined && message.MessageType === undefined) {
    throw new DeviceRequestError(400, 'a command report (Status) was sent as a check-in');
  }
  if (kind === 'report' && message.MessageType !== undefined && message.Status === undefined) {
    throw new DeviceRequestError(400, 'a check-in (MessageType) was sent as a command report');
  }
}

function resolve(message: PlistDict): ResolvedEnrollment {
  try {
    return resolveEnrollment(message);
  } catch (err) {
    throw new DeviceRequestError(400, (err as Error).message);
  }
}
