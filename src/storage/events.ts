// Events and their delivery to webhook endpoints (the events sub-store of Storage).
//
// An event is written by the storage method that makes the change it describes, in the same
// transaction (an outbox): core methods take an optional EventDraft. It is kept only when some
// enabled endpoint subscribes to its topic, and each such endpoint gets a delivery, delivered at
// least once and in order within its chain (an enrollment with its user channels; '' for events
// about no enrollment). Deliveries are claimed for a lease, so with several instances each is
// attempted by one of them at a time, and a crashed instance's claims run out.

export type WebhookFormat = 'micromdm' | 'standard';
export const WEBHOOK_FORMATS = ['micromdm', 'standard'] as const satisfies readonly WebhookFormat[];

export type DeliveryState = 'pending' | 'delivered' | 'dead';
export const DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const satisfies readonly DeliveryState[];

/** An event as the service describes it, before storage gives it its place in the order. */
export interface EventDraft {
  /** Unique; receivers dedupe by it. */
  id: string;
  topic: string;
  /** The enrollment (device channel id) whose chain orders it; null: about no enrollment. */
  chain: string | null;
  at: string;
  /** The event's fields, as JSON (raw_payload aside, which is rendered from `raw`/`redacted`). */
  data: Record<string, unknown>;
  /** The exact bytes the device sent, for events about a device message. */
  raw: Uint8Array | null;
  /** `raw` without the secrets it held (UnlockToken, BootstrapToken), when it held any. */
  redacted: Uint8Array | null;
}

/** A stored event. */
export interface StoredEvent extends Omit<EventDraft, 'chain'> {
  seq: number;
  chain: string;
  /** 1, 2, 3 ... within its chain. */
  sequence: number;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  secret: string;
  format: WebhookFormat;
  /** null: every topic. */
  topics: string[] | null;
  /** Events carry the secrets device messages held (otherwise they are removed). */
  includeSecrets: boolean;
  enabled: boolean;
  /** Why it was disabled by Aspen (e.g. the receiver answered 410 Gone). */
  disabledReason: string | null;
  /** `environment`: WEBHOOK_URL's, kept in step with the configuration and read-only through the API. */
  source: 'api' | 'environment';
  createdAt: string;
  updatedAt: string;
}

export type EndpointChanges = Partial<Pick<WebhookEndpoint, 'url' | 'secret' | 'format' | 'topics' | 'includeSecrets' | 'enabled'>>;

/** A delivery claimed by one instance: the event and where it goes. */
export interface ClaimedDelivery {
  endpoint: WebhookEndpoint;
  event: StoredEvent;
  /** Attempts so far, this one included. */
  attempt: number;
  token: string;
}

/** What an attempt came to. */
export type DeliveryOutcome =
  | { delivered: true; status: number; latencyMs: number }
  /** retryAt null: no more tries (dead-lettered). */
  | { delivered: false; retryAt: string | null; status: number | null; error: string; latencyMs: number | null };

export interface DeliveryRecord {
  eventId: string;
  topic: string;
  chain: string;
  sequence: number;
  createdAt: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  lastLatencyMs: number | null;
  deliveredAt: string | null;
}

export interface DeliveryStats {
  pending: number;
  delivered: number;
  dead: number;
  /** When the oldest pending delivery's event was written. */
  oldestPendingAt: string | null;
}

export interface EventStore {
  /** Stores an event that describes no other change (an identity refusal), if anyone subscribes. */
  record(event: EventDraft): Promise<void>;
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** Applies changes to an endpoint; undefined when unknown. */
  updateEndpoint(id: string, changes: EndpointChanges & { disabledReason?: string | null }, at: string): Promise<WebhookEndpoint | undefined>;
  /** Removes an endpoint with its deliveries; false when unknown. */
  deleteEndpoint(id: string): Promise<boolean>;
  getEndpoint(id: string): Promise<WebhookEndpoint | undefined>;
  listEndpoints(): Promise<WebhookEndpoint[]>;
  /** Claims up to `limit` deliveries due at `now`, each the first pending one of its endpoint and
   *  chain (so a chain is delivered in order), until `leaseUntil`. */
  claimDeliveries(now: string, leaseUntil: string, limit: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt; does nothing if the claim was lost (its lease ran out and another took it). */
  finishDelivery(delivery: ClaimedDelivery, outcome: DeliveryOutcome, at: string): Promise<void>;
  /** Hands a claimed delivery back untried (its endpoint was disabled meanwhile, or shutdown). */
  releaseDelivery(delivery: ClaimedDelivery): Promise<void>;
  /** Delivers again, to one endpoint, one event or every event since a time that the endpoint
   *  subscribes to (dead or delivered alike); returns how many. */
  replay(endpointId: string, which: { eventId: string } | { since: string }, at: string): Promise<number>;
  /** An endpoint's deliveries, newest first, those older than the event `before` (a seq). */
  listDeliveries(endpointId: string, filter: { state?: DeliveryState }, page: { before?: number; limit: number }): Promise<(DeliveryRecord & { seq: number })[]>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  stats(): Promise<DeliveryStats>;
  /** Deletes events written before `before` that no delivery still waits for; returns how many. */
  prune(before: string): Promise<number>;
}
