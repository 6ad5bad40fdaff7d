// Aspen killed with kill -9 while deliveries are in flight: after a restart, every event of every
// answered device request still reaches the receiver (at least once: it dedupes by id), in order.
// On SQLite, and on PostgreSQL when the suite has one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createDeviceCa } from '../src/identity/index.ts';
import { encodePlist, type PlistDict } from '../src/protocol/plist.ts';
import { startAspenProcess } from './helpers/aspen-process.ts';
import { CHECKIN, put, REPORT, TOPIC, tokenUpdate } from './helpers/device.ts';
import { createTestDatabase, pgSkipReason } from './helpers/postgres.ts';
import { TestDevices } from './helpers/test-devices.ts';
import { startWebhookReceiver } from './helpers/webhook-receiver.ts';

const backends = [
  { name: 'SQLite', skip: false as const, database: async () => ({ env: {}, drop: async () => {} }) },
  {
    name: 'PostgreSQL',
    skip: pgSkipReason(),
    database: async () => {
      const db = await createTestDatabase();
      return { env: { DATABASE_URL: db.url }, drop: db.drop };
    },
  },
];

for (const backend of backends) {
  describe(`webhooks across a kill -9 (${backend.name})`, { skip: backend.skip }, () => {
    it('delivers every answered request’s event after the restart, each chain in order', async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'aspen-crash-'));
      const receiver = await startWebhookReceiver();
      const database = await backend.database();
      t.after(async () => {
        await receiver.close();
        await database.drop();
        rmSync(dir, { recursive: true, force: true });
      });
      const ca = createDeviceCa();
      writeFileSync(join(dir, 'device-ca.pem'), ca.certPem);
      const env = {
        ...database.env,
        API_KEY: 'crash-test-key-0123456789',
        DEVICE_CA: join(dir, 'device-ca.pem'),
        WEBHOOK_URL: receiver.url,
        // A claim is held six times the timeout: the restarted instance takes the lost ones over soon.
        WEBHOOK_TIMEOUT_SECONDS: '1',
      };
      const devices = new TestDevices(() => ca);
      const send = (url: string, message: PlistDict, contentType: string) => {
        const body = encodePlist(message);
        return put(`${url}/mdm`, body, contentType, devices.headersFor(body));
      };

      // The receiver takes deliveries but never answers: they are in flight when Aspen dies.
      receiver.answer = () => 'hold';
      const first = startAspenProcess(env, dir);
      const url = await first.listening;
      const udids = ['CRASH-1', 'CRASH-2'];
      for (const udid of udids) {
        assert.equal((await send(url, { MessageType: 'Authenticate', UDID: udid, Topic: TOPIC }, CHECKIN)).status, 200);
        assert.equal((await send(url, tokenUpdate({ UDID: udid }), CHECKIN)).status, 200);
        for (let i = 0; i < 3; i++) assert.equal((await send(url, { Status: 'Idle', UDID: udid }, REPORT)).status, 200);
      }
      await receiver.waitFor(() => receiver.received.length >= 2);
      await first.crash();

      receiver.answer = () => ({ status: 204 });
      receiver.release(503);
      const second = startAspenProcess(env, dir);
      t.after(() => second.stop());
      await second.listening;
      const accepted = (udid: string) => {
        const byId = new Map<string, number>();
        for (const r of receiver.accepted()) {
          const event = (r.json.checkin_event ?? r.json.acknowledge_event) as { udid?: string } | undefined;
          if (event?.udid === udid) byId.set(String(r.json.event_id), Number(r.json.sequence));
        }
        return [...byId.values()];
      };
      await receiver.waitFor(() => udids.every((u) => accepted(u).length === 5));
      for (const udid of udids) assert.deepEqual(accepted(udid), [1, 2, 3, 4, 5], `${udid}: every event, in order`);
    });
  });
}
