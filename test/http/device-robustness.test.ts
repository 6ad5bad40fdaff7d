// Device messages an independent fuzzer and load client sent, over real HTTP: values Aspen cannot
// interpret, nesting far past any real payload, very large results, reports without a Content-Type.
// Each is answered correctly (never a 5xx) and whatever is stored stays readable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodePlist, MAX_PLIST_DEPTH } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';
import { CHECKIN, checkin, command, enqueue, enroll, getCommand, put, REPORT, report } from '../helpers/device.ts';

const UNREADABLE_DATES = ['not-a-date', '0000-00-00T00:00:00Z', '2024-13-45T25:61:61Z', '+275760-09-13T00:00:00.001Z'];
const UDID = 'ROBUST-DEVICE';

/** A device message as a device's own plist writer would put it, with `inner` raw in its dict. */
const message = (fields: Record<string, string>, inner = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>${Object.entries(fields)
    .map(([k, v]) => `<key>${k}</key><string>${v}</string>`)
    .join('')}${inner}</dict></plist>`;
const nested = (depth: number) => `${'<dict><key>k</key>'.repeat(depth - 1)}<dict/>${'</dict>'.repeat(depth - 1)}`;

describe('device messages that are hard to read', () => {
  let server: TestServer;
  let seq = 0;
  const api = async (path: string) => {
    const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${server.apiKey}` } });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  /** Queues a command and has the device take it, so that its next report is the result. */
  const handOut = async (requestType = 'DeviceInformation') => {
    const uuid = `robust-${++seq}`;
    assert.equal((await enqueue(server, [UDID], command(uuid, requestType, requestType === 'DeviceInformation' ? { Queries: ['UDID'] } : {}))).status, 200);
    assert.equal((await report(server, { Status: 'Idle', UDID })).plist().CommandUUID, uuid);
    return uuid;
  };
  const snapshot = () => snapshotStorage(server.aspen.storage);

  before(async () => {
    server = await startAspen();
    await enroll(server, UDID);
  });
  after(() => server.close());

  describe('a <date> that is no date', () => {
    for (const date of UNREADABLE_DATES) {
      it(`Authenticate with <date>${date}</date> is answered 200 and its facts show the text`, async () => {
        const udid = `DATE-AUTH-${UNREADABLE_DATES.indexOf(date)}`;
        const res = await checkin(server, message({ MessageType: 'Authenticate', UDID: udid, Topic: 'com.apple.mgmt.External.robust' }, `<key>SomeDate</key><date>${date}</date>`));
        assert.equal(res.status, 200, res.text());
        const view = await api(`/v1/enrollments/${udid}`);
        assert.equal(view.status, 200);
        assert.equal((view.json.facts as Record<string, unknown>).SomeDate, date);
      });

      it(`an Acknowledged result with <date>${date}</date> is stored raw and every read shows the text`, async () => {
        const uuid = await handOut();
        const body = message({ Status: 'Acknowledged', UDID, CommandUUID: uuid }, `<key>QueryResponses</key><dict><key>LastBackup</key><date>${date}</date></dict>`);
        assert.equal((await report(server, body)).status, 200);
        const view = await getCommand(server, uuid);
        assert.equal(view.status, 200);
        assert.equal(view.json.targets[0]!.state, 'acknowledged');
        assert.deepEqual(view.json.targets[0]!.result!.QueryResponses, { LastBackup: date });
        const stored = await server.aspen.storage.getCommand(uuid);
        assert.equal(Buffer.from(stored!.targets[0]!.result!).toString('utf8'), body, 'the raw bytes are kept');
        const history = await api(`/v1/enrollments/${UDID}/commands?limit=1000`);
        assert.equal(history.status, 200);
      });

      it(`an Error report whose ErrorChain has <date>${date}</date> is stored and readable`, async () => {
        const uuid = await handOut();
        const chain = `<key>ErrorChain</key><array><dict><key>ErrorCode</key><integer>12021</integer><key>When</key><date>${date}</date></dict></array>`;
        assert.equal((await report(server, message({ Status: 'Error', UDID, CommandUUID: uuid }, chain))).status, 200);
        const view = await getCommand(server, uuid);
        assert.equal(view.status, 200);
        assert.equal(view.json.targets[0]!.state, 'error');
        assert.deepEqual(view.json.targets[0]!.error_chain, [{ ErrorCode: 12021, When: date }]);
      });
    }
  });

  describe('nesting', () => {
    for (const depth of [3000, 5000]) {
      it(`refuses a check-in and a result nested ${depth} levels with a 400, changing nothing`, async () => {
        const before = await snapshot();
        const deep = await checkin(server, message({ MessageType: 'Authenticate', UDID: 'DEEP', Topic: 'com.apple.mgmt.External.robust' }, `<key>Deep</key>${nested(depth)}`));
        assert.equal(deep.status, 400, deep.text());
        assert.match(deep.text(), new RegExp(`nested deeper than ${MAX_PLIST_DEPTH} levels`));
        const result = await report(server, message({ Status: 'Acknowledged', UDID, CommandUUID: 'never-queued' }, `<key>Deep</key>${nested(depth)}`));
        assert.equal(result.status, 400);
        assert.equal(await snapshot(), before);
      });
    }

    it('stores a result nested as deep as the limit allows, and reads it back', async () => {
      const uuid = await handOut();
      const depth = MAX_PLIST_DEPTH - 1; // the message's own dictionary is one level
      assert.equal((await report(server, message({ Status: 'Acknowledged', UDID, CommandUUID: uuid }, `<key>Deep</key>${nested(depth)}`))).status, 200);
      const view = await getCommand(server, uuid);
      assert.equal(view.status, 200);
      let value = view.json.targets[0]!.result!.Deep as Record<string, unknown>;
      for (let level = 1; level < depth; level++) value = value.k as Record<string, unknown>;
      assert.deepEqual(value, {});
    });
  });

  it('stores a 4 MiB result with 100,000 keys and reads it back', async () => {
    const uuid = await handOut('InstalledApplicationList');
    const keys = Array.from({ length: 100_000 }, (_, i) => `<key>App${i}</key><string>v${i}</string>`).join('');
    const head = message({ Status: 'Acknowledged', UDID, CommandUUID: uuid }).replace('</dict></plist>', '');
    const tail = '</dict><key>Pad</key><string>';
    const end = '</string></dict></plist>';
    const start = `${head}<key>Apps</key><dict>${keys}${tail}`;
    const body = Buffer.from(start + 'p'.repeat(4 * 1024 * 1024 - start.length - end.length) + end);
    assert.equal(body.length, 4 * 1024 * 1024);
    const res = await put(`${server.url}/mdm`, body, REPORT, server.deviceHeaders(body));
    assert.equal(res.status, 200, res.text());
    const view = await getCommand(server, uuid);
    assert.equal(view.json.targets[0]!.state, 'acknowledged');
    const apps = view.json.targets[0]!.result!.Apps as Record<string, string>;
    assert.equal(Object.keys(apps).length, 100_000);
    assert.equal(apps.App99999, 'v99999');
  });

  describe('without a Content-Type', () => {
    /** PUT /mdm with no Content-Type header at all (a Buffer body makes fetch send none). */
    const bare = async (plist: string) => {
      const body = Buffer.from(plist);
      const res = await fetch(`${server.url}/mdm`, { method: 'PUT', body, headers: server.deviceHeaders(body) });
      return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
    };

    it('takes a body with a Status as a command report, and delivers the next command', async () => {
      const uuid = `bare-${++seq}`;
      await enqueue(server, [UDID], command(uuid, 'ProfileList'));
      const idle = await bare(encodePlist({ Status: 'Idle', UDID }));
      assert.equal(idle.status, 200);
      assert.match(idle.text, new RegExp(`<string>${uuid}</string>`));
      const ack = await bare(encodePlist({ Status: 'Acknowledged', UDID, CommandUUID: uuid }));
      assert.equal(ack.status, 200);
      assert.equal((await getCommand(server, uuid)).json.targets[0]!.state, 'acknowledged');
    });

    it('takes a body with a MessageType as a check-in', async () => {
      const res = await bare(encodePlist({ MessageType: 'Authenticate', UDID: 'BARE-CHECKIN', Topic: 'com.apple.mgmt.External.robust' }));
      assert.equal(res.status, 200, res.text);
      assert.equal((await api('/v1/enrollments/BARE-CHECKIN')).status, 200);
    });

    it('refuses what is neither with a 400, and an explicitly wrong type still with a 415', async () => {
      const neither = await bare(encodePlist({ UDID }));
      assert.equal(neither.status, 400);
      assert.match(neither.type ?? '', /^text\/plain/);
      const garbage = await bare('hello');
      assert.equal(garbage.status, 400);
      const idle = encodePlist({ Status: 'Idle', UDID });
      assert.equal((await put(`${server.url}/mdm`, idle, 'text/plain', server.deviceHeaders(idle))).status, 415);
      assert.equal((await put(`${server.url}/mdm`, idle, CHECKIN, server.deviceHeaders(idle))).status, 400, 'a report sent as a check-in');
    });
  });
});
