// Admin routes for webhooks: endpoints (the one WEBHOOK_URL configures is listed, read-only),
// their delivery log, replays and test deliveries.
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { EVENT_TOPICS } from '../../events/drafts.ts';
import { ReadOnlyEndpointError, WebhookInputError, type Webhooks } from '../../events/webhooks.ts';
import { DELIVERY_STATES, WEBHOOK_FORMATS, type DeliveryRecord, type WebhookEndpoint } from '../../storage/events.ts';
import { defineRoute, type ApiRoute } from './api-route.ts';
import { sendApiError } from './errors.ts';
import { cursorParam, limitParam, nextCursor } from './query-params.ts';

const timestamp = z.string().describe('ISO 8601 UTC');
const topics = z.array(z.string()).nullable().describe(`topics it receives (null: every topic): ${EVENT_TOPICS.join(', ')}`);

export const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  format: z.enum(WEBHOOK_FORMATS),
  topics,
  include_secrets: z.boolean().describe('events keep the secrets device messages carried (UnlockToken, BootstrapToken)'),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable().describe('why Aspen disabled it (a 410 Gone from the receiver)'),
  source: z.enum(['api', 'environment']).describe('environment: WEBHOOK_URL, read-only here'),
  secret_hint: z.string().describe('the last characters of the signing secret'),
  created_at: timestamp,
  updated_at: timestamp,
});
const createdSchema = endpointSchema.extend({ secret: z.string().describe('the signing secret: shown this once') });

export const deliverySchema = z.object({
  event_id: z.string(),
  topic: z.string(),
  chain: z.string().describe("the enrollment whose events are delivered in order ('' for events about none)"),
  sequence: z.number().int().describe('the event number within its chain'),
  created_at: timestamp,
  state: z.enum(DELIVERY_STATES),
  attempts: z.number().int(),
  next_attempt_at: timestamp,
  last_attempt_at: timestamp.nullable(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  last_latency_ms: z.number().int().nullable(),
  delivered_at: timestamp.nullable(),
});

const writable = {
  url: z.string(),
  secret: z.string().min(1).optional().describe('micromdm format: any string; standard: "whsec_" + base64. Generated when left out'),
  format: z.enum(WEBHOOK_FORMATS).optional(),
  topics: topics.optional(),
  include_secrets: z.boolean().optional(),
  enabled: z.boolean().optional(),
};
const idParam = z.object({ id: z.string().min(1) });

function endpointJson(e: WebhookEndpoint): z.infer<typeof endpointSchema> {
  return {
    id: e.id,
    url: e.url,
    format: e.format,
    topics: e.topics,
    include_secrets: e.includeSecrets,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    source: e.source,
    secret_hint: e.secret === '' ? '(unsigned)' : `…${e.secret.slice(-4)}`,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

function deliveryJson(d: DeliveryRecord): z.infer<typeof deliverySchema> {
  return {
    event_id: d.eventId,
    topic: d.topic,
    chain: d.chain,
    sequence: d.sequence,
    created_at: d.createdAt,
    state: d.state,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt,
    last_attempt_at: d.lastAttemptAt,
    last_status: d.lastStatus,
    last_error: d.lastError,
    last_latency_ms: d.lastLatencyMs,
    delivered_at: d.deliveredAt,
  };
}

export function webhookRoutes(webhooks: Webhooks): ApiRoute[] {
  const notFound = (id: string) => `no webhook endpoint ${id}`;
  /** Sends the service's refusals as the API's errors; rethrows anything else (the server's). */
  const refuse = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (err instanceof WebhookInputError) return sendApiError(reply, 'bad_request', err.message);
    if (err instanceof ReadOnlyEndpointError) return sendApiError(reply, 'conflict', err.message);
    throw err;
  };

  return [
    defineRoute({
      method: 'POST',
      path: '/v1/webhooks',
      tag: 'webhooks',
      summary: 'Add a webhook endpoint',
      description:
        'Events are delivered at least once, in order per enrollment, retried with backoff for about three days, then ' +
        'dead-lettered (replayable). micromdm: MicroMDM/NanoMDM JSON signed with X-Hmac-Signature; standard: Standard Webhooks.',
      body: z.object(writable).strict(),
      responses: {
        201: { description: 'created; the secret is shown this once', schema: createdSchema },
        400: { description: 'a bad URL, format, topic or secret' },
      },
      handler: async ({ body }, reply) => {
        try {
          const created = await webhooks.create({
            url: body.url,
            secret: body.secret,
            format: body.format,
            topics: body.topics,
            includeSecrets: body.include_secrets,
            enabled: body.enabled,
          });
          return reply.code(201).send({ ...endpointJson(created), secret: created.secret });
        } catch (err) {
          return refuse(reply, err);
        }
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/webhooks',
      tag: 'webhooks',
      summary: 'Webhook endpoints (WEBHOOK_URL’s too, read-only)',
      responses: { 200: { description: 'every endpoint', schema: z.object({ webhooks: z.array(endpointSchema) }) } },
      handler: async () => ({ webhooks: (await webhooks.list()).map(endpointJson) }),
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/webhooks/{id}',
      tag: 'webhooks',
      summary: 'One webhook endpoint',
      params: idParam,
      responses: { 200: { description: 'the endpoint', schema: endpointSchema }, 404: { description: 'no such endpoint' } },
      handler: async ({ params }, reply) => {
        const endpoint = await webhooks.get(params.id);
        if (endpoint === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
        return endpointJson(endpoint);
      },
    }),

    defineRoute({
      method: 'PATCH',
      path: '/v1/webhooks/{id}',
      tag: 'webhooks',
      summary: 'Change a webhook endpoint (enable it again after a 410, change its topics, URL, secret or format)',
      params: idParam,
      body: z.object({ ...writable, url: writable.url.optional() }).strict(),
      responses: {
        200: { description: 'the changed endpoint', schema: endpointSchema },
        400: { description: 'a bad value' },
        404: { description: 'no such endpoint' },
        409: { description: 'the endpoint comes from WEBHOOK_URL' },
      },
      handler: async ({ params, body }, reply) => {
        try {
          const updated = await webhooks.update(params.id, {
            url: body.url,
            secret: body.secret,
            format: body.format,
            topics: body.topics,
            includeSecrets: body.include_secrets,
            enabled: body.enabled,
          });
          if (updated === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
          return endpointJson(updated);
        } catch (err) {
          return refuse(reply, err);
        }
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/webhooks/{id}',
      tag: 'webhooks',
      summary: 'Remove a webhook endpoint and its deliveries',
      params: idParam,
      responses: {
        200: { description: 'removed', schema: z.object({ deleted: z.literal(true) }) },
        404: { description: 'no such endpoint' },
        409: { description: 'the endpoint comes from WEBHOOK_URL' },
      },
      handler: async ({ params }, reply) => {
        try {
          if (!(await webhooks.remove(params.id))) return sendApiError(reply, 'not_found', notFound(params.id));
          return { deleted: true as const };
        } catch (err) {
          return refuse(reply, err);
        }
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/webhooks/{id}/deliveries',
      tag: 'webhooks',
      summary: "An endpoint's delivery log, newest first: attempts, status, latency, last error",
      params: idParam,
      query: z.object({ state: z.enum(DELIVERY_STATES).optional(), cursor: cursorParam('number'), limit: limitParam }),
      responses: {
        200: { description: 'a page of deliveries', schema: z.object({ deliveries: z.array(deliverySchema), next_cursor: z.string().nullable() }) },
        400: { description: 'a bad filter or cursor' },
        404: { description: 'no such endpoint' },
      },
      handler: async ({ params, query }, reply) => {
        const page = await webhooks.deliveries(params.id, { state: query.state }, { before: query.cursor, limit: query.limit });
        if (page === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
        return { deliveries: page.map(deliveryJson), next_cursor: nextCursor(page, query.limit, (last) => last.seq) };
      },
    }),

    defineRoute({
      method: 'POST',
      path: '/v1/webhooks/{id}/replay',
      tag: 'webhooks',
      summary: 'Deliver again: one event, or every event since a time (dead-lettered ones included)',
      params: idParam,
      body: z.union([
        z.object({ event_id: z.string().min(1) }).strict(),
        z.object({ since: z.iso.datetime({ offset: true }).transform((t) => new Date(t).toISOString()) }).strict(),
      ]),
      responses: {
        200: { description: 'how many deliveries are pending again', schema: z.object({ replayed: z.number().int() }) },
        404: { description: 'no such endpoint or event' },
      },
      handler: async ({ params, body }, reply) => {
        const replayed = await webhooks.replay(params.id, 'event_id' in body ? { eventId: body.event_id } : { since: body.since });
        if (replayed === undefined) return sendApiError(reply, 'not_found', `no webhook endpoint ${params.id}, or no such event`);
        return { replayed };
      },
    }),

    defineRoute({
      method: 'POST',
      path: '/v1/webhooks/{id}/test',
      tag: 'webhooks',
      summary: 'Send a signed test event (aspen.test) to the endpoint now and show what it answered',
      params: idParam,
      responses: {
        200: {
          description: 'what the receiver answered (status null: it could not be reached; error says why)',
          schema: z.object({ status: z.number().int().nullable(), latency_ms: z.number().int(), error: z.string().optional() }),
        },
        404: { description: 'no such endpoint' },
      },
      handler: async ({ params }, reply) => {
        const outcome = await webhooks.test(params.id);
        if (outcome === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
        return { status: outcome.status, latency_ms: outcome.latencyMs, ...(outcome.error ? { error: outcome.error } : {}) };
      },
    }),
  ];
}
