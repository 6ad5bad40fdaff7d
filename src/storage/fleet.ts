// The fleet at a glance (storage.fleet): what the web console's overview counts and what its live
// stream polls. Both backends implement it (sqlite/fleet.ts, postgres/fleet.ts);
// test/storage/fleet-contract.ts holds them to the same behaviour.
import type { Enrollment, EnrollmentState } from './storage.ts';

/** Ages of a device's last contact, as the overview buckets them (each bucket excludes the ones before). */
export const LAST_SEEN_BUCKETS = ['hour', 'day', 'week', 'month', 'older'] as const;
export type LastSeenBucket = (typeof LAST_SEEN_BUCKETS)[number];

export interface FleetSummary {
  /** Device channels; user channels are counted with their device. */
  devices: number;
  /** Device channels by platform (`unknown` when Authenticate did not say). */
  byPlatform: Record<string, number>;
  byState: Record<EnrollmentState, number>;
  /** Device channels that are not checked out, by how long ago they were last seen. */
  lastSeen: Record<LastSeenBucket, number>;
  /** Channels (device and user) APNs refused the token of, and whose last push failed. */
  push: { tokenInvalid: number; lastPushFailed: number };
}

/** A position in the (last seen, id) order: the last enrollment a reader was given. */
export interface SeenPosition {
  lastSeenAt: string;
  id: string;
}

/** What the console's device list narrows by: device channels only. */
export interface DeviceSearch {
  /** Part of the serial number, device name or id, any case. */
  text?: string;
  platform?: string;
  state?: EnrollmentState;
  /** Last seen at or after / before these times (ISO 8601). */
  seenAfter?: string;
  seenBefore?: string;
}

export interface FleetStore {
  /** Device channels matching `search`, ordered by id, after the id `after`. */
  devices(search: DeviceSearch, page: { after?: string; limit: number }): Promise<Enrollment[]>;
  /** Counts as of `now` (ISO 8601), which the last-seen buckets are measured from. */
  summary(now: string): Promise<FleetSummary>;
  /**
   * Channels seen at or after `since` and after `after` in (last seen, id) order, oldest first:
   * what changed since a reader last looked, from an index, whichever instance the device spoke to.
   */
  seen(since: string, after: SeenPosition | undefined, limit: number): Promise<Enrollment[]>;
}

/** Where a last-seen time falls, measured back from `now`. */
export function lastSeenBoundaries(now: string): Record<Exclude<LastSeenBucket, 'older'>, string> {
  const at = Date.parse(now);
  const back = (ms: number) => new Date(at - ms).toISOString();
  return { hour: back(3_600_000), day: back(86_400_000), week: back(7 * 86_400_000), month: back(30 * 86_400_000) };
}
