// Three Aspen processes on one PostgreSQL database, as behind a load balancer: simulated devices
// send each request to a random instance, results are replayed and commands cancelled through
// other instances, and one instance is killed with kill -9 mid-run and restarted. Nothing answered
// may be lost, nothing acknowledged may be handed out again, no push may be sent twice, and the
// push certificate uploaded through one instance is used by all.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDeviceCa } from '../src/identity/index.ts';
import { decodePlistDict, encodePlist, type PlistDict } from '../src/protocol/plist.ts';
import { startAspenProcess, type AspenProcess } from './helpers/aspen-process.ts';
import { CHECKIN, REPORT, TOPIC, tokenUpdate } from './helpers/device.ts';
import { createTestDatabase, pgSkipReason, type TestDatabase } from './helpers/postgres.ts';
import { startPushRig, type PushRig } from './helpers/push-rig.ts';
import { TestDevices } from './helpers/test-devices.ts';

const API_KEY = 'multi-instance-key-0123456789';
const DEVICES = 12;
const COMMANDS = 6;

/** A small seeded generator, so a failing run can be replayed exactly. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('several instances on one PostgreSQL', { skip: pgSkipReason() }, () => {
  let database: TestDatabase;
  let rig: PushRig;
  let dir: string;
  let env: Record<string, string>;
  const instances: (AspenProcess & { url: string })[] = [];
  const pick = random(20261201);

  async function startInstance(): Promise<AspenProcess & { url: string }> {
    const process = startAspenProcess(env, dir);
    return Object.assign(process, { url: await process.listening });
  }
  const any = () => instances[Math.floor(pick() * instances.length)]!;

  before(async () => {
    database = await createTestDatabase();
    rig = await startPushRig();
    dir = mkdtempSync(join(tmpdir(), 'aspen-multi-'));
    const ca = createDeviceCa();
    writeFileSync(join(dir, 'device-ca.pem'), ca.certPem);
    env = {
      DATABASE_URL: database.url,
      API_KEY,
      DEVICE_CA: join(dir, 'device-ca.pem'),
      APNS_URL: rig.standin.url,
      APNS_CA: rig.env.APNS_CA!,
    };
    // All three at once: their migrations race for the lock.
    instances.push(...(await Promise.all([startInstance(), startInstance(), startInstance()])));
    devices = new TestDevices(() => ca);
  });
  after(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await rig?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  let devices: TestDevices;
  const admin = (instance: { url: string }, path: string, init: RequestInit = {}) =>
    fetch(`${instance.url}${path}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...init.headers } });

  /** One device request, to a random live instance; on a connection failure (an instance dying)
   *  the device sends the same bytes again elsewhere, as a real device retries until it gets a 2xx. */
  async function deviceRequest(message: PlistDict, contentType: string): Promise<{ status: number; body: Buffer }> {
    const body = encodePlist(message);
    for (let attempt = 0; ; attempt++) {
      const instance = any();
      try {
        const res = await fetch(`${instance.url}/mdm`, { method: 'PUT', body, headers: { 'content-type': contentType, ...devices.headersFor(body) } });
        const bytes = Buffer.from(await res.arrayBuffer());
        if (res.status >= 500 && attempt < 20) continue;
        return { status: res.status, body: bytes };
      } catch (err) {
        if (attempt >= 20) throw err;
      }
    }
  }

  it('uses a push certificate uploaded through one instance on every instance', async () => {
    const pem = `${rig.certs.push.certPem}\n${rig.certs.push.keyPem}`;
    const upload = await fetch(`${instances[0]!.url}/v1/pushcert`, { method: 'PUT', body: pem, headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(upload.status, 200, await upload.text());
    for (const instance of instances) {
      const shown = (await (await admin(instance, '/v1/pushcert')).json()) as { topic: string };
      assert.equal(shown.topic, rig.certs.push.topic);
      const ready = (await (await fetch(`${instance.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
      assert.equal(ready.checks.push_certificate?.ok, true);
    }
  });

  it('loses nothing, hands out nothing twice and pushes once, with results and cancels spread over instances and one kill -9', async () => {
    const ids = Array.from({ length: DEVICES }, (_, i) => `MULTI-${i}`);
    const tokens = new Map(ids.map((id, i) => [id, Buffer.from(`token-${i}`.padEnd(32, '.'))]));
    for (const id of ids) {
      assert.equal((await deviceRequest({ MessageType: 'Authenticate', UDID: id, Topic: TOPIC }, CHECKIN)).status, 200);
      assert.equal((await deviceRequest(tokenUpdate({ UDID: id }, { Token: tokens.get(id)!, Topic: rig.certs.push.topic }), CHECKIN)).status, 200);
    }

    // Queue through every instance but the uploader: each push proves that instance has the certificate.
    const uuids: string[] = [];
    for (let c = 0; c < COMMANDS; c++) {
      const res = await admin(instances[1 + (c % 2)]!, '/v1/commands', {
        method: 'POST',
        body: JSON.stringify({ targets: ids, command: { RequestType: 'ProfileList' }, command_uuid: `multi-cmd-${c}` }),
      });
      const text = await res.text();
      assert.equal(res.status, 201, text);
      const out = JSON.parse(text) as { targets: Record<string, { push?: { status: string } }> };
      assert.ok(ids.every((id) => out.targets[id]?.push?.status === 'pushed'), JSON.stringify(out));
      uuids.push(`multi-cmd-${c}`);
    }

    // Some commands are cancelled, through any instance, while the devices work.
    const cancelled = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
    const cancels = ids.filter((_, i) => i % 3 === 0).map(async (id) => {
      const uuid = uuids[COMMANDS - 1]!;
      const res = await admin(any(), `/v1/enrollments/${id}/queue/${uuid}`, { method: 'DELETE' });
      if (res.status === 200) cancelled.get(id)!.add(uuid);
    });

    const answered = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
    let acks = 0;
    let killed: Promise<void> | undefined;
    const run = async (id: string) => {
      let reply = await deviceRequest({ Status: 'Idle', UDID: id }, REPORT);
      while (reply.body.length > 0) {
        assert.equal(reply.status, 200);
        const uuid = String(decodePlistDict(reply.body).CommandUUID);
        assert.ok(!answered.get(id)!.has(uuid), `${id} was handed ${uuid} again after its result was answered`);
        const ack = { Status: 'Acknowledged', UDID: id, CommandUUID: uuid, ProfileList: [{ PayloadIdentifier: `${id}/${uuid}` }] };
        // Sometimes the answer is lost on the way: the device sends the same result again elsewhere.
        if (pick() < 0.25) await deviceRequest(ack, REPORT);
        reply = await deviceRequest(ack, REPORT);
        assert.equal(reply.status, 200);
        answered.get(id)!.add(uuid);
        if (++acks === Math.floor((DEVICES * COMMANDS) / 3)) {
          // Mid-run, the second instance dies without warning, and comes back.
          killed = (async () => {
            const victim = instances[1]!;
            await victim.crash();
            instances[1] = await startInstance();
          })();
        }
      }
    };
    await Promise.all([...ids.map(run), ...cancels]);
    await killed;
    assert.ok(killed !== undefined, 'the kill happened mid-run');

    for (const uuid of uuids) {
      const view = (await (await admin(any(), `/v1/commands/${uuid}`)).json()) as { targets: { enrollment_id: string; state: string; result: PlistDict | null }[] };
      assert.equal(view.targets.length, DEVICES);
      for (const target of view.targets) {
        const id = target.enrollment_id;
        if (answered.get(id)!.has(uuid)) {
          assert.equal(target.state, 'acknowledged', `${id} ${uuid}`);
          assert.deepEqual(target.result?.ProfileList, [{ PayloadIdentifier: `${id}/${uuid}` }]);
        } else {
          assert.ok(cancelled.get(id)!.has(uuid), `${id} ${uuid} is ${target.state}: neither answered nor cancelled`);
          assert.equal(target.state, 'cancelled');
        }
      }
    }
    for (const id of ids) {
      assert.equal(rig.requestsFor(tokens.get(id)!).length, COMMANDS, `${id}: one push per queued command, none twice`);
    }
  });
});
