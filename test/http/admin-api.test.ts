// The admin API v1 over real HTTP: JSON commands, enrollments, queues, history, OpenAPI.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { LARGE_FAN_OUT } from '../../src/http/admin/command-routes.ts';
import { SHARED_IPAD_USER_ID } from '../../src/protocol/enrollment-id.ts';
import { decodePlistDict, encodePlist } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, enroll, fixture, report, tokenUpdate } from '../helpers/device.ts';

const KEY = 'admin-api-test-key-0123456789';

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
}

describe('admin API v1', () => {
  let server: TestServer;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };

  before(async () => {
    server = await startAspen({ API_KEY: KEY });
    await enroll(server, 'IPHONE-1', { ProductName: 'iPhone14,2', OSVersion: '18.1', SerialNumber: 'SERIAL-IPHONE' });
    await enroll(server, 'MAC-1', { ProductName: 'Mac14,7', OSVersion: '15.1' });
    await checkin(server, tokenUpdate({ UDID: 'MAC-1', UserID: 'USER-GUID', UserShortName: 'ann', UserLongName: 'Ann' }));
    await enroll(server, 'IPAD-SHARED', { ProductName: 'iPad13,4', OSVersion: '18.1' });
    await checkin(server, tokenUpdate({ UDID: 'IPAD-SHARED', UserID: SHARED_IPAD_USER_ID, UserShortName: 'kid@school.org' }));
  });
  after(() => server.close());

  describe('POST /v1/commands', () => {
    it('builds a plist from JSON, queues it and reports each target', async () => {
      const res = await api('POST', '/v1/commands', {
        targets: ['IPHONE-1', 'MAC-1', 'NOBODY'],
        command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber', 'OSVersion'] },
      });
      assert.equal(res.status, 201);
      assert.equal(res.json.request_type, 'DeviceInformation');
      assert.deepEqual(res.json.targets.NOBODY, { status: 'unknown_enrollment' });
      assert.equal(res.json.targets['IPHONE-1'].status, 'queued');
      assert.match(res.json.push_error, /not configured/);

      const handed = await report(server, { Status: 'Idle', UDID: 'IPHONE-1' });
      assert.deepEqual(handed.plist(), {
        CommandUUID: res.json.command_uuid,
        Command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber', 'OSVersion'] },
      });
      await report(server, { Status: 'Acknowledged', UDID: 'IPHONE-1', CommandUUID: res.json.command_uuid, QueryResponses: { SerialNumber: 'X' } });
    });

    it('refuses a command on a platform or channel that cannot run it, queueing it elsewhere', async () => {
      const res = await api('POST', '/v1/commands', { targets: ['MAC-1', 'IPHONE-1'], command: { RequestType: 'EnableLostMode', Message: 'Lost' } });
      assert.equal(res.status, 201);
      assert.equal(res.json.targets['IPHONE-1'].status, 'queued');
      assert.equal(res.json.targets['MAC-1'].status, 'not_allowed');
      assert.match(res.json.targets['MAC-1'].reason, /macOS/);
      const macQueue = await api('GET', '/v1/enrollments/MAC-1/queue');
      assert.ok(!macQueue.json.commands.some((c: Json) => c.request_type === 'EnableLostMode'));

      const userChannel = await api('POST', '/v1/commands', { targets: ['MAC-1:USER-GUID'], command: { RequestType: 'EraseDevice' } });
      assert.equal(userChannel.status, 422);
      assert.match(userChannel.json.error.details['MAC-1:USER-GUID'].reason, /user channel/);
    });

    it('honours a client-chosen command_uuid and refuses a duplicate with 409', async () => {
      const body = { targets: ['IPHONE-1'], command: { RequestType: 'ProfileList' }, command_uuid: 'my-own-uuid-1' };
      const first = await api('POST', '/v1/commands', body);
      assert.equal(first.status, 201);
      assert.equal(first.json.command_uuid, 'my-own-uuid-1');
      const again = await api('POST', '/v1/commands', body);
      assert.equal(again.status, 409);
      assert.equal(again.json.error.code, 'conflict');
    });

    it('answers a fan-out large enough to be collected after it, then goes on serving', async () => {
      const targets = ['IPHONE-1', ...Array.from({ length: LARGE_FAN_OUT }, (_, i) => `FAN-NOBODY-${i}`)];
      const res = await api('POST', '/v1/commands', { targets, command: { RequestType: 'ProfileList' }, command_uuid: 'large-fan-out', push: false });
      assert.equal(res.status, 201);
      assert.equal(Object.keys(res.json.targets).length, targets.length);
      assert.deepEqual(res.json.targets['IPHONE-1'], { status: 'queued' });
      assert.deepEqual(res.json.targets[`FAN-NOBODY-${LARGE_FAN_OUT - 1}`], { status: 'unknown_enrollment' });
      const next = await api('POST', '/v1/commands', { targets: ['MAC-1'], command: { RequestType: 'ProfileList' } });
      assert.equal(next.status, 201);
      const stored = await api('GET', '/v1/commands/large-fan-out');
      assert.deepEqual(
        stored.json.targets.map((t: Json) => [t.enrollment_id, t.state]),
        [['IPHONE-1', 'queued']],
      );
    });

    it("pages a command's targets", async () => {
      const targets = ['IPHONE-1', 'MAC-1', 'IPAD-SHARED'];
      const res = await api('POST', '/v1/commands', { targets, command: { RequestType: 'ProfileList' }, push: false });
      assert.equal(res.status, 201);
      const first = await api('GET', `/v1/commands/${res.json.command_uuid}?limit=2`);
      assert.deepEqual(first.json.targets.map((t: Json) => t.enrollment_id), ['IPAD-SHARED', 'IPHONE-1']);
      const rest = await api('GET', `/v1/commands/${res.json.command_uuid}?limit=2&cursor=${first.json.next_cursor}`);
      assert.deepEqual(rest.json.targets.map((t: Json) => t.enrollment_id), ['MAC-1']);
      assert.equal(rest.json.next_cursor, null);
      assert.equal((await api('GET', `/v1/commands/${res.json.command_uuid}?cursor=nope`)).status, 400);
    });

    it('accepts a raw plist and keeps its bytes', async () => {
      const example = fixture('apple-examples/mdm/commands/device.lock/example1.plist').toString('utf8');
      const plist = example.replace(/\s*<key>CommandUUID<\/key>\s*<string>[^<]*<\/string>/, '');
      assert.notEqual(plist, example);
      const res = await api('POST', '/v1/commands', { targets: ['MAC-1'], plist, command_uuid: 'raw-plist-1' });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.equal(res.json.request_type, 'DeviceLock');
      assert.equal(res.json.command_uuid, 'raw-plist-1');
      const view = await api('GET', '/v1/commands/raw-plist-1');
      assert.deepEqual(view.json.command.Command, { ...decodePlistDict(example).Command as Json });
      const mismatch = await api('POST', '/v1/commands', { targets: ['MAC-1'], plist: example, command_uuid: 'other' });
      assert.equal(mismatch.status, 400);
      assert.match(mismatch.json.error.message, /command_uuid/);
    });

    const invalid: [string, Json, RegExp][] = [
      ['an unknown RequestType', { RequestType: 'MakeCoffee' }, /Command\.RequestType: unknown RequestType/],
      ['a misspelt RequestType', { RequestType: 'DeviceInfo' }, /Command\.RequestType: unknown RequestType "DeviceInfo" \(did you mean "DeviceInformation"\?\)/],
      ['a misspelt key', { RequestType: 'DeviceInformation', Querys: ['UDID'] }, /Command\.Querys: unknown key \(did you mean "Queries"\?\)/],
      ['a wrong type', { RequestType: 'EnableLostMode', Message: 5 }, /Command\.Message: expected a string/],
      ['a missing required key', { RequestType: 'InstallProfile' }, /Command\.Payload: missing required key/],
      ['bad base64', { RequestType: 'InstallProfile', Payload: 'not base64!' }, /Command\.Payload: expected base64/],
      ['a wrong nested value', { RequestType: 'Settings', Settings: [{ Item: 'Bogus' }] }, /Command\.Settings\[0\]\.Item/],
    ];
    for (const [name, command, message] of invalid) {
      it(`refuses ${name} with a 400 naming the key path, and queues nothing`, async () => {
        const before = (await api('GET', '/v1/enrollments/IPHONE-1/queue')).json.commands.length;
        const res = await api('POST', '/v1/commands', { targets: ['IPHONE-1'], command });
        assert.equal(res.status, 400);
        assert.equal(res.json.error.code, 'bad_request');
        assert.match(res.json.error.message, message);
        assert.ok(Array.isArray(res.json.error.details) && res.json.error.details[0].path);
        assert.equal((await api('GET', '/v1/enrollments/IPHONE-1/queue')).json.commands.length, before);
      });
    }

    it('refuses malformed requests: no targets, both forms, unknown fields', async () => {
      for (const body of [
        { targets: [], command: { RequestType: 'ProfileList' } },
        { targets: ['IPHONE-1'] },
        { targets: ['IPHONE-1'], command: { RequestType: 'ProfileList' }, plist: '<plist/>' },
        { targets: ['IPHONE-1'], command: { RequestType: 'ProfileList' }, pushh: true },
      ]) {
        const res = await api('POST', '/v1/commands', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.ok(res.json.error.message.length > 0);
      }
    });
  });

  describe('enrollments', () => {
    it('lists with filters and cursor pagination', async () => {
      const all = await api('GET', '/v1/enrollments?limit=1000');
      const ids = all.json.enrollments.map((e: Json) => e.id);
      assert.deepEqual(ids, ['IPAD-SHARED', 'IPAD-SHARED:kid@school.org', 'IPHONE-1', 'MAC-1', 'MAC-1:USER-GUID']);
      assert.equal(all.json.next_cursor, null);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { json: Json } = await api('GET', `/v1/enrollments?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.json.enrollments.map((e: Json) => e.id));
        cursor = page.json.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, ids);

      const users = await api('GET', '/v1/enrollments?channel=user');
      assert.deepEqual(users.json.enrollments.map((e: Json) => e.id), ['IPAD-SHARED:kid@school.org', 'MAC-1:USER-GUID']);
      const shared = await api('GET', '/v1/enrollments?type=shared-ipad-user');
      assert.equal(shared.json.enrollments[0].user.short_name, 'kid@school.org');
      const future = await api('GET', `/v1/enrollments?last_seen_after=${encodeURIComponent('2999-01-01T00:00:00Z')}`);
      assert.equal(future.json.enrollments.length, 0);
      const past = await api('GET', `/v1/enrollments?last_seen_before=${encodeURIComponent('2999-01-01T00:00:00Z')}&device_id=MAC-1`);
      assert.deepEqual(past.json.enrollments.map((e: Json) => e.id), ['MAC-1', 'MAC-1:USER-GUID']);
    });

    it('refuses bad filters', async () => {
      for (const q of ['type=robot', 'limit=0', 'limit=5000', 'last_seen_after=yesterday', 'cursor=garbage']) {
        const res = await api('GET', `/v1/enrollments?${q}`);
        assert.equal(res.status, 400, q);
        assert.match(res.json.error.message, /query\./);
      }
    });

    it('shows one enrollment with its facts and channels, and no secrets', async () => {
      const res = await api('GET', '/v1/enrollments/MAC-1');
      assert.equal(res.status, 200);
      assert.equal(res.json.platform, 'macOS');
      assert.equal(res.json.os_version, '15.1');
      assert.equal(res.json.state, 'enrolled');
      assert.deepEqual(res.json.user_channels, ['MAC-1:USER-GUID']);
      assert.equal(res.json.facts.ProductName, 'Mac14,7');
      assert.ok(res.json.first_seen_at && res.json.last_seen_at && res.json.last_status);
      const text = JSON.stringify(res.json);
      assert.ok(!text.includes('PUSH-MAGIC'), 'PushMagic is not exposed');
      const user = await api('GET', `/v1/enrollments/${encodeURIComponent('MAC-1:USER-GUID')}`);
      assert.equal(user.json.user.short_name, 'ann');
      assert.equal(user.json.platform, null, 'platform facts live on the device channel');
      assert.equal((await api('GET', '/v1/enrollments/NOBODY')).status, 404);
    });
  });

  describe('queues and history', () => {
    it('lists, cancels one, clears, and a polling device sees exactly that', async () => {
      await enroll(server, 'QUEUE-DEV', { ProductName: 'iPhone15,2' });
      const uuids: string[] = [];
      for (const rt of ['ProfileList', 'CertificateList', 'SecurityInfo']) {
        uuids.push((await api('POST', '/v1/commands', { targets: ['QUEUE-DEV'], command: { RequestType: rt } })).json.command_uuid);
      }
      const queue = await api('GET', '/v1/enrollments/QUEUE-DEV/queue');
      assert.deepEqual(queue.json.commands.map((c: Json) => c.command_uuid), uuids);
      assert.ok(queue.json.commands.every((c: Json) => c.state === 'queued'));

      assert.equal((await report(server, { Status: 'Idle', UDID: 'QUEUE-DEV' })).plist().CommandUUID, uuids[0]);
      const deferred = await report(server, { Status: 'NotNow', UDID: 'QUEUE-DEV', CommandUUID: uuids[0]! });
      assert.equal(deferred.plist().CommandUUID, uuids[1]);
      const afterNotNow = await api('GET', '/v1/enrollments/QUEUE-DEV/queue');
      assert.equal(afterNotNow.json.commands[0].state, 'notnow');
      assert.equal(afterNotNow.json.commands[0].notnow_count, 1);

      const cancel = await api('DELETE', `/v1/enrollments/QUEUE-DEV/queue/${uuids[1]}`);
      assert.deepEqual(cancel.json, { cancelled: 1 });
      assert.equal((await api('DELETE', `/v1/enrollments/QUEUE-DEV/queue/${uuids[1]}`)).status, 404);
      // The device had already received the cancelled command: its result is still stored.
      const next = await report(server, { Status: 'Acknowledged', UDID: 'QUEUE-DEV', CommandUUID: uuids[1]!, CertificateList: [] });
      assert.equal(next.plist().CommandUUID, uuids[2], 'the cancelled command is not offered again');
      assert.equal((await api('GET', `/v1/commands/${uuids[1]}`)).json.targets[0].state, 'acknowledged');

      assert.deepEqual((await api('DELETE', '/v1/enrollments/QUEUE-DEV/queue')).json, { cancelled: 2 });
      assert.deepEqual((await api('GET', '/v1/enrollments/QUEUE-DEV/queue')).json.commands, []);
      assert.equal((await report(server, { Status: 'Idle', UDID: 'QUEUE-DEV' })).body.length, 0, 'a cleared queue hands out nothing');

      const history = await api('GET', '/v1/enrollments/QUEUE-DEV/commands?limit=2');
      assert.deepEqual(history.json.commands.map((c: Json) => [c.command_uuid, c.state]), [[uuids[2], 'cancelled'], [uuids[1], 'acknowledged']]);
      const older = await api('GET', `/v1/enrollments/QUEUE-DEV/commands?limit=2&cursor=${history.json.next_cursor}`);
      assert.deepEqual(older.json.commands.map((c: Json) => [c.command_uuid, c.state]), [[uuids[0], 'cancelled']]);
      assert.equal(older.json.next_cursor, null);
    });

    it("reads Apple's example responses back as JSON", async () => {
      const dir = new URL('../fixtures/apple-examples/mdm/commands/', import.meta.url);
      let checked = 0;
      for (const name of readdirSync(dir)) {
        const response = decodePlistDict(fixture(`apple-examples/mdm/commands/${name}/example2.plist`));
        if (typeof response.CommandUUID !== 'string' || typeof response.Status !== 'string') continue;
        const udid = `EXAMPLE-${checked}`;
        await enroll(server, udid);
        // Some examples are user-channel responses: that channel must exist first.
        const userId = typeof response.UserID === 'string' ? response.UserID : undefined;
        if (userId) await checkin(server, tokenUpdate({ UDID: udid, UserID: userId, UserShortName: 'u', UserLongName: 'U' }));
        const targetId = userId ? `${udid}:${userId}` : udid;
        const command = decodePlistDict(fixture(`apple-examples/mdm/commands/${name}/example1.plist`));
        const requestType = ((command.Command ?? command) as Json).RequestType ?? 'Unknown';
        const raw = encodePlist({ CommandUUID: response.CommandUUID, Command: { RequestType: requestType } });
        const queued = await fetch(`${server.url}/v1/enqueue/${encodeURIComponent(targetId)}`, { method: 'PUT', body: raw, headers: { authorization: `Bearer ${KEY}` } });
        assert.equal(queued.status, 200, name);
        const sent: Json = { ...response, UDID: udid };
        delete sent.EnrollmentID; // one example is from a user enrollment; we replay it as a device
        assert.equal((await report(server, sent as never)).status, 200, name);
        const view = await api('GET', `/v1/commands/${encodeURIComponent(response.CommandUUID)}`);
        const target = view.json.targets.find((t: Json) => t.enrollment_id === targetId);
        assert.equal(target.result.CommandUUID, response.CommandUUID, name);
        assert.equal(target.state, String(response.Status).toLowerCase(), name);
        checked++;
      }
      assert.ok(checked >= 50, `checked ${checked} example responses`);
    });
  });

  describe('description', () => {
    it('publishes an OpenAPI 3.1 document of every route and a docs page, without a key', async () => {
      const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
      assert.equal(doc.openapi, '3.1.0');
      for (const path of ['/v1/commands', '/v1/commands/{uuid}', '/v1/enqueue/{ids}', '/v1/enrollments', '/v1/enrollments/{id}', '/v1/enrollments/{id}/queue', '/v1/enrollments/{id}/queue/{uuid}', '/v1/enrollments/{id}/commands']) {
        assert.ok(doc.paths[path], path);
      }
      assert.ok(doc.paths['/v1/enrollments'].get.parameters.some((p: Json) => p.name === 'last_seen_before'));
      assert.ok(doc.components.schemas['Command.DeviceInformation'].properties.Queries);
      const docs = await fetch(`${server.url}/docs`);
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /\/v1\/enrollments\/\{id\}\/queue/);
    });
  });
});
