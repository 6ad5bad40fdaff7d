// The command loop over real HTTP: queue, poll, results, NotNow, replays, restarts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { command, enqueue, enroll, fixture, getCommand, report } from '../helpers/device.ts';

const UDID = '66ADE930-5FDF-5EC4-8429-15640684C489';

describe('command loop', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen();
  });
  after(() => server.close());

  it('answers Idle with a zero-byte 200 when nothing is queued', async () => {
    await enroll(server, 'LOOP-EMPTY');
    const res = await report(server, { Status: 'Idle', UDID: 'LOOP-EMPTY' });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
  });

  it('hands over queued commands in order and stores each result', async () => {
    await enroll(server, UDID);
    assert.equal((await enqueue(server, [UDID], command('c1', 'DeviceInformation', { Queries: ['UDID'] }))).status, 200);
    assert.equal((await enqueue(server, [UDID], command('c2', 'ProfileList'))).status, 200);

    const first = await report(server, { Status: 'Idle', UDID });
    assert.equal(first.status, 200);
    assert.match(first.contentType ?? '', /xml/);
    assert.equal(first.plist().CommandUUID, 'c1');
    assert.deepEqual(first.plist().Command, { RequestType: 'DeviceInformation', Queries: ['UDID'] });

    const second = await report(server, {
      Status: 'Acknowledged',
      UDID,
      CommandUUID: 'c1',
      QueryResponses: { UDID, HostName: 'Fruit' },
    });
    assert.equal(second.plist().CommandUUID, 'c2');

    const done = await report(server, { Status: 'Acknowledged', UDID, CommandUUID: 'c2', ProfileList: [] });
    assert.equal(done.status, 200);
    assert.equal(done.body.length, 0);

    const c1 = await getCommand(server, 'c1');
    assert.equal(c1.status, 200);
    assert.equal(c1.json.targets[0]!.state, 'acknowledged');
    assert.deepEqual(c1.json.targets[0]!.result!.QueryResponses, { UDID, HostName: 'Fruit' });
  });

  it('stores the real DeviceInformation result fixture', async () => {
    const result = fixture('nanomdm/mdm/testdata/DeviceInformation.1.plist');
    const parsed = result.toString('utf8');
    const uuid = /<key>CommandUUID<\/key>\s*<string>([^<]+)<\/string>/.exec(parsed)![1]!;
    const udid = /<key>UDID<\/key>\s*<string>([^<]+)<\/string>/.exec(parsed)![1]!;
    await enroll(server, udid);
    await enqueue(server, [udid], command(uuid, 'DeviceInformation', { Queries: ['HostName', 'UDID'] }));
    assert.equal((await report(server, { Status: 'Idle', UDID: udid })).plist().CommandUUID, uuid);
    const res = await report(server, result);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    const view = await getCommand(server, uuid);
    assert.equal(view.json.targets[0]!.state, 'acknowledged');
    assert.equal((view.json.targets[0]!.result!.QueryResponses as Record<string, unknown>).UDID, udid);
  });

  it('records Error and CommandFormatError with their ErrorChain and moves on', async () => {
    const udid = 'LOOP-ERRORS';
    await enroll(server, udid);
    await enqueue(server, [udid], command('err-1', 'InstallProfile', { Payload: Buffer.from('x') }));
    await enqueue(server, [udid], command('cfe-1', 'Bogus'));
    await enqueue(server, [udid], command('ok-1', 'ProfileList'));
    assert.equal((await report(server, { Status: 'Idle', UDID: udid })).plist().CommandUUID, 'err-1');
    const chain = [{ ErrorCode: 1001, ErrorDomain: 'MCProfileErrorDomain', LocalizedDescription: 'bad profile' }];
    const next = await report(server, { Status: 'Error', UDID: udid, CommandUUID: 'err-1', ErrorChain: chain });
    assert.equal(next.plist().CommandUUID, 'cfe-1');
    const last = await report(server, { Status: 'CommandFormatError', UDID: udid, CommandUUID: 'cfe-1' });
    assert.equal(last.plist().CommandUUID, 'ok-1');

    const err = (await getCommand(server, 'err-1')).json.targets[0]!;
    assert.equal(err.state, 'error');
    assert.deepEqual(err.error_chain, chain);
    assert.equal((await getCommand(server, 'cfe-1')).json.targets[0]!.state, 'commandformaterror');
  });

  it('stores a result whose ErrorChain is malformed rather than refusing it forever', async () => {
    await enroll(server, 'LOOP-ODD-CHAIN');
    await enqueue(server, ['LOOP-ODD-CHAIN'], command('odd-1', 'ProfileList'));
    await report(server, { Status: 'Idle', UDID: 'LOOP-ODD-CHAIN' });
    const res = await report(server, { Status: 'Error', UDID: 'LOOP-ODD-CHAIN', CommandUUID: 'odd-1', ErrorChain: { ErrorCode: 7 } });
    assert.equal(res.status, 200);
    const target = (await getCommand(server, 'odd-1')).json.targets[0]!;
    assert.equal(target.state, 'error');
    assert.deepEqual(target.error_chain, [{ ErrorCode: 7 }]);
  });

  it('keeps a NotNow command queued, offers others this session, and re-offers it next session', async () => {
    const udid = 'LOOP-NOTNOW';
    await enroll(server, udid);
    await enqueue(server, [udid], command('nn-a', 'InstallProfile', { Payload: Buffer.from('a') }));
    await enqueue(server, [udid], command('nn-b', 'ProfileList'));

    assert.equal((await report(server, { Status: 'Idle', UDID: udid })).plist().CommandUUID, 'nn-a');
    // Deferred: the next command is the other one, never nn-a again in this session.
    const other = await report(server, { Status: 'NotNow', UDID: udid, CommandUUID: 'nn-a' });
    assert.equal(other.plist().CommandUUID, 'nn-b');
    const end = await report(server, { Status: 'Acknowledged', UDID: udid, CommandUUID: 'nn-b', ProfileList: [] });
    assert.equal(end.body.length, 0, 'session ends instead of looping back to the deferred command');

    const view = (await getCommand(server, 'nn-a')).json.targets[0]!;
    assert.equal(view.state, 'notnow');
    assert.equal(view.notnow_count, 1);

    // NotNow again for the only command: the session ends, no loop.
    assert.equal((await report(server, { Status: 'Idle', UDID: udid })).plist().CommandUUID, 'nn-a');
    const again = await report(server, { Status: 'NotNow', UDID: udid, CommandUUID: 'nn-a' });
    assert.equal(again.status, 200);
    assert.equal(again.body.length, 0);

    // Next session: offered again, and done once acknowledged.
    assert.equal((await report(server, { Status: 'Idle', UDID: udid })).plist().CommandUUID, 'nn-a');
    const finished = await report(server, { Status: 'Acknowledged', UDID: udid, CommandUUID: 'nn-a' });
    assert.equal(finished.body.length, 0);
    const final = (await getCommand(server, 'nn-a')).json.targets[0]!;
    assert.equal(final.state, 'acknowledged');
    assert.equal(final.notnow_count, 2);
  });

  it('answers a replayed result with 200 and leaves the queue exactly as it was', async () => {
    const udid = 'LOOP-REPLAY';
    await enroll(server, udid);
    await enqueue(server, [udid], command('rp-1', 'ProfileList'));
    await enqueue(server, [udid], command('rp-2', 'CertificateList'));
    assert.equal((await report(server, { Status: 'Idle', UDID: udid })).plist().CommandUUID, 'rp-1');
    const ack = { Status: 'Acknowledged', UDID: udid, CommandUUID: 'rp-1', ProfileList: [{ PayloadIdentifier: 'first' }] };
    assert.equal((await report(server, ack)).plist().CommandUUID, 'rp-2');

    // The device did not see our answer and re-sends the same result (maybe even changed).
    const replay = await report(server, { ...ack, ProfileList: [{ PayloadIdentifier: 'second' }] });
    assert.equal(replay.status, 200);
    assert.equal(replay.plist().CommandUUID, 'rp-2', 'rp-2 is still queued and offered; nothing lost');
    const rp1 = (await getCommand(server, 'rp-1')).json.targets[0]!;
    assert.deepEqual(rp1.result!.ProfileList, [{ PayloadIdentifier: 'first' }], 'the first stored result is kept');
    assert.equal((await getCommand(server, 'rp-2')).json.targets[0]!.state, 'queued');

    // A late NotNow replay for a finished command changes nothing either.
    const lateNotNow = await report(server, { Status: 'NotNow', UDID: udid, CommandUUID: 'rp-1' });
    assert.equal(lateNotNow.plist().CommandUUID, 'rp-2');
    assert.equal((await getCommand(server, 'rp-1')).json.targets[0]!.state, 'acknowledged');
  });

  it('answers a result for an unknown CommandUUID with 200 and the unchanged queue', async () => {
    const udid = 'LOOP-UNKNOWN';
    await enroll(server, udid);
    await enqueue(server, [udid], command('uk-1', 'ProfileList'));
    const res = await report(server, { Status: 'Acknowledged', UDID: udid, CommandUUID: 'never-queued' });
    assert.equal(res.status, 200);
    assert.equal(res.plist().CommandUUID, 'uk-1');
    assert.equal((await getCommand(server, 'never-queued')).status, 404);
    assert.equal((await getCommand(server, 'uk-1')).json.targets[0]!.state, 'queued');
  });

  it('keeps every queue separate: one command queued to several devices completes per device', async () => {
    await enroll(server, 'FAN-1');
    await enroll(server, 'FAN-2');
    const res = await enqueue(server, ['FAN-1', 'FAN-2'], command('fan-1', 'ProfileList'));
    assert.equal(res.status, 200);
    assert.equal((await report(server, { Status: 'Idle', UDID: 'FAN-1' })).plist().CommandUUID, 'fan-1');
    await report(server, { Status: 'Acknowledged', UDID: 'FAN-1', CommandUUID: 'fan-1' });
    const view = await getCommand(server, 'fan-1');
    const states = Object.fromEntries(view.json.targets.map((t) => [t.enrollment_id, t.state]));
    assert.deepEqual(states, { 'FAN-1': 'acknowledged', 'FAN-2': 'queued' });
    assert.equal((await report(server, { Status: 'Idle', UDID: 'FAN-2' })).plist().CommandUUID, 'fan-1');
  });

  it('loses nothing across a restart mid-queue', async () => {
    const udid = 'LOOP-RESTART';
    await enroll(server, udid);
    await enqueue(server, [udid], command('rs-1', 'ProfileList'));
    await enqueue(server, [udid], command('rs-2', 'CertificateList'));
    assert.equal((await report(server, { Status: 'Idle', UDID: udid })).plist().CommandUUID, 'rs-1');
    assert.equal((await report(server, { Status: 'Acknowledged', UDID: udid, CommandUUID: 'rs-1' })).plist().CommandUUID, 'rs-2');

    server = await server.restart();

    assert.equal((await getCommand(server, 'rs-1')).json.targets[0]!.state, 'acknowledged');
    const resumed = await report(server, { Status: 'Idle', UDID: udid });
    assert.equal(resumed.plist().CommandUUID, 'rs-2');
    // The result of rs-2 may have been sent before the restart and is re-sent after: still one result.
    assert.equal((await report(server, { Status: 'Acknowledged', UDID: udid, CommandUUID: 'rs-2' })).body.length, 0);
    assert.equal((await report(server, { Status: 'Acknowledged', UDID: udid, CommandUUID: 'rs-2' })).body.length, 0);
    assert.equal((await getCommand(server, 'rs-2')).json.targets[0]!.state, 'acknowledged');
  });
});
