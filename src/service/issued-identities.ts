// The identities Aspen issued, for admins: listing them, revoking one, and the renewal report
// (devices whose identity expires soon, and where the renewal of each stands).
import { identityChanged } from '../events/drafts.ts';
import type { IssuanceStore, IssuedFilter, IssuedIdentity, RenewalStatusRecord } from '../storage/issuance.ts';

const DAY_MS = 86_400_000;

/**
 * Where a device's renewal stands: `not-queued` (the renewal job has not reached it yet),
 * `queued`/`deferred` (the InstallProfile waits in the queue; the device has not taken it, or said
 * NotNow), `installed` (acknowledged, yet no new identity has spoken for the device), `failed`
 * (Error or CommandFormatError), `cancelled` (by an admin), `unknown` (the command is gone,
 * pruned), `expired` (too late: the device can no longer speak; it must enroll again).
 */
export type RenewalState = 'not-queued' | 'queued' | 'deferred' | 'installed' | 'failed' | 'cancelled' | 'unknown' | 'expired';

export interface RenewalStatus {
  deviceId: string;
  identity: IssuedIdentity;
  state: RenewalState;
  /** Queued but not done: the device still speaks with the identity that expires. */
  stuck: boolean;
}

export class IssuedIdentities {
  constructor(
    private readonly storage: IssuanceStore,
    private readonly options: { renewBeforeDays: number },
    /** Forgets this instance's cached binding of a revoked certificate (DeviceAuth.forget). */
    private readonly forgetBinding: (fingerprint: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  list(filter: IssuedFilter, page: { after?: { notAfter: string; serial: string }; limit: number }): Promise<IssuedIdentity[]> {
    return this.storage.listIssued(filter, page);
  }

  /** Revokes an identity: refused at once on this instance, and on the others once their cached
   *  binding runs out (IDENTITY_CACHE_SECONDS). Undefined when it is unknown. */
  async revoke(serial: string): Promise<IssuedIdentity | undefined> {
    const revoked = await this.storage.revokeIssued(serial, this.now().toISOString(), (identity) => identityChanged('identity.revoked', identity));
    if (revoked !== undefined) this.forgetBinding(revoked.fingerprint);
    return revoked;
  }

  /** Devices whose current identity expires within `days` (default: the renewal lead time), soonest first. */
  async renewals(days: number = this.options.renewBeforeDays): Promise<RenewalStatus[]> {
    const now = this.now();
    const records = await this.storage.renewalReport(new Date(now.getTime() + days * DAY_MS).toISOString());
    return records.map((r) => {
      const state = renewalState(r, now);
      return { deviceId: r.deviceId, identity: r.identity, state, stuck: state !== 'not-queued' && state !== 'expired' };
    });
  }
}

function renewalState(r: RenewalStatusRecord, now: Date): RenewalState {
  if (Date.parse(r.identity.notAfter) <= now.getTime()) return 'expired';
  if (r.identity.renewalQueuedAt === null) return 'not-queued';
  switch (r.commandState) {
    case 'queued':
      return 'queued';
    case 'notnow':
      return 'deferred';
    case 'acknowledged':
      return 'installed';
    case 'error':
    case 'commandformaterror':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    case null:
      return 'unknown';
  }
}
