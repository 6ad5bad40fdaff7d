// The fleet store on PostgreSQL: plain reads, each one statement.
import type { Pool } from 'pg';
import { lastSeenBoundaries, type DeviceSearch, type FleetStore, type FleetSummary, type SeenPosition } from '../fleet.ts';
import { deviceSearchQuery, fleetSeenSql, fleetSummarySql, toSummary, type SummaryRow } from '../fleet-queries.ts';
import { toEnrollment, type EnrollmentRow } from '../rows.ts';
import type { Enrollment } from '../storage.ts';

// Parameter types are inferred from the columns they are compared with.
const placeholder = (n: number) => `$${n}`;
const SUMMARY = fleetSummarySql(placeholder);
const SEEN = fleetSeenSql(placeholder, false);
const SEEN_AFTER = fleetSeenSql(placeholder, true);

export class PostgresFleet implements FleetStore {
  constructor(private readonly pool: Pool) {}

  async devices(search: DeviceSearch, page: { after?: string; limit: number }): Promise<Enrollment[]> {
    const query = deviceSearchQuery(search, page, placeholder);
    return (await this.pool.query<EnrollmentRow>(query.text, query.values)).rows.map(toEnrollment);
  }

  async summary(now: string): Promise<FleetSummary> {
    const b = lastSeenBoundaries(now);
    const [devices, push] = await Promise.all([
      this.pool.query<SummaryRow>(SUMMARY.devices, [b.hour, b.day, b.week, b.month]),
      this.pool.query<{ token_invalid: string; last_push_failed: string }>(SUMMARY.push),
    ]);
    return toSummary(devices.rows, push.rows[0]!);
  }

  async seen(since: string, after: SeenPosition | undefined, limit: number): Promise<Enrollment[]> {
    const { rows } = after
      ? await this.pool.query<EnrollmentRow>(SEEN_AFTER, [since, after.lastSeenAt, after.id, limit])
      : await this.pool.query<EnrollmentRow>(SEEN, [since, limit]);
    return rows.map(toEnrollment);
  }
}
