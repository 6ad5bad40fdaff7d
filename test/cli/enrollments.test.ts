// `aspen enrollments` and `aspen show` against a real server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, enroll, tokenUpdate } from '../helpers/device.ts';
import { aspen, json, TIME } from './run-cli.ts';

const DEVICES = ['DEV-1', 'DEV-2', 'DEV-3', 'DEV-4', 'DEV-5'];

describe('aspen enrollments and show', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen({ API_KEY: 'cli-enrollments-key-0123456789' });
    for (const [i, udid] of DEVICES.entries()) {
      await enroll(server, udid, { ProductName: 'iPhone14,2', OSVersion: '18.1', SerialNumber: `SERIAL-${i + 1}`, DeviceName: `Phone ${i + 1}` });
    }
    await enroll(server, 'MAC-1', { ProductName: 'Mac14,7', OSVersion: '15.1' });
    await checkin(server, tokenUpdate({ UDID: 'MAC-1', UserID: 'USER-GUID', UserShortName: 'ann', UserLongName: 'Ann' }));
  });
  after(() => server.close());

  const ALL_IDS = [...DEVICES, 'MAC-1', 'MAC-1:USER-GUID'];

  it('prints an aligned table of every enrollment', async () => {
    const run = await aspen(['enrollments'], { server });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+TYPE\s+STATE\s+PLATFORM\s+OS\s+SERIAL\s+USER\s+LAST SEEN$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), ALL_IDS);
    // Aligned: every row starts its STATE column where the header does.
    const stateColumn = lines[0]!.indexOf('STATE');
    for (const line of lines.slice(1)) assert.match(line.slice(stateColumn), /^enrolled /);
    assert.match(lines[1]!, new RegExp(String.raw`^DEV-1\s+device\s+enrolled\s+iOS\s+18\.1\s+SERIAL-1\s+-\s+${TIME}$`));
    assert.match(lines.at(-1)!, /MAC-1:USER-GUID\s+user\s+enrolled\s.*\bann\b/);
  });

  it('prints the API JSON with --json', async () => {
    const body = json(await aspen(['enrollments', '--json'], { server }));
    assert.deepEqual(
      body.enrollments.map((e: { id: string }) => e.id),
      ALL_IDS,
    );
    assert.equal(body.next_cursor, null);
    assert.equal(body.enrollments[0].serial_number, 'SERIAL-1');
  });

  it('passes filters to the API', async () => {
    const users = json(await aspen(['enrollments', '--channel', 'user', '--json'], { server }));
    assert.deepEqual(users.enrollments.map((e: { id: string }) => e.id), ['MAC-1:USER-GUID']);
    const ofMac = json(await aspen(['enrollments', '--device', 'MAC-1', '--json'], { server }));
    assert.deepEqual(ofMac.enrollments.map((e: { id: string }) => e.id), ['MAC-1', 'MAC-1:USER-GUID']);
    const future = json(await aspen(['enrollments', '--seen-after', '2999-01-01T00:00:00Z', '--json'], { server }));
    assert.deepEqual(future.enrollments, []);
  });

  it('shows one page with --limit and says how to get more; --all follows every page', async () => {
    const one = await aspen(['enrollments', '--limit', '3'], { server });
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout.trimEnd().split('\n').length, 1 + 3);
    assert.match(one.stderr, /more enrollments: --all, or --cursor \S+/);

    const next = /--cursor (\S+)/.exec(one.stderr)![1]!;
    const second = json(await aspen(['enrollments', '--limit', '3', '--cursor', next, '--json'], { server }));
    assert.deepEqual(second.enrollments.map((e: { id: string }) => e.id), ALL_IDS.slice(3, 6));

    const all = json(await aspen(['enrollments', '--limit', '3', '--all', '--json'], { server }));
    assert.deepEqual(all.enrollments.map((e: { id: string }) => e.id), ALL_IDS);
    assert.equal(all.next_cursor, null);

    const table = await aspen(['enrollments', '--limit', '2', '--all'], { server });
    assert.equal(table.code, 0);
    assert.equal(table.stdout.trimEnd().split('\n').length, 1 + ALL_IDS.length);
    assert.equal(table.stderr, '');
  });

  it('shows an enrollment with its facts, channels and pending queue', async () => {
    const queued = json(await aspen(['send', 'MAC-1', 'ProfileList', '--no-push', '--json'], { server }));
    const run = await aspen(['show', 'MAC-1'], { server });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^id\s+MAC-1$/m);
    assert.match(run.stdout, /^platform\s+macOS$/m);
    assert.match(run.stdout, /^ProductName\s+Mac14,7$/m);
    assert.match(run.stdout, /^user channels\s+MAC-1:USER-GUID$/m);
    assert.match(run.stdout, /^last seen\s+.*\(TokenUpdate\)$/m);
    assert.match(run.stdout, /^queue \(1 pending\):$/m);
    assert.match(run.stdout, new RegExp(`^${queued.command_uuid}\\s+ProfileList\\s+queued\\s`, 'm'));

    const user = await aspen(['show', 'MAC-1:USER-GUID'], { server });
    assert.match(user.stdout, /^user\s+ann \(Ann\) \[USER-GUID\]$/m);
    assert.match(user.stdout, /^device\s+MAC-1$/m);
    assert.match(user.stdout, /^queue: empty$/m);

    const raw = json(await aspen(['show', 'MAC-1', '--json'], { server }));
    assert.equal(raw.enrollment.id, 'MAC-1');
    assert.deepEqual(raw.enrollment.user_channels, ['MAC-1:USER-GUID']);
    assert.deepEqual(raw.queue.commands.map((c: { command_uuid: string }) => c.command_uuid), [queued.command_uuid]);
  });

  it('fails with the API message for an unknown enrollment', async () => {
    const run = await aspen(['show', 'NOBODY'], { server });
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, 'aspen: no enrollment NOBODY\n');
  });

  it('filters by serial number and platform on the server', async () => {
    const bySerial = json(await aspen(['enrollments', '--serial', 'SERIAL-2', '--json'], { server }));
    assert.deepEqual(bySerial.enrollments.map((e: { id: string }) => e.id), ['DEV-2']);
    const macs = json(await aspen(['enrollments', '--platform', 'macOS', '--json'], { server }));
    assert.deepEqual(macs.enrollments.map((e: { id: string }) => e.id), ['MAC-1', 'MAC-1:USER-GUID']);
  });

  it('lists recent commands and forgets an enrollment', async () => {
    const queued = await fetch(`${server.url}/v1/commands`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ targets: ['DEV-5'], command: { RequestType: 'ProfileList' }, command_uuid: 'cli-list-1', push: false }),
    });
    assert.equal(queued.status, 201);
    const listed = await aspen(['commands', '--target', 'DEV-5'], { server });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(String.raw`^cli-list-1\s+ProfileList\s+${TIME}\s+1 queued$`, 'm'));
    const forgotten = await aspen(['forget', 'DEV-5'], { server });
    assert.equal(forgotten.code, 0, forgotten.stderr);
    assert.equal(forgotten.stdout, 'forgot DEV-5\n');
    const gone = await aspen(['show', 'DEV-5'], { server });
    assert.equal(gone.code, 1);
    assert.equal(json(await aspen(['commands', '--target', 'DEV-5', '--json'], { server })).commands.length, 0);
  });
});
