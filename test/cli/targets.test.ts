// `aspen send` to a fleet, as an admin does it: targets from a filter over every enrollment (more
// than one page of them), from stdin and from a file; key values from files; and `aspen result`
// over every target, not only the first page.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodePlist, type PlistDict } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, report, TOPIC } from '../helpers/device.ts';
import { aspen, json, tempDir } from './run-cli.ts';

const PHONES = Array.from({ length: 1000 }, (_, i) => `PHONE-${String(i).padStart(4, '0')}`);
const MACS = ['MAC-1', 'MAC-2', 'MAC-3'];

describe('aspen send to many targets, and result over all of them', () => {
  let server: TestServer;
  // Identity checks off: this is about the CLI, and a thousand device certificates would cost minutes.
  const devices = () => ({ url: server.url });
  const authenticate = async (udid: string, productName: string) => {
    const res = await checkin(devices(), { MessageType: 'Authenticate', UDID: udid, Topic: TOPIC, ProductName: productName, OSVersion: '15.1' });
    assert.equal(res.status, 200, res.text());
  };
  /** The next command the device gets when it polls. */
  const nextCommand = async (udid: string): Promise<PlistDict | null> => {
    const res = await report(devices(), { Status: 'Idle', UDID: udid });
    return res.body.length === 0 ? null : res.plist();
  };

  before(async () => {
    server = await startAspen({ API_KEY: 'cli-targets-key-0123456789', DEVICE_IDENTITY: 'off' });
    for (let i = 0; i < PHONES.length; i += 20) await Promise.all(PHONES.slice(i, i + 20).map((udid) => authenticate(udid, 'iPhone14,2')));
    for (const udid of [...MACS, 'MAC-GONE', 'FILES-1']) await authenticate(udid, 'Mac14,7');
    assert.equal((await checkin(devices(), { MessageType: 'CheckOut', UDID: 'MAC-GONE' })).status, 200);
  });
  after(() => server?.close());

  it('sends to every enrollment a filter selects, across pages, leaving out checked-out ones', async () => {
    const all = json(await aspen(['send', 'ProfileList', '--all', '--no-push', '--json'], { server }));
    const targets = Object.keys(all.targets).sort();
    assert.deepEqual(targets, [...MACS, 'FILES-1', ...PHONES].sort(), 'every enrollment but the checked-out Mac');
    assert.ok(Object.values(all.targets).every((t) => (t as { status: string }).status === 'queued'));

    const macs = await aspen(['send', 'DeviceInformation', '--platform', 'macOS', '--type', 'device', '--Queries', 'UDID', '--no-push'], { server });
    assert.equal(macs.code, 0, macs.stderr);
    assert.deepEqual(
      macs.stdout.trimEnd().split('\n').slice(2).map((line) => line.split(/\s+/).slice(0, 2)),
      [['FILES-1', 'queued'], ...MACS.map((id) => [id, 'queued'])],
    );

    const gone = json(await aspen(['send', 'ProfileList', '--platform', 'macOS', '--state', 'checked-out', '--no-push', '--json'], { server }));
    assert.deepEqual(Object.keys(gone.targets), ['MAC-GONE'], '--state checked-out selects them on purpose');
  });

  it('pages through every target of a command in result', async () => {
    const sent = json(await aspen(['send', 'SecurityInfo', '--platform', 'iOS', '--no-push', '--json'], { server }));
    assert.equal(Object.keys(sent.targets).length, PHONES.length);

    const run = await aspen(['result', sent.command_uuid], { server });
    assert.equal(run.code, 0, run.stderr);
    const shown = run.stdout.split('\n').filter((line) => /^PHONE-\d{4} {2}queued {2}queued /.test(line));
    assert.equal(shown.length, PHONES.length, 'every target, not the first 100');

    const raw = json(await aspen(['result', sent.command_uuid, '--json'], { server }));
    assert.deepEqual(raw.targets.map((t: { enrollment_id: string }) => t.enrollment_id), PHONES);
    assert.equal(raw.next_cursor, null);
  });

  it('takes target ids from stdin and from a file', async (t) => {
    const fromStdin = json(await aspen(['send', '-', 'ProfileList', '--no-push', '--json'], { server, input: 'MAC-1\n# the build machines\nMAC-2\n\n  MAC-3  \n' }));
    assert.deepEqual(Object.keys(fromStdin.targets), MACS);

    const file = join(tempDir(t), 'targets.txt');
    writeFileSync(file, 'MAC-2\nNOT-ENROLLED\n');
    const fromFile = await aspen(['send', 'ProfileList', '--targets-file', file, '--no-push'], { server });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /^MAC-2\s+queued\s+-$/m);
    assert.match(fromFile.stdout, /^NOT-ENROLLED\s+unknown_enrollment\s+-$/m);

    const both = await aspen(['send', 'MAC-1', 'ProfileList', '--targets-file', file], { server });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^aspen: targets come from one source, not ids and --targets-file$/m);
    const empty = await aspen(['send', '-', 'ProfileList'], { server, input: '# nobody\n' });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^aspen: no enrollment ids in stdin$/m);
  });

  it('accepts filter values only in the API spelling, suggesting it for a near miss', async () => {
    const platform = await aspen(['send', 'ProfileList', '--platform', 'macos'], { server });
    assert.equal(platform.code, 2);
    assert.match(platform.stderr, /^aspen: --platform macos: expected one of iOS, macOS, tvOS, visionOS, watchOS \(did you mean macOS\?\)$/m);
    const state = await aspen(['enrollments', '--state', 'checked_out'], { server });
    assert.equal(state.code, 2);
    assert.match(state.stderr, /^aspen: --state checked_out: expected one of authenticated, enrolled, checked-out \(did you mean checked-out\?\)$/m);

    const listed = await aspen(['enrollments', '--state', 'checked-out'], { server });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^MAC-GONE\s+device\s+checked-out\s+macOS/m, 'and prints that same spelling');
  });

  it('reads a data key from a file, and a dictionary array from a plist file, as the device then receives them', async (t) => {
    const dir = tempDir(t);
    const profile = Buffer.concat([Buffer.from('0\x82signed profile bytes '), Buffer.from([0, 1, 2, 254, 255])]);
    writeFileSync(join(dir, 'wifi.mobileconfig'), profile);
    const installed = await aspen(['send', 'FILES-1', 'InstallProfile', '--Payload', `@${join(dir, 'wifi.mobileconfig')}`, '--no-push'], { server });
    assert.equal(installed.code, 0, installed.stderr);
    const wallpaper = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    writeFileSync(join(dir, 'settings.plist'), encodePlist([{ Item: 'Wallpaper', Image: wallpaper, Where: 1 }, { Item: 'Bluetooth', Enabled: false }]));
    const settings = await aspen(['send', 'FILES-1', 'Settings', '--Settings', `@${join(dir, 'settings.plist')}`, '--no-push'], { server });
    assert.equal(settings.code, 0, settings.stderr);

    const first = await nextCommand('FILES-1');
    // The earlier tests queued a ProfileList and a DeviceInformation for every Mac; skip them.
    let command = first;
    const seen: PlistDict[] = [];
    while (command !== null) {
      seen.push(command);
      await report(devices(), { Status: 'Acknowledged', UDID: 'FILES-1', CommandUUID: command.CommandUUID as string });
      command = await nextCommand('FILES-1');
    }
    const install = seen.find((c) => (c.Command as PlistDict).RequestType === 'InstallProfile');
    assert.deepEqual(Buffer.from((install?.Command as PlistDict).Payload as Uint8Array), profile, 'the exact bytes, as <data>');
    const sent = seen.find((c) => (c.Command as PlistDict).RequestType === 'Settings');
    assert.deepEqual((sent?.Command as PlistDict).Settings, [{ Item: 'Wallpaper', Image: new Uint8Array(wallpaper), Where: 1 }, { Item: 'Bluetooth', Enabled: false }]);

    const missing = await aspen(['send', 'FILES-1', 'InstallProfile', '--Payload', '@no-such.mobileconfig'], { server });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^aspen: --Payload @no-such\.mobileconfig: cannot read it: ENOENT/m);
  });
});
