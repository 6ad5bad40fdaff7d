// The SQLite events sub-store (see ../events.ts), and `append`, with which the backend's own
// methods write an event inside the transaction of the change it describes.
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Write } from './group-commit.ts';
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
import { boundLimit } from './bound-limit.ts';

/** Rows deleted per pruning statement. */
const PRUNE_BATCH = 500;
/** An enabled endpoint subscribes to the topic (NULL topics: to every topic). */
const SUBSCRIBES = `w.enabled = 1 AND (w.topics IS NULL OR EXISTS (SELECT 1 FROM json_each(w.topics) WHERE value = @topic))`;

export class SqliteEventStore implements EventStore {
  private readonly stmt;
  private readonly delivery;

  /** `db` is the storage's connection (events are written in its changes' transactions);
   *  `bookkeeping` records claims and outcomes (see openBookkeeping in sqlite-storage.ts). */
  constructor(
    private readonly db: Database,
    private readonly bookkeeping: Database,
    /** Writes on `db`, and on `bookkeeping`: through their group commits (group-commit.ts). */
    private readonly write: Write,
    private readonly bookkeepingWrite: Write,
    /** Resolves once everything committed before the call is on disk (WalSync's durable(); at
     *  once when commits are durable by themselves, or never are: synchronous=NORMAL). */
    private readonly durable: () => Promise<void>,
  ) {
    this.stmt = prepare(db);
    this.delivery = prepareBookkeeping(bookkeeping);
  }

  close(): void {
    if (this.bookkeeping !== this.db && this.bookkeeping.open) this.bookkeeping.close();
  }

  /** Whether an enabled endpoint subscribes to the topic (a read, for paths that want to skip
   *  opening a write transaction when nobody does). */
  wants(topic: string): boolean {
    return this.stmt.subscribed.get({ topic }) !== undefined;
  }

  /** Writes `draft` if an enabled endpoint subscribes to it, with a delivery for each such
   *  endpoint. Call it inside the transaction of the change the event describes. */
  append(draft: EventDraft): void {
    if (!this.wants(draft.topic)) return;
    const chain = draft.chain ?? '';
    const sequence = this.stmt.nextSequence.get(chain) as number;
    const seq = this.stmt.insertEvent.get({
      id: draft.id,
      chain,
      sequence,
      topic: draft.topic,
      at: draft.at,
      data: JSON.stringify(draft.data),
      raw: draft.raw && Buffer.from(draft.raw),
      redacted: draft.redacted && Buffer.from(draft.redacted),
    }) as number;
    this.stmt.insertDeliveries.run({ seq, chain, topic: draft.topic, at: draft.at });
  }

  async record(event: EventDraft): Promise<void> {
    await this.write(() => this.append(event));
  }

  async createEndpoint(e: WebhookEndpoint): Promise<void> {
    await this.write(() => this.stmt.insertEndpoint.run(endpointParams(e)));
  }

  async updateEndpoint(id: string, changes: EndpointChanges & { disabledReason?: string | null }, at: string): Promise<WebhookEndpoint | undefined> {
    return this.write(() => {
      const row = this.stmt.getEndpoint.get(id) as EndpointRow | undefined;
      if (row === undefined) return undefined;
      const updated = endpointChanges(toEndpoint(row), changes, at);
      this.stmt.updateEndpoint.run(endpointParams(updated));
      return updated;
    });
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    return this.write(() => this.stmt.deleteEndpoint.run(id).changes === 1);
  }

  async getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    const row = this.stmt.getEndpoint.get(id) as EndpointRow | undefined;
    return row && toEndpoint(row);
  }

  async listEndpoints(): Promise<WebhookEndpoint[]> {
    return (this.stmt.listEndpoints.all() as EndpointRow[]).map(toEndpoint);
  }

  async claimDeliveries(now: string, leaseUntil: string, limit: number): Promise<ClaimedDelivery[]> {
    const token = randomUUID();
    const claimed = await this.bookkeepingWrite(() => {
      const rows = this.delivery.claim.all({ token, now, leaseUntil, limit }) as { endpoint_id: string; event_seq: number; attempts: number }[];
      const endpoints = new Map<string, WebhookEndpoint>();
      return rows.map((c) => {
        let endpoint = endpoints.get(c.endpoint_id);
        if (endpoint === undefined) endpoints.set(c.endpoint_id, (endpoint = toEndpoint(this.delivery.getEndpoint.get(c.endpoint_id) as EndpointRow)));
        const event = toStoredEvent(this.delivery.getEventBySeq.get(c.event_seq) as EventRow);
        return { endpoint, event, attempt: c.attempts, token };
      });
    });
    // A committed event is visible before the WAL is synced (wal-sync.ts): none is sent before it
    // is on disk, so a power loss can never erase an event a receiver already has.
    if (claimed.length > 0) await this.durable();
    return claimed;
  }

  async finishDelivery(d: ClaimedDelivery, outcome: DeliveryOutcome, at: string): Promise<void> {
    const key = { endpoint: d.endpoint.id, seq: d.event.seq, token: d.token, at };
    if (outcome.delivered) {
      await this.bookkeepingWrite(() => this.delivery.delivered.run({ ...key, status: outcome.status, latency: outcome.latencyMs }));
      return;
    }
    await this.bookkeepingWrite(() =>
      this.delivery.failed.run({
        ...key,
        state: outcome.retryAt === null ? 'dead' : 'pending',
        retryAt: outcome.retryAt ?? at,
        status: outcome.status,
        error: outcome.error,
        latency: outcome.latencyMs,
      }),
    );
  }

  async releaseDelivery(d: ClaimedDelivery): Promise<void> {
    await this.bookkeepingWrite(() => this.delivery.release.run({ endpoint: d.endpoint.id, seq: d.event.seq, token: d.token }));
  }

  async replay(endpointId: string, which: { eventId: string } | { since: string }, at: string): Promise<number> {
    return this.write(() => {
      if (this.stmt.getEndpoint.get(endpointId) === undefined) return 0;
      if ('eventId' in which) return this.stmt.replayOne.run({ endpoint: endpointId, eventId: which.eventId, at }).changes;
      return this.stmt.replaySince.run({ endpoint: endpointId, since: which.since, at }).changes;
    });
  }

  async listDeliveries(
    endpointId: string,
    filter: { state?: DeliveryState },
    page: { before?: number; limit: number },
  ): Promise<(DeliveryRecord & { seq: number })[]> {
    const rows = this.stmt.listDeliveries.all({ endpoint: endpointId, state: filter.state ?? null, before: page.before ?? null, limit: page.limit }) as DeliveryRow[];
    return rows.map(toDeliveryRecord);
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const row = this.stmt.getEvent.get(id) as EventRow | undefined;
    return row && toStoredEvent(row);
  }

  async stats(): Promise<DeliveryStats> {
    const counts = Object.fromEntries((this.stmt.countDeliveries.all() as { state: DeliveryState; n: number }[]).map((r) => [r.state, r.n]));
    const oldest = (this.stmt.oldestPending.get() as string | null) ?? null;
    return { pending: counts.pending ?? 0, delivered: counts.delivered ?? 0, dead: counts.dead ?? 0, oldestPendingAt: oldest };
  }

  async prune(before: string): Promise<number> {
    let total = 0;
    for (let n = -1; n !== 0; total += n) {
      n = await this.write(() => this.stmt.prune.run({ before, batch: PRUNE_BATCH }).changes);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }
}

function endpointParams(e: WebhookEndpoint) {
  return {
    id: e.id,
    url: e.url,
    secret: e.secret,
    format: e.format,
    topics: e.topics === null ? null : JSON.stringify(e.topics),
    includeSecrets: e.includeSecrets ? 1 : 0,
    enabled: e.enabled ? 1 : 0,
    disabledReason: e.disabledReason,
    source: e.source,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

function prepare(db: Database) {
  return {
    subscribed: db.prepare(`SELECT 1 FROM webhook_endpoints w WHERE ${SUBSCRIBES} LIMIT 1`),
    nextSequence: db
      .prepare(`INSERT INTO event_sequences (chain, last) VALUES (?, 1) ON CONFLICT (chain) DO UPDATE SET last = last + 1 RETURNING last`)
      .pluck(),
    insertEvent: db
      .prepare(`
        INSERT INTO events (id, chain, sequence, topic, created_at, data, raw, redacted)
        VALUES (@id, @chain, @sequence, @topic, @at, @data, @raw, @redacted) RETURNING seq`)
      .pluck(),
    insertDeliveries: db.prepare(`
      INSERT INTO webhook_deliveries (endpoint_id, event_seq, chain, state, next_attempt_at)
      SELECT w.id, @seq, @chain, 'pending', @at FROM webhook_endpoints w WHERE ${SUBSCRIBES}`),
    insertEndpoint: db.prepare(`
      INSERT INTO webhook_endpoints (id, url, secret, format, topics, include_secrets, enabled, disabled_reason, source, created_at, updated_at)
      VALUES (@id, @url, @secret, @format, @topics, @includeSecrets, @enabled, @disabledReason, @source, @createdAt, @updatedAt)`),
    updateEndpoint: db.prepare(`
      UPDATE webhook_endpoints SET url = @url, secret = @secret, format = @format, topics = @topics,
        include_secrets = @includeSecrets, enabled = @enabled, disabled_reason = @disabledReason, updated_at = @updatedAt
      WHERE id = @id`),
    deleteEndpoint: db.prepare('DELETE FROM webhook_endpoints WHERE id = ?'),
    getEndpoint: db.prepare('SELECT * FROM webhook_endpoints WHERE id = ?'),
    listEndpoints: db.prepare('SELECT * FROM webhook_endpoints ORDER BY created_at, id'),
    replayOne: db.prepare(`
      INSERT INTO webhook_deliveries (endpoint_id, event_seq, chain, state, next_attempt_at)
      SELECT @endpoint, e.seq, e.chain, 'pending', @at FROM events e WHERE e.id = @eventId
      ON CONFLICT (endpoint_id, event_seq) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at,
        lease_token = NULL, lease_until = NULL, delivered_at = NULL`),
    replaySince: db.prepare(`
      INSERT INTO webhook_deliveries (endpoint_id, event_seq, chain, state, next_attempt_at)
      SELECT w.id, e.seq, e.chain, 'pending', @at FROM events e JOIN webhook_endpoints w ON w.id = @endpoint
      WHERE e.created_at >= @since AND (w.topics IS NULL OR EXISTS (SELECT 1 FROM json_each(w.topics) WHERE value = e.topic))
      ON CONFLICT (endpoint_id, event_seq) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at,
        lease_token = NULL, lease_until = NULL, delivered_at = NULL`),
    listDeliveries: db.prepare(`
      SELECT d.*, e.id AS event_id, e.topic, e.sequence, e.created_at FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
      WHERE d.endpoint_id = @endpoint AND (@state IS NULL OR d.state = @state) AND (@before IS NULL OR d.event_seq < @before)
      ORDER BY d.event_seq DESC LIMIT ${boundLimit('@limit')}`),
    getEvent: db.prepare('SELECT * FROM events WHERE id = ?'),
    countDeliveries: db.prepare('SELECT state, count(*) AS n FROM webhook_deliveries GROUP BY state'),
    oldestPending: db
      .prepare(`SELECT min(e.created_at) FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.state = 'pending'`)
      .pluck(),
    prune: db.prepare(`
      DELETE FROM events WHERE seq IN (
        SELECT seq FROM events e WHERE e.created_at < @before
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.state = 'pending')
        LIMIT ${boundLimit('@batch')})`),
  };
}

/** The statements of delivery bookkeeping, on its own connection. */
function prepareBookkeeping(db: Database) {
  return {
    getEndpoint: db.prepare('SELECT * FROM webhook_endpoints WHERE id = ?'),
    getEventBySeq: db.prepare('SELECT * FROM events WHERE seq = ?'),
    // A chain's first pending delivery only: the next waits until it is delivered or dead.
    claim: db.prepare(`
      UPDATE webhook_deliveries SET lease_token = @token, lease_until = @leaseUntil, attempts = attempts + 1
      WHERE (endpoint_id, event_seq) IN (
        SELECT d.endpoint_id, d.event_seq FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.enabled = 1
        WHERE d.state = 'pending' AND d.next_attempt_at <= @now AND (d.lease_until IS NULL OR d.lease_until <= @now)
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
            WHERE p.endpoint_id = d.endpoint_id AND p.chain = d.chain AND p.state = 'pending' AND p.event_seq < d.event_seq)
        ORDER BY d.event_seq LIMIT ${boundLimit('@limit')})
      RETURNING endpoint_id, event_seq, attempts`),
    delivered: db.prepare(`
      UPDATE webhook_deliveries SET state = 'delivered', delivered_at = @at, last_attempt_at = @at, last_status = @status,
        last_error = NULL, last_latency_ms = @latency, lease_token = NULL, lease_until = NULL
      WHERE endpoint_id = @endpoint AND event_seq = @seq AND lease_token = @token`),
    failed: db.prepare(`
      UPDATE webhook_deliveries SET state = @state, next_attempt_at = @retryAt, last_attempt_at = @at, last_status = @status,
        last_error = @error, last_latency_ms = @latency, lease_token = NULL, lease_until = NULL
      WHERE endpoint_id = @endpoint AND event_seq = @seq AND lease_token = @token`),
    release: db.prepare(`
      UPDATE webhook_deliveries SET attempts = attempts - 1, lease_token = NULL, lease_until = NULL
      WHERE endpoint_id = @endpoint AND event_seq = @seq AND lease_token = @token`),
  };
}
