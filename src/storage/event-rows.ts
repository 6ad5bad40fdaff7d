// Row shapes of the events tables, as either backend returns them (see rows.ts on the two
// spellings of booleans and JSON), and their mapping to the events contract.
import type { DeliveryRecord, DeliveryState, EndpointChanges, StoredEvent, WebhookEndpoint, WebhookFormat } from './events.ts';
import { flag, type Flag, type Json } from './rows.ts';

export interface EndpointRow {
  id: string;
  url: string;
  secret: string;
  format: WebhookFormat;
  topics: Json;
  include_secrets: Flag;
  enabled: Flag;
  disabled_reason: string | null;
  source: 'api' | 'environment';
  created_at: string;
  updated_at: string;
}

export function toEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    secret: r.secret,
    format: r.format,
    topics: r.topics === null ? null : ((typeof r.topics === 'string' ? JSON.parse(r.topics) : r.topics) as string[]),
    includeSecrets: flag(r.include_secrets),
    enabled: flag(r.enabled),
    disabledReason: r.disabled_reason,
    source: r.source,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** An endpoint with changes applied; enabling it again clears why it was disabled. */
export function endpointChanges(e: WebhookEndpoint, changes: EndpointChanges & { disabledReason?: string | null }, at: string): WebhookEndpoint {
  const { disabledReason, ...given } = changes;
  // A change left undefined leaves the field as it is.
  const rest = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const reason = disabledReason !== undefined ? disabledReason : changes.enabled === true ? null : e.disabledReason;
  return { ...e, ...rest, disabledReason: reason, updatedAt: at };
}

export interface EventRow {
  seq: number;
  id: string;
  chain: string;
  sequence: number;
  topic: string;
  created_at: string;
  data: Json;
  raw: Buffer | null;
  redacted: Buffer | null;
}

export function toStoredEvent(r: EventRow): StoredEvent {
  return {
    seq: r.seq,
    id: r.id,
    chain: r.chain,
    sequence: r.sequence,
    topic: r.topic,
    at: r.created_at,
    data: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>,
    raw: r.raw,
    redacted: r.redacted,
  };
}

export interface DeliveryRow {
  event_seq: number;
  event_id: string;
  topic: string;
  chain: string;
  sequence: number;
  created_at: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: string;
  last_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  delivered_at: string | null;
}

export function toDeliveryRecord(r: DeliveryRow): DeliveryRecord & { seq: number } {
  return {
    seq: r.event_seq,
    eventId: r.event_id,
    topic: r.topic,
    chain: r.chain,
    sequence: r.sequence,
    createdAt: r.created_at,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastAttemptAt: r.last_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    lastLatencyMs: r.last_latency_ms,
    deliveredAt: r.delivered_at,
  };
}
