// The minimal admin API over real HTTP: authentication, NanoMDM-compatible enqueue, command results.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodePlist } from '../../src/protocol/plist.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { command, enroll, fixture, getCommand, report } from '../helpers/device.ts';

const KEY = 'test-api-key-0123456789';

describe('admin API', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen({ API_KEY: KEY });
    await enroll(server, 'ADMIN-1');
    await enroll(server, 'ADMIN-2');
  });
  after(() => server.close());

  const put = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(server.url + path, { method: 'PUT', body, headers: { authorization: `Bearer ${KEY}`, ...headers } });

  it('requires the API key, as Bearer or as the Basic password with any user name', async () => {
    const path = '/v1/commands/none';
    assert.equal((await fetch(server.url + path)).status, 401);
    assert.equal((await fetch(server.url + path, { headers: { authorization: 'Bearer wrong-key-0123456789' } })).status, 401);
    const basicWrong = Buffer.from(`nanomdm:${KEY}x`).toString('base64');
    assert.equal((await fetch(server.url + path, { headers: { authorization: `Basic ${basicWrong}` } })).status, 401);
    const noAuth = await fetch(server.url + path);
    const body = (await noAuth.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unauthorized');

    assert.equal((await fetch(server.url + path, { headers: { authorization: `Bearer ${KEY}` } })).status, 404);
    const basic = Buffer.from(`nanomdm:${KEY}`).toString('base64');
    assert.equal((await fetch(server.url + path, { headers: { authorization: `Basic ${basic}` } })).status, 404);
  });

  it('queues a raw plist to several ids, reporting unknown ids without failing the others', async () => {
    const res = await put('/v1/enqueue/ADMIN-1,NOPE,ADMIN-2?nopush=1', encodePlist(command('adm-1', 'ProfileList')), {
      'content-type': 'application/x-apple-plist',
    });
    assert.equal(res.status, 200);
    const json = (await res.json()) as { command_uuid: string; request_type: string; status: Record<string, { queued: boolean; command_error?: string }> };
    assert.equal(json.command_uuid, 'adm-1');
    assert.equal(json.request_type, 'ProfileList');
    assert.deepEqual(json.status['ADMIN-1'], { queued: true });
    assert.deepEqual(json.status['ADMIN-2'], { queued: true });
    assert.equal(json.status.NOPE?.queued, false);
    assert.match(json.status.NOPE?.command_error ?? '', /unknown enrollment/);
    assert.equal((await report(server, { Status: 'Idle', UDID: 'ADMIN-2' })).plist().CommandUUID, 'adm-1');
  });

  it('generates a CommandUUID when the plist has none, keeping the rest of the bytes', async () => {
    const plist = '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n\t<key>Command</key>\n\t<dict>\n\t\t<key>RequestType</key>\n\t\t<string>Settings</string>\n\t\t<key>Ratio</key>\n\t\t<real>1.0</real>\n\t</dict>\n</dict>\n</plist>\n';
    const res = await put('/v1/enqueue/ADMIN-1', plist);
    assert.equal(res.status, 200);
    const { command_uuid: uuid } = (await res.json()) as { command_uuid: string };
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    await report(server, { Status: 'Idle', UDID: 'ADMIN-1' }).then((r) => report(server, { Status: 'Acknowledged', UDID: 'ADMIN-1', CommandUUID: String(r.plist().CommandUUID) }));
    const handed = await report(server, { Status: 'Idle', UDID: 'ADMIN-1' });
    assert.equal(handed.plist().CommandUUID, uuid);
    assert.match(handed.text(), /<real>1\.0<\/real>/, 'a <real> stays a <real>');
  });

  it('refuses bad commands with a JSON 4xx and queues nothing', async () => {
    const before = await snapshotStorage(server.aspen.storage);
    const bad: [string, string, number][] = [
      ['/v1/enqueue/ADMIN-1', 'not a plist', 400],
      ['/v1/enqueue/ADMIN-1', encodePlist({ CommandUUID: 'x1', Command: { Foo: 'bar' } }), 400],
      ['/v1/enqueue/ADMIN-1', encodePlist({ CommandUUID: 'x2' }), 400],
      ['/v1/enqueue/ADMIN-1', '', 400],
      ['/v1/enqueue/NOPE1,NOPE2', encodePlist(command('x3', 'ProfileList')), 404],
      ['/v1/enqueue/ADMIN-1', encodePlist(command('adm-1', 'ProfileList')), 409],
    ];
    for (const [path, body, status] of bad) {
      const res = await put(path, body);
      assert.equal(res.status, status, `${path} ${body.slice(0, 60)}`);
      const json = (await res.json()) as { error?: { code: string; message: string }; status?: unknown };
      assert.ok(json.error?.message, 'error has a message');
    }
    assert.equal(await snapshotStorage(server.aspen.storage), before);
  });

  it("returns each target's state and the result decoded to JSON", async () => {
    const result = fixture('apple-examples/mdm/commands/certificate.list/example2.plist');
    const uuid = /<key>CommandUUID<\/key>\s*<string>([^<]+)<\/string>/.exec(result.toString())![1]!;
    const udid = /<key>UDID<\/key>\s*<string>([^<]+)<\/string>/.exec(result.toString())?.[1];
    assert.ok(udid, 'the example response names its device');
    await enroll(server, udid);
    await put(`/v1/enqueue/${udid}`, encodePlist(command(uuid, 'CertificateList')));
    await report(server, { Status: 'Idle', UDID: udid });
    assert.equal((await report(server, result)).status, 200);

    const view = await getCommand({ url: server.url, apiKey: KEY }, uuid);
    assert.equal(view.status, 200);
    assert.equal(view.json.request_type, 'CertificateList');
    assert.deepEqual(view.json.command, { CommandUUID: uuid, Command: { RequestType: 'CertificateList' } });
    const target = view.json.targets[0]!;
    assert.equal(target.state, 'acknowledged');
    const list = target.result!.CertificateList as { Data: string }[];
    assert.ok(Array.isArray(list) && list.length > 0);
    assert.doesNotThrow(() => Buffer.from(list[0]!.Data, 'base64'));
    assert.match(list[0]!.Data, /^[A-Za-z0-9+/]+=*$/, 'data is base64');
  });

  it('answers GET /version', async () => {
    const res = await fetch(`${server.url}/version`);
    assert.equal(res.status, 200);
    assert.match(((await res.json()) as { version: string }).version, /^\d+\.\d+\.\d+/);
  });
});
