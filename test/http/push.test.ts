// Push end to end: Aspen → a real HTTP/2 TLS stand-in for APNs, over real certificates.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateApnsTestCertificates, type ApnsTestCertificates } from '../helpers/apns-certs.ts';
import { reply, type ApnsStandin } from '../helpers/apns-standin.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, command, report, tokenUpdate } from '../helpers/device.ts';
import { encodePlist } from '../../src/protocol/plist.ts';

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
}

const DEAD_TOKEN = Buffer.from('dead0000dead', 'hex');

describe('push', () => {
  let rig: PushRig;
  let certs: ApnsTestCertificates;
  let otherTopic: ApnsTestCertificates;
  let standin: ApnsStandin;
  let server: TestServer;
  let dir: string;
  /** A server pointed at the stand-in, with no push certificate of its own. */
  let env: Record<string, string>;

  const api = async (method: string, path: string, body?: string | object, srv = server) => {
    const res = await fetch(srv.url + path, {
      method,
      headers: { authorization: `Bearer ${srv.apiKey}`, ...(typeof body === 'object' ? { 'content-type': 'application/json' } : {}) },
      body: typeof body === 'object' ? JSON.stringify(body) : body,
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const enrollWith = async (srv: TestServer, udid: string, token: Buffer, topic = certs.push.topic) => {
    assert.equal((await checkin(srv, { MessageType: 'Authenticate', UDID: udid, Topic: topic })).status, 200);
    const tu = await checkin(srv, tokenUpdate({ UDID: udid }, { Topic: topic, Token: token, PushMagic: `MAGIC-${udid}` }));
    assert.equal(tu.status, 200);
  };
  const requestsFor = (token: Buffer) => rig.requestsFor(token);

  before(async () => {
    otherTopic = await generateApnsTestCertificates();
    rig = await startPushRig((token) => (token === DEAD_TOKEN.toString('hex') ? reply.unregistered() : reply.ok()));
    ({ certs, standin, dir } = rig);
    env = { APNS_URL: rig.env.APNS_URL!, APNS_CA: rig.env.APNS_CA!, APNS_RETRY_ATTEMPTS: '2' };
    server = await startAspen({ ...rig.env, APNS_RETRY_ATTEMPTS: '2' });
  });
  after(async () => {
    await server?.close();
    await rig?.close();
  });

  it('pushes a queued command exactly as APNs expects', async () => {
    const token = Buffer.from('0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'hex');
    await enrollWith(server, 'PUSH-DEV-1', token);
    const res = await api('POST', '/v1/commands', { targets: ['PUSH-DEV-1'], command: { RequestType: 'ProfileList' } });
    assert.equal(res.status, 201);
    assert.equal(res.json.targets['PUSH-DEV-1'].push.status, 'pushed');
    assert.ok(res.json.targets['PUSH-DEV-1'].push.apns_id);
    assert.equal(res.json.push_error, undefined);

    const [sent] = requestsFor(token);
    assert.ok(sent, 'the stand-in received the push');
    assert.equal(sent.method, 'POST');
    assert.equal(sent.headers['apns-push-type'], 'mdm');
    assert.equal(sent.headers['apns-topic'], certs.push.topic);
    assert.equal(sent.headers['apns-priority'], '10');
    assert.ok(Number(sent.headers['apns-expiration']) > Date.now() / 1000);
    assert.equal(sent.body.toString(), JSON.stringify({ mdm: 'MAGIC-PUSH-DEV-1' }));
    assert.match(sent.clientSubject, new RegExp(certs.push.topic.replace(/\./g, '\\.')));

    const enrollment = await api('GET', '/v1/enrollments/PUSH-DEV-1');
    assert.match(enrollment.json.last_push_result, /^pushed/);
    assert.ok(enrollment.json.last_push_at);
  });

  it('never pushes before the first TokenUpdate', async () => {
    const before = standin.requests.length;
    await checkin(server, { MessageType: 'Authenticate', UDID: 'PUSH-AUTH-ONLY', Topic: certs.push.topic });
    const res = await api('POST', '/v1/push/PUSH-AUTH-ONLY,NOBODY');
    assert.equal(res.status, 200);
    assert.match(res.json.status['PUSH-AUTH-ONLY'].push_error, /not enrolled/);
    assert.match(res.json.status.NOBODY.push_error, /unknown enrollment/);
    assert.equal(standin.requests.length, before);
  });

  it('stops pushing a token APNs calls dead until a new TokenUpdate', async () => {
    await enrollWith(server, 'PUSH-DEAD', DEAD_TOKEN);
    const first = await api('GET', '/v1/push/PUSH-DEAD');
    assert.equal(first.json.status['PUSH-DEAD'].push_error, 'Unregistered');
    assert.equal(requestsFor(DEAD_TOKEN).length, 1, 'a 410 is not retried');
    const second = await api('POST', '/v1/push/PUSH-DEAD');
    assert.match(second.json.status['PUSH-DEAD'].push_error, /waiting for a new TokenUpdate/);
    assert.equal(requestsFor(DEAD_TOKEN).length, 1, 'not pushed again');

    const fresh = Buffer.from('feedfacefeedface', 'hex');
    await checkin(server, tokenUpdate({ UDID: 'PUSH-DEAD' }, { Topic: certs.push.topic, Token: fresh, PushMagic: 'NEW-MAGIC' }));
    const third = await api('POST', '/v1/push/PUSH-DEAD');
    assert.ok(third.json.status['PUSH-DEAD'].push_result);
    assert.equal(requestsFor(fresh)[0]?.body.toString(), '{"mdm":"NEW-MAGIC"}');
  });

  it('pushes after a NanoMDM-style enqueue unless nopush=1', async () => {
    const token = Buffer.from('00112233445566778899', 'hex');
    await enrollWith(server, 'PUSH-ENQ', token);
    const pushed = await api('PUT', '/v1/enqueue/PUSH-ENQ', encodePlist(command('enq-push-1', 'ProfileList')));
    assert.equal(pushed.status, 200);
    assert.equal(pushed.json.status['PUSH-ENQ'].queued, true);
    assert.ok(pushed.json.status['PUSH-ENQ'].push_result);
    assert.equal(requestsFor(token).length, 1);
    const quiet = await api('PUT', '/v1/enqueue/PUSH-ENQ?nopush=1', encodePlist(command('enq-push-2', 'ProfileList')));
    assert.equal(quiet.json.no_push, true);
    assert.equal(requestsFor(token).length, 1);
  });

  it('does not push a channel enrolled on another topic', async () => {
    const token = Buffer.from('abcdef', 'hex');
    await enrollWith(server, 'PUSH-OTHER-TOPIC', token, 'com.apple.mgmt.External.other');
    const res = await api('GET', '/v1/push/PUSH-OTHER-TOPIC');
    assert.match(res.json.status['PUSH-OTHER-TOPIC'].push_error, /topic/);
    assert.equal(requestsFor(token).length, 0);
  });

  it('shows the certificate, refuses a topic change unless forced, and is ready', async () => {
    const current = await api('GET', '/v1/pushcert');
    assert.equal(current.json.topic, certs.push.topic);
    assert.ok(Date.parse(current.json.not_after) > Date.now());
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);

    const other = `${otherTopic.push.certPem}\n${otherTopic.push.keyPem}`;
    const refused = await api('PUT', '/v1/pushcert', other);
    assert.equal(refused.status, 409);
    assert.match(refused.json.error.message, /topic/);
    assert.equal((await api('GET', '/v1/pushcert')).json.topic, certs.push.topic, 'unchanged');

    const mismatched = await api('PUT', '/v1/pushcert', `${certs.push.certPem}\n${otherTopic.push.keyPem}`);
    assert.equal(mismatched.status, 400);
    assert.equal((await api('PUT', '/v1/pushcert', 'not pem')).status, 400);

    const same = await api('PUT', '/v1/pushcert', `${certs.push.keyPem}\n${certs.push.certPem}`);
    assert.equal(same.status, 200, 'a renewal for the same topic is accepted, key first or last');
  });

  it('keeps an uploaded certificate across restarts, and accepts a forced topic change', async (t) => {
    let bare = await startAspen(env);
    t.after(() => bare.close());
    assert.equal((await api('GET', '/v1/pushcert', undefined, bare)).status, 404);
    assert.equal((await fetch(`${bare.url}/readyz`)).status, 503);
    const queued = await api('POST', '/v1/commands', { targets: ['x'], command: { RequestType: 'ProfileList' } }, bare);
    assert.equal(queued.status, 422);

    assert.equal((await api('PUT', '/v1/pushcert', `${certs.push.certPem}${certs.push.keyPem}`, bare)).status, 200);
    bare = await bare.restart();
    assert.equal((await api('GET', '/v1/pushcert', undefined, bare)).json.topic, certs.push.topic);

    const forced = await api('PUT', '/v1/pushcert?force=1', `${otherTopic.push.certPem}${otherTopic.push.keyPem}`, bare);
    assert.equal(forced.status, 200);
    assert.equal(forced.json.topic, otherTopic.push.topic);
  });

  it('loads a PKCS#12 push certificate from the configuration', async (t) => {
    const p12 = await startAspen({ ...env, APNS_P12: join(dir, 'push.p12'), APNS_P12_PASSPHRASE: certs.push.p12Passphrase });
    t.after(() => p12.close());
    assert.equal((await api('GET', '/v1/pushcert', undefined, p12)).json.topic, certs.push.topic);
  });

  it('pushes again later when a session ended with NotNow-deferred commands on another status', async (t) => {
    const quick = await startAspen({ ...rig.env, NOTNOW_REPUSH_SECONDS: '1' });
    t.after(() => quick.close());
    const token = Buffer.from('0badc0de', 'hex');
    await enrollWith(quick, 'REPUSH-1', token);
    for (const [uuid, rt] of [['rp-install', 'InstallApplication'], ['rp-info', 'DeviceInformation']] as const) {
      await api('PUT', '/v1/enqueue/REPUSH-1?nopush=1', encodePlist(command(uuid, rt)), quick);
    }
    assert.equal((await report(quick, { Status: 'Idle', UDID: 'REPUSH-1' })).plist().CommandUUID, 'rp-install');
    assert.equal((await report(quick, { Status: 'NotNow', UDID: 'REPUSH-1', CommandUUID: 'rp-install' })).plist().CommandUUID, 'rp-info');
    const end = await report(quick, { Status: 'Acknowledged', UDID: 'REPUSH-1', CommandUUID: 'rp-info' });
    assert.equal(end.body.length, 0);
    assert.equal(requestsFor(token).length, 0, 'not at once');
    await rig.pushedTo(token);
    assert.equal(requestsFor(token).length, 1, 'pushed once after the delay');
    assert.equal((await report(quick, { Status: 'Idle', UDID: 'REPUSH-1' })).plist().CommandUUID, 'rp-install', 'the deferred command is offered again');
  });

  it('finds a development-environment token through the sandbox and keeps pushing it there', async (t) => {
    const devToken = Buffer.from('de5e10b0de5e10b0', 'hex');
    const sandbox = await rig.startStandin();
    const production = await rig.startStandin((token) => (token === devToken.toString('hex') ? reply.badDeviceToken() : reply.ok()));
    const both = await startAspen({ ...rig.env, APNS_URL: production.url, APNS_SANDBOX_URL: sandbox.url });
    t.after(() => both.close());
    await enrollWith(both, 'DEV-ENV', devToken);
    const first = await api('POST', '/v1/push/DEV-ENV', undefined, both);
    assert.ok(first.json.status['DEV-ENV'].push_result, JSON.stringify(first.json));
    assert.equal(production.requests.length, 1);
    assert.equal(sandbox.requests.length, 1);
    assert.equal((await api('GET', '/v1/enrollments/DEV-ENV', undefined, both)).json.push_token_invalid, false);
    await api('POST', '/v1/push/DEV-ENV', undefined, both);
    assert.equal(production.requests.length, 1, 'remembered: production is not asked again');
    assert.equal(sandbox.requests.length, 2);
  });

  it('counts push outcomes in /metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /aspen_pushes_total\{outcome="pushed",reason="ok"\} [1-9]/);
    assert.match(text, /aspen_pushes_total\{outcome="failed",reason="Unregistered"\} 1/);
    assert.match(text, /aspen_pushes_total\{outcome="skipped",reason="token_invalid"\} 1/);
  });
});
