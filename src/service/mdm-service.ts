// The core service: turns the raw bytes of a device request into a reply, using storage.
// HTTP layers only translate to and from this.
//
// Order matters: the identity is checked on the raw bytes before anything is parsed, and whether
// it may speak for the enrollment is decided before anything is changed, so a refused request
// changes nothing. A newly admitted certificate is bound before the request runs and unbound if it
// fails, so no crash can leave the request's effect without the binding that admitted it; at
// Authenticate (where new certificates normally arrive) the binding and the Authenticate are one
// storage step, committed together.
//
// The service takes the storage roles it uses: check-ins and the command loop.
import { resolveEnrollment, type ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import { installsMdmProfile } from '../protocol/command-envelope.ts';
import { PlistError, type PlistDict } from '../protocol/plist.ts';
import { decodeDeviceBody } from '../threads/plist-decoder.ts';
import { identityRefused, type DeviceMessage } from '../events/drafts.ts';
import type { EventStore } from '../storage/events.ts';
import type { CommandStore, EnrollmentStore } from '../storage/storage.ts';
import { checkinHandler, type Authenticate, type CheckinOptions, type DeclarativeCheckin } from './checkin.ts';
import { handleReport, type ResultHook } from './command-loop.ts';
import type { Admission, DeviceAuth, DeviceCredentials } from './device-auth.ts';
import { DeviceRequestError, type DeviceReply } from './device-reply.ts';

export type MdmServiceOptions = CheckinOptions;

/** An Authenticate not yet admitted: nothing to undo. */
const NOTHING_ADMITTED: Admission = { authorization: 'bound', undo: async () => {} };

/** Asks for a channel to be pushed again later (see command-loop.ts on NotNow). */
export type RepushScheduler = (enrollmentId: string) => Promise<void>;

/** The query parameters of the URL a device used (events carry them, as MicroMDM's do). */
export type UrlParams = Record<string, string>;

export class MdmService {
  constructor(
    readonly storage: EnrollmentStore & CommandStore & { events: Pick<EventStore, 'record'> },
    private readonly options: MdmServiceOptions,
    /** null when device identity checks are off (DEVICE_IDENTITY=off). */
    private readonly auth: DeviceAuth | null,
    private readonly declarative: DeclarativeCheckin,
    private readonly repushLater: RepushScheduler = async () => {},
    /** What a stored result changes besides its own record (result-effects.ts). */
    private readonly afterResult: ResultHook = async () => {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A check-in (MessageType) message. */
  async checkin(body: Uint8Array, credentials: DeviceCredentials, params: UrlParams = {}): Promise<DeviceReply> {
    return this.handle(body, credentials, params, 'checkin', async (device, authenticate) => {
      const handler = checkinHandler(device.message);
      return handler({ storage: this.storage, options: this.options, declarative: this.declarative, device, message: device.message, who: device.who, authenticate, at: device.at });
    });
  }

  /** A command report (Status) message. */
  async report(body: Uint8Array, credentials: DeviceCredentials, params: UrlParams = {}): Promise<DeviceReply> {
    return this.handle(body, credentials, params, 'report', async (device) => {
      const reply = await handleReport(this.storage, device, this.afterResult);
      if (reply.summary.deferredLeft) await this.repushLater(device.who.id);
      return reply;
    });
  }

  private async handle(
    body: Uint8Array,
    credentials: DeviceCredentials,
    params: UrlParams,
    kind: 'checkin' | 'report',
    run: (device: DeviceMessage, authenticate: Authenticate) => Promise<DeviceReply>,
  ): Promise<DeviceReply> {
    const now = this.now();
    const at = now.toISOString();
    const auth = this.auth;
    const identity = auth && (await this.refusalsRecorded(undefined, at, async () => auth.identify(credentials, body, now)));
    const message = await decode(body, kind);
    checkKind(message, kind);
    const who = resolve(message);
    const device: DeviceMessage = { who, raw: body, message, params, at };
    if (auth === null || identity === null) {
      return run(device, async (write) => ({ ...(await this.storage.authenticate(write(null))), authorization: null }));
    }

    // An Authenticate is admitted in its own write (one commit for both, see device-auth.ts);
    // every other message before it runs.
    let admission: Admission = NOTHING_ADMITTED;
    if (message.MessageType !== 'Authenticate') admission = await this.refusalsRecorded(who, at, () => auth.admit(identity, who, now));
    const authenticate: Authenticate = async (write) => {
      const done = await this.refusalsRecorded(who, at, () => auth.authenticate(identity, who, now, write));
      admission = done.admission;
      return { created: done.created, authorization: admission.authorization };
    };
    let reply: DeviceReply;
    try {
      reply = await run(device, authenticate);
    } catch (err) {
      await admission.undo();
      throw err;
    }
    if (reply.status >= 300) await admission.undo();
    // Handing out a profile with an MDM payload replaces the enrollment, and with it the identity:
    // let the device's next Authenticate bring a new certificate (see device-auth.ts).
    if (reply.summary.nextRequestType === 'InstallProfile' && reply.body instanceof Uint8Array && installsMdmProfile(reply.body)) {
      await auth.openRenewal(who.deviceId, now);
    }
    return reply;
  }

  /** Runs an identity step; a refusal becomes an identity.refused event (for whoever subscribes)
   *  before it is answered. The event is the only thing a refusal writes. */
  private async refusalsRecorded<T>(who: ResolvedEnrollment | undefined, at: string, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof DeviceRequestError && err.summary.refusal !== undefined) {
        await this.storage.events.record(identityRefused(err.summary.refusal, err.reason, who, at));
      }
      throw err;
    }
  }
}

/** A report's raw bytes are what is stored, so of a report only what is acted on is built: its
 *  top-level values, ErrorChain (command-loop.ts) and QueryResponses (result-effects.ts); the rest
 *  (an InstalledApplicationList, a CertificateList) is checked but left as bytes. */
const REPORT_KEYS_BUILT = ['ErrorChain', 'QueryResponses'];

async function decode(body: Uint8Array, kind: 'checkin' | 'report'): Promise<PlistDict> {
  try {
    return await decodeDeviceBody(body, kind === 'report' ? { onlyTopLevel: { except: REPORT_KEYS_BUILT } } : {});
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
