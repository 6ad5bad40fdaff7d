// Identity renewal before expiry: the renewal job queues an InstallProfile carrying a fresh profile
// with the device's own one-time challenge, and pushes; the device installs it (SCEP with that
// challenge, then Authenticate with the new certificate, admitted by the renewal window), and its
// queue is kept. The report shows where each renewal stands.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodePlistDict, isDict } from '../../src/protocol/plist.ts';
import { freePort, startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { EnrollingDevice, readProfile, type ProfileContents } from '../helpers/enrolling-device.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON
const KEY = 'identity-renewal-key-0123456789';
const TOKEN = Buffer.from('feedface01', 'hex');

describe('identity renewal before expiry', () => {
  let pki: OpensslPki;
  let rig: PushRig;
  let server: TestServer;
  let signingCa: Issued;

  async function api(method: string, path: string, body?: unknown): Promise<Json> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Json;
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  before(async () => {
    pki = new OpensslPki();
    signingCa = pki.rootCa('Profile signing CA');
    const signer = pki.issue('Aspen profile signer', signingCa, { extensions: ['extendedKeyUsage=codeSigning'] });
    rig = await startPushRig();
    const port = await freePort();
    // Identities valid for two days, renewed from 1.99 days before they expire: every one is due
    // as soon as it is issued, so the test need not wait for time to pass.
    server = await startAspen({
      API_KEY: KEY,
      ...rig.env,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      IDENTITY_VALIDITY_DAYS: '2',
      IDENTITY_RENEW_BEFORE_DAYS: '1.99',
      // Signed, as production profiles are: the renewal window must open for a signed payload too.
      PROFILE_SIGNING_CERT: signer.cert,
      PROFILE_SIGNING_KEY: signer.key,
    });
  });
  after(async () => {
    await server?.close();
    await rig?.close();
    pki?.cleanup();
  });

  it('queues a fresh profile and pushes; installing it replaces the identity and keeps the queue', async () => {
    const invite = await api('POST', '/v1/enrollment-invites', { label: 'renewing' });
    const profile = readProfile(pki, Buffer.from(await (await fetch(invite.url)).arrayBuffer()), signingCa.cert);
    const device = new EnrollingDevice(pki, 'RENEW-UDID', undefined);
    assert.equal((await device.requestIdentity(profile)).certRep.pkiStatus, '0');
    const old = device.identity!;
    const topic = String(profile.mdm.Topic);
    assert.equal((await device.checkin(profile, { MessageType: 'Authenticate', Topic: topic, ProductName: 'iPad13,1' })).status, 200);
    assert.equal((await device.checkin(profile, { MessageType: 'TokenUpdate', Topic: topic, Token: TOKEN, PushMagic: 'MAGIC' })).status, 200);

    const pending = await api('POST', '/v1/commands', { targets: ['RENEW-UDID'], command: { RequestType: 'ProfileList' }, push: false });
    const status = async () => (await api('GET', '/v1/identity-renewals')).renewals.find((r: Json) => r.device_id === 'RENEW-UDID');
    const due = await status();
    assert.deepEqual([due.identity.serial, due.state, due.stuck], [old.serial, 'not-queued', false]);

    // The job: an InstallProfile queued after what was pending, and a push.
    const pushesBefore = rig.requestsFor(TOKEN).length;
    const run = await server.aspen.renewIdentities();
    assert.deepEqual(run.queued, ['RENEW-UDID']);
    assert.equal(rig.requestsFor(TOKEN).length, pushesBefore + 1, 'the device was pushed');
    const queue = (await api('GET', '/v1/enrollments/RENEW-UDID/queue')).commands.map((c: Json) => [c.command_uuid, c.request_type]);
    assert.deepEqual(queue, [[pending.command_uuid, 'ProfileList'], [`aspen-renewal-${old.serial}`, 'InstallProfile']]);
    const queued = await status();
    assert.deepEqual([queued.state, queued.stuck, queued.identity.renewal_command], ['queued', true, `aspen-renewal-${old.serial}`]);
    assert.deepEqual((await api('GET', '/v1/identity-renewals?stuck=1')).renewals.map((r: Json) => r.device_id), ['RENEW-UDID']);
    assert.deepEqual((await server.aspen.renewIdentities()).queued, [], 'queued once');

    // The device defers the pending command and is handed the renewal profile.
    const first = decodePlistDict((await device.report(profile, { Status: 'Idle' })).body);
    assert.equal(first.CommandUUID, pending.command_uuid);
    const install = decodePlistDict((await device.report(profile, { Status: 'NotNow', CommandUUID: pending.command_uuid })).body);
    assert.equal(install.CommandUUID, `aspen-renewal-${old.serial}`);
    const command = install.Command;
    assert.ok(isDict(command) && command.Payload instanceof Uint8Array);
    const renewal: ProfileContents = readProfile(pki, Buffer.from(command.Payload), signingCa.cert);
    assert.equal(renewal.signed, true);
    assert.equal(renewal.plist.PayloadIdentifier, profile.plist.PayloadIdentifier, 'it replaces the installed profile');
    for (const key of ['Topic', 'ServerURL', 'CheckInURL', 'AccessRights', 'SignMessage']) assert.deepEqual(renewal.mdm[key], profile.mdm[key], key);
    assert.deepEqual(renewal.mdm.ServerCapabilities, profile.mdm.ServerCapabilities);
    assert.notEqual(renewal.scep.Challenge, profile.scep.Challenge, 'a challenge of its own');

    // Installing it: SCEP with the device's one-time challenge, then the MDM payload re-enrolls
    // with the new identity.
    const issued = await device.requestIdentity(renewal);
    assert.equal(issued.certRep.pkiStatus, '0');
    const again = await new EnrollingDevice(pki, 'SOMEONE-ELSE', undefined).requestIdentity(renewal);
    assert.equal(again.certRep.pkiStatus, '2', 'the renewal challenge is single-use');
    assert.equal((await device.checkin(profile, { MessageType: 'Authenticate', Topic: topic, ProductName: 'iPad13,1' })).status, 200);
    assert.equal((await device.checkin(profile, { MessageType: 'TokenUpdate', Topic: topic, Token: TOKEN, PushMagic: 'MAGIC-2' })).status, 200);
    const acknowledged = await device.report(profile, { Status: 'Acknowledged', CommandUUID: `aspen-renewal-${old.serial}` });
    assert.equal(acknowledged.status, 200);
    const handedAgain = decodePlistDict((await device.report(profile, { Status: 'Idle' })).body);
    assert.equal(handedAgain.CommandUUID, pending.command_uuid, 'the queue was kept through the re-enrollment');

    const identities = (await api('GET', '/v1/identities?device_id=RENEW-UDID')).identities;
    const renewed = identities.find((i: Json) => i.serial === issued.identity!.serial);
    assert.deepEqual([renewed.renewal_of, renewed.invite_id], [old.serial, invite.id]);
    const bound = (await api('GET', '/v1/enrollments/RENEW-UDID')).identities.map((i: Json) => i.fingerprint);
    assert.ok(bound.includes(issued.identity!.fingerprint));
    assert.equal((await api('GET', '/v1/enrollments/RENEW-UDID')).invite.id, invite.id, 'still the invite that brought it');
    const after = await status();
    assert.deepEqual([after.identity.serial, after.stuck], [issued.identity!.serial, false], 'the current identity is the new one');
  });
});
