// What an admin reads and changes about the fleet's records over the API: filters that select the
// right devices (and refuse ones they do not know), inventory from DeviceInformation, command
// listings, forgetting a device, a wiped device coming back, and a start that would strand devices.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeviceCa } from '../../src/identity/index.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, enroll, report, TOPIC, tokenUpdate } from '../helpers/device.ts';
import { TestDevices } from '../helpers/test-devices.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KEY = 'fleet-records-key-0123456789';

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads arbitrary JSON
}

describe('fleet records', () => {
  let server: TestServer;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const ids = async (query: string) => ((await api('GET', `/v1/enrollments?${query}`)).json.enrollments as { id: string }[]).map((e) => e.id);
  /** Runs every queued command on a device, answering each with `answer(requestType)`. */
  const drain = async (udid: string, answer: (requestType: string) => Record<string, unknown> = () => ({})) => {
    let reply = await report(server, { Status: 'Idle', UDID: udid });
    while (reply.body.length > 0) {
      const { CommandUUID, Command } = reply.plist() as { CommandUUID: string; Command: { RequestType: string } };
      reply = await report(server, { Status: 'Acknowledged', UDID: udid, CommandUUID, ...answer(Command.RequestType) });
    }
  };
  const send = (targets: string[], command: Record<string, unknown>) => api('POST', '/v1/commands', { targets, command, push: false });

  before(async () => {
    server = await startAspen({ API_KEY: KEY });
    await enroll(server, 'REC-IPHONE', { ProductName: 'iPhone14,2', OSVersion: '18.1', SerialNumber: 'SERIAL-A' });
    await enroll(server, 'REC-MAC', { ProductName: 'Mac14,7', OSVersion: '15.1', SerialNumber: 'SERIAL-B' });
    await checkin(server, tokenUpdate({ UDID: 'REC-MAC', UserID: 'USER-1', UserShortName: 'ann' }, { Topic: 'com.apple.mgmt.other' }));
  });
  after(() => server.close());

  it('filters enrollments by serial number, platform and topic, and refuses a parameter it does not know', async () => {
    assert.deepEqual(await ids('serial_number=SERIAL-B'), ['REC-MAC', 'REC-MAC:USER-1'], 'a device with its user channels');
    assert.deepEqual(await ids('serial_number=SERIAL-B&channel=device'), ['REC-MAC']);
    assert.deepEqual(await ids('platform=iOS'), ['REC-IPHONE']);
    assert.deepEqual(await ids('topic=com.apple.mgmt.other'), ['REC-MAC:USER-1']);
    const misspelt = await api('GET', '/v1/enrollments?serial=SERIAL-B');
    assert.equal(misspelt.status, 400, 'never "every enrollment"');
    assert.match(misspelt.json.error.message, /serial/);
    assert.equal((await api('GET', '/v1/enrollments?platform=Android')).status, 400);
    assert.equal((await api('GET', '/v1/pushcert?verbose=1')).status, 400, 'a route without parameters refuses them too');
  });

  it('keeps what DeviceInformation says and gates commands on it', async () => {
    const queued = await send(['REC-IPHONE'], { RequestType: 'DeviceInformation', Queries: ['DeviceName', 'ModelName', 'IsSupervised', 'OSVersion', 'BatteryLevel'] });
    assert.equal(queued.status, 201);
    assert.equal((await send(['REC-IPHONE'], { RequestType: 'EnableLostMode', Message: 'lost' })).json.targets['REC-IPHONE'].status, 'queued', 'supervision unknown: allowed');
    await drain('REC-IPHONE', (type) =>
      type === 'DeviceInformation'
        ? { QueryResponses: { DeviceName: 'Ann’s iPhone', ModelName: 'iPhone 13 Pro', IsSupervised: false, OSVersion: '18.2', BatteryLevel: 0.5 } }
        : {},
    );
    const detail = (await api('GET', '/v1/enrollments/REC-IPHONE')).json;
    assert.equal(detail.device_name, 'Ann’s iPhone');
    assert.equal(detail.model, 'iPhone 13 Pro');
    assert.equal(detail.supervised, false);
    assert.equal(detail.os_version, '18.2', 'the newer OS version replaces the one from Authenticate');
    assert.deepEqual(detail.inventory, { DeviceName: 'Ann’s iPhone', ModelName: 'iPhone 13 Pro', IsSupervised: false, OSVersion: '18.2', BatteryLevel: 0.5 });
    const refused = await send(['REC-IPHONE'], { RequestType: 'EnableLostMode', Message: 'lost' });
    assert.equal(refused.status, 422);
    assert.match(refused.json.error.details['REC-IPHONE'].reason, /supervised/);
  });

  it('lists commands newest first, filtered and paged', async () => {
    await send(['REC-MAC'], { RequestType: 'ProfileList' });
    const all = (await api('GET', '/v1/commands?limit=1000')).json.commands as Json[];
    assert.deepEqual(all.map((c) => c.request_type), ['ProfileList', 'EnableLostMode', 'DeviceInformation']);
    assert.deepEqual(all[0]!.targets, { queued: 1, notnow: 0, acknowledged: 0, error: 0, commandformaterror: 0, cancelled: 0 });
    assert.equal(all[2]!.targets.acknowledged, 1);
    const onlyMac = (await api('GET', '/v1/commands?target=REC-MAC')).json.commands as Json[];
    assert.deepEqual(onlyMac.map((c) => c.request_type), ['ProfileList']);
    assert.deepEqual(((await api('GET', '/v1/commands?state=queued')).json.commands as Json[]).map((c) => c.request_type), ['ProfileList']);
    assert.deepEqual(((await api('GET', '/v1/commands?request_type=DeviceInformation')).json.commands as Json[]).length, 1);
    const first = await api('GET', '/v1/commands?limit=2');
    const rest = await api('GET', `/v1/commands?limit=2&cursor=${first.json.next_cursor}`);
    assert.deepEqual([...first.json.commands, ...rest.json.commands].map((c: Json) => c.command_uuid), all.map((c) => c.command_uuid));
    assert.equal(rest.json.next_cursor, null);
    assert.equal((await api('GET', '/v1/commands?cursor=bogus')).status, 400);
  });

  it('forgets a device: its user channels, queue, results and certificates go, and it is unknown afterwards', async () => {
    const forgotten = await api('DELETE', '/v1/enrollments/REC-MAC');
    assert.equal(forgotten.status, 200);
    assert.equal((await api('GET', '/v1/enrollments/REC-MAC')).status, 404);
    assert.equal((await api('GET', '/v1/enrollments/REC-MAC:USER-1')).status, 404);
    assert.deepEqual(((await api('GET', '/v1/commands?target=REC-MAC')).json.commands as Json[]).length, 0);
    assert.equal((await report(server, { Status: 'Idle', UDID: 'REC-MAC' })).status, 400, 'an unknown enrollment');
    assert.equal((await api('DELETE', '/v1/enrollments/REC-MAC')).status, 404);
  });

  it('lets a device wiped by an acknowledged EraseDevice come back with a new certificate', async () => {
    await enroll(server, 'REC-WIPED', { ProductName: 'iPhone14,2', OSVersion: '18.1' });
    await send(['REC-WIPED'], { RequestType: 'EraseDevice', PIN: '123456' });
    await drain('REC-WIPED');
    // The wiped device has a new key and certificate now.
    const fresh = new TestDevices(() => server.aspen.deviceCa);
    const wiped = { url: server.url, deviceHeaders: (body: Uint8Array | string) => fresh.headersFor(body) };
    assert.equal((await checkin(wiped, { MessageType: 'Authenticate', UDID: 'REC-WIPED', Topic: TOPIC })).status, 200);
    assert.equal((await checkin(wiped, tokenUpdate({ UDID: 'REC-WIPED' }))).status, 200);
    assert.equal((await api('GET', '/v1/enrollments/REC-WIPED')).json.identities.length, 1);
  });

  it('counts seconds until the soonest bound certificate expires', async () => {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const seconds = Number(/^aspen_device_identity_expiry_seconds (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(seconds > 300 * 86_400, `a year-long test certificate: ${seconds}`);
  });
});

describe('a start that would strand enrolled devices', () => {
  it('refuses with one line naming DEVICE_CA when devices are bound to a CA no longer trusted, unless told to start anyway', async (t) => {
    const server = await startAspen({ API_KEY: KEY });
    t.after(() => server.close());
    await enroll(server, 'STRANDED-1');
    const dir = mkdtempSync(join(tmpdir(), 'aspen-other-ca-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'other-ca.pem'), createDeviceCa().certPem);
    const otherCa = { DEVICE_CA: join(dir, 'other-ca.pem') };
    await assert.rejects(server.restart(otherCa), /^ConfigError: DEVICE_CA: 1 enrolled device\(s\) hold certificates from a CA that is not trusted here/);
    const anyway = await server.restart({ ...otherCa, ALLOW_UNTRUSTED_BINDINGS: 'true' });
    t.after(() => anyway.close());
    assert.equal((await fetch(`${anyway.url}/version`)).status, 200);
  });
});
