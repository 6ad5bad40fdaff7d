// Reading enrollments for admins: one enrollment with its channels, or a filtered page.
import type { Enrollment, EnrollmentFilter, Storage } from '../storage/storage.ts';

export interface EnrollmentDetail {
  enrollment: Enrollment;
  /** For a device channel: its user channels. For a user channel: empty. */
  userChannels: Enrollment[];
}

/** The most user channels a detail lists (a Shared iPad can have many users). */
const MAX_LISTED_CHANNELS = 500;

export class EnrollmentDirectory {
  constructor(private readonly storage: Storage) {}

  async get(id: string): Promise<EnrollmentDetail | undefined> {
    const enrollment = await this.storage.getEnrollment(id);
    if (enrollment === undefined) return undefined;
    const userChannels =
      enrollment.channel === 'device'
        ? (await this.storage.listEnrollments({ deviceId: id, channel: 'user' }, { limit: MAX_LISTED_CHANNELS }))
        : [];
    return { enrollment, userChannels };
  }

  list(filter: EnrollmentFilter, page: { after?: string; limit: number }): Promise<Enrollment[]> {
    return this.storage.listEnrollments(filter, page);
  }
}
