// The admin listings' filtered, paged queries, written once for both backends: the tables and
// columns are the same, only the placeholders differ (SQLite `?`, PostgreSQL `$n`).
import type { CommandFilter, EnrollmentFilter } from './storage.ts';

export type Placeholder = (position: number) => string;

export interface Query {
  text: string;
  values: unknown[];
}

/** Builds a WHERE clause from conditions, each `?` in them becoming the backend's placeholder. */
export class Where {
  private readonly parts: string[] = [];
  readonly values: unknown[] = [];

  constructor(private readonly placeholder: Placeholder) {}

  add(condition: string, ...values: unknown[]): this {
    if (values.some((v) => v === undefined)) return this;
    this.parts.push(condition.replace(/\?/g, () => this.placeholder(this.values.push(values.shift()))));
    return this;
  }

  /** The next placeholder, for what follows the WHERE clause. */
  next(value: unknown): string {
    return this.placeholder(this.values.push(value));
  }

  toString(): string {
    return this.parts.length === 0 ? '' : `WHERE ${this.parts.join(' AND ')}`;
  }
}

/** Enrollments ordered by id. Serial number and platform are the device's, so a device's user
 *  channels are found with it. */
export function enrollmentListQuery(filter: EnrollmentFilter, page: { after?: string; limit: number }, placeholder: Placeholder): Query {
  const where = new Where(placeholder)
    .add('type = ?', filter.type)
    .add('channel = ?', filter.channel)
    .add('state = ?', filter.state)
    .add('device_id = ?', filter.deviceId)
    .add('device_id IN (SELECT id FROM enrollments WHERE serial_number = ?)', filter.serialNumber)
    .add('device_id IN (SELECT id FROM enrollments WHERE platform = ?)', filter.platform)
    .add('topic = ?', filter.topic)
    .add('last_seen_at < ?', filter.lastSeenBefore)
    .add('last_seen_at > ?', filter.lastSeenAfter)
    .add('id > ?', page.after);
  const text = `SELECT * FROM enrollments ${where} ORDER BY id LIMIT ${where.next(page.limit)}`;
  return { text, values: where.values };
}

/** Commands, newest first, after the cursor (the last one of the previous page). */
export function commandListQuery(
  filter: CommandFilter,
  page: { before?: { createdAt: string; uuid: string }; limit: number },
  placeholder: Placeholder,
): Query {
  const where = new Where(placeholder)
    .add('c.request_type = ?', filter.requestType)
    .add('c.created_at >= ?', filter.since)
    .add('EXISTS (SELECT 1 FROM command_targets t WHERE t.command_uuid = c.uuid AND t.enrollment_id = ?)', filter.target)
    .add('EXISTS (SELECT 1 FROM command_targets t WHERE t.command_uuid = c.uuid AND t.state = ?)', filter.state)
    .add('(c.created_at < ? OR (c.created_at = ? AND c.uuid < ?))', page.before?.createdAt, page.before?.createdAt, page.before?.uuid);
  const text = `SELECT c.uuid, c.request_type, c.created_at FROM commands c ${where}
    ORDER BY c.created_at DESC, c.uuid DESC LIMIT ${where.next(page.limit)}`;
  return { text, values: where.values };
}
