// WORKERS=2: two server processes on one port sharing one SQLite database (src/cluster.ts). Devices
// run the command loop over a new connection per request, so the connections are spread over
// both workers; every command must be handed out and answered exactly once, a worker killed with
// kill -9 is replaced, and a SIGTERM to the primary stops everything.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDeviceCa } from '../src/identity/index.ts';
import { decodePlistDict, encodePlist, type PlistDict } from '../src/protocol/plist.ts';
import { startAspenProcess, type AspenProcess } from './helpers/aspen-process.ts';
import { CHECKIN, REPORT, TOPIC, tokenUpdate } from './helpers/device.ts';
import { TestDevices } from './helpers/test-devices.ts';

const API_KEY = 'workers-test-key-0123456789';
const DEVICES = 16;
const COMMANDS = 4;

describe('WORKERS=2 on one SQLite database', () => {
  let dir: string;
  let aspen: AspenProcess;
  let url: string;
  let devices: TestDevices;

  /** Resolves once the output satisfies `done` (checked on every chunk the process writes). */
  function outputUntil(done: (out: string) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(aspen.output())) return;
        aspen.child.stdout!.off('data', check);
        resolve();
      };
      aspen.child.stdout!.on('data', check);
      void aspen.exited.then((code) => reject(new Error(`aspen exited (${code}):\n${aspen.output()}`)));
      check();
    });
  }
  const logLines = () =>
    aspen
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; pid: number; workerPid?: number });
  const serving = () => logLines().filter((l) => l.msg === 'worker serving');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aspen-workers-'));
    const ca = createDeviceCa();
    writeFileSync(join(dir, 'device-ca.pem'), ca.certPem);
    devices = new TestDevices(() => ca);
    aspen = startAspenProcess({ WORKERS: '2', API_KEY, DATA_DIR: join(dir, 'data'), DEVICE_CA: join(dir, 'device-ca.pem') }, dir);
    url = await aspen.listening;
    await outputUntil(() => serving().length === 2);
  });
  after(async () => {
    await aspen?.crash();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One device request on a connection of its own (the cluster spreads connections, not requests). */
  function deviceRequest(message: PlistDict, contentType: string): Promise<{ status: number; body: Buffer }> {
    const body = Buffer.from(encodePlist(message));
    return new Promise((resolve, reject) => {
      const req = request(`${url}/mdm`, { method: 'PUT', agent: false, headers: { 'content-type': contentType, ...devices.headersFor(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...init.headers } });

  async function queue(ids: string[], uuids: string[]): Promise<void> {
    for (const uuid of uuids) {
      const res = await admin('/v1/commands', { method: 'POST', body: JSON.stringify({ targets: ids, command: { RequestType: 'ProfileList' }, command_uuid: uuid, push: false }) });
      assert.equal(res.status, 201, await res.text());
    }
  }

  /** Runs a device's loop until it is handed nothing; returns the commands it answered, in order. */
  async function drain(id: string): Promise<string[]> {
    const answered: string[] = [];
    let reply = await deviceRequest({ Status: 'Idle', UDID: id }, REPORT);
    while (reply.body.length > 0) {
      assert.equal(reply.status, 200, reply.body.toString());
      const uuid = String(decodePlistDict(reply.body).CommandUUID);
      assert.ok(!answered.includes(uuid), `${id} was handed ${uuid} again after answering it`);
      reply = await deviceRequest({ Status: 'Acknowledged', UDID: id, CommandUUID: uuid, ProfileList: [{ PayloadIdentifier: `${id}/${uuid}` }] }, REPORT);
      answered.push(uuid);
    }
    assert.equal(reply.status, 200);
    return answered;
  }

  async function assertAllAnswered(ids: string[], uuids: string[], answered: string[][]): Promise<void> {
    for (const [i, id] of ids.entries()) assert.deepEqual([...answered[i]!].sort(), [...uuids].sort(), `${id}: each command once`);
    for (const uuid of uuids) {
      const view = (await (await admin(`/v1/commands/${uuid}`)).json()) as { targets: { enrollment_id: string; state: string; result: PlistDict | null }[] };
      assert.equal(view.targets.length, ids.length);
      for (const target of view.targets) {
        assert.equal(target.state, 'acknowledged', `${target.enrollment_id} ${uuid}`);
        assert.deepEqual(target.result?.ProfileList, [{ PayloadIdentifier: `${target.enrollment_id}/${uuid}` }]);
      }
    }
  }

  const ids = Array.from({ length: DEVICES }, (_, i) => `WORKERS-${i}`);

  it('serves the command loop from both workers, losing nothing and handing nothing out twice', async () => {
    await Promise.all(
      ids.map(async (id) => {
        assert.equal((await deviceRequest({ MessageType: 'Authenticate', UDID: id, Topic: TOPIC }, CHECKIN)).status, 200);
        assert.equal((await deviceRequest(tokenUpdate({ UDID: id }), CHECKIN)).status, 200);
      }),
    );
    const uuids = Array.from({ length: COMMANDS }, (_, c) => `workers-cmd-${c}`);
    await queue(ids, uuids);
    await assertAllAnswered(ids, uuids, await Promise.all(ids.map(drain)));
    const servedBy = new Set(logLines().filter((l) => l.msg === 'device request').map((l) => l.pid));
    assert.equal(servedBy.size, 2, `device requests served by ${[...servedBy].join(', ')}`);
  });

  it('replaces a worker killed with kill -9, and keeps serving', async () => {
    const victim = serving()[0]!.workerPid!;
    process.kill(victim, 'SIGKILL');
    await outputUntil(() => logLines().some((l) => l.msg === 'worker died; starting another' && l.workerPid === victim) && serving().length === 3);
    const uuids = ['workers-after-kill-0', 'workers-after-kill-1'];
    await queue(ids, uuids);
    await assertAllAnswered(ids, uuids, await Promise.all(ids.map(drain)));
  });

  it('stops every worker on SIGTERM to the primary', async () => {
    const workers = serving().map((l) => l.workerPid!);
    assert.equal(await aspen.stop(), 0, aspen.output());
    const alive = workers.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(alive, [], 'no worker outlives the primary');
    assert.equal(logLines().filter((l) => l.msg === 'stopped').length, 2, 'the two live workers shut down cleanly');
  });
});
