// Webhook endpoints as admins manage them: checked on the way in (URL, format, topics, a secret
// for the format), with a secret generated when none is given (shown once), the endpoint of
// WEBHOOK_URL kept in step with the configuration, and test deliveries sent at once.
import { randomBytes, randomUUID } from 'node:crypto';
import { didYouMean } from '../protocol/suggest.ts';
import type { DeliveryRecord, DeliveryState, EndpointChanges, EventStore, WebhookEndpoint, WebhookFormat } from '../storage/events.ts';
import { EVENT_TOPICS, testEvent } from './drafts.ts';
import { renderDelivery, standardSecretKey } from './render.ts';

/** The endpoint WEBHOOK_URL configures. */
export const ENVIRONMENT_ENDPOINT = 'environment';

export interface EndpointInput {
  url: string;
  secret?: string;
  format?: WebhookFormat;
  topics?: string[] | null;
  includeSecrets?: boolean;
  enabled?: boolean;
}

export interface WebhookConfig {
  url: string;
  secret: string | undefined;
  format: WebhookFormat;
  topics: string[] | null;
  includeSecrets: boolean;
}

/** Bad input: a 400 naming the field. */
export class WebhookInputError extends Error {
  override readonly name = 'WebhookInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** A change asked of the endpoint the configuration owns. */
export class ReadOnlyEndpointError extends Error {
  override readonly name = 'ReadOnlyEndpointError';
  constructor() {
    super('this endpoint comes from WEBHOOK_URL; change the configuration (and restart) instead');
  }
}

export interface TestOutcome {
  status: number | null;
  latencyMs: number;
  error?: string;
}

export class Webhooks {
  constructor(
    private readonly store: EventStore,
    private readonly timeoutMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates an endpoint; the returned secret (generated when none was given) is shown once. */
  async create(input: EndpointInput): Promise<WebhookEndpoint> {
    const format = input.format ?? 'micromdm';
    const at = this.now().toISOString();
    const endpoint: WebhookEndpoint = {
      id: randomUUID(),
      url: checkUrl(input.url),
      secret: checkSecret(input.secret ?? generateSecret(format), format),
      format,
      topics: checkTopics(input.topics ?? null),
      includeSecrets: input.includeSecrets ?? false,
      enabled: input.enabled ?? true,
      disabledReason: null,
      source: 'api',
      createdAt: at,
      updatedAt: at,
    };
    await this.store.createEndpoint(endpoint);
    return endpoint;
  }

  /** Undefined when unknown; throws ReadOnlyEndpointError for the configured one. */
  async update(id: string, changes: EndpointChanges): Promise<WebhookEndpoint | undefined> {
    const current = await this.store.getEndpoint(id);
    if (current === undefined) return undefined;
    if (current.source === 'environment') throw new ReadOnlyEndpointError();
    const format = changes.format ?? current.format;
    const checked: EndpointChanges = {
      ...changes,
      ...(changes.url !== undefined ? { url: checkUrl(changes.url) } : {}),
      ...(changes.topics !== undefined ? { topics: checkTopics(changes.topics) } : {}),
    };
    // A new format needs a secret of its kind: the given one, or the current one if it fits.
    checkSecret(changes.secret ?? current.secret, format);
    return this.store.updateEndpoint(id, checked, this.now().toISOString());
  }

  list(): Promise<WebhookEndpoint[]> {
    return this.store.listEndpoints();
  }

  get(id: string): Promise<WebhookEndpoint | undefined> {
    return this.store.getEndpoint(id);
  }

  /** An endpoint's deliveries, newest first; undefined when the endpoint is unknown. */
  async deliveries(id: string, filter: { state?: DeliveryState }, page: { before?: number; limit: number }): Promise<(DeliveryRecord & { seq: number })[] | undefined> {
    if ((await this.store.getEndpoint(id)) === undefined) return undefined;
    return this.store.listDeliveries(id, filter, page);
  }

  /** Delivers one event again, or every event since a time; undefined when the endpoint or the
   *  event is unknown, else how many deliveries are pending again. */
  async replay(id: string, which: { eventId: string } | { since: string }): Promise<number | undefined> {
    if ((await this.store.getEndpoint(id)) === undefined) return undefined;
    if ('eventId' in which && (await this.store.getEvent(which.eventId)) === undefined) return undefined;
    return this.store.replay(id, which, this.now().toISOString());
  }

  async remove(id: string): Promise<boolean> {
    const current = await this.store.getEndpoint(id);
    if (current?.source === 'environment') throw new ReadOnlyEndpointError();
    return this.store.deleteEndpoint(id);
  }

  /** Makes WEBHOOK_URL's endpoint what the configuration says (it is enabled again at start:
   *  the configuration asks for it), or removes it when WEBHOOK_URL is no longer set. */
  async syncEnvironment(config: WebhookConfig | null): Promise<void> {
    const current = await this.store.getEndpoint(ENVIRONMENT_ENDPOINT);
    if (config === null) {
      if (current) await this.store.deleteEndpoint(ENVIRONMENT_ENDPOINT);
      return;
    }
    const wanted = {
      url: checkUrl(config.url),
      secret: checkSecret(config.secret ?? '', config.format),
      format: config.format,
      topics: checkTopics(config.topics),
      includeSecrets: config.includeSecrets,
      enabled: true,
    };
    const at = this.now().toISOString();
    if (current) {
      await this.store.updateEndpoint(ENVIRONMENT_ENDPOINT, { ...wanted, disabledReason: null }, at);
      return;
    }
    await this.store.createEndpoint({ id: ENVIRONMENT_ENDPOINT, ...wanted, disabledReason: null, source: 'environment', createdAt: at, updatedAt: at });
  }

  /** Sends a test event to the endpoint now, signed as every delivery is, and says what came back
   *  (it is not stored: it tells the admin whether the receiver is reachable and accepts it). */
  async test(id: string): Promise<TestOutcome | undefined> {
    const endpoint = await this.store.getEndpoint(id);
    if (endpoint === undefined) return undefined;
    const now = this.now();
    const draft = testEvent(id, now.toISOString());
    const { body, headers } = renderDelivery({ ...draft, seq: 0, chain: '', sequence: 1 }, endpoint, now);
    const started = performance.now();
    try {
      const res = await fetch(endpoint.url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer();
      return { status: res.status, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return { status: null, latencyMs: Math.round(performance.now() - started), error: cause ?? (err as Error).message };
    }
  }
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookInputError('url', `not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new WebhookInputError('url', 'must be http:// or https://');
  return parsed.toString();
}

function checkTopics(topics: string[] | null): string[] | null {
  if (topics === null) return null;
  if (topics.length === 0) throw new WebhookInputError('topics', 'give at least one topic, or null for every topic');
  for (const topic of topics) {
    if (!(EVENT_TOPICS as readonly string[]).includes(topic)) {
      const hint = didYouMean(topic, EVENT_TOPICS);
      throw new WebhookInputError('topics', `unknown topic ${JSON.stringify(topic)}${hint ? ` (${hint})` : ''}; topics: ${EVENT_TOPICS.join(', ')}`);
    }
  }
  return [...new Set(topics)];
}

function checkSecret(secret: string, format: WebhookFormat): string {
  if (format === 'standard' && standardSecretKey(secret) === undefined) {
    throw new WebhookInputError('secret', 'a Standard Webhooks secret is "whsec_" followed by at least 16 bytes in base64');
  }
  return secret;
}

function generateSecret(format: WebhookFormat): string {
  const key = randomBytes(24).toString('base64');
  return format === 'standard' ? `whsec_${key}` : key;
}
