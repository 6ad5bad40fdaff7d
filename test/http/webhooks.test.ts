// Events and webhooks end to end: a real receiver on 127.0.0.1 gets MicroMDM/NanoMDM-shaped and
// Standard Webhooks deliveries, signed (checked with the standardwebhooks package, an independent
// verifier), in order per enrollment, once each after the receiver was down, with Retry-After
// honoured, secrets left out unless asked for, and 410 disabling the endpoint.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { decodePlistDict, encodePlist } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, command, enqueue, report, TOPIC, tokenUpdate } from '../helpers/device.ts';
import { startWebhookReceiver, type Received, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const KEY = 'webhooks-test-key-0123456789';
const SECRET = 'environment-webhook-secret';

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
}

describe('events and webhooks', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const eventsOf = (list: Received[], udid: string) => list.filter((r) => ((r.json.checkin_event ?? r.json.acknowledge_event) as Json | undefined)?.udid === udid);
  /** The receiver's deliveries for one device, once `count` have arrived. */
  const waitForDevice = async (udid: string, count: number) => {
    await receiver.waitFor(() => eventsOf(receiver.accepted(), udid).length >= count);
    return eventsOf(receiver.accepted(), udid);
  };

  /** The log's deliveries of these events once none is pending: the receiver has a request before
   *  Aspen records its answer, so the log is asked again until it has caught up. */
  const settledDeliveries = async (eventIds: readonly string[]): Promise<Json[]> => {
    for (let asked = 1; ; asked++) {
      const log = ((await api('GET', '/v1/webhooks/environment/deliveries?limit=1000')).json.deliveries as Json[]).filter((d) => eventIds.includes(d.event_id as string));
      if (log.length === eventIds.length && log.every((d) => d.state !== 'pending')) return log;
      assert.ok(asked < 5000, `deliveries still pending: ${JSON.stringify(log)}`);
    }
  };

  before(async () => {
    receiver = await startWebhookReceiver();
    server = await startAspen({ API_KEY: KEY, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  it('sends MicroMDM-shaped events, signed with X-Hmac-Signature, in order, numbered per enrollment', async () => {
    const authenticate = encodePlist({ MessageType: 'Authenticate', UDID: 'HOOK-1', Topic: TOPIC, SerialNumber: 'SN-HOOK' });
    assert.equal((await checkin(server, authenticate)).status, 200);
    assert.equal((await checkin(server, tokenUpdate({ UDID: 'HOOK-1' }, { UnlockToken: Buffer.from('unlock-secret') }))).status, 200);
    await enqueue({ url: server.url, apiKey: KEY }, ['HOOK-1'], command('hook-cmd-1', 'ProfileList'));
    assert.equal((await report(server, { Status: 'Idle', UDID: 'HOOK-1' })).plist().CommandUUID, 'hook-cmd-1');
    await report(server, { Status: 'Acknowledged', UDID: 'HOOK-1', CommandUUID: 'hook-cmd-1', ProfileList: [] });

    const events = await waitForDevice('HOOK-1', 4);
    assert.deepEqual(events.map((e) => e.json.topic), ['mdm.Authenticate', 'mdm.TokenUpdate', 'mdm.Connect', 'mdm.Connect']);
    assert.deepEqual(events.map((e) => e.json.sequence), [1, 2, 3, 4]);
    for (const e of events) {
      assert.equal(e.headers['x-hmac-signature'], createHmac('sha256', SECRET).update(e.body).digest('base64'), 'NanoMDM-style signature');
      assert.match(String(e.json.event_id), /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(String(e.json.created_at))));
    }
    const [auth, token, idle, ack] = events.map((e) => e.json) as Json[];
    assert.equal(Buffer.from(auth!.checkin_event.raw_payload, 'base64').toString(), authenticate, 'the exact bytes the device sent');
    assert.deepEqual(auth!.checkin_event.ids, { id: 'HOOK-1', type: 'Device' });
    assert.deepEqual(auth!.checkin_event.url_params, {});
    const tokenPlist = decodePlistDict(Buffer.from(token!.checkin_event.raw_payload, 'base64'));
    assert.equal(tokenPlist.UnlockToken, undefined, 'no secret in an event unless the endpoint opted in');
    assert.equal(tokenPlist.PushMagic, 'PUSH-MAGIC-1');
    assert.deepEqual([idle!.acknowledge_event.status, idle!.acknowledge_event.command_uuid], ['Idle', undefined]);
    assert.deepEqual([ack!.acknowledge_event.status, ack!.acknowledge_event.command_uuid], ['Acknowledged', 'hook-cmd-1']);
  });

  it('keeps the secrets for an endpoint that opted in, and signs Standard Webhooks deliveries', async () => {
    const created = await api('POST', '/v1/webhooks', { url: `${receiver.url}?std`, format: 'standard', topics: ['mdm.TokenUpdate'], include_secrets: true });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.match(created.json.secret, /^whsec_/);
    assert.equal((await api('GET', `/v1/webhooks/${created.json.id}`)).json.secret, undefined, 'the secret is shown once');
    await checkin(server, { MessageType: 'Authenticate', UDID: 'HOOK-2', Topic: TOPIC });
    await checkin(server, tokenUpdate({ UDID: 'HOOK-2' }, { UnlockToken: Buffer.from('unlock-secret') }));
    await receiver.waitFor(() => receiver.accepted().some((r) => r.headers['webhook-id'] !== undefined));
    const standard = receiver.accepted().find((r) => r.headers['webhook-id'] !== undefined)!;
    const verified = new Webhook(created.json.secret).verify(standard.body, standard.headers as Record<string, string>) as Json;
    assert.equal(verified.type, 'mdm.TokenUpdate');
    assert.equal(verified.data.topic, 'mdm.TokenUpdate');
    assert.equal(standard.headers['webhook-id'], verified.data.event_id);
    const raw = decodePlistDict(Buffer.from(verified.data.checkin_event.raw_payload, 'base64'));
    assert.deepEqual(Buffer.from(raw.UnlockToken as Uint8Array), Buffer.from('unlock-secret'), 'include_secrets: the exact bytes');
    assert.throws(() => new Webhook(created.json.secret).verify(standard.body.replace('HOOK-2', 'HOOK-X'), standard.headers as Record<string, string>));
    assert.equal((await api('DELETE', `/v1/webhooks/${created.json.id}`)).status, 200);
  });

  it('delivers every event once, in order, after the receiver was down for a while', async () => {
    await receiver.down();
    await checkin(server, { MessageType: 'Authenticate', UDID: 'HOOK-3', Topic: TOPIC });
    await checkin(server, tokenUpdate({ UDID: 'HOOK-3' }));
    for (let i = 0; i < 5; i++) await report(server, { Status: 'Idle', UDID: 'HOOK-3' });
    // Down for long enough that a delivery was tried and failed.
    const pending = async () => ((await api('GET', '/v1/webhooks/environment/deliveries?state=pending')).json.deliveries as Json[]).filter((d) => d.chain === 'HOOK-3');
    for (let asked = 1; !(await pending()).some((d) => d.last_error !== null); asked++) assert.ok(asked < 5000, 'an attempt failed while the receiver was down');
    assert.equal((await pending()).length, 7, 'waiting, not lost');
    await receiver.up();
    const events = await waitForDevice('HOOK-3', 7);
    assert.equal(new Set(events.map((e) => e.json.event_id)).size, events.length, 'each once');
    assert.deepEqual(events.map((e) => e.json.sequence), [1, 2, 3, 4, 5, 6, 7]);
    const log = await settledDeliveries(events.map((e) => e.json.event_id as string));
    assert.equal(log.length, 7);
    assert.ok(log.every((d: Json) => d.state === 'delivered'));
    assert.ok(log.some((d: Json) => d.attempts > 1 && d.last_status === 204), `the first one needed a retry: ${JSON.stringify(log)}`);
  });

  it('waits as long as a Retry-After says on 429', async () => {
    let throttled = 0;
    receiver.answer = (r) => ((r.json.checkin_event as Json | undefined)?.udid === 'HOOK-4' && throttled++ === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 });
    await checkin(server, { MessageType: 'Authenticate', UDID: 'HOOK-4', Topic: TOPIC });
    const [event] = await waitForDevice('HOOK-4', 1);
    receiver.answer = () => ({ status: 204 });
    const tries = receiver.received.filter((r) => r.json.event_id === event!.json.event_id);
    assert.equal(tries.length, 2);
    const [delivery] = await settledDeliveries([event!.json.event_id as string]);
    assert.deepEqual([delivery!.state, delivery!.attempts], ['delivered', 2]);
  });

  it('writes command and identity events, and replays delivered ones on request', async () => {
    const queued = await api('POST', '/v1/commands', { targets: ['HOOK-1', 'NOBODY'], command: { RequestType: 'DeviceInformation', Queries: ['DeviceName'] }, push: false });
    await api('DELETE', '/v1/enrollments/HOOK-1/queue');
    const byTopic = (topic: string) => receiver.accepted().filter((r) => r.json.topic === topic);
    await receiver.waitFor(() => byTopic('command.queued').length >= 2 && byTopic('command.cancelled').length >= 1);
    const event = byTopic('command.queued').find((r) => (r.json.command_event as Json).command_uuid === queued.json.command_uuid)!;
    assert.deepEqual((event.json.command_event as Json).targets, ['HOOK-1'], 'the targets it reached');
    assert.deepEqual((byTopic('command.cancelled')[0]!.json.command_event as Json).command_uuids, [queued.json.command_uuid]);

    // A request signed by nobody the server trusts: refused, and told to whoever listens.
    assert.equal((await checkin({ url: server.url }, { MessageType: 'Authenticate', UDID: 'HOOK-1', Topic: TOPIC })).status, 403);
    await receiver.waitFor(() => byTopic('identity.refused').length >= 1);
    assert.equal((byTopic('identity.refused')[0]!.json.identity_event as Json).refusal, 'no-identity');

    const before = receiver.accepted().length;
    const replayed = await api('POST', '/v1/webhooks/environment/replay', { event_id: event.json.event_id });
    assert.deepEqual(replayed.json, { replayed: 1 });
    await receiver.waitFor(() => receiver.accepted().length > before);
    assert.equal(receiver.accepted().at(-1)!.json.event_id, event.json.event_id, 'the same event, again: receivers dedupe by id');
  });

  it('tells of declaration status a DDM status report changed, and only of a change', async () => {
    await checkin(server, { MessageType: 'Authenticate', UDID: 'HOOK-DDM', Topic: TOPIC });
    await checkin(server, tokenUpdate({ UDID: 'HOOK-DDM' }));
    const status = (valid: string) => ({
      StatusItems: { management: { declarations: { configurations: [{ identifier: 'com.example.passcode', active: valid === 'valid', valid, 'server-token': 't1' }] } } },
      Errors: [],
    });
    const send = (data: unknown) =>
      checkin(server, { MessageType: 'DeclarativeManagement', UDID: 'HOOK-DDM', Endpoint: 'status', Data: Buffer.from(JSON.stringify(data)) });
    const changed = () => receiver.accepted().filter((r) => r.json.topic === 'declaration.status_changed' && (r.json.declaration_event as Json).enrollment_id === 'HOOK-DDM');
    assert.equal((await send(status('unknown'))).status, 200);
    assert.equal((await send(status('unknown'))).status, 200); // the same again: no change
    assert.equal((await send(status('valid'))).status, 200);
    await receiver.waitFor(() => changed().length >= 2);
    // Every check-in's own event arrives first; the two changes are in order behind them.
    await receiver.waitFor(() => eventsOf(receiver.accepted(), 'HOOK-DDM').length >= 5);
    const [first, second] = changed().map((r) => r.json.declaration_event as Json);
    assert.deepEqual(first!.changes, [{ identifier: 'com.example.passcode', after: { identifier: 'com.example.passcode', kind: 'configurations', server_token: 't1', active: false, valid: 'unknown', reasons: [] } }]);
    assert.equal(second!.changes[0].before.valid, 'unknown');
    assert.equal(second!.changes[0].after.valid, 'valid');
    assert.equal(changed().length, 2, 'a report that changed nothing has no event');
  });

  it('lists the WEBHOOK_URL endpoint read-only, tests endpoints, and refuses bad ones naming the field', async () => {
    const list = await api('GET', '/v1/webhooks');
    assert.deepEqual(list.json.webhooks.map((w: Json) => [w.id, w.source, w.url]), [['environment', 'environment', receiver.url]]);
    assert.equal((await api('PATCH', '/v1/webhooks/environment', { enabled: false })).status, 409);
    assert.equal((await api('DELETE', '/v1/webhooks/environment')).status, 409);
    const tested = await api('POST', '/v1/webhooks/environment/test');
    assert.deepEqual([tested.status, tested.json.status], [200, 204]);
    assert.equal(receiver.received.at(-1)!.json.topic, 'aspen.test');
    for (const [body, field] of [
      [{ url: 'ftp://x' }, 'url'],
      [{ url: receiver.url, topics: ['mdm.Authentcate'] }, 'topics'],
      [{ url: receiver.url, format: 'standard', secret: 'not-whsec' }, 'secret'],
    ] as const) {
      const refused = await api('POST', '/v1/webhooks', body);
      assert.equal(refused.status, 400);
      assert.match(refused.json.error.message, new RegExp(`^${field}:`));
    }
  });

  it('disables an endpoint that answers 410 Gone, and delivers what waited once it is enabled again', async () => {
    const gone = await api('POST', '/v1/webhooks', { url: `${receiver.url}?gone`, topics: ['mdm.CheckOut'] });
    const toGone = (r: Received) => r.url.endsWith('?gone');
    receiver.answer = (r) => ({ status: toGone(r) ? 410 : 204 });
    await checkin(server, { MessageType: 'CheckOut', UDID: 'HOOK-1' });
    await receiver.waitFor(() => receiver.received.some(toGone));
    // Aspen disables the endpoint once it has read the 410: ask until it has.
    let shown = (await api('GET', `/v1/webhooks/${gone.json.id}`)).json;
    for (let asked = 1; shown.enabled; asked++) {
      assert.ok(asked < 2000, 'the endpoint is disabled');
      shown = (await api('GET', `/v1/webhooks/${gone.json.id}`)).json;
    }
    assert.match(shown.disabled_reason, /410 Gone/);
    receiver.answer = () => ({ status: 204 });
    const enabled = await api('PATCH', `/v1/webhooks/${gone.json.id}`, { enabled: true });
    assert.deepEqual([enabled.json.enabled, enabled.json.disabled_reason], [true, null]);
    await receiver.waitFor(() => receiver.accepted().some(toGone));
    const delivered = receiver.accepted().find(toGone)!;
    assert.equal(delivered.json.topic, 'mdm.CheckOut', 'the event that met the 410, delivered once the endpoint is back');
  });
});
