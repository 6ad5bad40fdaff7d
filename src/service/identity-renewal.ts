// Keeps Aspen-issued identities valid for as long as their devices are enrolled: a periodic job
// (one instance at a time, see job-runner.ts) finds enrolled devices whose current identity expires
// within the lead time (IDENTITY_RENEW_BEFORE_DAYS), queues to each an InstallProfile carrying a
// fresh enrollment profile with a one-time challenge of its own, and pushes. Installing it replaces
// the MDM profile: the device requests a new certificate through SCEP (using the challenge), and
// its Authenticate with that certificate is admitted by the renewal window the InstallProfile
// opened (device-auth.ts), keeping its queue. The renewal report (issued-identities.ts) shows
// devices whose renewal is stuck.
import type { Logger } from 'pino';
import { buildCommandPlist } from '../protocol/commands/index.ts';
import { DuplicateCommandError, type CommandStore } from '../storage/storage.ts';
import type { IssuanceStore } from '../storage/issuance.ts';
import type { EnrollmentProfiles } from './enrollment-profiles.ts';
import type { Invites } from './invites.ts';
import type { JobHandler, JobRunner } from './job-runner.ts';
import type { PushGateway } from './push-gateway.ts';

export const RENEWAL_JOB = 'identity-renewal';
const DAY_MS = 86_400_000;
/** How often the job looks; a day's lead time is plenty against that. */
const INTERVAL_MS = 60 * 60_000;
/** The first run comes soon after start, not during it. */
const FIRST_RUN_DELAY_MS = 60_000;
/** Renewals queued per run (the next run takes the rest). */
const BATCH = 500;

export interface RenewalRun {
  /** Devices an InstallProfile was queued to. */
  queued: string[];
  /** Why nothing could be queued, when that was the case (no push certificate, say). */
  blocked?: string;
}

export class IdentityRenewal {
  constructor(
    private readonly storage: { issuance: IssuanceStore } & Pick<CommandStore, 'enqueue'>,
    private readonly invites: Invites,
    private readonly profiles: EnrollmentProfiles,
    private readonly push: PushGateway,
    private readonly options: { renewBeforeDays: number },
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async runOnce(): Promise<RenewalRun> {
    if (this.options.renewBeforeDays <= 0) return { queued: [] };
    const now = this.now();
    const before = new Date(now.getTime() + this.options.renewBeforeDays * DAY_MS).toISOString();
    const due = await this.storage.issuance.renewalCandidates(now.toISOString(), before, BATCH);
    const queued: string[] = [];
    for (const { deviceId, identity } of due) {
      // The challenge is good for as long as the identity it replaces: past that the device
      // cannot speak to Aspen, so it could not be handed the profile anyway.
      const challenge = await this.invites.createRenewal({ serial: identity.serial, deviceId }, identity.notAfter);
      let profile: Buffer;
      try {
        profile = await this.profiles.build(challenge);
      } catch (err) {
        // Without a push certificate (or PUBLIC_URL) no profile can be built: the next run tries again.
        this.log.warn({ err: (err as Error).message, devices: due.length - queued.length }, 'identity renewal: cannot build renewal profiles');
        return { queued, blocked: (err as Error).message };
      }
      const uuid = `aspen-renewal-${identity.serial}`;
      const payload = Buffer.from(buildCommandPlist({ commandUuid: uuid, command: { RequestType: 'InstallProfile', Payload: profile } }), 'utf8');
      // A crash after queueing and before recording leaves the command queued: the next run finds
      // it by its uuid and only records it.
      await this.storage.enqueue({ uuid, requestType: 'InstallProfile', payload }, [deviceId], now.toISOString()).catch((err: unknown) => {
        if (!(err instanceof DuplicateCommandError)) throw err;
      });
      await this.storage.issuance.markRenewalQueued(identity.serial, uuid, now.toISOString());
      queued.push(deviceId);
      this.log.info({ enrollmentId: deviceId, serial: identity.serial, notAfter: identity.notAfter, commandUuid: uuid }, 'identity renewal: queued a renewal profile');
    }
    if (queued.length > 0) await this.push.push(queued);
    return { queued };
  }

  /** The periodic job: a failed run is logged and the next one comes at the usual interval. */
  readonly job: JobHandler = async () => {
    await this.runOnce().catch((err: unknown) => this.log.error({ err }, 'identity renewal: run failed'));
    return { runAt: new Date(this.now().getTime() + INTERVAL_MS) };
  };

  schedule(jobs: JobRunner): Promise<void> {
    return jobs.schedule(RENEWAL_JOB, RENEWAL_JOB, new Date(this.now().getTime() + FIRST_RUN_DELAY_MS));
  }
}
