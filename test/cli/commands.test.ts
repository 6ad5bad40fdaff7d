// `aspen send`, `result`, `queue` and `push` against a real server, checked from the device side:
// a test device polling the server must receive exactly what the CLI queued.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodePlist, type PlistDict } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { enroll, report } from '../helpers/device.ts';
import { aspen, json, tempDir, TIME } from './run-cli.ts';

const PHONE = 'PHONE-1';

describe('aspen send, result, queue and push', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen({ API_KEY: 'cli-commands-key-0123456789' });
    await enroll(server, PHONE, { ProductName: 'iPhone14,2', OSVersion: '18.1' });
    await enroll(server, 'MAC-1', { ProductName: 'Mac14,7', OSVersion: '15.1' });
  });
  after(() => server.close());

  /** What the device gets when it next polls: the command plist, or null for an empty queue. */
  async function nextCommand(udid = PHONE) {
    const res = await report(server, { Status: 'Idle', UDID: udid });
    assert.equal(res.status, 200);
    return res.body.length === 0 ? null : res.plist();
  }

  async function acknowledge(uuid: string, extra: PlistDict = {}) {
    await report(server, { Status: 'Acknowledged', UDID: PHONE, CommandUUID: uuid, ...extra });
  }

  it('sends a command built from flags, typed by the schema, and the device receives exactly that', async () => {
    const run = await aspen(['send', PHONE, 'MAC-1', 'DeviceInformation', '--Queries', 'SerialNumber,OSVersion', '--uuid', 'cli-uuid-1'], { server });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'cli-uuid-1  DeviceInformation');
    assert.match(lines[1]!, /^TARGET\s+OUTCOME\s+PUSH$/);
    assert.match(run.stdout, /^PHONE-1\s+queued\s+-$/m);
    assert.match(run.stdout, /^MAC-1\s+queued\s+-$/m);
    assert.match(run.stderr, /not pushed: push is not configured/);

    assert.deepEqual(await nextCommand(), { CommandUUID: 'cli-uuid-1', Command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber', 'OSVersion'] } });
    await acknowledge('cli-uuid-1', { QueryResponses: { SerialNumber: 'SERIAL-X', OSVersion: '18.1' } });
    assert.equal(await nextCommand(), null);
  });

  it('turns true/false into booleans and numbers into integers where the schema says so', async () => {
    const sent = json(
      await aspen(
        ['send', PHONE, 'InstallApplication', '--iTunesStoreID', '361309726', '--ManagementFlags', '1', '--InstallAsManaged', 'true', '--Identifier', '1234', '--json'],
        { server },
      ),
    );
    assert.equal(sent.targets[PHONE].status, 'queued');
    assert.deepEqual(await nextCommand(), {
      CommandUUID: sent.command_uuid,
      Command: { RequestType: 'InstallApplication', iTunesStoreID: 361309726, ManagementFlags: 1, InstallAsManaged: true, Identifier: '1234' },
    });
    await acknowledge(sent.command_uuid);

    const bad = await aspen(['send', PHONE, 'InstallApplication', '--InstallAsManaged', 'yes'], { server });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--InstallAsManaged expects true or false/);
  });

  it('sends a JSON Command dictionary and a command plist from files', async (t) => {
    const dir = tempDir(t);
    const jsonFile = join(dir, 'lock.json');
    writeFileSync(jsonFile, JSON.stringify({ RequestType: 'DeviceLock', Message: 'Call IT', PIN: '123456' }));
    const fromJson = json(await aspen(['send', PHONE, '--file', jsonFile, '--no-push', '--json'], { server }));
    assert.equal(fromJson.request_type, 'DeviceLock');
    assert.equal(fromJson.push_error, undefined, '--no-push does not try to push');
    assert.deepEqual(await nextCommand(), { CommandUUID: fromJson.command_uuid, Command: { RequestType: 'DeviceLock', Message: 'Call IT', PIN: '123456' } });
    await acknowledge(fromJson.command_uuid);

    const plistFile = join(dir, 'profiles.plist');
    writeFileSync(plistFile, encodePlist({ CommandUUID: 'plist-uuid-1', Command: { RequestType: 'ProfileList', ManagedOnly: true } }));
    const fromPlist = await aspen(['send', PHONE, '--file', plistFile], { server });
    assert.equal(fromPlist.code, 0, fromPlist.stderr);
    assert.match(fromPlist.stdout, /^plist-uuid-1 {2}ProfileList$/m);
    assert.deepEqual(await nextCommand(), { CommandUUID: 'plist-uuid-1', Command: { RequestType: 'ProfileList', ManagedOnly: true } });
    await acknowledge('plist-uuid-1');
  });

  it('shows each target with its state, timestamps and result', async () => {
    const run = await aspen(['result', 'cli-uuid-1'], { server });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^cli-uuid-1  DeviceInformation  created ${TIME}$`, 'm'));
    assert.match(run.stdout, new RegExp(`^PHONE-1  acknowledged  queued ${TIME}  updated ${TIME}$`, 'm'));
    assert.match(run.stdout, /^MAC-1 {2}queued {2}queued /m);
    assert.match(run.stdout, /^ {4}"QueryResponses": \{\n {6}"SerialNumber": "SERIAL-X",/m);

    const raw = json(await aspen(['result', 'cli-uuid-1', '--json'], { server }));
    const phone = raw.targets.find((x: { enrollment_id: string }) => x.enrollment_id === PHONE);
    assert.equal(phone.state, 'acknowledged');
    assert.deepEqual(phone.result.QueryResponses, { SerialNumber: 'SERIAL-X', OSVersion: '18.1' });

    const missing = await aspen(['result', 'no-such-uuid'], { server });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'aspen: no command no-such-uuid\n');
  });

  it('lists the queue, cancels one command and clears the rest, as a polling device sees', async () => {
    const ids: string[] = [];
    for (const type of ['ProfileList', 'CertificateList', 'SecurityInfo']) {
      ids.push(json(await aspen(['send', PHONE, type, '--no-push', '--json'], { server })).command_uuid);
    }
    const listed = await aspen(['queue', PHONE], { server });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^COMMAND UUID\s+REQUEST TYPE\s+STATE\s+QUEUED\s+NOTNOW$/m);
    assert.deepEqual(
      listed.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 3)),
      [
        [ids[0], 'ProfileList', 'queued'],
        [ids[1], 'CertificateList', 'queued'],
        [ids[2], 'SecurityInfo', 'queued'],
      ],
    );

    const cancelled = await aspen(['queue', PHONE, '--cancel', ids[0]!], { server });
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout, 'cancelled 1 command\n');
    assert.equal((await nextCommand())?.CommandUUID, ids[1], 'the cancelled command is skipped');

    const cleared = await aspen(['queue', PHONE, '--clear'], { server });
    assert.equal(cleared.stdout, 'cancelled 2 commands\n');
    assert.equal(await nextCommand(), null, 'nothing is left for the device');
    assert.deepEqual(json(await aspen(['queue', PHONE, '--json'], { server })).commands, []);

    const again = await aspen(['queue', PHONE, '--cancel', ids[0]!], { server });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `aspen: command ${ids[0]} is not pending for ${PHONE}\n`);
  });

  it('pushes, or says clearly why it cannot', async () => {
    const run = await aspen(['push', PHONE, 'MAC-1'], { server });
    // This server has no push certificate: the per-id outcome (or the error) says so, and nothing pushed is a failure.
    assert.equal(run.code, 1);
    assert.match(run.stdout + run.stderr, /push is not configured|no push certificate/);
  });

  it('fails with the API message for an invalid command, an unknown enrollment and a bad key', async () => {
    const invalid = await aspen(['send', PHONE, 'DeviceInformation', '--Queries', 'Bogus'], { server });
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^aspen: Command\.Queries\[0\]: expected one of \d+ allowed values/);

    const unknownType = await aspen(['send', PHONE, 'DeviceInfo'], { server });
    assert.equal(unknownType.code, 2, 'a RequestType the schema does not know is a bad command line');
    assert.match(unknownType.stderr, /^aspen: unknown RequestType DeviceInfo \(did you mean DeviceInformation\?\)$/m);

    const unknownKey = await aspen(['send', PHONE, 'DeviceInformation', '--Querys', 'UDID'], { server });
    assert.equal(unknownKey.code, 2);
    assert.match(unknownKey.stderr, /^aspen: DeviceInformation has no key Querys \(did you mean --Queries\?\); see aspen help DeviceInformation$/m);

    const nobody = await aspen(['send', 'NOBODY', 'ProfileList'], { server });
    assert.equal(nobody.code, 1, 'no target was queued');
    assert.match(nobody.stdout, /^NOBODY\s+unknown_enrollment\s+-$/m);
    assert.match(nobody.stderr, /^aspen: no target could take this command$/m);

    const wrongChannel = await aspen(['send', 'MAC-1', 'EnableLostMode', '--Message', 'lost'], { server });
    assert.equal(wrongChannel.code, 1);
    assert.match(wrongChannel.stdout, /^MAC-1\s+not_allowed: .*macOS/m);

    const badKey = await aspen(['enrollments'], { server: { url: server.url, apiKey: 'not-the-key-0123456789' } });
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, /^aspen: .*API key/);
    assert.equal(badKey.stdout, '');
  });

  it('refuses a bad command line with exit code 2 and the usage', async () => {
    const noArgs = await aspen(['send', PHONE], { server });
    assert.equal(noArgs.code, 2);
    assert.match(noArgs.stderr, /^aspen: expected <id\.\.\.> <RequestType> \(or -, --targets-file FILE, or a filter such as --all or --platform\)\nusage: aspen send/);
    const both = await aspen(['queue', PHONE, '--clear', '--cancel', 'x'], { server });
    assert.equal(both.code, 2);
    const unknown = await aspen(['enrollments', '--colour'], { server });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option --colour/);
  });
});
