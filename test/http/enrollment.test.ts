// The whole enrollment journey over real HTTPS, with nothing but Aspen: an admin creates an invite,
// the device downloads its profile (signed with the TLS certificate, carrying the private TLS CA),
// checks and reads it, enrolls through /scep with the payload's own values (BER envelopes, as
// Apple devices send), Authenticates with the issued certificate (Mdm-Signature), sends its
// TokenUpdate and runs a command. Then what must be refused is: a second use of a single-use
// challenge, a wrong one, a revoked invite, a revoked identity; and SCEP RenewalReq rotates one.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodePlistDict } from '../../src/protocol/plist.ts';
import { freePort, startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { EnrollingDevice, readProfile, type ProfileContents } from '../helpers/enrolling-device.ts';
import { httpsRequest, httpsTransport } from '../helpers/https-client.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON
const KEY = 'enrollment-journey-key-0123456789';
const FAILURE = '2';
const BAD_REQUEST = '2';
const BAD_CERT_ID = '4';

describe('enrollment over HTTPS with nothing but Aspen', () => {
  let pki: OpensslPki;
  let tlsCa: Issued;
  let rig: PushRig;
  let server: TestServer;
  let publicUrl: string;
  const transport = () => httpsTransport(tlsCa.pem);

  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
    const reply = await httpsRequest(`${publicUrl}${path}`, {
      ca: tlsCa.pem,
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: reply.status, json: JSON.parse(reply.body.toString()) as Json };
  }

  async function invite(body: Json = {}): Promise<Json> {
    const created = await api('POST', '/v1/enrollment-invites', body);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    return created.json;
  }

  async function profileOf(url: string): Promise<ProfileContents> {
    const reply = await httpsRequest(url, { ca: tlsCa.pem });
    assert.equal(reply.status, 200, reply.body.toString());
    return readProfile(pki, reply.body, tlsCa.cert);
  }

  /** A device enrolled through a fresh invite: identity, Authenticate, TokenUpdate. */
  async function enrolledDevice(udid: string): Promise<{ device: EnrollingDevice; profile: ProfileContents; invite: Json }> {
    const created = await invite({ label: udid });
    const profile = await profileOf(created.url);
    const device = new EnrollingDevice(pki, udid, transport());
    assert.equal((await device.requestIdentity(profile)).certRep.pkiStatus, '0');
    assert.equal((await device.checkin(profile, { MessageType: 'Authenticate', Topic: String(profile.mdm.Topic) })).status, 200);
    assert.equal((await device.checkin(profile, tokenUpdate(profile))).status, 200);
    return { device, profile, invite: created };
  }

  const tokenUpdate = (profile: ProfileContents) => ({ MessageType: 'TokenUpdate', Topic: String(profile.mdm.Topic), Token: Buffer.from('0a0b0c0d', 'hex'), PushMagic: 'MAGIC' });

  before(async () => {
    pki = new OpensslPki();
    tlsCa = pki.rootCa('Aspen test TLS CA');
    const tlsCert = pki.issue('127.0.0.1', tlsCa, { extensions: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
    rig = await startPushRig();
    const port = await freePort();
    publicUrl = `https://127.0.0.1:${port}`;
    server = await startAspen({
      API_KEY: KEY,
      ...rig.env,
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      TLS_CERT: tlsCert.cert,
      TLS_KEY: tlsCert.key,
      PROFILE_TRUST_CA: tlsCa.cert,
      PROFILE_ORGANIZATION: 'Aspen Tests',
    });
  });
  after(async () => {
    await server?.close();
    await rig?.close();
    pki?.cleanup();
  });

  it('takes a device from an invite link to managed: profile, signature, SCEP, Authenticate, TokenUpdate, a command', async () => {
    const created = await invite({ label: 'Ann’s iPhone', assign: { sets: ['staff'], tags: ['phone'] } });
    assert.match(created.url, new RegExp(`^${publicUrl}/enroll/[A-Za-z0-9_-]{43}$`));
    assert.deepEqual([created.max_uses, created.uses_left, created.state], [1, 1, 'live']);

    // The profile, as the device downloads it: signed by the TLS certificate, chaining to the CA it carries.
    const download = await httpsRequest(created.url, { ca: tlsCa.pem });
    assert.equal(download.status, 200);
    assert.equal(download.contentType, 'application/x-apple-aspen-config');
    assert.match(String(download.headers['content-disposition']), /attachment; filename=".+\.mobileconfig"/);
    const profile = readProfile(pki, download.body, tlsCa.cert);
    assert.equal(profile.signed, true);
    assert.equal(profile.plist.PayloadType, 'Configuration');
    assert.equal(profile.plist.PayloadOrganization, 'Aspen Tests');
    assert.equal(profile.plist.PayloadIdentifier, '1.0.0.127.aspen');
    assert.deepEqual(
      { URL: profile.scep.URL, Challenge: profile.scep.Challenge, Keysize: profile.scep.Keysize, KeyType: profile.scep['Key Type'], KeyUsage: profile.scep['Key Usage'] },
      { URL: `${publicUrl}/scep`, Challenge: created.challenge, Keysize: 2048, KeyType: 'RSA', KeyUsage: 5 },
    );
    assert.deepEqual((profile.scep.Subject as string[][][])[0], [['O', 'Aspen Tests']]);
    assert.match((profile.scep.Subject as string[][][])[1]![0]![1]!, /^Aspen enrollment [0-9a-f-]{36}$/, 'a subject unique to this download');
    const { PayloadUUID: _u, PayloadIdentifier: _i, PayloadDisplayName: _d, ...mdm } = profile.mdm;
    assert.deepEqual(mdm, {
      PayloadType: 'com.apple.mdm',
      PayloadVersion: 1,
      IdentityCertificateUUID: profile.scepPayloadUuid,
      Topic: rig.certs.push.topic,
      ServerURL: `${publicUrl}/mdm`,
      CheckInURL: `${publicUrl}/checkin`,
      SignMessage: true,
      AccessRights: 8191,
      CheckOutWhenRemoved: true,
      ServerCapabilities: ['com.apple.mdm.per-user-connections', 'com.apple.mdm.bootstraptoken'],
    });
    assert.deepEqual(Buffer.from(profile.payload('com.apple.security.root')!.PayloadContent as Uint8Array), tlsCa.der);
    const again = await profileOf(created.url);
    assert.notEqual(again.scepPayloadUuid, profile.scepPayloadUuid, 'each download is a profile of its own');
    assert.equal(again.plist.PayloadIdentifier, profile.plist.PayloadIdentifier, 'which replaces the one installed');
    assert.equal((await api('GET', '/v1/enrollment-invites')).json.invites.find((i: Json) => i.id === created.id).uses, 0, 'downloading uses nothing');

    // SCEP with the payload's own values, in BER as Apple devices send it.
    const device = new EnrollingDevice(pki, 'JOURNEY-UDID-1', transport());
    const { certRep, identity } = await device.requestIdentity(profile, { ber: true, digest: 'sha1' });
    assert.equal(certRep.pkiStatus, '0');
    const issued = new X509Certificate(identity!.certPem);
    assert.equal(issued.subject, `O=Aspen Tests\nCN=${(profile.scep.Subject as string[][][])[1]![0]![1]}`);
    assert.ok(issued.checkIssued(new X509Certificate(server.aspen.deviceCa!.certPem)), 'issued by the CA GetCACert returned');
    assert.ok(issued.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'for client authentication');

    assert.equal((await device.checkin(profile, { MessageType: 'Authenticate', Topic: String(profile.mdm.Topic), ProductName: 'iPhone14,2', SerialNumber: 'JOURNEY-SN' })).status, 200);
    assert.equal((await device.checkin(profile, tokenUpdate(profile))).status, 200);

    const queued = await api('POST', '/v1/commands', { targets: ['JOURNEY-UDID-1'], command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber'] } });
    assert.equal(queued.status, 201, JSON.stringify(queued.json));
    assert.equal(queued.json.targets['JOURNEY-UDID-1'].push.status, 'pushed');
    const handed = await device.report(profile, { Status: 'Idle' });
    assert.equal(handed.status, 200);
    const command = decodePlistDict(handed.body);
    assert.equal(command.CommandUUID, queued.json.command_uuid);
    const answered = await device.report(profile, { Status: 'Acknowledged', CommandUUID: queued.json.command_uuid, QueryResponses: { SerialNumber: 'JOURNEY-SN' } });
    assert.deepEqual([answered.status, answered.body.length], [200, 0]);
    const result = await api('GET', `/v1/commands/${queued.json.command_uuid}`);
    assert.equal(result.json.targets[0].state, 'acknowledged');

    // What the admin sees: the invite that brought it, the identity and its device, the invite used.
    const detail = (await api('GET', '/v1/enrollments/JOURNEY-UDID-1')).json;
    assert.deepEqual(detail.invite, { id: created.id, label: 'Ann’s iPhone', assign: { sets: ['staff'], tags: ['phone'] } });
    assert.deepEqual(detail.identities.map((i: Json) => i.fingerprint), [identity!.fingerprint]);
    const listed = (await api('GET', '/v1/identities?device_id=JOURNEY-UDID-1')).json.identities;
    assert.deepEqual(
      listed.map((i: Json) => [i.serial, i.fingerprint, i.invite_id, i.device_id, i.revoked_at]),
      [[identity!.serial, identity!.fingerprint, created.id, 'JOURNEY-UDID-1', null]],
    );
    assert.equal(listed[0].not_after, new Date(issued.validTo).toISOString());
    const used = (await api('GET', '/v1/enrollment-invites?state=used')).json.invites.find((i: Json) => i.id === created.id);
    assert.deepEqual([used.uses, used.uses_left], [1, 0]);
  });

  it('refuses a second use of a single-use challenge and a wrong challenge with FAILURE badRequest, recording nothing', async () => {
    const created = await invite();
    const profile = await profileOf(created.url);
    const first = new EnrollingDevice(pki, 'ONCE-1', transport());
    assert.equal((await first.requestIdentity(profile)).certRep.pkiStatus, '0');
    const before = (await api('GET', '/v1/identities?limit=1000')).json.identities.length;

    const second = new EnrollingDevice(pki, 'ONCE-2', transport());
    const reused = await second.requestIdentity(profile);
    assert.deepEqual([reused.certRep.pkiStatus, reused.certRep.failInfo], [FAILURE, BAD_REQUEST]);
    assert.equal(reused.identity, undefined);
    const wrong = await second.requestIdentity(profile, { challenge: 'not-the-challenge' });
    assert.deepEqual([wrong.certRep.pkiStatus, wrong.certRep.failInfo], [FAILURE, BAD_REQUEST]);
    const none = await second.requestIdentity(profile, { challenge: undefined as unknown as string });
    assert.equal(none.certRep.pkiStatus, FAILURE);
    assert.equal((await api('GET', '/v1/identities?limit=1000')).json.identities.length, before, 'no refused certificate is recorded');
    // The link of a used-up invite no longer serves a profile.
    assert.equal((await httpsRequest(created.url, { ca: tlsCa.pem })).status, 404);
  });

  it('two requests racing for the last use of an invite: exactly one gets a certificate', async () => {
    const created = await invite({ max_uses: 1 });
    const profile = await profileOf(created.url);
    const device = new EnrollingDevice(pki, 'RACER', transport());
    const client = await device.scepClient(profile);
    const messages = [1, 2].map(() => client.request({ challenge: created.challenge }));
    const replies = await Promise.all(messages.map((m) => client.send(m.der)));
    const statuses = replies.map((r) => client.readCertRep(r.body).pkiStatus).sort();
    assert.deepEqual(statuses, ['0', FAILURE]);
  });

  it('refuses a revoked invite: its link and its challenge', async () => {
    const created = await invite({ max_uses: 5 });
    const profile = await profileOf(created.url);
    const revoked = await api('DELETE', `/v1/enrollment-invites/${created.id}`);
    assert.deepEqual([revoked.status, revoked.json.state, revoked.json.uses_left], [200, 'revoked', 0]);
    assert.equal((await api('DELETE', '/v1/enrollment-invites/no-such-invite')).status, 404);
    const link = await httpsRequest(created.url, { ca: tlsCa.pem });
    assert.equal(link.status, 404);
    assert.match(link.body.toString(), /not valid/);
    const exchange = await new EnrollingDevice(pki, 'REVOKED-INVITE', transport()).requestIdentity(profile);
    assert.deepEqual([exchange.certRep.pkiStatus, exchange.certRep.failInfo], [FAILURE, BAD_REQUEST]);
  });

  it('SCEP RenewalReq rotates an identity: the new certificate speaks for the device at once, the invite is kept', async () => {
    const { device, profile, invite: brought } = await enrolledDevice('RENEWING-1');
    const old = device.identity!;
    const renewal = await device.renewIdentity(profile);
    assert.equal(renewal.certRep.pkiStatus, '0');
    assert.notEqual(renewal.identity!.serial, old.serial);
    assert.equal((await device.report(profile, { Status: 'Idle' })).status, 200, 'no Authenticate needed');
    const listed = (await api('GET', '/v1/identities?device_id=RENEWING-1')).json.identities;
    const renewed = listed.find((i: Json) => i.serial === renewal.identity!.serial);
    assert.deepEqual([renewed.renewal_of, renewed.invite_id], [old.serial, brought.id]);
  });

  it('tells a webhook of every identity issued (a renewal naming what it renews) and revoked, once each', async (t) => {
    const receiver = await startWebhookReceiver();
    t.after(() => receiver.close());
    const hook = await api('POST', '/v1/webhooks', { url: receiver.url, topics: ['identity.issued', 'identity.revoked'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.json));
    t.after(() => api('DELETE', `/v1/webhooks/${hook.json.id}`));

    const { device, profile, invite: brought } = await enrolledDevice('EVENTFUL-1');
    const first = device.identity!;
    const renewal = await device.renewIdentity(profile);
    const second = renewal.identity!;
    assert.equal((await api('POST', `/v1/identities/${second.serial}/revoke`)).status, 200);
    assert.equal((await api('POST', `/v1/identities/${second.serial}/revoke`)).status, 200, 'revoking again is no new event');

    await receiver.waitFor(() => receiver.accepted().length >= 3);
    // The first identity is issued before it belongs to any enrollment, so its event is ordered
    // apart from the device's: look events up rather than rely on their order across chains.
    const events: Json[] = receiver.accepted().map((r) => ({ topic: r.json.topic, ...(r.json.identity_event as Json) }));
    const find = (topic: string, serial: string) => events.find((e) => e.topic === topic && e.serial === serial)!;
    assert.deepEqual(events.map((e) => `${e.topic} ${e.serial}`).sort(), [`identity.issued ${first.serial}`, `identity.issued ${second.serial}`, `identity.revoked ${second.serial}`].sort());
    const issued = find('identity.issued', first.serial);
    assert.equal(issued.invite_id, brought.id);
    assert.equal(issued.fingerprint, new X509Certificate(first.certPem).fingerprint256.replaceAll(':', '').toLowerCase());
    const renewed = find('identity.issued', second.serial);
    assert.deepEqual([renewed.renewal_of, renewed.invite_id, renewed.enrollment_id], [first.serial, brought.id, 'EVENTFUL-1']);
    const revoked = find('identity.revoked', second.serial);
    assert.ok(revoked.not_after > revoked.not_before);
    assert.equal(receiver.accepted().findIndex((r) => r.json.topic === 'identity.revoked') > receiver.accepted().findIndex((r) => (r.json.identity_event as Json).serial === second.serial), true, 'in order within the device');
    // Events are written with the change, so what the endpoint has to deliver is known now.
    const deliveries = (await api('GET', `/v1/webhooks/${hook.json.id}/deliveries`)).json.deliveries as Json[];
    assert.deepEqual(deliveries.map((d) => d.topic).sort(), ['identity.issued', 'identity.issued', 'identity.revoked'], 'one revocation, one event');
  });

  it('a revoked identity is refused at once, changing nothing, and cannot be renewed', async () => {
    const { device, profile } = await enrolledDevice('REVOKED-1');
    assert.equal((await device.report(profile, { Status: 'Idle' })).status, 200);
    const serial = device.identity!.serial;
    const revoked = await api('POST', `/v1/identities/${serial}/revoke`);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.json.revoked_at);
    assert.equal((await api('POST', '/v1/identities/00DEADBEEF/revoke')).status, 404);
    assert.equal((await api('POST', '/v1/identities/not-hex/revoke')).status, 400);

    const snapshot = await snapshotStorage(server.aspen.storage);
    const idle = await device.report(profile, { Status: 'Idle' });
    assert.equal(idle.status, 403);
    assert.match(idle.body.toString(), /revoked/);
    const reauthenticate = await device.checkin(profile, { MessageType: 'Authenticate', Topic: String(profile.mdm.Topic) });
    assert.equal(reauthenticate.status, 403, 'not even as a re-enrollment');
    assert.equal(await snapshotStorage(server.aspen.storage), snapshot, 'the refused requests changed nothing');
    const renewal = await device.renewIdentity(profile);
    assert.deepEqual([renewal.certRep.pkiStatus, renewal.certRep.failInfo], [FAILURE, BAD_CERT_ID]);
    assert.deepEqual((await api('GET', '/v1/enrollments/REVOKED-1')).json.identities, []);
  });
});
