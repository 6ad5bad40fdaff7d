// The fleet store's queries, written once for both backends: the tables and columns are the same,
// only the placeholders differ (SQLite `@pN` or `?`, PostgreSQL `$N`).
import type { DeviceSearch, FleetSummary, LastSeenBucket } from './fleet.ts';
import { Where, type Placeholder, type Query } from './listing-queries.ts';
import type { EnrollmentState } from './storage.ts';

/** LIKE's wildcards in what someone typed match themselves. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function deviceSearchQuery(search: DeviceSearch, page: { after?: string; limit: number }, p: Placeholder): Query {
  const pattern = search.text === undefined || search.text === '' ? undefined : likePattern(search.text);
  const where = new Where(p)
    .add(`channel = 'device'`)
    .add(
      `(lower(coalesce(serial_number, '')) LIKE ? ESCAPE '\\' OR lower(coalesce(device_name, '')) LIKE ? ESCAPE '\\' OR lower(id) LIKE ? ESCAPE '\\')`,
      pattern,
      pattern,
      pattern,
    )
    .add('platform = ?', search.platform)
    .add('state = ?', search.state)
    .add('last_seen_at >= ?', search.seenAfter)
    .add('last_seen_at < ?', search.seenBefore)
    .add('id > ?', page.after);
  return { text: `SELECT * FROM enrollments ${where} ORDER BY id LIMIT ${where.next(page.limit)}`, values: where.values };
}

/** The summary query, written once: only the placeholders differ between backends. Boundaries
 *  come in the order hour, day, week, month. */
export function fleetSummarySql(p: Placeholder): { devices: string; push: string } {
  return {
    devices: `SELECT coalesce(platform, 'unknown') AS platform, state,
        CASE WHEN state = 'checked-out' THEN NULL
          WHEN last_seen_at >= ${p(1)} THEN 'hour' WHEN last_seen_at >= ${p(2)} THEN 'day'
          WHEN last_seen_at >= ${p(3)} THEN 'week' WHEN last_seen_at >= ${p(4)} THEN 'month' ELSE 'older' END AS seen,
        count(*) AS count
      FROM enrollments WHERE channel = 'device' GROUP BY 1, 2, 3`,
    push: `SELECT
        count(CASE WHEN push_token_invalid THEN 1 END) AS token_invalid,
        count(CASE WHEN last_push_result IS NOT NULL AND last_push_result NOT LIKE 'pushed%' THEN 1 END) AS last_push_failed
      FROM enrollments WHERE state <> 'checked-out'`,
  };
}

export function fleetSeenSql(p: Placeholder, withPosition: boolean): string {
  const position = withPosition ? ` AND (last_seen_at > ${p(2)} OR (last_seen_at = ${p(2)} AND id > ${p(3)}))` : '';
  return `SELECT * FROM enrollments WHERE last_seen_at >= ${p(1)}${position} ORDER BY last_seen_at, id LIMIT ${p(withPosition ? 4 : 2)}`;
}

export interface SummaryRow {
  platform: string;
  state: EnrollmentState;
  seen: LastSeenBucket | null;
  count: number | string;
}

export function toSummary(rows: SummaryRow[], push: { token_invalid: number | string; last_push_failed: number | string }): FleetSummary {
  const summary: FleetSummary = {
    devices: 0,
    byPlatform: {},
    byState: { authenticated: 0, enrolled: 0, 'checked-out': 0 },
    lastSeen: { hour: 0, day: 0, week: 0, month: 0, older: 0 },
    push: { tokenInvalid: Number(push.token_invalid), lastPushFailed: Number(push.last_push_failed) },
  };
  for (const row of rows) {
    const n = Number(row.count);
    summary.devices += n;
    summary.byPlatform[row.platform] = (summary.byPlatform[row.platform] ?? 0) + n;
    summary.byState[row.state] += n;
    if (row.seen !== null) summary.lastSeen[row.seen] += n;
  }
  return summary;
}
