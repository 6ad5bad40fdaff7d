// Reading enrollments for admins: one enrollment with its channels, or a filtered page.
import type { Invite, IssuanceStore } from '../storage/issuance.ts';
import type { Enrollment, EnrollmentFilter, EnrollmentStore, IdentityBinding, IdentityStore } from '../storage/storage.ts';

export interface EnrollmentDetail {
  enrollment: Enrollment;
  /** For a device channel: its user channels. For a user channel: empty. */
  userChannels: Enrollment[];
  /** The certificates bound to the device (a user channel speaks with its device's). */
  identities: IdentityBinding[];
  /** The invite that brought the device, when it enrolled with an identity Aspen issued through one. */
  invite: Invite | undefined;
}

/** The most user channels a detail lists (a Shared iPad can have many users). */
const MAX_LISTED_CHANNELS = 500;

/** Forgets a device's bound certificates; returns how many (DeviceAuth.release, which also drops
 *  what it remembered, or the plain storage call when identity checks are off). */
export type IdentityRelease = (deviceId: string) => Promise<number>;

export class EnrollmentDirectory {
  constructor(
    private readonly storage: Pick<EnrollmentStore, 'getEnrollment' | 'listEnrollments' | 'deleteEnrollment'> &
      Pick<IdentityStore, 'listIdentityBindings'> & { issuance: Pick<IssuanceStore, 'inviteOfDevice'> },
    private readonly release: IdentityRelease,
  ) {}

  async get(id: string): Promise<EnrollmentDetail | undefined> {
    const enrollment = await this.storage.getEnrollment(id);
    if (enrollment === undefined) return undefined;
    const userChannels =
      enrollment.channel === 'device'
        ? (await this.storage.listEnrollments({ deviceId: id, channel: 'user' }, { limit: MAX_LISTED_CHANNELS }))
        : [];
    const identities = await this.storage.listIdentityBindings(enrollment.deviceId);
    const invite = await this.storage.issuance.inviteOfDevice(enrollment.deviceId);
    return { enrollment, userChannels, identities, invite };
  }

  /** Forgets the certificates bound to a device, so its next Authenticate binds a new one (for a
   *  device that lost its identity outside the cases device-auth.ts accepts by itself). */
  async unbindIdentities(deviceId: string): Promise<number | undefined> {
    const enrollment = await this.storage.getEnrollment(deviceId);
    if (enrollment === undefined || enrollment.channel !== 'device') return undefined;
    return this.release(deviceId);
  }

  /** Deletes an enrollment with its queue, results and certificates (and a device's user
   *  channels); false when it is unknown. What this instance remembered of its certificates goes too. */
  async forget(id: string): Promise<boolean> {
    const deleted = await this.storage.deleteEnrollment(id);
    if (deleted) await this.release(id); // nothing is left to release; this drops any cached binding
    return deleted;
  }

  list(filter: EnrollmentFilter, page: { after?: string; limit: number }): Promise<Enrollment[]> {
    return this.storage.listEnrollments(filter, page);
  }
}
