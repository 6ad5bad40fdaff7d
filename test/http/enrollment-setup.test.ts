// How enrollment behaves in each setup: without PUBLIC_URL (a clear error), without a push
// certificate (409), closed (403) and open enrollment (the static challenge, a profile signed with
// PROFILE_SIGNING_CERT), and which device CAs a fresh install, an upgraded one (an EC CA from
// before) and one with DEVICE_CA trust and issue from.
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDeviceCa, deviceCaFromPem, issueDeviceCertificate } from '../../src/identity/index.ts';
import { encodePlist } from '../../src/protocol/plist.ts';
import { freePort, startAspen, TEST_BACKEND, type TestServer } from '../helpers/aspen-server.ts';
import { seedDeviceCa } from '../helpers/cached-device-ca.ts';
import { CHECKIN, put } from '../helpers/device.ts';
import { EnrollingDevice, readProfile, type Identity } from '../helpers/enrolling-device.ts';
import { MdmSigner } from '../helpers/mdm-signer.ts';
import { OpensslPki } from '../helpers/openssl-pki.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON
const KEY = 'enrollment-setup-key-0123456789';
const CHALLENGE = 'open-enrollment-challenge-0123';

async function withPublicUrl(env: Record<string, string> = {}, dataDir?: string): Promise<TestServer> {
  const port = await freePort();
  return startAspen({ API_KEY: KEY, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...env }, dataDir);
}

/** A PUT on a new connection: a restarted server on the same port has closed fetch's kept-alive ones. */
function freshPut(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const get = async (server: TestServer, path: string) => {
  const res = await fetch(server.url + path);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};
const createInvite = (server: TestServer) =>
  fetch(`${server.url}/v1/enrollment-invites`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{}' });

describe('enrollment setups', () => {
  let pki: OpensslPki;
  let rig: PushRig;
  before(async () => {
    pki = new OpensslPki();
    rig = await startPushRig();
  });
  after(async () => {
    await rig?.close();
    pki?.cleanup();
  });

  /** A device enrolled through a new invite of `server`: its identity, and its Authenticate done. */
  async function enrollThroughInvite(server: TestServer, udid: string): Promise<Identity> {
    const invite = (await (await createInvite(server)).json()) as Json;
    const profile = readProfile(pki, Buffer.from(await (await fetch(invite.url)).arrayBuffer()));
    const device = new EnrollingDevice(pki, udid);
    const { identity } = await device.requestIdentity(profile);
    assert.ok(identity, udid);
    assert.equal((await device.checkin(profile, { MessageType: 'Authenticate', Topic: String(profile.mdm.Topic) })).status, 200);
    return identity;
  }

  it('without PUBLIC_URL every enrollment endpoint says it is needed', async (t) => {
    const server = await startAspen({ API_KEY: KEY, ...rig.env });
    t.after(() => server.close());
    for (const path of ['/mdm/enroll', '/enroll/some-token', '/scep?operation=GetCACaps']) {
      const res = await get(server, path);
      assert.equal(res.status, 503, path);
      assert.match(res.text, /needs PUBLIC_URL/, path);
      assert.match(res.type ?? '', /^text\/plain/);
    }
    const invite = await createInvite(server);
    assert.equal(invite.status, 409);
    assert.match(((await invite.json()) as Json).error.message, /PUBLIC_URL/);
  });

  it('closed enrollment refuses /mdm/enroll with 403; without a push certificate a profile is a 409', async (t) => {
    const server = await withPublicUrl();
    t.after(() => server.close());
    const closed = await get(server, '/mdm/enroll');
    assert.equal(closed.status, 403);
    assert.match(closed.text, /ENROLLMENT_OPEN/);
    const invite = (await (await createInvite(server)).json()) as Json;
    const noPush = await get(server, new URL(invite.url).pathname);
    assert.equal(noPush.status, 409);
    assert.match(noPush.text, /push certificate/);
    // SCEP itself needs no push certificate: it answers with the issuing CA, the one devices trust.
    const caCert = await fetch(`${server.url}/scep?operation=GetCACert`);
    assert.equal(caCert.headers.get('content-type'), 'application/x-x509-ca-cert');
    assert.deepEqual(Buffer.from(await caCert.arrayBuffer()), new X509Certificate(server.aspen.deviceCa!.certPem).raw);
    assert.equal((await get(server, '/enroll/not-a-token')).status, 404);
  });

  it('open enrollment serves the static challenge, in a profile signed with PROFILE_SIGNING_CERT, to any number of devices', async (t) => {
    const signingCa = pki.rootCa('Profile signing CA');
    const signing = pki.issue('Aspen profile signer', signingCa, { extensions: ['extendedKeyUsage=codeSigning,emailProtection'] });
    const server = await withPublicUrl({ ...rig.env, ENROLLMENT_OPEN: 'true', ENROLLMENT_CHALLENGE: CHALLENGE, PROFILE_SIGNING_CERT: signing.cert, PROFILE_SIGNING_KEY: signing.key, SIGN_MESSAGE: 'false', ACCESS_RIGHTS: '17' });
    t.after(() => server.close());
    const res = await fetch(`${server.url}/mdm/enroll`);
    assert.equal(res.status, 200);
    const profile = readProfile(pki, Buffer.from(await res.arrayBuffer()), signingCa.cert);
    assert.equal(profile.signed, true);
    assert.equal(profile.scep.Challenge, CHALLENGE);
    assert.deepEqual([profile.mdm.SignMessage, profile.mdm.AccessRights], [false, 17]);
    assert.equal(profile.payload('com.apple.security.root'), undefined, 'no trust payload unless PROFILE_TRUST_CA');
    for (const udid of ['OPEN-1', 'OPEN-2']) {
      const device = new EnrollingDevice(pki, udid);
      const { identity } = await device.requestIdentity(profile);
      assert.ok(identity, udid);
      assert.equal((await device.checkin(profile, { MessageType: 'Authenticate', Topic: String(profile.mdm.Topic) })).status, 200);
    }
    const listed = (await (await fetch(`${server.url}/v1/identities`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as Json;
    assert.deepEqual(listed.identities.map((i: Json) => i.invite_id), [null, null]);
    const detail = (await (await fetch(`${server.url}/v1/enrollments/OPEN-1`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as Json;
    assert.equal(detail.invite, null);
  });

  it('a fresh install generates one RSA CA, which issues and is trusted', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aspen-fresh-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await withPublicUrl({}, dataDir);
    t.after(() => server.close());
    const own = server.aspen.deviceCa!;
    assert.equal(createPrivateKey(own.keyPem).asymmetricKeyType, 'rsa');
    assert.equal(readFileSync(join(dataDir, 'device-ca.pem'), 'utf8'), own.certPem);
    const caCert = Buffer.from(await (await fetch(`${server.url}/scep?operation=GetCACert`)).arrayBuffer());
    assert.deepEqual(caCert, new X509Certificate(own.certPem).raw);
  });

  it('an install with an EC device CA from before keeps trusting it and issues from an RSA CA beside it', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aspen-upgraded-'));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const legacy = createDeviceCa(new Date(), 'ec');
    writeFileSync(join(dataDir, 'device-ca.pem'), legacy.certPem);
    writeFileSync(join(dataDir, 'device-ca.key'), legacy.keyPem);
    let server = await withPublicUrl({ ...rig.env }, dataDir);
    t.after(() => server.close());
    const issuing = server.aspen.deviceCa!;
    assert.equal(createPrivateKey(issuing.keyPem).asymmetricKeyType, 'rsa');
    assert.notEqual(issuing.certPem, legacy.certPem);
    assert.equal(readFileSync(join(dataDir, 'device-ca.pem'), 'utf8'), legacy.certPem + issuing.certPem, 'the copy lists both');

    // A device enrolled under the old CA still speaks; a new one enrolls through SCEP.
    const { certPem, keyPem } = issueDeviceCertificate(deviceCaFromPem(legacy.certPem, legacy.keyPem), { commonName: 'enrolled before' });
    const old = new MdmSigner(certPem, keyPem!);
    const authenticate = encodePlist({ MessageType: 'Authenticate', UDID: 'OLD-DEVICE', Topic: rig.certs.push.topic });
    assert.equal((await put(`${server.url}/mdm`, authenticate, CHECKIN, { 'mdm-signature': old.sign(authenticate) })).status, 200);
    await enrollThroughInvite(server, 'NEW-DEVICE');

    server = await server.restart();
    assert.equal(server.aspen.deviceCa!.certPem, issuing.certPem, 'the issuing CA is kept (in the database)');
    const idle = encodePlist({ Status: 'Idle', UDID: 'OLD-DEVICE' });
    assert.equal(await freshPut(`${server.url}/mdm`, idle, { 'content-type': 'application/x-apple-aspen-mdm', 'mdm-signature': old.sign(idle) }), 200);
  });

  it('a revocation through one instance is refused by another sharing the database (at once with IDENTITY_CACHE_SECONDS=0)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-two-'));
    seedDeviceCa(dir);
    const database = TEST_BACKEND === 'postgres' ? await createTestDatabase() : undefined;
    t.after(async () => {
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });
    const shared = { ...rig.env, IDENTITY_CACHE_SECONDS: '0', ...(database && { DATABASE_URL: database.url }) };
    const a = await withPublicUrl(shared, dir);
    t.after(() => a.close());
    const b = await withPublicUrl(shared, dir);
    t.after(() => b.close());
    assert.equal(b.aspen.deviceCa!.certPem, a.aspen.deviceCa!.certPem, 'one issuing CA for both');

    const identity = await enrollThroughInvite(a, 'TWO-INSTANCES');
    const idle = encodePlist({ Status: 'Idle', UDID: 'TWO-INSTANCES' });
    const signer = new MdmSigner(identity.certPem, readFileSync(identity.keyFile, 'utf8'));
    const idleAt = (server: TestServer) => put(`${server.url}/mdm`, idle, 'application/x-apple-aspen-mdm', { 'mdm-signature': signer.sign(idle) });
    assert.equal((await idleAt(b)).status, 200, 'the other instance knows the device');

    const revoked = await fetch(`${a.url}/v1/identities/${identity.serial}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(revoked.status, 200);
    assert.equal((await idleAt(b)).status, 403);
    assert.equal((await idleAt(a)).status, 403);
  });

  it('with DEVICE_CA and PUBLIC_URL both are trusted: DEVICE_CA and the CA Aspen issues from', async (t) => {
    const externalCa = pki.rootCa('External device CA');
    const server = await withPublicUrl({ ...rig.env, DEVICE_CA: externalCa.cert });
    t.after(() => server.close());
    const external = pki.issue('external device', externalCa);
    const externalSigner = new MdmSigner(external.pem, readFileSync(external.key, 'utf8'));
    const authenticate = encodePlist({ MessageType: 'Authenticate', UDID: 'EXTERNAL-1', Topic: rig.certs.push.topic });
    assert.equal((await put(`${server.url}/mdm`, authenticate, CHECKIN, { 'mdm-signature': externalSigner.sign(authenticate) })).status, 200);
    await enrollThroughInvite(server, 'ISSUED-1');
  });
});
