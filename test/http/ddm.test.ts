// Declarative Device Management over real HTTP, on both storage backends: a simulated device runs
// whole syncs against Aspen alone (tokens, items, each declaration, a status report), edits,
// assignments and touches reach it through exactly one coalesced DeclarativeManagement command and
// a push, bad declarations are refused with key paths and change nothing, and the status is
// readable through Aspen's reads and KMFDDM's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { DdmDevice } from '../helpers/ddm-device.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON
const KEY = 'ddm-test-key-0123456789abcdef';

interface ApiResponse {
  status: number;
  text: string;
  json: Json;
  headers: Headers;
}

const PASSCODE = { Type: 'com.apple.configuration.passcode.settings', Identifier: 'com.example.passcode', Payload: { MinimumLength: 6 } };
const ORG = { Type: 'com.apple.management.organization-info', Identifier: 'com.example.org', Payload: { Name: 'Example' } };

describe('Declarative Device Management', () => {
  let rig: PushRig;
  let server: TestServer;

  /** The admin API; a body given as a string or object goes as JSON without any Content-Type (curl -T). */
  async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`kmfddm:${KEY}`).toString('base64')}`, ...headers },
      ...(body === undefined ? {} : { body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) }),
    });
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text) as Json;
    } catch {
      // bodiless (204, 304) or not JSON
    }
    return { status: res.status, text, json, headers: res.headers };
  }

  async function syncCommands(id: string): Promise<number> {
    const queue = await api('GET', `/v1/enrollments/${encodeURIComponent(id)}/queue`);
    assert.equal(queue.status, 200, queue.text);
    return (queue.json.commands as Json[]).filter((c) => c.request_type === 'DeclarativeManagement').length;
  }

  async function newDevice(udid: string, extra = {}): Promise<DdmDevice> {
    const device = new DdmDevice(server, udid);
    await device.enroll(extra, rig.certs.push.topic);
    return device;
  }

  before(async () => {
    rig = await startPushRig();
    server = await startAspen({ API_KEY: KEY, ...rig.env });
    assert.equal((await api('PUT', '/v1/declarations', PASSCODE)).status, 204);
    assert.equal((await api('PUT', '/v1/declarations', ORG)).status, 204);
    assert.equal((await api('PUT', '/v1/set-declarations/phones?declaration=com.example.passcode')).status, 204);
    assert.equal((await api('PUT', '/v1/set-declarations/phones?declaration=com.example.org')).status, 204);
  });
  after(async () => {
    await server?.close();
    await rig?.close();
  });

  it('syncs a device from Aspen alone: tokens, items, every declaration, a status report, then its status subscriptions', async () => {
    const device = await newDevice('DDM-SYNC');
    assert.equal(await syncCommands(device.udid), 0, 'nothing assigned: nothing to sync');

    const pushesBefore = rig.requestsFor(device.pushToken).length;
    assert.equal((await api('PUT', '/v1/enrollment-sets/DDM-SYNC?set=phones')).status, 204);
    assert.equal(await syncCommands(device.udid), 1, 'assigning a set queues one sync');
    assert.equal(rig.requestsFor(device.pushToken).length, pushesBefore + 1, 'and pushes');

    assert.deepEqual(await device.poll(), ['DeclarativeManagement', 'DeclarativeManagement'], 'the first report brings the client capabilities: a second sync delivers the status subscriptions');
    assert.deepEqual([...device.held.keys()].sort(), [
      'aspen.activation.aspen.status-subscriptions',
      'aspen.activation.com.example.passcode',
      'aspen.status-subscriptions',
      'com.example.org',
      'com.example.passcode',
    ]);
    assert.deepEqual(device.held.get('com.example.passcode')?.document, { ...PASSCODE, ServerToken: device.held.get('com.example.passcode')!.serverToken });
    assert.deepEqual(device.held.get('aspen.activation.com.example.passcode')?.document.Payload, { StandardConfigurations: ['com.example.passcode'] });
    assert.deepEqual(device.held.get('aspen.status-subscriptions')?.document.Payload, { StatusItems: [{ Name: 'device.model.family' }, { Name: 'device.operating-system.version' }] });
    assert.equal(await syncCommands(device.udid), 0, 'in step: nothing pending');
    assert.deepEqual(await device.poll(), []);

    const tokens = await device.json<Json>('tokens');
    assert.equal(tokens.SyncTokens.DeclarationsToken, device.declarationsToken);
    assert.match(tokens.SyncTokens.Timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(await device.json<Json>('tokens'), tokens, 'stable while nothing changes');

    const view = await api('GET', '/v1/enrollments/DDM-SYNC/declarations');
    assert.equal(view.status, 200, view.text);
    assert.equal(view.json.declarations_token, device.declarationsToken);
    assert.deepEqual(view.json.sets, ['phones']);
    assert.ok(view.json.last_status_report_at);
    assert.deepEqual(
      (view.json.declarations as Json[]).map((d) => [d.identifier, d.state, d.generated]).sort(),
      [
        ['aspen.activation.aspen.status-subscriptions', 'active', true],
        ['aspen.activation.com.example.passcode', 'active', true],
        ['aspen.status-subscriptions', 'active', true],
        ['com.example.org', 'active', false],
        ['com.example.passcode', 'active', false],
      ],
    );
    assert.deepEqual(view.json.status_values['device.operating-system.version'].value, '18.1');
    assert.deepEqual(view.json.client_capabilities.status_items, device.statusItems);

    const perDeclaration = await api('GET', '/v1/declarations/com.example.passcode/enrollments');
    assert.equal(perDeclaration.status, 200, perDeclaration.text);
    assert.equal(perDeclaration.json.counts.active, 1);
    assert.deepEqual(perDeclaration.json.enrollments.map((e: Json) => [e.enrollment_id, e.state]), [['DDM-SYNC', 'active']]);
  });

  it('an edit changes the token and queues exactly one sync; more changes while it is pending coalesce into it', async () => {
    const device = await newDevice('DDM-EDIT');
    await api('PUT', '/v1/enrollment-sets/DDM-EDIT?set=edits');
    const own = { ...PASSCODE, Identifier: 'com.example.edit' };
    assert.equal((await api('PUT', '/v1/declarations', own)).status, 204);
    assert.equal((await api('PUT', '/v1/set-declarations/edits?declaration=com.example.edit')).status, 204);
    await device.poll();
    const before = device.held.get('com.example.edit')!.serverToken;
    assert.equal(await syncCommands(device.udid), 0);

    assert.equal((await api('PUT', '/v1/declarations', { ...own, Payload: { MinimumLength: 8 } })).status, 204);
    assert.equal(await syncCommands(device.udid), 1, 'exactly one sync for the edit');
    assert.equal((await api('PUT', '/v1/declarations', { ...own, Payload: { MinimumLength: 8 }, ServerToken: 'ignored' })).status, 304, 'the same content again');
    assert.equal((await api('PUT', '/v1/declarations', { ...own, Payload: { MinimumLength: 10 } })).status, 204);
    assert.equal((await api('POST', '/v1/declarations/com.example.edit/touch')).status, 204);
    assert.equal(await syncCommands(device.udid), 1, 'coalesced: never more than one pending');

    // The pending command carries the tokens of the first edit; the device syncs from them, and its
    // acknowledgement, stale against the set now, brings one more sync, after which all is in step.
    const handed = await device.poll();
    assert.deepEqual(handed, ['DeclarativeManagement', 'DeclarativeManagement']);
    const now = device.held.get('com.example.edit')!;
    assert.notEqual(now.serverToken, before, 'the token changed with the content');
    assert.deepEqual(now.document.Payload, { MinimumLength: 10 });
    assert.equal(await syncCommands(device.udid), 0);
    const view = await api('GET', '/v1/enrollments/DDM-EDIT/declarations');
    assert.equal(view.json.declarations.find((d: Json) => d.identifier === 'com.example.edit').server_token, now.serverToken);

    assert.equal((await api('PUT', '/v1/declarations?nonotify=1', { ...own, Payload: { MinimumLength: 12 } })).status, 204);
    assert.equal(await syncCommands(device.udid), 0, 'nonotify: no sync');
    assert.equal((await api('POST', '/v1/notify?declaration=com.example.edit')).status, 204);
    assert.equal(await syncCommands(device.udid), 1, 'until notify');
  });

  it('unassigning gives 404 on fetch, and the device drops the declaration', async () => {
    const device = await newDevice('DDM-UNASSIGN');
    await api('PUT', '/v1/enrollment-sets/DDM-UNASSIGN?set=phones');
    await device.poll();
    assert.equal((await device.ddm('declaration/configuration/com.example.passcode')).status, 200);

    assert.equal((await api('DELETE', '/v1/enrollment-sets/DDM-UNASSIGN?set=phones')).status, 204);
    assert.equal((await api('DELETE', '/v1/enrollment-sets/DDM-UNASSIGN?set=phones')).status, 304);
    assert.equal(await syncCommands(device.udid), 1, 'the device must learn its set is gone');
    const gone = await device.ddm('declaration/configuration/com.example.passcode');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.length, 0);
    assert.equal((await device.ddm('declaration/management/com.example.passcode')).status, 404, 'another kind is a 404 too');
    await device.poll();
    assert.deepEqual([...device.held.keys()].sort(), ['aspen.activation.aspen.status-subscriptions', 'aspen.status-subscriptions'], 'only what Aspen generates for every DDM client is left');
  });

  it('holds the sync of a device awaiting configuration until DeviceConfigured, and syncs a re-enrolled device', async () => {
    const device = await newDevice('DDM-SETUP', { AwaitingConfiguration: true });
    assert.equal((await api('PUT', '/v1/enrollment-sets/DDM-SETUP?set=phones')).status, 204);
    assert.equal(await syncCommands(device.udid), 0, 'held while awaiting configuration');
    const configured = await api('POST', '/v1/commands', { targets: ['DDM-SETUP'], command: { RequestType: 'DeviceConfigured' } }, { 'content-type': 'application/json' });
    assert.equal(configured.status, 201, configured.text);
    assert.deepEqual(await device.poll(), ['DeviceConfigured', 'DeclarativeManagement', 'DeclarativeManagement']);
    assert.ok(device.held.has('com.example.passcode'));

    await device.enroll({}, rig.certs.push.topic);
    assert.equal(await syncCommands(device.udid), 1, 're-enrolled: its declarations are sent again without anyone asking');
    assert.deepEqual(await device.poll(), ['DeclarativeManagement']);
    assert.ok(device.held.has('com.example.passcode'));
  });

  it('shows failed declarations with their reasons, and out-of-date ones', async () => {
    const device = await newDevice('DDM-FAIL');
    await api('PUT', '/v1/enrollment-sets/DDM-FAIL?set=phones');
    await device.poll();
    const failure = device.statusReport({ 'com.example.passcode': { active: false, valid: 'invalid', reasons: [{ code: 'Error.ConfigurationCannotBeApplied', description: 'no' }] } });
    assert.equal((await device.ddm('status', failure)).status, 200);
    const view = await api('GET', '/v1/enrollments/DDM-FAIL/declarations');
    const passcode = view.json.declarations.find((d: Json) => d.identifier === 'com.example.passcode');
    assert.equal(passcode.state, 'failed');
    assert.deepEqual(passcode.reported.reasons, [{ code: 'Error.ConfigurationCannotBeApplied', description: 'no' }]);
    const failed = await api('GET', '/v1/declarations/com.example.passcode/enrollments?state=failed');
    assert.deepEqual(failed.json.enrollments.map((e: Json) => e.enrollment_id), ['DDM-FAIL']);
    assert.ok(failed.json.counts.failed >= 1);
    const errors = await api('GET', '/v1/status-errors/DDM-FAIL');
    assert.deepEqual(errors.json['DDM-FAIL'].map((e: Json) => [e.path, e.error.identifier]), [['.StatusItems.management.declarations.configurations', 'com.example.passcode']]);

    const touched = await api('POST', '/v1/declarations/com.example.org/touch?nonotify=1');
    assert.equal(touched.status, 204);
    const stale = (await api('GET', '/v1/enrollments/DDM-FAIL/declarations')).json.declarations.find((d: Json) => d.identifier === 'com.example.org');
    assert.equal(stale.state, 'out-of-date', 'reported under the token before the touch');
    const status = await api('GET', '/v1/declaration-status/DDM-FAIL');
    assert.equal(status.json['DDM-FAIL'].find((d: Json) => d.identifier === 'com.example.org').current, false);
    assert.equal(status.json['DDM-FAIL'].find((d: Json) => d.identifier === 'com.example.passcode').current, true);
  });

  it('refuses bad declarations with every problem and its key path, and changes nothing', async () => {
    const before = await snapshotStorage(server.aspen.storage);
    const cases: [unknown, string[]][] = [
      [{ ...PASSCODE, Payload: { MinimumLength: 'six', MaximumFailedAttempts: 99, Colour: 'red' } }, ['Payload.MinimumLength', 'Payload.MaximumFailedAttempts', 'Payload.Colour']],
      [{ Type: 'com.apple.configuration.passcode', Identifier: 'x', Payload: {} }, ['Type']],
      [{ Type: PASSCODE.Type, Identifier: 'has space', Payload: {} }, ['Identifier']],
      [{ Type: PASSCODE.Type, Identifier: 'aspen.mine', Payload: {} }, ['Identifier']],
      [{ Type: PASSCODE.Type, Identifier: 'x' }, ['Payload']],
      ['{not json', ['$']],
      [[1, 2], ['$']],
    ];
    for (const [body, paths] of cases) {
      const res = await api('PUT', '/v1/declarations', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(typeof res.json.error, 'string');
      assert.match(res.json.error, /^invalid declaration: /);
      assert.deepEqual((res.json.errors as Json[]).map((e) => e.path), paths, JSON.stringify(res.json));
    }
    assert.equal(await snapshotStorage(server.aspen.storage), before);
  });

  it('answers the KMFDDM routes with its codes and shapes', async () => {
    // JSON is read whatever the Content-Type: none (above), a form type, or JSON.
    const form = { ...ORG, Identifier: 'com.example.form' };
    assert.equal((await api('PUT', '/v1/declarations', form, { 'content-type': 'application/x-www-form-urlencoded' })).status, 204);
    assert.equal((await api('PUT', '/v1/declarations', form, { 'content-type': 'application/json' })).status, 304);

    const list = await api('GET', '/v1/declarations');
    assert.ok((list.json as unknown as string[]).includes('com.example.form'));
    const one = await api('GET', '/v1/declarations/com.example.form');
    assert.deepEqual(Object.keys(one.json).sort(), ['Identifier', 'Payload', 'ServerToken', 'Type']);
    assert.match(one.json.ServerToken, /^[0-9a-f]{32}$/);
    assert.deepEqual(await api('GET', '/v1/declarations/nope').then((r) => [r.status, r.json]), [404, { error: 'declaration not found' }]);
    assert.equal((await api('POST', '/v1/declarations/nope/touch')).status, 404);

    assert.equal((await api('PUT', '/v1/set-declarations/forms?declaration=com.example.form&nonotify=1')).status, 204);
    assert.equal((await api('PUT', '/v1/set-declarations/forms?declaration=com.example.form')).status, 304);
    assert.deepEqual((await api('PUT', '/v1/set-declarations/forms')).json, { error: 'missing declaration parameter' });
    assert.equal((await api('PUT', '/v1/set-declarations/forms?declaration=nope')).status, 404);
    assert.deepEqual((await api('GET', '/v1/set-declarations/forms')).json, ['com.example.form']);
    assert.deepEqual((await api('GET', '/v1/declaration-sets/com.example.form')).json, ['forms']);
    assert.ok(((await api('GET', '/v1/sets')).json as unknown as string[]).includes('forms'));
    const inUse = await api('DELETE', '/v1/declarations/com.example.form');
    assert.equal(inUse.status, 409);
    assert.match(inUse.json.error, /referenced by 1 set/);

    // Assignments accept ids that have not enrolled yet.
    assert.equal((await api('PUT', '/v1/enrollment-sets/NOT-YET?set=forms')).status, 204);
    assert.equal((await api('PUT', '/v1/enrollment-sets/NOT-YET?set=phones')).status, 204);
    assert.deepEqual((await api('GET', '/v1/enrollment-sets/NOT-YET')).json, ['forms', 'phones']);
    assert.deepEqual((await api('DELETE', '/v1/enrollment-sets/NOT-YET')).json, { error: 'missing set parameter' });
    assert.equal((await api('DELETE', '/v1/enrollment-sets-all/NOT-YET')).status, 204);
    assert.equal((await api('DELETE', '/v1/enrollment-sets-all/sets/NOT-YET')).status, 304);
    assert.deepEqual((await api('GET', '/v1/enrollment-sets/NOT-YET')).json, []);

    assert.equal((await api('DELETE', '/v1/set-declarations/forms?declaration=com.example.form')).status, 204);
    assert.equal((await api('DELETE', '/v1/set-declarations/forms?declaration=com.example.form')).status, 304);
    assert.equal((await api('DELETE', '/v1/declarations/com.example.form')).status, 204);
    assert.equal((await api('DELETE', '/v1/declarations/com.example.form')).status, 304);

    assert.deepEqual((await api('POST', '/v1/notify')).json, { error: 'no parameters provided (declaration, set or id)' });
    assert.equal((await api('POST', '/v1/notify?id=NOBODY&set=phones')).status, 204);
    const unauthorized = await fetch(`${server.url}/v1/declarations`);
    assert.equal(unauthorized.status, 401);
  });

  it("answers KMFDDM's status reads: declaration status, errors, values by prefix, and the raw reports", async () => {
    const device = await newDevice('DDM-READS');
    await api('PUT', '/v1/enrollment-sets/DDM-READS?set=phones');
    await device.poll();
    const withError = { StatusItems: { device: { model: { family: 'iPhone' } } }, Errors: [{ StatusItem: 'device.battery-health', Reasons: [{ Code: 'Error.NotSupported' }] }] };
    assert.equal((await device.ddm('status', withError)).status, 200);

    const status = await api('GET', '/v1/declaration-status/DDM-READS,NOBODY');
    assert.deepEqual(Object.keys(status.json), ['DDM-READS'], 'ids without a report are left out');
    const entry = status.json['DDM-READS'].find((d: Json) => d.identifier === 'com.example.passcode');
    assert.deepEqual(Object.keys(entry).sort(), ['active', 'current', 'identifier', 'server-token', 'status_received', 'valid']);
    assert.deepEqual([entry.active, entry.valid, entry.current], [true, 'valid', true]);

    const errors = await api('GET', '/v1/status-errors/DDM-READS');
    assert.deepEqual(errors.json['DDM-READS'].map((e: Json) => [e.path, e.error]), [['.Errors', withError.Errors[0]]]);
    assert.ok(errors.json['DDM-READS'][0].timestamp && errors.json['DDM-READS'][0].status_id);

    const values = await api('GET', `/v1/status-values/DDM-READS?prefix=${encodeURIComponent('.StatusItems.device.%')}`);
    assert.deepEqual(
      values.json['DDM-READS'].map((v: Json) => [v.path, v.value]).sort(),
      [['.StatusItems.device.model.family', 'iPhone'], ['.StatusItems.device.operating-system.version', '18.1']],
    );
    const exact = await api('GET', '/v1/status-values/DDM-READS?prefix=.StatusItems.device.model.family');
    assert.equal(exact.json['DDM-READS'].length, 1);

    const newest = await api('GET', '/v1/status-report/DDM-READS');
    assert.equal(newest.status, 200);
    assert.match(newest.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(newest.json, withError, 'exactly as the device sent it');
    assert.equal(newest.headers.get('x-status-report-index'), '0');
    const id = newest.headers.get('x-status-report-id')!;
    assert.ok(!Number.isNaN(Date.parse(newest.headers.get('last-modified')!)));
    const previous = await api('GET', '/v1/status-report/DDM-READS?index=1');
    assert.equal(previous.json.FullReport, true);
    assert.equal((await api('GET', `/v1/status-report/DDM-READS?status_id=${id}`)).headers.get('x-status-report-index'), '0');
    assert.deepEqual(await api('GET', '/v1/status-report/DDM-READS?index=-1').then((r) => [r.status, typeof r.json.error]), [400, 'string']);
    assert.deepEqual(await api('GET', '/v1/status-report/DDM-READS?index=99').then((r) => [r.status, r.json]), [404, { error: 'status report not found' }]);
  });

  it('assigns sets to every enrollment, present and future', async () => {
    const device = await newDevice('DDM-GLOBAL');
    assert.equal((await api('PUT', '/v1/declarations', { ...ORG, Identifier: 'com.example.everyone' })).status, 204);
    assert.equal((await api('PUT', '/v1/set-declarations/everyone?declaration=com.example.everyone')).status, 204);
    assert.equal((await api('PUT', '/v1/ddm/global-sets/everyone')).status, 204);
    assert.equal((await api('PUT', '/v1/ddm/global-sets/everyone')).status, 304);
    assert.deepEqual((await api('GET', '/v1/ddm/global-sets')).json, ['everyone']);
    assert.equal(await syncCommands(device.udid), 1);
    await device.poll();
    assert.ok(device.held.has('com.example.everyone'));
    const late = await newDevice('DDM-GLOBAL-LATE');
    assert.equal(await syncCommands(late.udid), 1, 'a new enrollment gets it at enrollment');
    await late.poll();
    assert.ok(late.held.has('com.example.everyone'));
    assert.equal((await api('DELETE', '/v1/ddm/global-sets/everyone')).status, 204);
    assert.equal(await syncCommands(device.udid), 1);
    await device.poll();
    assert.equal(device.held.has('com.example.everyone'), false);
  });

  it('refuses malformed DeclarativeManagement check-ins with a 4xx and no change', async () => {
    const device = await newDevice('DDM-BAD');
    for (const endpoint of ['nonsense', 'declaration/widget/x', 'declaration/configuration/']) assert.equal((await device.ddm(endpoint)).status, 400, endpoint);
    assert.equal((await device.ddm('status')).status, 400, 'a status report without Data');
    assert.equal((await device.ddm('status', 'not json')).status, 400);
    assert.equal((await api('GET', '/v1/status-report/DDM-BAD')).status, 404, 'nothing stored');
  });
});
