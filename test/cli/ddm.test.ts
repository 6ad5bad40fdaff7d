// `aspen ddm ...` against a real server, with a simulated device syncing what the CLI sets up.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { DdmDevice } from '../helpers/ddm-device.ts';
import { aspen, json, tempDir } from './run-cli.ts';

const PASSCODE = { Type: 'com.apple.configuration.passcode.settings', Identifier: 'com.example.passcode', Payload: { MinimumLength: 6 } };

describe('aspen ddm', () => {
  let server: TestServer;
  let device: DdmDevice;
  before(async () => {
    server = await startAspen({ API_KEY: 'cli-ddm-key-0123456789abcdef' });
    device = new DdmDevice(server, 'CLI-DDM-1');
    await device.enroll();
  });
  after(() => server?.close());

  const run = (args: string[], input?: string) => aspen(['ddm', ...args], { server, ...(input === undefined ? {} : { input }) });

  it('stores declarations, refuses bad ones with every key path, and sets them up for a device', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'passcode.json');
    writeFileSync(file, JSON.stringify(PASSCODE));
    const stored = await run(['put', file]);
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(stored.stdout, 'com.example.passcode: stored; affected enrollments notified\n');
    assert.equal((await run(['put', file])).stdout, 'com.example.passcode: unchanged (the same content is stored)\n');

    const bad = await run(['put', '-'], JSON.stringify({ ...PASSCODE, Identifier: 'com.example.bad', Payload: { MinimumLength: 'six', Colour: 'red' } }));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^aspen: com\.example\.bad: invalid declaration\n {2}Payload\.MinimumLength: .+\n {2}Payload\.Colour: .+\n$/);
    assert.equal((await run(['declarations'])).stdout, 'com.example.passcode\n');

    assert.equal((await run(['set', 'phones', '--add', 'com.example.passcode'])).stdout, 'com.example.passcode added to phones; affected enrollments notified\n');
    assert.equal((await run(['set', 'phones', '--add', 'com.example.passcode'])).stdout, 'com.example.passcode is in phones already\n');
    assert.equal((await run(['set', 'phones'])).stdout, 'com.example.passcode\n');
    assert.match((await run(['sets'])).stdout, /^SET\s+EVERY ENROLLMENT\s+DECLARATIONS\nphones\s+-\s+com\.example\.passcode\n$/);
    assert.equal((await run(['assign', 'CLI-DDM-1', 'phones'])).stdout, 'phones assigned to CLI-DDM-1; affected enrollments notified\n');

    assert.deepEqual(await device.poll(), ['DeclarativeManagement', 'DeclarativeManagement'], 'the assignment reached the device');
    assert.ok(device.held.has('com.example.passcode'));
  });

  it("shows an enrollment's declarations and status, and a declaration's enrollments", async () => {
    const status = await run(['status', 'CLI-DDM-1']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^enrollment\s+CLI-DDM-1$/m);
    assert.match(status.stdout, /^sets\s+phones$/m);
    assert.match(status.stdout, /^DECLARATION \(\* generated\)\s+KIND\s+STATE\s+REASONS$/m);
    assert.match(status.stdout, /^com\.example\.passcode\s+configuration\s+active\s+-$/m);
    assert.match(status.stdout, /^aspen\.activation\.com\.example\.passcode \*\s+activation\s+active\s+-$/m);
    assert.match(status.stdout, /^device\.operating-system\.version\s+"18\.1"\s/m);
    assert.equal(json(await run(['status', 'CLI-DDM-1', '--json'])).declarations_token, device.declarationsToken);

    const show = await run(['show', 'com.example.passcode']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^enrollments\s+0 pending, 0 out-of-date, 0 failed, 1 active, 0 inactive$/m);
    assert.match(show.stdout, /^ {4}"MinimumLength": 6$/m);
    assert.match(show.stdout, /^CLI-DDM-1\s+active\s+-$/m);

    assert.match((await run(['values', 'CLI-DDM-1', '--prefix', '.StatusItems.device.model.%'])).stdout, /^CLI-DDM-1\s+\.StatusItems\.device\.model\.family\s+iPhone$/m);
    const report = await run(['report', 'CLI-DDM-1']);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /^# report 0 \(/);
    assert.match(report.stdout, /"FullReport": true/);
    assert.equal((await run(['errors', 'CLI-DDM-1'])).stdout, 'no errors reported\n');
    const missing = await run(['report', 'NOBODY']);
    assert.deepEqual([missing.code, missing.stderr], [1, 'aspen: status report not found\n']);
  });

  it('touches, notifies, unassigns and deletes', async () => {
    assert.equal((await run(['touch', 'com.example.passcode', '--no-notify'])).stdout, 'com.example.passcode: touched; not notified (--no-notify)\n');
    assert.deepEqual(await device.poll(), [], 'no sync without a notify');
    assert.equal((await run(['notify', '--id', 'CLI-DDM-1'])).stdout, 'notified\n');
    assert.deepEqual(await device.poll(), ['DeclarativeManagement']);
    const usage = await run(['notify']);
    assert.equal(usage.code, 2);

    const inUse = await run(['delete', 'com.example.passcode']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /referenced by 1 set\(s\): phones/);
    assert.equal((await run(['unassign', 'CLI-DDM-1', 'phones'])).stdout, 'phones taken from CLI-DDM-1; affected enrollments notified\n');
    await device.poll();
    assert.equal(device.held.has('com.example.passcode'), false, 'the device dropped it');
    assert.equal((await run(['set', 'phones', '--remove', 'com.example.passcode'])).code, 0);
    assert.equal((await run(['delete', 'com.example.passcode'])).stdout, 'com.example.passcode: deleted\n');
    assert.equal((await run(['delete', 'com.example.passcode'])).stdout, 'com.example.passcode: no such declaration, nothing deleted\n');
  });

  it('assigns to every enrollment, and hosts data assets', async (t) => {
    assert.equal((await run(['assign', '--all', 'everyone'])).stdout, 'everyone assigned to every enrollment; affected enrollments notified\n');
    assert.match((await run(['sets'])).stdout, /^everyone\s+yes\s+-$/m);
    assert.equal((await run(['unassign', '--all', 'everyone'])).stdout, 'everyone taken from every enrollment; affected enrollments notified\n');
    assert.equal((await run(['unassign', 'CLI-DDM-1', '--every-set'])).stdout, 'CLI-DDM-1 had no set\n');

    const file = join(tempDir(t), 'sshd_config');
    writeFileSync(file, 'PermitRootLogin no\n');
    const upload = await run(['upload', 'sshd_config', file, '--type', 'text/plain']);
    assert.equal(upload.code, 0, upload.stderr);
    assert.match(upload.stdout, /^asset\s+sshd_config \(stored\)$/m);
    assert.match(upload.stdout, /^Hash-SHA-256\s+[0-9a-f]{64}$/m);
    assert.match(upload.stdout, /^Size\s+19$/m);
    assert.match((await run(['assets'])).stdout, /^sshd_config\s+text\/plain\s+19\s+[0-9a-f]{64}\s+\S.*\/ddm\/assets\/sshd_config$/m);
    assert.equal((await run(['remove-asset', 'sshd_config'])).stdout, 'sshd_config: deleted\n');
    const gone = await run(['remove-asset', 'sshd_config']);
    assert.deepEqual([gone.code, gone.stderr], [1, 'aspen: no asset sshd_config\n']);
  });

  it('lists the ddm commands with aspen help ddm', async () => {
    const help = await aspen(['help', 'ddm']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^aspen ddm status <enrollment>$/m);
    assert.match(help.stdout, /^aspen ddm upload <name> <file\|-> \[--type CONTENT-TYPE\]$/m);
  });
});
