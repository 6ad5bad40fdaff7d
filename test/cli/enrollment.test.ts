// `aspen invite create|list|revoke`, `aspen profile` and `aspen identities list|revoke|renewals`
// against a real server: the profile a device installs comes out of the CLI, the device enrolls
// with it, and the identity it got is listed and revoked from the CLI.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { EnrollingDevice, readProfile } from '../helpers/enrolling-device.ts';
import { OpensslPki } from '../helpers/openssl-pki.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';
import { aspen, json, tempDir, TIME } from './run-cli.ts';

describe('aspen invite, profile and identities', () => {
  let pki: OpensslPki;
  let rig: PushRig;
  let server: TestServer;
  before(async () => {
    pki = new OpensslPki();
    rig = await startPushRig();
    const port = await freePort();
    server = await startAspen({ API_KEY: 'cli-enrollment-key-0123456789', ...rig.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  });
  after(async () => {
    await server?.close();
    await rig?.close();
    pki?.cleanup();
  });

  it('creates, lists and revokes invites', async () => {
    const created = await aspen(['invite', 'create', '--label', 'Lab Macs', '--max-uses', '2', '--days', '3', '--sets', 'lab, macs', '--tags', 'desk'], { server });
    assert.equal(created.code, 0, created.stderr);
    const url = /^url\s+(\S+)$/m.exec(created.stdout)?.[1];
    assert.match(url ?? '', new RegExp(`^${server.url}/enroll/[A-Za-z0-9_-]{43}$`));
    const id = /^id\s+(\S+)$/m.exec(created.stdout)![1]!;
    assert.match(created.stdout, /^assigns\s+sets: lab, macs; tags: desk$/m);

    const listed = await aspen(['invite', 'list'], { server });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+LABEL\s+STATE\s+USED\s+EXPIRES$/m);
    assert.match(listed.stdout, new RegExp(`^${id}\\s+Lab Macs\\s+live\\s+0/2\\s+${TIME}$`, 'm'));
    assert.doesNotMatch(listed.stdout, new RegExp(url!.split('/').at(-1)!), 'the token is never shown again');

    const revoked = await aspen(['invite', 'revoke', id], { server });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /^revoked invite .* \(Lab Macs\): used 0 of 2$/m);
    assert.deepEqual(json(await aspen(['invite', 'list', '--state', 'revoked', '--json'], { server })).invites.map((i: { id: string }) => i.id), [id]);
    const nobody = await aspen(['invite', 'revoke', 'nobody'], { server });
    assert.deepEqual([nobody.code, nobody.stderr], [1, 'aspen: no invite nobody\n']);
    const typo = await aspen(['invite', 'list', '--state', 'revokd'], { server });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean revoked\?/);
    assert.equal((await aspen(['invite', 'create', '--days', '0'], { server })).code, 2);
  });

  it('leaves no live invite behind when the profile cannot be made (no push certificate yet)', async (t) => {
    const port = await freePort();
    const bare = await startAspen({ API_KEY: 'cli-enrollment-bare-key-0123456789', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    t.after(() => bare.close());
    const file = join(tempDir(t), 'nothing.mobileconfig');
    const failed = await aspen(['profile', file, '--label', 'Too early'], { server: bare });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /no push certificate/);
    assert.equal(existsSync(file), false);
    const invites = json(await aspen(['invite', 'list', '--json'], { server: bare })).invites as { label: string; state: string }[];
    assert.deepEqual(invites.map((i) => [i.label, i.state]), [['Too early', 'revoked']], 'the invite it made is revoked, not left live');
  });

  it('writes the profile a device enrolls with, then lists, reports and revokes its identity', async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'enroll.mobileconfig');
    const written = json(await aspen(['profile', file, '--label', 'Ann', '--json'], { server }));
    assert.equal(written.file, file);
    const profile = readProfile(pki, readFileSync(file));
    assert.equal(profile.scep.Challenge, written.invite.challenge, "the new invite's challenge");

    const again = await aspen(['profile', file, '--invite', written.invite.url], { server });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; pass --force/);
    const forced = await aspen(['profile', file, '--invite', written.invite.url, '--force'], { server });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^wrote .*enroll\.mobileconfig \(\d+ bytes\)\n$/);
    assert.equal(readProfile(pki, readFileSync(file)).scep.Challenge, written.invite.challenge, 'the same invite, downloaded again');
    const open = await aspen(['profile', join(dir, 'open.mobileconfig'), '--open'], { server });
    assert.equal(open.code, 1);
    assert.match(open.stderr, /open enrollment is off/);
    assert.equal(existsSync(join(dir, 'open.mobileconfig')), false, 'nothing written on a refusal');

    const device = new EnrollingDevice(pki, 'CLI-ENROLLED');
    const { identity } = await device.requestIdentity(profile);
    assert.ok(identity);
    assert.equal((await device.checkin(profile, { MessageType: 'Authenticate', Topic: String(profile.mdm.Topic) })).status, 200);

    const listed = await aspen(['identities', 'list'], { server });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^SERIAL\s+DEVICE\s+NOT AFTER\s+STATE\s+INVITE\s+SUBJECT$/m);
    assert.match(listed.stdout, new RegExp(`^${identity.serial}\\s+CLI-ENROLLED\\s+${TIME}\\s+issued\\s+${written.invite.id}\\s+CN=Aspen enrollment `, 'm'));
    assert.deepEqual(json(await aspen(['identities', 'list', '--within-days', '1', '--json'], { server })).identities, [], 'none expires within a day');
    assert.deepEqual(json(await aspen(['identities', 'list', 'CLI-ENROLLED', '--json'], { server })).identities.map((i: { fingerprint: string }) => i.fingerprint), [identity.fingerprint]);
    assert.equal((await aspen(['identities', 'list', 'CLI-ENROLLED', '--revoked'], { server })).code, 2);

    assert.equal((await aspen(['identities', 'renewals'], { server })).stdout, 'no identity expires within that time\n');
    const report = await aspen(['identities', 'renewals', '--within-days', '400'], { server });
    assert.match(report.stdout, new RegExp(`^CLI-ENROLLED\\s+${identity.serial}\\s+${TIME}\\s+not-queued\\s+no$`, 'm'));

    const revoked = await aspen(['identities', 'revoke', identity.serial.toLowerCase()], { server });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `revoked ${identity.serial}: CLI-ENROLLED is refused from now on (other instances within IDENTITY_CACHE_SECONDS)\n`);
    assert.deepEqual(json(await aspen(['identities', 'list', '--revoked', '--json'], { server })).identities.map((i: { serial: string }) => i.serial), [identity.serial]);
    assert.equal((await device.report(profile, { Status: 'Idle' })).status, 403);
  });

  it('says what is wrong when the server has no PUBLIC_URL', async (t) => {
    const plain = await startAspen({ API_KEY: 'cli-enrollment-key-0123456789' });
    t.after(() => plain.close());
    const run = await aspen(['invite', 'create'], { server: plain });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^aspen: enrollment needs PUBLIC_URL/);
  });
});
