// Bad device input always gets a clear 4xx (never 401) and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodePlist } from '../../src/protocol/plist.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { CHECKIN, checkin, command, enqueue, enroll, put, REPORT, report, TOPIC } from '../helpers/device.ts';

const IDLE = encodePlist({ Status: 'Idle', UDID: 'GOOD-DEVICE' });

describe('bad device input', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen({ BODY_LIMIT: '65536' });
    await enroll(server, 'GOOD-DEVICE');
    await enqueue(server, ['GOOD-DEVICE'], command('pending-1', 'ProfileList'));
  });
  after(() => server.close());

  /** Everything stored: "nothing changed" means this is identical before and after. */
  const snapshot = () => snapshotStorage(server.aspen.storage);

  const cases: [string, () => ReturnType<typeof put>][] = [
    ['malformed plist', () => checkin(server, '<?xml version="1.0"?><plist><dict><key>MessageType</key></plist>')],
    ['not a plist at all', () => checkin(server, 'hello')],
    ['an OpenStep plist', () => checkin(server, '{ MessageType = Authenticate; UDID = X; }')],
    ['a plist whose root is not a dictionary', () => checkin(server, '<plist><array/></plist>')],
    ['an entity declaration', () => checkin(server, `<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY x "GOOD-DEVICE">]><plist><dict><key>MessageType</key><string>CheckOut</string><key>UDID</key><string>&x;</string></dict></plist>`)],
    ['Authenticate without UDID or EnrollmentID', () => checkin(server, { MessageType: 'Authenticate', Topic: TOPIC })],
    ['unknown MessageType', () => checkin(server, { MessageType: 'Bogus', UDID: 'GOOD-DEVICE' })],
    ['check-in without MessageType', () => checkin(server, { UDID: 'GOOD-DEVICE' })],
    ['TokenUpdate without PushMagic', () => checkin(server, { MessageType: 'TokenUpdate', UDID: 'GOOD-DEVICE', Topic: TOPIC, Token: Buffer.from('01', 'hex') })],
    ['TokenUpdate with a string Token', () => checkin(server, { MessageType: 'TokenUpdate', UDID: 'GOOD-DEVICE', Topic: TOPIC, Token: 'abc', PushMagic: 'm' })],
    ['TokenUpdate for an unknown device', () => checkin(server, { MessageType: 'TokenUpdate', UDID: 'STRANGER', Topic: TOPIC, Token: Buffer.from('01', 'hex'), PushMagic: 'm' })],
    ['Authenticate on a user channel', () => checkin(server, { MessageType: 'Authenticate', UDID: 'GOOD-DEVICE', UserID: 'U' })],
    ['a report sent as a check-in', () => checkin(server, { Status: 'Idle', UDID: 'GOOD-DEVICE' })],
    ['a check-in sent as a report', () => report(server, { MessageType: 'CheckOut', UDID: 'GOOD-DEVICE' })],
    ['an unknown Status', () => report(server, { Status: 'Done', UDID: 'GOOD-DEVICE', CommandUUID: 'pending-1' })],
    ['Acknowledged without CommandUUID', () => report(server, { Status: 'Acknowledged', UDID: 'GOOD-DEVICE' })],
    ['a report without UDID', () => report(server, { Status: 'Acknowledged', CommandUUID: 'pending-1' })],
    ['a report from an unknown enrollment', () => report(server, { Status: 'Acknowledged', UDID: 'STRANGER', CommandUUID: 'pending-1' })],
    ['a good report sent as text/plain', () => put(`${server.url}/mdm`, IDLE, 'text/plain', server.deviceHeaders(IDLE))],
    ['a good report sent as JSON', () => put(`${server.url}/mdm`, IDLE, 'application/json', server.deviceHeaders(IDLE))],
    ['a good report with a generic content type', () => put(`${server.url}/mdm`, IDLE, 'application/octet-stream', server.deviceHeaders(IDLE))],
    ['an oversized body', () => checkin(server, `<plist><dict><key>MessageType</key><string>${'x'.repeat(70_000)}</string></dict></plist>`)],
    ['invalid UTF-8', () => put(`${server.url}/mdm`, new Uint8Array([0x3c, 0x70, 0xff, 0xfe]), CHECKIN)],
    ['a report on /checkin', () => put(`${server.url}/checkin`, '<plist><dict><key>Status</key><string>Idle</string><key>UDID</key><string>GOOD-DEVICE</string></dict></plist>', REPORT)],
  ];

  for (const [name, send] of cases) {
    it(`refuses ${name} with a 4xx and changes nothing`, async () => {
      const before = await snapshot();
      const res = await send();
      assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
      assert.notEqual(res.status, 401, '401 would make a real device unenroll');
      assert.equal(await snapshot(), before);
    });
  }

  it('never answers a device 401, even on a wrong path or method', async () => {
    for (const [method, path] of [['PUT', '/mdm/connect'], ['PUT', '/MDM'], ['POST', '/mdm'], ['PUT', '/checkin/x'], ['GET', '/favicon.ico']]) {
      const res = await fetch(server.url + path!, { method, body: method === 'GET' ? undefined : IDLE, headers: { 'content-type': REPORT, ...server.deviceHeaders(IDLE) } });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    const slash = await put(`${server.url}/mdm/`, IDLE, REPORT, server.deviceHeaders(IDLE));
    assert.equal(slash.status, 200, 'a ServerURL with a trailing slash still works');
  });

  it('still serves the good device afterwards', async () => {
    assert.equal((await report(server, { Status: 'Idle', UDID: 'GOOD-DEVICE' })).plist().CommandUUID, 'pending-1');
  });
});
