// Admin input at its edges, over real HTTP: unreadable values, long id lists, long CommandUUIDs,
// empty bodies, and every error the framework itself produces, each in Aspen's error envelope.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodePlist } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';
import { command, enroll, report } from '../helpers/device.ts';

const KEY = 'admin-errors-key-0123456789';
const BODY_LIMIT = 64 * 1024;

interface Envelope {
  error: { code: string; message: string; details?: unknown };
}

describe('admin API errors', () => {
  let server: TestServer;
  const call = async (method: string, path: string, init: { body?: string | Buffer; headers?: Record<string, string> } = {}) => {
    const res = await fetch(server.url + path, { method, body: init.body, headers: { authorization: `Bearer ${KEY}`, ...init.headers } });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as Envelope & Record<string, unknown> };
  };
  const assertEnvelope = (res: Awaited<ReturnType<typeof call>>, status: number, code: string) => {
    assert.equal(res.status, status, res.text);
    assert.match(res.type, /^application\/json/);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['error'], res.text);
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 0);
    return body.error;
  };
  /** Everything stored: "queued nothing" means this is the same before and after. */
  const stored = () => snapshotStorage(server.aspen.storage);

  before(async () => {
    server = await startAspen({ API_KEY: KEY, BODY_LIMIT: String(BODY_LIMIT) });
    await enroll(server, 'ERR-1');
  });
  after(() => server.close());

  describe('values a device could not read', () => {
    const withDate = (date: string) =>
      '<?xml version="1.0"?><plist version="1.0"><dict><key>CommandUUID</key><string>bad-date-1</string><key>Command</key><dict>' +
      `<key>RequestType</key><string>InstallApplication</string><key>iTunesStoreID</key><integer>1</integer>` +
      `<key>Configuration</key><dict><key>When</key><date>${date}</date></dict></dict></dict></plist>`;

    for (const date of ['not-a-date', '0000-00-00T00:00:00Z', '2024-13-45T25:61:61Z', '+275760-09-13T00:00:00.001Z']) {
      it(`refuses <date>${date}</date> in PUT /v1/enqueue and POST /v1/commands with a 400 naming the key, queueing nothing`, async () => {
        const before = await stored();
        const raw = assertEnvelope(await call('PUT', '/v1/enqueue/ERR-1', { body: withDate(date) }), 400, 'bad_request');
        assert.match(raw.message, /^Command\.Configuration\.When: /);
        const posted = await call('POST', '/v1/commands', { body: JSON.stringify({ targets: ['ERR-1'], plist: withDate(date) }), headers: { 'content-type': 'application/json' } });
        const error = assertEnvelope(posted, 400, 'bad_request');
        assert.deepEqual((error.details as { path: string }[]).map((d) => d.path), ['Command.Configuration.When']);
        assert.equal(await stored(), before);
      });
    }
  });

  describe('deeply nested JSON', () => {
    it('refuses a command whose schema-free value nests 5,000 levels with a 400, queueing nothing', async () => {
      const before = await stored();
      const deep = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
      const body = `{"targets":["ERR-1"],"command":{"RequestType":"InstallEnterpriseApplication","Manifest":{"x":${deep}}}}`;
      const error = assertEnvelope(await call('POST', '/v1/commands', { body, headers: { 'content-type': 'application/json' } }), 400, 'bad_request');
      assert.match(error.message, /nested deeper than 64 levels/);
      assert.equal(await stored(), before);
    });

    it('still takes a Manifest nested a realistic few levels', async () => {
      await enroll(server, 'ERR-NESTED');
      const manifest = { items: [{ assets: [{ kind: 'software-package', url: 'https://example.com/app.pkg' }], metadata: { 'bundle-identifier': 'com.example.app' } }] };
      const res = await call('POST', '/v1/commands', {
        body: JSON.stringify({ targets: ['ERR-NESTED'], command: { RequestType: 'InstallEnterpriseApplication', Manifest: manifest }, command_uuid: 'nested-manifest-1' }),
        headers: { 'content-type': 'application/json' },
      });
      assert.ok(res.status >= 200 && res.status < 300, res.text);
    });
  });

  describe('CommandUUID', () => {
    it('refuses a raw CommandUUID that is too long or not URL-safe, as the JSON command_uuid', async () => {
      const before = await stored();
      for (const uuid of ['x'.repeat(60_000), 'x'.repeat(201), 'a/b', 'with space', '']) {
        const raw = assertEnvelope(await call('PUT', '/v1/enqueue/ERR-1', { body: encodePlist(command(uuid, 'ProfileList')) }), 400, 'bad_request');
        assert.match(raw.message, /^CommandUUID: must be 1 to 200 characters/);
        const json = await call('POST', '/v1/commands', {
          body: JSON.stringify({ targets: ['ERR-1'], command: { RequestType: 'ProfileList' }, command_uuid: uuid }),
          headers: { 'content-type': 'application/json' },
        });
        assertEnvelope(json, 400, 'bad_request');
      }
      assert.equal(await stored(), before);
    });

    it('accepts 200 URL-safe characters, and the command can be read and cancelled', async () => {
      const uuid = `A${'0123456789'.repeat(19)}.-_~xxxxx`;
      assert.equal(uuid.length, 200);
      assert.equal((await call('PUT', '/v1/enqueue/ERR-1?nopush=1', { body: encodePlist(command(uuid, 'ProfileList')) })).status, 200);
      assert.equal((await call('GET', `/v1/commands/${uuid}`)).status, 200);
      assert.equal((await call('DELETE', `/v1/enrollments/ERR-1/queue/${uuid}`)).status, 200);
      assert.equal((await report(server, { Status: 'Idle', UDID: 'ERR-1' })).body.length, 0, 'the cancelled command is not handed out');
    });
  });

  describe('long id lists in the path', () => {
    /** 1,000 ids of 40 characters, two of them enrolled. */
    const ids = Array.from({ length: 1000 }, (_, i) => `LIST-${String(i).padStart(35, '0')}`);
    before(async () => {
      await enroll(server, ids[0]!);
      await enroll(server, ids[999]!);
    });

    it('takes 1,000 ids of 40 characters in PUT /v1/enqueue/{ids} and GET|POST /v1/push/{ids}', async () => {
      const list = ids.join(',');
      assert.equal(list.length, 40_999);
      const queued = await call('PUT', `/v1/enqueue/${list}?nopush=1`, { body: encodePlist(command('long-list-1', 'ProfileList')) });
      assert.equal(queued.status, 200, queued.text);
      const status = queued.json().status as Record<string, { queued: boolean }>;
      assert.equal(Object.keys(status).length, 1000);
      assert.equal(status[ids[0]!]!.queued, true);
      assert.equal(status[ids[999]!]!.queued, true);
      assert.equal(status[ids[500]!]!.queued, false);
      for (const method of ['GET', 'POST']) {
        const pushed = await call(method, `/v1/push/${list}`);
        assert.equal(pushed.status, 200, pushed.text);
        assert.equal(Object.keys(pushed.json().status as object).length, 1000);
      }
    });

    it('answers a longer list with a 414 in the envelope naming POST /v1/commands', async () => {
      const list = [...ids, ...ids.map((id) => `${id}-more`)].join(',');
      assert.ok(list.length > 64 * 1024);
      for (const [method, path] of [['PUT', `/v1/enqueue/${list}`], ['GET', `/v1/push/${list}`], ['POST', `/v1/push/${list}`]] as const) {
        const error = assertEnvelope(await call(method, path, method === 'PUT' ? { body: encodePlist(command('long-list-2', 'ProfileList')) } : {}), 414, 'uri_too_long');
        assert.match(error.message, /POST \/v1\/commands/);
      }
    });

    it('answers a request head larger than the server takes with a 431 in the envelope, naming POST /v1/commands', async () => {
      const head = `GET /v1/push/${'x'.repeat(200 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
      const { port } = new URL(server.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(head));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 431 /);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Envelope;
      assert.equal(body.error.code, 'header_fields_too_large');
      assert.match(body.error.message, /POST \/v1\/commands/);
    });
  });

  describe("the framework's own errors", () => {
    it('bad JSON, a wrong content type, an oversized body, an unknown route and a bad escape', async () => {
      const json = { 'content-type': 'application/json' };
      assertEnvelope(await call('POST', '/v1/commands', { body: '{"targets": [', headers: json }), 400, 'bad_request');
      assertEnvelope(await call('POST', '/v1/commands', { body: '<plist/>', headers: { 'content-type': 'application/xml' } }), 415, 'unsupported_media_type');
      assertEnvelope(await call('POST', '/v1/commands', { body: JSON.stringify({ targets: ['x'.repeat(BODY_LIMIT)] }), headers: json }), 413, 'payload_too_large');
      assertEnvelope(await call('PUT', '/v1/enqueue/ERR-1', { body: 'x'.repeat(BODY_LIMIT + 1) }), 413, 'payload_too_large');
      assertEnvelope(await call('GET', '/v1/nothing-here'), 404, 'not_found');
      assertEnvelope(await call('GET', '/nothing-here'), 404, 'not_found');
      assertEnvelope(await call('GET', '/v1/enrollments/%E0%A4%A'), 400, 'bad_request');
      assertEnvelope(await call('POST', '/v1/commands', { body: '', headers: json }), 400, 'bad_request');
    });

    it('keeps the short text/plain refusals on the device endpoints', async () => {
      const res = await fetch(`${server.url}/mdm`, { method: 'PUT', body: 'x', headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 415);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const badEscape = await fetch(`${server.url}/mdm/%E0%A4%A`, { method: 'PUT', body: Buffer.from('x') });
      assert.equal(badEscape.status, 400);
      assert.match(badEscape.headers.get('content-type') ?? '', /^text\/plain/);
    });
  });

  describe('routes that take no body', () => {
    it('accept an empty one whatever the Content-Type says', async () => {
      for (const type of ['application/json', 'application/xml', 'text/plain']) {
        const headers = { 'content-type': type };
        const uuid = `empty-body-${type.replace('/', '-')}`;
        assert.equal((await call('PUT', '/v1/enqueue/ERR-1?nopush=1', { body: encodePlist(command(uuid, 'ProfileList')) })).status, 200);
        assert.equal((await call('DELETE', `/v1/enrollments/ERR-1/queue/${uuid}`, { body: '', headers })).status, 200, type);
        assert.equal((await call('DELETE', '/v1/enrollments/ERR-1/queue', { body: '', headers })).status, 200, type);
        assert.equal((await call('POST', '/v1/push/ERR-1', { body: '', headers })).status, 200, type);
        assert.equal((await call('DELETE', '/v1/enrollments/ERR-1/identities', { body: '', headers })).status, 200, type);
      }
    });
  });
});
