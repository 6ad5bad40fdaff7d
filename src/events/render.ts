// What a webhook receiver gets for an event, in the endpoint's format:
// - `micromdm`: MicroMDM's and NanoMDM's JSON (`{topic, event_id, created_at, checkin_event |
//   acknowledge_event | <kind>_event}`), signed as NanoMDM does: `X-Hmac-Signature` = base64
//   HMAC-SHA256 of the body with the secret;
// - `standard`: Standard Webhooks (https://www.standardwebhooks.com): `{type, timestamp, data}`
//   with the MicroMDM-shaped event as `data`, headers `webhook-id`, `webhook-timestamp` and
//   `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed by the base64 part
//   of the `whsec_` secret.
import { createHmac } from 'node:crypto';
import type { StoredEvent, WebhookEndpoint } from '../storage/events.ts';

export interface RenderedDelivery {
  body: string;
  headers: Record<string, string>;
}

const STANDARD_SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/** The key a Standard Webhooks secret stands for; undefined when it is not one. */
export function standardSecretKey(secret: string): Buffer | undefined {
  const match = STANDARD_SECRET.exec(secret);
  if (match === null) return undefined;
  const key = Buffer.from(match[1]!, 'base64');
  return key.length >= 16 ? key : undefined;
}

/** The name under which the MicroMDM shape carries an event's fields. */
function eventKey(topic: string): string {
  if (topic === 'mdm.Connect') return 'acknowledge_event';
  if (topic.startsWith('mdm.')) return 'checkin_event';
  return `${topic.slice(0, topic.indexOf('.'))}_event`;
}

/** The MicroMDM-shaped event, raw_payload (base64 of the device's bytes) included. */
export function eventJson(event: StoredEvent, includeSecrets: boolean): Record<string, unknown> {
  const raw = includeSecrets ? event.raw : (event.redacted ?? event.raw);
  const fields = { ...event.data, ...(raw === null ? {} : { raw_payload: Buffer.from(raw).toString('base64') }) };
  return { topic: event.topic, event_id: event.id, created_at: event.at, sequence: event.sequence, [eventKey(event.topic)]: fields };
}

export function renderDelivery(event: StoredEvent, endpoint: WebhookEndpoint, now: Date): RenderedDelivery {
  const json = eventJson(event, endpoint.includeSecrets);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Aspen-Webhooks' };
  if (endpoint.format === 'micromdm') {
    const body = JSON.stringify(json);
    if (endpoint.secret !== '') headers['x-hmac-signature'] = createHmac('sha256', endpoint.secret).update(body).digest('base64');
    return { body, headers };
  }
  const body = JSON.stringify({ type: event.topic, timestamp: event.at, data: json });
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const key = standardSecretKey(endpoint.secret);
  // Endpoints are only stored with a valid secret for this format (see webhooks.ts).
  if (key === undefined) throw new Error(`endpoint ${endpoint.id} has no Standard Webhooks secret`);
  const signature = createHmac('sha256', key).update(`${event.id}.${timestamp}.${body}`).digest('base64');
  return { body, headers: { ...headers, 'webhook-id': event.id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` } };
}
