// Check-in messages over real HTTP, with the real device fixtures where we have them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SHARED_IPAD_USER_ID } from '../../src/protocol/enrollment-id.ts';
import { decodePlistDict } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, command, enqueue, enroll, fixture, getCommand, report, TOPIC, tokenUpdate } from '../helpers/device.ts';

const IOS_UDID = String(decodePlistDict(fixture('nanomdm/mdm/testdata/Authenticate.1.plist')).UDID);
const MAC_UDID = String(decodePlistDict(fixture('nanomdm/mdm/testdata/Authenticate.2.plist')).UDID);

describe('check-ins', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen();
  });
  after(() => server.close());
  const enrollment = (id: string) => server.aspen.storage.getEnrollment(id);

  it('enrolls an iOS device from the real Authenticate and TokenUpdate messages', async () => {
    const auth = await checkin(server, fixture('nanomdm/mdm/testdata/Authenticate.1.plist'));
    assert.equal(auth.status, 200);
    assert.equal(auth.body.length, 0);
    let e = await enrollment(IOS_UDID);
    assert.equal(e?.state, 'authenticated');
    assert.equal(e?.type, 'device');
    assert.equal(e?.facts?.ProductName, 'iPad2,5');
    assert.equal(e?.platform, 'iOS');
    assert.equal(e?.osVersion, '9.3.5');

    const tu = await checkin(server, fixture('nanomdm/mdm/testdata/TokenUpdate.1.plist'));
    assert.equal(tu.status, 200);
    e = await enrollment(IOS_UDID);
    assert.equal(e?.state, 'enrolled');
    assert.ok(e?.pushMagic);
    assert.ok(e?.pushToken && e.pushToken.length > 0);
    assert.equal(e?.hasUnlockToken, true);
    assert.ok(e?.firstSeenAt && e.lastSeenAt >= e.firstSeenAt);
    assert.equal(e?.lastStatus, 'TokenUpdate');
  });

  it('enrolls a Mac on /checkin (separate CheckInURL) and keeps a stored UnlockToken when a TokenUpdate has none', async () => {
    assert.equal((await checkin(server, fixture('nanomdm/mdm/testdata/Authenticate.2.plist'), '/checkin')).status, 200);
    const unlock = Buffer.from('unlock-token-bytes');
    assert.equal((await checkin(server, tokenUpdate({ UDID: MAC_UDID }, { UnlockToken: unlock }), '/checkin')).status, 200);
    // The real macOS TokenUpdate carries no UnlockToken: it must not erase the stored one.
    assert.equal((await checkin(server, fixture('nanomdm/mdm/testdata/TokenUpdate.2.plist'), '/checkin')).status, 200);
    const e = await enrollment(MAC_UDID);
    assert.equal(e?.hasUnlockToken, true);
    assert.equal(e?.pushMagic, '888CEB39-BFFA-40F6-89FA-B60752EB63C2');
    assert.equal(e?.facts?.Model, 'iMac14,2');
    assert.equal(e?.platform, 'macOS');
  });

  it('re-enrollment (a new Authenticate) clears the stale queue', async () => {
    await enroll(server, 'REENROLL-1');
    await enqueue(server, ['REENROLL-1'], command('stale-1', 'ProfileList'));
    assert.equal((await checkin(server, { MessageType: 'Authenticate', UDID: 'REENROLL-1', Topic: TOPIC })).status, 200);
    assert.equal((await enrollment('REENROLL-1'))?.state, 'authenticated');
    assert.equal((await getCommand(server, 'stale-1')).json.targets[0]!.state, 'cancelled');
    const idle = await report(server, { Status: 'Idle', UDID: 'REENROLL-1' });
    assert.equal(idle.body.length, 0);
  });

  it('CheckOut marks the device and its user channels checked out', async () => {
    await enroll(server, 'CHECKOUT-1');
    await checkin(server, tokenUpdate({ UDID: 'CHECKOUT-1', UserID: 'U1', UserShortName: 'u', UserLongName: 'U' }));
    const res = await checkin(server, { MessageType: 'CheckOut', UDID: 'CHECKOUT-1', Topic: TOPIC });
    assert.equal(res.status, 200);
    assert.equal((await enrollment('CHECKOUT-1'))?.state, 'checked-out');
    assert.equal((await enrollment('CHECKOUT-1:U1'))?.state, 'checked-out');
  });

  it('keeps a separate queue and push credentials for a macOS user channel', async () => {
    await enroll(server, 'MAC-USERS');
    const userKeys = { UDID: 'MAC-USERS', UserID: 'A1B2-USER', UserShortName: 'ann', UserLongName: 'Ann' };
    const tu = await checkin(server, tokenUpdate(userKeys, { PushMagic: 'USER-MAGIC', Token: Buffer.from('0102', 'hex') }));
    assert.equal(tu.status, 200);
    const user = await enrollment('MAC-USERS:A1B2-USER');
    assert.equal(user?.channel, 'user');
    assert.equal(user?.type, 'user');
    assert.equal(user?.pushMagic, 'USER-MAGIC');
    assert.equal((await enrollment('MAC-USERS'))?.pushMagic, 'PUSH-MAGIC-1');

    await enqueue(server, ['MAC-USERS:A1B2-USER'], command('user-cmd', 'ProfileList'));
    assert.equal((await report(server, { Status: 'Idle', UDID: 'MAC-USERS' })).body.length, 0, 'device queue is empty');
    const userIdle = await report(server, { Status: 'Idle', ...userKeys });
    assert.equal(userIdle.plist().CommandUUID, 'user-cmd');
  });

  it('refuses a user-channel TokenUpdate for a device that never authenticated', async () => {
    const res = await checkin(server, tokenUpdate({ UDID: 'NEVER-SEEN', UserID: 'X' }));
    assert.equal(res.status, 400);
    assert.equal(await enrollment('NEVER-SEEN:X'), undefined);
  });

  it('identifies a user enrollment by EnrollmentID and a user-enrolled Mac user by EnrollmentUserID', async () => {
    const auth = await checkin(server, { MessageType: 'Authenticate', EnrollmentID: 'BYOD-1', Topic: TOPIC });
    assert.equal(auth.status, 200);
    assert.equal((await checkin(server, tokenUpdate({ EnrollmentID: 'BYOD-1' }))).status, 200);
    assert.equal((await enrollment('BYOD-1'))?.type, 'user-enrollment-device');
    const user = await checkin(server, tokenUpdate({ EnrollmentID: 'BYOD-1', EnrollmentUserID: 'EUSER', UserLongName: 'B' }));
    assert.equal(user.status, 200);
    assert.equal((await enrollment('BYOD-1:EUSER'))?.type, 'user-enrollment-user');
  });

  it('tells Shared iPad users apart by UserShortName', async () => {
    await enroll(server, 'SHARED-IPAD');
    for (const user of ['alice@example.org', 'bob@example.org']) {
      const res = await checkin(server, tokenUpdate({ UDID: 'SHARED-IPAD', UserID: SHARED_IPAD_USER_ID, UserShortName: user }));
      assert.equal(res.status, 200);
    }
    const alice = await enrollment('SHARED-IPAD:alice@example.org');
    assert.equal(alice?.type, 'shared-ipad-user');
    assert.equal((await enrollment('SHARED-IPAD:bob@example.org'))?.userShortName, 'bob@example.org');
  });

  it('escrows, returns and deletes a bootstrap token as plist data', async () => {
    await enroll(server, 'BOOTSTRAP-1');
    const token = Buffer.from('bootstrap-token-secret');
    const set = await checkin(server, { MessageType: 'SetBootstrapToken', UDID: 'BOOTSTRAP-1', BootstrapToken: token });
    assert.equal(set.status, 200);
    const got = await checkin(server, { MessageType: 'GetBootstrapToken', UDID: 'BOOTSTRAP-1' });
    assert.equal(got.status, 200);
    assert.match(got.text(), /<data>/);
    assert.deepEqual(Buffer.from(got.plist().BootstrapToken as Uint8Array), token);

    await checkin(server, { MessageType: 'SetBootstrapToken', UDID: 'BOOTSTRAP-1' });
    const none = await checkin(server, { MessageType: 'GetBootstrapToken', UDID: 'BOOTSTRAP-1' });
    assert.deepEqual(none.plist(), {});
  });

  it('declines UserAuthenticate with 410 by default, and only for a known device', async () => {
    await enroll(server, 'USERAUTH-1');
    const res = await checkin(server, { MessageType: 'UserAuthenticate', UDID: 'USERAUTH-1', UserID: 'NET-USER', UserShortName: 'net', UserLongName: 'Net' });
    assert.equal(res.status, 410);
    const stranger = await checkin(server, { MessageType: 'UserAuthenticate', UDID: 'NO-SUCH-MAC', UserID: 'U', UserShortName: 'u', UserLongName: 'U' });
    assert.equal(stranger.status, 400);
    assert.equal((await server.aspen.storage.listIdentityBindings('NO-SUCH-MAC')).length, 0, 'no certificate bound to a device that does not exist');
  });

  it('answers GetToken for a service it does not serve with 400', async () => {
    await enroll(server, 'GETTOKEN-1');
    const res = await checkin(server, { MessageType: 'GetToken', UDID: 'GETTOKEN-1', TokenServiceType: 'com.example.unknown' });
    assert.equal(res.status, 400);
    assert.match(res.text(), /TokenServiceType/);
  });

  it('answers DeclarativeManagement with a well-formed empty declaration set', async () => {
    await enroll(server, 'DDM-1');
    const tokens = await checkin(server, { MessageType: 'DeclarativeManagement', UDID: 'DDM-1', Endpoint: 'tokens' });
    assert.equal(tokens.status, 200);
    assert.match(tokens.contentType ?? '', /application\/json/);
    const sync = JSON.parse(tokens.text()) as { SyncTokens: { DeclarationsToken: string; Timestamp: string } };
    assert.ok(sync.SyncTokens.DeclarationsToken.length > 0);
    assert.ok(!Number.isNaN(Date.parse(sync.SyncTokens.Timestamp)));

    const items = JSON.parse((await checkin(server, { MessageType: 'DeclarativeManagement', UDID: 'DDM-1', Endpoint: 'declaration-items' })).text());
    assert.deepEqual(items.Declarations, { Activations: [], Assets: [], Configurations: [], Management: [] });
    assert.equal(items.DeclarationsToken, sync.SyncTokens.DeclarationsToken);

    const missing = await checkin(server, { MessageType: 'DeclarativeManagement', UDID: 'DDM-1', Endpoint: 'declaration/configuration/x' });
    assert.equal(missing.status, 404);
    const status = await checkin(server, { MessageType: 'DeclarativeManagement', UDID: 'DDM-1', Endpoint: 'status', Data: Buffer.from('{}') });
    assert.equal(status.status, 200);
    assert.equal(status.body.length, 0);
  });

  it('answers ReturnToService with Enabled=false unless configured', async () => {
    await enroll(server, 'RTS-1');
    const res = await checkin(server, { MessageType: 'ReturnToService', UDID: 'RTS-1', Topic: TOPIC });
    assert.equal(res.status, 200);
    assert.deepEqual(res.plist(), { ReturnToService: { Enabled: false } });
  });
});

describe('check-in options', () => {
  it('allows UserAuthenticate and enables Return to Service when configured', async (t) => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'aspen-rts-'));
    const wifi = join(dir, 'wifi.mobileconfig');
    writeFileSync(wifi, 'wifi-profile-bytes');
    const server = await startAspen({ USER_AUTHENTICATE: 'allow', RETURN_TO_SERVICE_WIFI_PROFILE: wifi });
    t.after(() => server.close());
    await enroll(server, 'RTS-ON');
    await checkin(server, { MessageType: 'SetBootstrapToken', UDID: 'RTS-ON', BootstrapToken: Buffer.from('bt') });

    const ua = await checkin(server, { MessageType: 'UserAuthenticate', UDID: 'RTS-ON', UserID: 'N', UserShortName: 'n', UserLongName: 'N' });
    assert.equal(ua.status, 200);
    assert.deepEqual(ua.plist(), { DigestChallenge: '' });

    const rts = (await checkin(server, { MessageType: 'ReturnToService', UDID: 'RTS-ON' })).plist().ReturnToService as Record<string, unknown>;
    assert.equal(rts.Enabled, true);
    assert.equal(Buffer.from(rts.WiFiProfileData as Uint8Array).toString(), 'wifi-profile-bytes');
    assert.equal(Buffer.from(rts.BootstrapToken as Uint8Array).toString(), 'bt');
  });
});
