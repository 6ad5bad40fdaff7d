// The web console over HTTP, as a browser without JavaScript uses it (plain forms, cookies), on
// both backends: its Content-Security-Policy, escaping of what devices report, CSRF refusals that
// change nothing, and the flows an admin runs: log in, find a device, send DeviceInformation and
// read its result, confirm a destructive command by its count, cancel a queued command, see it all
// in the audit log; a viewer cannot send; the live stream carries check-ins from the database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONTENT_SECURITY_POLICY } from '../../src/http/console/layout.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { ConsoleClient, type Page } from '../helpers/console-client.ts';
import { checkin } from '../helpers/device.ts';
import { SimulatedDevice } from '../helpers/simulated-device.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';

const NASTY = '<script>alert("owned")</script>';

/** What a strict CSP forbids anyway, checked in the markup itself: inline scripts and style attributes. */
function assertNoInlineCode(page: Page): void {
  assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/i, 'an inline script');
  assert.doesNotMatch(page.text, /\sstyle=/i, 'a style attribute');
  assert.doesNotMatch(page.text, /\son[a-z]+=/i, 'an inline event handler');
}

function mainOf(page: Page): string {
  return /<main[\s\S]*<\/main>/.exec(page.text)?.[0] ?? '';
}

async function queuedCount(server: TestServer, id: string): Promise<number> {
  return (await server.aspen.storage.listQueue(id))?.length ?? 0;
}

describe('web console over HTTP', () => {
  let server: TestServer;
  let admin: ConsoleClient;
  let device: SimulatedDevice;

  before(async () => {
    server = await startAspen({ PUBLIC_URL: 'https://mdm.example.test' });
    device = new SimulatedDevice(server, 'CONSOLE-UDID-1', { SerialNumber: 'F17CONSOLE1', DeviceName: NASTY, OSVersion: '17.4', ModelName: 'iPhone' });
    await device.enroll();
    admin = await ConsoleClient.loggedIn(server, 'ada', 'admin');
  });
  after(() => server?.close());

  it('sends a browser without a session to the login page, and logs in only with the right password', async () => {
    const anonymous = new ConsoleClient(server);
    const overview = await anonymous.get('/ui/devices');
    assert.equal(overview.status, 303);
    assert.equal(overview.headers.get('location'), '/ui/login');
    await server.aspen.accounts.add('grace', 'operator', 'grace-password-123');
    const wrong = await anonymous.login('grace', 'not-her-password');
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /do not match/);
    const right = await anonymous.login('grace', 'grace-password-123');
    assert.equal(right.status, 303);
    assert.match(right.headers.get('set-cookie') ?? '', /aspen_session=[^;]+;.*HttpOnly.*SameSite=Strict/);
    assert.equal((await anonymous.get('/ui')).status, 200);
  });

  it('serves every page and asset with a strict Content-Security-Policy and no inline code', async () => {
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*/);
    for (const path of ['/ui', '/ui/devices', `/ui/devices/${device.udid}`, '/ui/commands', '/ui/enrollment', '/ui/webhooks', '/ui/audit', `/ui/send?target=${device.udid}&request_type=DeviceInformation`, '/ui/login']) {
      const page = await (path === '/ui/login' ? new ConsoleClient(server) : admin).get(path);
      assert.equal(page.status, 200, `${path}: ${page.text.slice(0, 200)}`);
      assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, path);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
      assertNoInlineCode(page);
    }
    const script = await admin.get('/ui/assets/console.js');
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    assert.equal((await admin.get('/ui/assets/console.css')).status, 200);
    assert.equal((await admin.get('/ui/assets/nope.js')).status, 404);
  });

  it('sends DeviceInformation from the form, and shows the answer with the reported name escaped', async () => {
    const form = await admin.get(`/ui/send?target=${device.udid}&request_type=DeviceInformation`);
    // The schema's allowed values of Queries are offered as checkboxes.
    assert.match(form.text, /type="checkbox" name="k.Queries" value="DeviceName"/);
    const sent = await admin.post('/ui/send', { _csrf: form.csrf(), target: device.udid, request_type: 'DeviceInformation', 'k.Queries': ['DeviceName', 'SerialNumber'], push: '1' });
    assert.equal(sent.status, 201, mainOf(sent));
    const uuid = /queued as <a href="\/ui\/commands\/([^"]+)"/.exec(sent.text)?.[1];
    assert.ok(uuid);
    await device.answerAll();
    assert.deepEqual(device.answered, [uuid]);
    const command = await admin.get(`/ui/commands/${uuid}`);
    assert.match(command.text, /state-acknowledged/);
    for (const page of [command, await admin.get(`/ui/devices/${device.udid}`), await admin.get('/ui/devices?q=f17console')]) {
      assert.ok(page.text.includes('&lt;script&gt;alert('), 'the name, escaped');
      assert.ok(!page.text.includes(NASTY), 'the name, raw');
    }
    const devicePage = await admin.get(`/ui/devices/${device.udid}`);
    assert.match(devicePage.text, /<h4>plist<\/h4><pre class="code">[\s\S]*&lt;key&gt;DeviceName&lt;\/key&gt;/);
  });

  it('refuses a form without the CSRF token, and changes nothing', async () => {
    const snapshot = await snapshotStorage(server.aspen.storage);
    const fields = { target: device.udid, request_type: 'DeviceInformation', 'k.Queries': 'DeviceName' };
    const missing = await admin.post('/ui/send', fields);
    assert.equal(missing.status, 403);
    assert.match(missing.text, /security token/);
    const wrong = await admin.post('/ui/send', { ...fields, _csrf: 'x'.repeat(43) });
    assert.equal(wrong.status, 403);
    // Only forms are taken: a JSON body is refused before anything reads it.
    const json = await admin.request('POST', '/ui/send', JSON.stringify({ ...fields, _csrf: admin.csrfSeen }), { 'content-type': 'application/json' });
    assert.equal(json.status, 415);
    // Without its own token the login form is refused too.
    assert.equal((await new ConsoleClient(server).post('/ui/login', { name: 'ada', password: 'ada-password-123' })).status, 403);
    assert.equal(await snapshotStorage(server.aspen.storage), snapshot);
  });

  it('asks an admin to confirm a destructive command by its count, then queues it; cancelling it from the queue', async () => {
    const form = await admin.get(`/ui/send?target=${device.udid}&request_type=DeviceLock`);
    const fields = { _csrf: form.csrf(), target: device.udid, request_type: 'DeviceLock', 'k.Message': 'Lost: call 555' };
    const confirm = await admin.post('/ui/send', fields);
    assert.equal(confirm.status, 200);
    assert.match(mainOf(confirm), /will be sent to <strong>1 device<\/strong>/);
    assert.equal(await queuedCount(server, device.udid), 0, 'nothing queued before the confirmation');
    // A confirmation for another count (the filter matched more meanwhile) asks again.
    assert.match(mainOf(await admin.post('/ui/send', { ...fields, confirm: '2' })), /will be sent to/);
    const sent = await admin.post('/ui/send', { ...fields, confirm: '1' });
    assert.equal(sent.status, 201, mainOf(sent));
    const [queued] = (await server.aspen.storage.listQueue(device.udid))!;
    assert.equal(queued!.requestType, 'DeviceLock');

    const devicePage = await admin.get(`/ui/devices/${device.udid}`);
    assert.match(devicePage.text, new RegExp(`action="/ui/devices/${device.udid}/queue/${queued!.commandUuid}/cancel"`));
    const cancelled = await admin.post(`/ui/devices/${device.udid}/queue/${queued!.commandUuid}/cancel`, { _csrf: devicePage.csrf() });
    assert.equal(cancelled.status, 303);
    assert.equal(await queuedCount(server, device.udid), 0);
    assert.match((await admin.get(cancelled.headers.get('location')!)).text, /Command cancelled/);

    const audit = await admin.get('/ui/audit');
    const main = mainOf(audit);
    assert.match(main, /ada/);
    assert.match(main, /DELETE \/v1\/enrollments\/CONSOLE-UDID-1\/queue\//);
    assert.match(main, /POST \/v1\/commands/);
    assert.match(main, /session\.login/);
  });

  it('shows the API’s refusal of a bad command key by key, queueing nothing', async () => {
    const form = await admin.get(`/ui/send?target=${device.udid}&request_type=ScheduleOSUpdateScan`);
    const refused = await admin.post('/ui/send', { _csrf: form.csrf(), target: device.udid, request_type: 'ScheduleOSUpdateScan', 'k.Force': 'maybe' });
    assert.equal(refused.status, 400);
    assert.match(mainOf(refused), /<code>Command.Force<\/code>: expected a boolean/);
    assert.equal(await queuedCount(server, device.udid), 0);
  });

  it('lets a viewer look but not send, and an operator send but not erase', async () => {
    const viewer = await ConsoleClient.loggedIn(server, 'victor', 'viewer');
    assert.equal((await viewer.get(`/ui/devices/${device.udid}`)).status, 200);
    const form = await viewer.get(`/ui/send?target=${device.udid}&request_type=DeviceInformation`);
    assert.match(form.text, /can look, not send/);
    const refused = await viewer.post('/ui/send', { _csrf: form.csrf(), target: device.udid, request_type: 'DeviceInformation', 'k.Queries': 'DeviceName' });
    assert.equal(refused.status, 403);
    assert.equal(await queuedCount(server, device.udid), 0);
    assert.equal((await viewer.get('/ui/audit')).status, 403);

    const operator = await ConsoleClient.loggedIn(server, 'olga', 'operator');
    const erase = await operator.get(`/ui/send?target=${device.udid}&request_type=EraseDevice`);
    const refusedErase = await operator.post('/ui/send', { _csrf: erase.csrf(), target: device.udid, request_type: 'EraseDevice', confirm: '1' });
    assert.equal(refusedErase.status, 403);
    assert.equal(await queuedCount(server, device.udid), 0);
  });

  it('sends to every device a filter matches', async () => {
    const second = new SimulatedDevice(server, 'CONSOLE-UDID-2', { SerialNumber: 'F17CONSOLE2' });
    await second.enroll();
    const form = await admin.get('/ui/send?scope=filter&q=F17CONSOLE&request_type=ClearRestrictionsPassword');
    assert.match(form.text, /every device matching q = F17CONSOLE/);
    const confirm = await admin.post('/ui/send', { _csrf: form.csrf(), scope: 'filter', q: 'F17CONSOLE', request_type: 'ClearRestrictionsPassword' });
    assert.match(mainOf(confirm), /<strong>2 devices<\/strong>/);
  });

  it('sends to the devices ticked on the devices page', async () => {
    const list = await admin.get('/ui/devices?q=f17console');
    assert.match(list.text, /name="target" value="CONSOLE-UDID-1"/);
    const form = await admin.get('/ui/send?target=CONSOLE-UDID-1&target=CONSOLE-UDID-2&request_type=DeviceInformation');
    assert.match(mainOf(form), /To: 2 selected devices/);
    const sent = await admin.post('/ui/send', { _csrf: form.csrf(), target: ['CONSOLE-UDID-1', 'CONSOLE-UDID-2'], request_type: 'DeviceInformation', 'k.Queries': 'OSVersion' });
    assert.equal(sent.status, 201);
    assert.equal(await queuedCount(server, 'CONSOLE-UDID-1'), 1);
    assert.equal(await queuedCount(server, 'CONSOLE-UDID-2'), 1);
    await server.aspen.storage.cancelPending('CONSOLE-UDID-1', null, new Date().toISOString());
    await server.aspen.storage.cancelPending('CONSOLE-UDID-2', null, new Date().toISOString());
  });

  it('lets an admin add an account, change its role and remove it; others never see the page', async () => {
    const page = await admin.get('/ui/accounts');
    assert.equal(page.status, 200);
    const added = await admin.post('/ui/accounts', { _csrf: page.csrf(), name: 'newbie', role: 'viewer', password: 'newbie-password-1' });
    assert.equal(added.status, 201, mainOf(added));
    assert.match(mainOf(added), /Account newbie added/);
    const short = await admin.post('/ui/accounts', { _csrf: page.csrf(), name: 'shorty', role: 'viewer', password: 'short' });
    assert.equal(short.status, 400);
    assert.match(mainOf(short), /Refused/);
    const promoted = await admin.post('/ui/accounts/newbie/role', { _csrf: page.csrf(), role: 'operator' });
    assert.match(mainOf(promoted), /newbie is now operator/);
    assert.equal((await server.aspen.accounts.list()).find((a) => a.name === 'newbie')?.role, 'operator');
    const removed = await admin.post('/ui/accounts/newbie/remove', { _csrf: page.csrf() });
    assert.match(mainOf(removed), /Account newbie removed/);
    assert.equal((await server.aspen.accounts.list()).some((a) => a.name === 'newbie'), false);
    const operator = await ConsoleClient.loggedIn(server, 'otto', 'operator');
    assert.equal((await operator.get('/ui/accounts')).status, 403);
    assert.doesNotMatch((await operator.get('/ui')).text, /href="\/ui\/accounts"/);
  });

  it('lists webhook endpoints and their deliveries', async () => {
    const created = await fetch(`${server.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }),
    });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    const list = await admin.get('/ui/webhooks');
    assert.match(list.text, /http:\/\/127\.0\.0\.1:9\/hook/);
    assert.match(list.text, new RegExp(`href="/ui/webhooks/${id}"`));
    const deliveries = await admin.get(`/ui/webhooks/${id}`);
    assert.equal(deliveries.status, 200);
    assert.match(deliveries.text, /Deliveries, newest first/);
    assert.equal((await admin.get('/ui/webhooks/no-such-endpoint')).status, 404);
  });

  it('creates an enrollment invite with its profile link and a QR code', async () => {
    const page = await admin.get('/ui/enrollment');
    const created = await admin.post('/ui/enrollment', { _csrf: page.csrf(), label: 'Lab iPads <b>', max_uses: '3', days: '2' });
    assert.equal(created.status, 201, mainOf(created));
    assert.match(created.text, /href="https:\/\/mdm\.example\.test\/enroll\/[A-Za-z0-9_-]+"/);
    assert.match(created.text, /<figure class="qr" role="img"[^>]*><svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(created.text, /Lab iPads &lt;b&gt;/);
    assertNoInlineCode(created);
  });

  it('streams check-ins from the database as server-sent events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/ui/live`, { headers: { cookie: admin.cookieHeader() }, signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The stream announces itself first; from then on check-ins reach it.
    while (!text.includes('retry:')) text += decoder.decode((await reader.read()).value);
    const status = await checkin(server, { MessageType: 'TokenUpdate', UDID: device.udid, Topic: 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9', Token: Buffer.from('a1b2', 'hex'), PushMagic: 'M' });
    assert.equal(status.status, 200);
    while (!text.includes(`"id":"${device.udid}"`)) {
      const chunk = await reader.read();
      assert.ok(!chunk.done, 'the stream ended');
      text += decoder.decode(chunk.value);
    }
    assert.match(text, /event: seen\n/);
    controller.abort();
    assert.equal((await fetch(`${server.url}/ui/live`)).status, 401, 'no stream without a session');
  });

  it('ends the session at logout', async () => {
    const client = await ConsoleClient.loggedIn(server, 'leo', 'viewer');
    const page = await client.get('/ui');
    const out = await client.post('/ui/logout', { _csrf: page.csrf() });
    assert.equal(out.status, 303);
    assert.equal((await client.get('/ui')).status, 303);
  });
});
