// Device bodies large enough to be read on the decoder thread (src/threads/plist-decoder.ts) and,
// for results, written by SQLite's large-result writer: answered as any other body, a result stored
// byte for byte before the device hears back, and a malformed one refused with a 400 that changes
// nothing. On both backends (PostgreSQL has no writer thread; it gets the same bodies).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { encodePlist } from '../../src/protocol/plist.ts';
import { OFF_THREAD_BODY_BYTES } from '../../src/threads/plist-decoder.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';
import { checkin, command, enqueue, enroll, getCommand, put, report, REPORT, TOPIC } from '../helpers/device.ts';

const UDIDS = ['LARGE-BODY-1', 'LARGE-BODY-2'];
/** config.ts's default BODY_LIMIT. */
const BODY_LIMIT = 4 * 1024 * 1024;

/** PUTs `body` to /mdm in pieces of `piece` bytes with chunked transfer coding (no Content-Length). */
function putChunked(url: string, body: Buffer, headers: Record<string, string>, piece = 100_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/mdm`, { method: 'PUT', headers: { 'content-type': REPORT, 'transfer-encoding': 'chunked', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
    });
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    for (let at = 0; at < body.length; at += piece) req.write(body.subarray(at, at + piece));
    req.end();
  });
}
/** Larger than the decoder's threshold and SQLite's large-result threshold (256 KiB) both. */
const LARGE = 1024 * 1024;

/** A report's plist, its top-level strings first, then `inner`, padded with applications to about `size` bytes. */
function largeReport(fields: Record<string, string>, inner = '', size = LARGE): Buffer {
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>${Object.entries(fields)
    .map(([k, v]) => `<key>${k}</key><string>${v}</string>`)
    .join('')}${inner}<key>InstalledApplicationList</key><array>`;
  const app = (i: number) => `<dict><key>Identifier</key><string>com.example.app${i}</string><key>Name</key><string>Äpp &amp; ${i} ✓</string><key>BundleSize</key><integer>${i * 1024}</integer><key>Installed</key><date>2024-05-06T07:08:09Z</date></dict>`;
  const apps: string[] = [];
  for (let i = 0, length = head.length; length < size; i++) {
    apps.push(app(i));
    length += apps.at(-1)!.length;
  }
  return Buffer.from(`${head}${apps.join('')}</array></dict></plist>\n`);
}

describe('large device bodies', () => {
  let server: TestServer;
  let seq = 0;
  const snapshot = () => snapshotStorage(server.aspen.storage);
  /** Queues commands for a device and has it take the first, so that its next report is that one's result. */
  const handOut = async (udid: string, count = 1) => {
    const uuids = Array.from({ length: count }, () => `large-${++seq}`);
    for (const uuid of uuids) assert.equal((await enqueue(server, [udid], command(uuid, 'InstalledApplicationList'))).status, 200);
    assert.equal((await report(server, { Status: 'Idle', UDID: udid })).plist().CommandUUID, uuids[0]);
    return uuids;
  };
  const stored = async (uuid: string) => (await server.aspen.storage.getCommand(uuid))!.targets[0]!;

  before(async () => {
    server = await startAspen();
    for (const udid of UDIDS) await enroll(server, udid);
  });
  after(() => server.close());

  it('answers a large result with the next command, having stored its exact bytes', async () => {
    const [first, second] = await handOut(UDIDS[0]!, 2);
    const body = largeReport({ Status: 'Acknowledged', UDID: UDIDS[0]!, CommandUUID: first! });
    assert.ok(body.length > LARGE && body.length > OFF_THREAD_BODY_BYTES);
    const res = await report(server, body);
    assert.equal(res.status, 200, res.text());
    assert.equal(res.plist().CommandUUID, second);
    assert.equal((await report(server, { Status: 'Acknowledged', UDID: UDIDS[0]!, CommandUUID: second! })).status, 200);
    const target = await stored(first!);
    assert.equal(target.state, 'acknowledged');
    assert.ok(Buffer.from(target.result!).equals(body), 'the stored result is the body, byte for byte');
    const apps = (await getCommand(server, first!)).json.targets[0]!.result!.InstalledApplicationList as Record<string, unknown>[];
    assert.deepEqual(apps[1], { Identifier: 'com.example.app1', Name: 'Äpp & 1 ✓', BundleSize: 1024, Installed: '2024-05-06T07:08:09.000Z' });
  });

  it('keeps the ErrorChain of a large Error report', async () => {
    const [uuid] = await handOut(UDIDS[0]!);
    const chain = '<key>ErrorChain</key><array><dict><key>ErrorCode</key><integer>12021</integer><key>ErrorDomain</key><string>MCMDMErrorDomain</string></dict></array>';
    const body = largeReport({ Status: 'Error', UDID: UDIDS[0]!, CommandUUID: uuid! }, chain);
    assert.equal((await report(server, body)).status, 200);
    const target = await stored(uuid!);
    assert.equal(target.state, 'error');
    assert.deepEqual(target.errorChain, [{ ErrorCode: 12021, ErrorDomain: 'MCMDMErrorDomain' }]);
    assert.ok(Buffer.from(target.result!).equals(body));
  });

  it('stores large results arriving at once from two devices, each its own', async () => {
    const uuids = await Promise.all(UDIDS.map(async (udid) => (await handOut(udid))[0]!));
    const bodies = UDIDS.map((udid, i) => largeReport({ Status: 'Acknowledged', UDID: udid, CommandUUID: uuids[i]! }, '', LARGE + i * 100_000));
    const answers = await Promise.all(bodies.map((body) => report(server, body)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200]);
    for (const [i, uuid] of uuids.entries()) assert.ok(Buffer.from((await stored(uuid)).result!).equals(bodies[i]!), uuid);
  });

  it('takes a large result sent without a Content-Type', async () => {
    const [uuid] = await handOut(UDIDS[1]!);
    const body = largeReport({ Status: 'Acknowledged', UDID: UDIDS[1]!, CommandUUID: uuid! });
    const res = await fetch(`${server.url}/mdm`, { method: 'PUT', body, headers: server.deviceHeaders(body) });
    assert.equal(res.status, 200, await res.text());
    assert.ok(Buffer.from((await stored(uuid!)).result!).equals(body));
  });

  it('takes a large result sent in chunks without a Content-Length, storing its exact bytes', async () => {
    const [uuid] = await handOut(UDIDS[1]!);
    const body = largeReport({ Status: 'Acknowledged', UDID: UDIDS[1]!, CommandUUID: uuid! });
    const res = await putChunked(server.url, body, server.deviceHeaders(body));
    assert.equal(res.status, 200, res.text);
    assert.ok(Buffer.from((await stored(uuid!)).result!).equals(body));
  });

  it('refuses a body over BODY_LIMIT with a 413, announced or sent in chunks, changing nothing; one at the limit is taken', async () => {
    const [uuid] = await handOut(UDIDS[0]!);
    const fields = { Status: 'Acknowledged', UDID: UDIDS[0]!, CommandUUID: uuid! };
    // Its size counts characters, not bytes: well below the limit, then padded to exact sizes.
    const atLimit = largeReport(fields, '', BODY_LIMIT * 0.8);
    const padded = (length: number) => Buffer.concat([atLimit, Buffer.alloc(length - atLimit.length, 0x0a)]);
    const tooLarge = padded(BODY_LIMIT + 1);
    const before = await snapshot();
    const announced = await put(`${server.url}/mdm`, tooLarge, REPORT, server.deviceHeaders(tooLarge));
    assert.equal(announced.status, 413, announced.text());
    assert.equal((await putChunked(server.url, tooLarge, server.deviceHeaders(tooLarge))).status, 413);
    assert.equal(await snapshot(), before);
    const exact = padded(BODY_LIMIT);
    const res = await put(`${server.url}/mdm`, exact, REPORT, server.deviceHeaders(exact));
    assert.equal(res.status, 200, res.text());
    assert.ok(Buffer.from((await stored(uuid!)).result!).equals(exact));
  });

  it('refuses a large malformed result with a 400 saying what is wrong, changing nothing; the device can then send it right', async () => {
    const [uuid] = await handOut(UDIDS[0]!);
    const fields = { Status: 'Acknowledged', UDID: UDIDS[0]!, CommandUUID: uuid! };
    const good = largeReport(fields);
    const cases: [string, Buffer, RegExp][] = [
      ['cut short', good.subarray(0, good.length - 40), /unexpected end of document|is not closed/],
      ['with a bad byte at its end', Buffer.concat([good.subarray(0, good.length - 30), Buffer.from([0xc3, 0x28]), good.subarray(good.length - 30)]), /not valid UTF-8/],
      ['with an undefined entity deep inside', largeReport(fields, '<key>Extra</key><array><dict><key>a</key><string>&nope;</string></dict></array>'), /undefined entity/],
      ['with a "__proto__" key inside a list it does not build', Buffer.from(good.toString('utf8').replace('<key>Identifier</key><string>com.example.app7<', '<key>__proto__</key><string>com.example.app7<')), /__proto__/],
    ];
    const before = await snapshot();
    for (const [what, body, reason] of cases) {
      assert.ok(body.length > OFF_THREAD_BODY_BYTES);
      const res = await put(`${server.url}/mdm`, body, REPORT, server.deviceHeaders(body));
      assert.equal(res.status, 400, `${what}: ${res.status} ${res.text().slice(0, 200)}`);
      assert.match(res.text(), reason, what);
    }
    assert.equal(await snapshot(), before);
    assert.equal((await report(server, good)).status, 200);
    assert.ok(Buffer.from((await stored(uuid!)).result!).equals(good));
  });

  it('answers a large check-in, and refuses a malformed one with a 400 changing nothing', async () => {
    const padding = `<key>Padding</key><string>${'p'.repeat(2 * OFF_THREAD_BODY_BYTES)}</string>`;
    const authenticate = (udid: string) => encodePlist({ MessageType: 'Authenticate', UDID: udid, Topic: TOPIC }).replace('<dict>', `<dict>${padding}`);
    const before = await snapshot();
    const bad = await checkin(server, authenticate('LARGE-CHECKIN-BAD').replace('</dict>', '<key>x</key></dict>'));
    assert.equal(bad.status, 400, bad.text());
    assert.equal(await snapshot(), before);
    const res = await checkin(server, authenticate('LARGE-CHECKIN'));
    assert.equal(res.status, 200, res.text());
    assert.notEqual(await server.aspen.storage.getEnrollment('LARGE-CHECKIN'), undefined);
  });
});
