// The fleet store on SQLite. Last-seen times are written in batches (sqlite-storage.ts buffers
// them for a second), so every read first flushes what this process holds.
import type { Database } from 'better-sqlite3';
import { lastSeenBoundaries, type DeviceSearch, type FleetStore, type FleetSummary, type SeenPosition } from '../fleet.ts';
import { deviceSearchQuery, fleetSeenSql, fleetSummarySql, toSummary, type SummaryRow } from '../fleet-queries.ts';
import { toEnrollment, type EnrollmentRow } from '../rows.ts';
import type { Enrollment } from '../storage.ts';

const named = (n: number) => `@p${n}`;
const params = (values: unknown[]) => Object.fromEntries(values.map((v, i) => [`p${i + 1}`, v]));

export class SqliteFleet implements FleetStore {
  private readonly stmt;

  constructor(
    private readonly db: Database,
    private readonly flushSeen: () => Promise<void>,
  ) {
    const summary = fleetSummarySql(named);
    this.stmt = {
      devices: db.prepare(summary.devices),
      push: db.prepare(summary.push),
      seen: db.prepare(fleetSeenSql(named, false)),
      seenAfter: db.prepare(fleetSeenSql(named, true)),
    };
  }

  async devices(search: DeviceSearch, page: { after?: string; limit: number }): Promise<Enrollment[]> {
    await this.flushSeen();
    const query = deviceSearchQuery(search, page, () => '?');
    return (this.db.prepare(query.text).all(query.values) as EnrollmentRow[]).map(toEnrollment);
  }

  async summary(now: string): Promise<FleetSummary> {
    await this.flushSeen();
    const b = lastSeenBoundaries(now);
    const rows = this.stmt.devices.all(params([b.hour, b.day, b.week, b.month])) as SummaryRow[];
    return toSummary(rows, this.stmt.push.get() as { token_invalid: number; last_push_failed: number });
  }

  async seen(since: string, after: SeenPosition | undefined, limit: number): Promise<Enrollment[]> {
    await this.flushSeen();
    const rows = after
      ? this.stmt.seenAfter.all(params([since, after.lastSeenAt, after.id, limit]))
      : this.stmt.seen.all(params([since, limit]));
    return (rows as EnrollmentRow[]).map(toEnrollment);
  }
}
