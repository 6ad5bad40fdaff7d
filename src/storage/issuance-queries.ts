// The enrollment listings and renewal queries, written once for both backends (see
// listing-queries.ts): the tables and columns are the same, only the placeholders differ.
import type { InviteState, IssuedFilter } from './issuance.ts';
import { Where, type Placeholder, type Query } from './listing-queries.ts';

const INVITE_STATE_CONDITIONS: Record<InviteState, string> = {
  revoked: 'revoked_at IS NOT NULL',
  used: 'revoked_at IS NULL AND uses >= max_uses',
  expired: 'revoked_at IS NULL AND uses < max_uses AND expires_at <= ?',
  live: 'revoked_at IS NULL AND uses < max_uses AND expires_at > ?',
};

/** Admins' invites (renewal invites have `renews`), newest first. */
export function inviteListQuery(
  filter: { state?: InviteState; at: string },
  page: { before?: { createdAt: string; id: string }; limit: number },
  placeholder: Placeholder,
): Query {
  const where = new Where(placeholder).add('renews IS NULL');
  if (filter.state !== undefined) {
    const condition = INVITE_STATE_CONDITIONS[filter.state];
    where.add(condition, ...(condition.includes('?') ? [filter.at] : []));
  }
  where.add('(created_at < ? OR (created_at = ? AND id < ?))', page.before?.createdAt, page.before?.createdAt, page.before?.id);
  return { text: `SELECT * FROM enrollment_invites ${where} ORDER BY created_at DESC, id DESC LIMIT ${where.next(page.limit)}`, values: where.values };
}

/** Issued identities, soonest expiry first. */
export function issuedListQuery(filter: IssuedFilter, page: { after?: { notAfter: string; serial: string }; limit: number }, placeholder: Placeholder): Query {
  const where = new Where(placeholder)
    .add('not_after < ?', filter.expiringBefore)
    .add('device_id = ?', filter.deviceId)
    .add('(not_after > ? OR (not_after = ? AND serial > ?))', page.after?.notAfter, page.after?.notAfter, page.after?.serial);
  if (filter.revoked !== undefined) where.add(filter.revoked ? 'revoked_at IS NOT NULL' : 'revoked_at IS NULL');
  return { text: `SELECT * FROM issued_identities ${where} ORDER BY not_after, serial LIMIT ${where.next(page.limit)}`, values: where.values };
}

/**
 * Each device's current identity, expiring before `before`: the newest Aspen-issued certificate
 * bound to it and not revoked (after a renewal the old one stays bound until it expires, but is no
 * longer current), with the state of its renewal command in the device's queue.
 */
export function currentIdentitiesQuery(
  options: { before: string; after?: string; unqueued?: boolean; enrolledOnly?: boolean; limit?: number },
  placeholder: Placeholder,
): Query {
  const where = new Where(placeholder)
    .add('i.revoked_at IS NULL')
    .add('i.not_after < ?', options.before)
    .add('i.not_after > ?', options.after)
    .add(options.enrolledOnly ? "e.state = 'enrolled'" : "e.state <> 'checked-out'")
    // A device's current identity is its latest-expiring one; certificates carry whole seconds, so
    // a renewal issued within the second of the identity it renews is told apart by issue time.
    .add(`NOT EXISTS (SELECT 1 FROM device_identities b2 JOIN issued_identities i2 ON i2.fingerprint = b2.fingerprint
      WHERE b2.device_id = b.device_id AND i2.revoked_at IS NULL
        AND (i2.not_after, i2.issued_at, i2.serial) > (i.not_after, i.issued_at, i.serial))`);
  if (options.unqueued) where.add('i.renewal_queued_at IS NULL');
  const limit = options.limit === undefined ? '' : `LIMIT ${where.next(options.limit)}`;
  const text = `SELECT i.*, b.device_id AS bound_device, t.state AS command_state
    FROM issued_identities i
    JOIN device_identities b ON b.fingerprint = i.fingerprint
    JOIN enrollments e ON e.id = b.device_id
    LEFT JOIN command_targets t ON t.enrollment_id = b.device_id AND t.command_uuid = i.renewal_command
    ${where} ORDER BY i.not_after, i.serial ${limit}`;
  return { text, values: where.values };
}
