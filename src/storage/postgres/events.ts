// The PostgreSQL events sub-store (see ../events.ts), and `eventStatements`, the common table
// expressions with which the backend's own statements write an event in the same statement (or
// transaction) as the change it describes.
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type {
  ClaimedDelivery,
  DeliveryOutcome,
  DeliveryRecord,
  DeliveryState,
  DeliveryStats,
  EndpointChanges,
  EventDraft,
  EventStore,
  StoredEvent,
  WebhookEndpoint,
} from '../events.ts';
import { endpointChanges, toDeliveryRecord, toEndpoint, toStoredEvent, type DeliveryRow, type EndpointRow, type EventRow } from '../event-rows.ts';

const PRUNE_BATCH = 1000;

/** Adds a value to a statement's parameters and returns its placeholder. */
export type Bind = (value: unknown) => string;

export function binder(values: unknown[]): Bind {
  return (value) => `$${values.push(value)}`;
}

/**
 * The CTEs (to append to a WITH list, after a comma) that write `draft` when `condition` (SQL
 * over the other CTEs) holds and an enabled endpoint subscribes to it: the chain's next sequence
 * number, the event, a delivery per subscribed endpoint.
 */
export function eventCtes(draft: EventDraft, bind: Bind, condition = 'true'): string {
  const topic = bind(draft.topic);
  const chain = bind(draft.chain ?? '');
  const at = bind(draft.at);
  const subscribes = `w.enabled AND (w.topics IS NULL OR w.topics ? ${topic})`;
  return `ev_sequence AS (
      INSERT INTO event_sequences (chain, last)
      SELECT ${chain}, 1 WHERE (${condition}) AND EXISTS (SELECT 1 FROM webhook_endpoints w WHERE ${subscribes})
      ON CONFLICT (chain) DO UPDATE SET last = event_sequences.last + 1 RETURNING last
    ), ev AS (
      INSERT INTO events (id, chain, sequence, topic, created_at, data, raw, redacted)
      SELECT ${bind(draft.id)}, ${chain}, last, ${topic}, ${at}, ${bind(JSON.stringify(draft.data))}::jsonb,
        ${bind(draft.raw && Buffer.from(draft.raw))}::bytea, ${bind(draft.redacted && Buffer.from(draft.redacted))}::bytea
      FROM ev_sequence RETURNING seq
    ), ev_deliveries AS (
      INSERT INTO webhook_deliveries (endpoint_id, event_seq, chain, state, next_attempt_at)
      SELECT w.id, ev.seq, ${chain}, 'pending', ${at} FROM ev JOIN webhook_endpoints w ON ${subscribes}
    )`;
}

/** Writes `draft` on its own (in the caller's transaction, when given a client). */
export async function appendEvent(db: Pool | PoolClient, draft: EventDraft): Promise<void> {
  const values: unknown[] = [];
  await db.query(`WITH ${eventCtes(draft, binder(values))} SELECT 1`, values);
}

export class PostgresEventStore implements EventStore {
  constructor(private readonly pool: Pool) {}

  private async rows<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  async record(event: EventDraft): Promise<void> {
    await appendEvent(this.pool, event);
  }

  async createEndpoint(e: WebhookEndpoint): Promise<void> {
    await this.rows(
      `INSERT INTO webhook_endpoints (id, url, secret, format, topics, include_secrets, enabled, disabled_reason, source, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      endpointValues(e),
    );
  }

  async updateEndpoint(id: string, changes: EndpointChanges & { disabledReason?: string | null }, at: string): Promise<WebhookEndpoint | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const row = (await client.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (row === undefined) {
        await client.query('ROLLBACK');
        return undefined;
      }
      const updated = endpointChanges(toEndpoint(row), changes, at);
      const [, url, secret, format, topics, includeSecrets, enabled, disabledReason] = endpointValues(updated);
      await client.query(
        `UPDATE webhook_endpoints SET url = $2, secret = $3, format = $4, topics = $5, include_secrets = $6, enabled = $7,
          disabled_reason = $8, updated_at = $9 WHERE id = $1`,
        [id, url, secret, format, topics, includeSecrets, enabled, disabledReason, updated.updatedAt],
      );
      await client.query('COMMIT');
      return updated;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    return (await this.rows('DELETE FROM webhook_endpoints WHERE id = $1 RETURNING 1', [id])).length === 1;
  }

  async getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    const row = (await this.rows<EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = $1', [id]))[0];
    return row && toEndpoint(row);
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    return (await this.rows<EndpointRow>('SELECT * FROM webhook_endpoints ORDER BY created_at, id')).map(toEndpoint);
  }

  async claimDeliveries(now: string, leaseUntil: string, limit: number): Promise<ClaimedDelivery[]> {
    // A chain's first pending delivery only: the next waits until it is delivered or dead. SKIP
    // LOCKED lets instances claiming at once take different deliveries instead of waiting.
    const token = randomUUID();
    const rows = await this.rows<EventRow & { endpoint: EndpointRow; attempts: number }>(
      `WITH heads AS (
        SELECT d.endpoint_id, d.event_seq FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled
        WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
            WHERE p.endpoint_id = d.endpoint_id AND p.chain = d.chain AND p.state = 'pending' AND p.event_seq < d.event_seq)
        ORDER BY d.event_seq LIMIT $3 FOR UPDATE OF d SKIP LOCKED
      ), claimed AS (
        UPDATE webhook_deliveries d SET lease_token = $4, lease_until = $2, attempts = d.attempts + 1 FROM heads
        WHERE d.endpoint_id = heads.endpoint_id AND d.event_seq = heads.event_seq
        RETURNING d.endpoint_id, d.event_seq, d.attempts
      )
      SELECT e.*, claimed.attempts, to_jsonb(w) AS endpoint FROM claimed
      JOIN events e ON e.seq = claimed.event_seq JOIN webhook_endpoints w ON w.id = claimed.endpoint_id
      ORDER BY e.seq`,
      [now, leaseUntil, limit, token],
    );
    // to_jsonb writes timestamps in PostgreSQL's own form; the contract's are ISO 8601.
    const iso = (t: string) => new Date(t).toISOString();
    return rows.map(({ endpoint, attempts, ...event }) => ({
      endpoint: toEndpoint({ ...endpoint, created_at: iso(endpoint.created_at), updated_at: iso(endpoint.updated_at) }),
      event: toStoredEvent(event),
      attempt: attempts,
      token,
    }));
  }

  async finishDelivery(d: ClaimedDelivery, outcome: DeliveryOutcome, at: string): Promise<void> {
    const key = [d.endpoint.id, d.event.seq, d.token, at];
    if (outcome.delivered) {
      await this.rows(
        `UPDATE webhook_deliveries SET state = 'delivered', delivered_at = $4, last_attempt_at = $4, last_status = $5,
          last_error = NULL, last_latency_ms = $6, lease_token = NULL, lease_until = NULL
        WHERE endpoint_id = $1 AND event_seq = $2 AND lease_token = $3`,
        [...key, outcome.status, outcome.latencyMs],
      );
      return;
    }
    await this.rows(
      `UPDATE webhook_deliveries SET state = $5, next_attempt_at = $6, last_attempt_at = $4, last_status = $7,
        last_error = $8, last_latency_ms = $9, lease_token = NULL, lease_until = NULL
      WHERE endpoint_id = $1 AND event_seq = $2 AND lease_token = $3`,
      [...key, outcome.retryAt === null ? 'dead' : 'pending', outcome.retryAt ?? at, outcome.status, outcome.error, outcome.latencyMs],
    );
  }

  async releaseDelivery(d: ClaimedDelivery): Promise<void> {
    await this.rows(
      `UPDATE webhook_deliveries SET attempts = attempts - 1, lease_token = NULL, lease_until = NULL
      WHERE endpoint_id = $1 AND event_seq = $2 AND lease_token = $3`,
      [d.endpoint.id, d.event.seq, d.token],
    );
  }

  async replay(endpointId: string, which: { eventId: string } | { since: string }, at: string): Promise<number> {
    const again = `ON CONFLICT (endpoint_id, event_seq) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at,
      lease_token = NULL, lease_until = NULL, delivered_at = NULL RETURNING 1`;
    if ('eventId' in which) {
      return (
        await this.rows(
          `INSERT INTO webhook_deliveries (endpoint_id, event_seq, chain, state, next_attempt_at)
          SELECT w.id, e.seq, e.chain, 'pending', $3 FROM events e JOIN webhook_endpoints w ON w.id = $1 WHERE e.id = $2 ${again}`,
          [endpointId, which.eventId, at],
        )
      ).length;
    }
    return (
      await this.rows(
        `INSERT INTO webhook_deliveries (endpoint_id, event_seq, chain, state, next_attempt_at)
        SELECT w.id, e.seq, e.chain, 'pending', $3 FROM events e JOIN webhook_endpoints w ON w.id = $1
        WHERE e.created_at >= $2 AND (w.topics IS NULL OR w.topics ? e.topic) ${again}`,
        [endpointId, which.since, at],
      )
    ).length;
  }

  async listDeliveries(
    endpointId: string,
    filter: { state?: DeliveryState },
    page: { before?: number; limit: number },
  ): Promise<(DeliveryRecord & { seq: number })[]> {
    const rows = await this.rows<DeliveryRow>(
      `SELECT d.*, e.id AS event_id, e.topic, e.sequence, e.created_at FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
      WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.state = $2) AND ($3::bigint IS NULL OR d.event_seq < $3)
      ORDER BY d.event_seq DESC LIMIT $4`,
      [endpointId, filter.state ?? null, page.before ?? null, page.limit],
    );
    return rows.map(toDeliveryRecord);
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const row = (await this.rows<EventRow>('SELECT * FROM events WHERE id = $1', [id]))[0];
    return row && toStoredEvent(row);
  }

  async stats(): Promise<DeliveryStats> {
    const counts = Object.fromEntries(
      (await this.rows<{ state: DeliveryState; n: number }>('SELECT state, count(*)::int AS n FROM webhook_deliveries GROUP BY state')).map((r) => [r.state, r.n]),
    );
    const oldest = await this.rows<{ at: string | null }>(
      `SELECT min(e.created_at) AS at FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.state = 'pending'`,
    );
    return { pending: counts.pending ?? 0, delivered: counts.delivered ?? 0, dead: counts.dead ?? 0, oldestPendingAt: oldest[0]?.at ?? null };
  }

  async prune(before: string): Promise<number> {
    let total = 0;
    for (let n = -1; n !== 0; total += n) {
      n = (
        await this.pool.query(
          `DELETE FROM events WHERE seq IN (
            SELECT seq FROM events e WHERE e.created_at < $1
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.state = 'pending')
            LIMIT $2)`,
          [before, PRUNE_BATCH],
        )
      ).rowCount ?? 0;
    }
    return total;
  }
}

function endpointValues(e: WebhookEndpoint): unknown[] {
  return [
    e.id,
    e.url,
    e.secret,
    e.format,
    e.topics === null ? null : JSON.stringify(e.topics),
    e.includeSecrets,
    e.enabled,
    e.disabledReason,
    e.source,
    e.createdAt,
    e.updatedAt,
  ];
}
