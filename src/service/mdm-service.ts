// The core service: turns the raw bytes of a device request into a reply, using storage.
// HTTP layers only translate to and from this.
import { decodePlistDict, PlistError } from '../protocol/plist.ts';
import type { Storage } from '../storage/storage.ts';
import { handleCheckin, type CheckinOptions } from './checkin.ts';
import { handleReport } from './command-loop.ts';
import { DeviceRequestError, type DeviceReply } from './device-reply.ts';

export type MdmServiceOptions = CheckinOptions;

export class MdmService {
  constructor(
    readonly storage: Storage,
    private readonly options: MdmServiceOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A check-in (MessageType) message. */
  async checkin(body: Uint8Array): Promise<DeviceReply> {
    const message = decode(body);
    if (message.Status !== undefined && message.MessageType === undefined) {
      throw new DeviceRequestError(400, 'a command report (Status) was sent as a check-in');
    }
    return handleCheckin(this.storage, this.options, message, this.now().toISOString());
  }

  /** A command report (Status) message. */
  async report(body: Uint8Array): Promise<DeviceReply> {
    const message = decode(body);
    if (message.MessageType !== undefined && message.Status === undefined) {
      throw new DeviceRequestError(400, 'a check-in (MessageType) was sent as a command report');
    }
    return handleReport(this.storage, message, body, this.now().toISOString());
  }
}

function decode(body: Uint8Array) {
  try {
    return decodePlistDict(body);
  } catch (err) {
    if (err instanceof PlistError) throw new DeviceRequestError(400, err.message);
    throw err;
  }
}
