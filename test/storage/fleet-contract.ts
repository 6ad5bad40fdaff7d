// The fleet sub-store's contract (storage.fleet), for every backend: the overview's counts, the
// console's device search, and the live stream's read of what was seen since a position, which a
// second connection (another Aspen instance) sees as well.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Storage } from '../../src/storage/storage.ts';
import type { BackendUnderTest } from './contract.ts';

const NOW = '2026-03-01T12:00:00.000Z';
const ago = (ms: number) => new Date(Date.parse(NOW) - ms).toISOString();
const HOUR = 3_600_000;

async function device(storage: Storage, id: string, at: string, extra: { serial?: string; platform?: string; name?: string } = {}): Promise<void> {
  await storage.authenticate({
    id,
    type: 'device',
    serialNumber: extra.serial ?? null,
    platform: extra.platform ?? null,
    osVersion: null,
    facts: {},
    topic: 'com.apple.mgmt.test',
    keepPendingCommands: false,
    at,
  });
  if (extra.name !== undefined) await storage.recordInventory({ deviceId: id, values: { DeviceName: extra.name }, deviceName: extra.name, at });
}

export function fleetStoreContract(name: string, open: () => Promise<BackendUnderTest>, options: { skip?: string | false } = {}): void {
  describe(`fleet store: ${name}`, { skip: options.skip }, () => {
    let backend: BackendUnderTest;
    let storage: Storage;
    before(async () => {
      backend = await open();
      storage = backend.storage;
      await device(storage, 'DEV-A', ago(HOUR / 2), { serial: 'C02AAA', platform: 'macOS', name: 'Ada’s 100%_Mac' });
      await device(storage, 'DEV-B', ago(2 * HOUR), { serial: 'F17BBB', platform: 'iOS' });
      await device(storage, 'DEV-C', ago(40 * 24 * HOUR), { serial: 'F17CCC', platform: 'iOS' });
      await device(storage, 'DEV-D', ago(3 * 24 * HOUR));
      await storage.checkOut('DEV-D', ago(3 * 24 * HOUR));
    });
    after(() => backend.destroy());

    it('counts device channels by platform, state and how long ago they were seen', async () => {
      const summary = await storage.fleet.summary(NOW);
      assert.equal(summary.devices, 4);
      assert.deepEqual(summary.byPlatform, { macOS: 1, iOS: 2, unknown: 1 });
      assert.equal(summary.byState['checked-out'], 1);
      assert.equal(summary.byState.authenticated, 3);
      // The checked-out device is in no last-seen bucket.
      assert.deepEqual(summary.lastSeen, { hour: 1, day: 1, week: 0, month: 0, older: 1 });
    });

    it('searches serial numbers, names and ids in any case, with LIKE wildcards taken literally', async () => {
      const ids = async (search: Parameters<Storage['fleet']['devices']>[0]) => (await storage.fleet.devices(search, { limit: 10 })).map((e) => e.id);
      assert.deepEqual(await ids({ text: 'f17' }), ['DEV-B', 'DEV-C']);
      assert.deepEqual(await ids({ text: 'ada' }), ['DEV-A']);
      assert.deepEqual(await ids({ text: '100%_' }), ['DEV-A']);
      assert.deepEqual(await ids({ text: '1%m' }), []);
      assert.deepEqual(await ids({ text: 'dev-d' }), ['DEV-D']);
      assert.deepEqual(await ids({ platform: 'iOS', seenAfter: ago(24 * HOUR) }), ['DEV-B']);
      assert.deepEqual(await ids({ state: 'checked-out' }), ['DEV-D']);
      assert.deepEqual(await ids({ seenBefore: ago(24 * HOUR), state: 'authenticated' }), ['DEV-C']);
      const page = await storage.fleet.devices({}, { after: 'DEV-B', limit: 1 });
      assert.deepEqual(page.map((e) => e.id), ['DEV-C']);
    });

    it('reads what was seen since a position, in order, from another connection too', async () => {
      const since = ago(HOUR);
      const first = await storage.fleet.seen(since, undefined, 10);
      assert.deepEqual(first.map((e) => e.id), ['DEV-A']);
      const last = first.at(-1)!;
      const other = await backend.second();
      try {
        await other.recordSeen('DEV-B', 'Idle', ago(HOUR / 4));
        const next = await storage.fleet.seen(since, { lastSeenAt: last.lastSeenAt, id: last.id }, 10);
        assert.deepEqual(next.map((e) => e.id), ['DEV-B']);
        assert.equal(next[0]!.lastStatus, 'Idle');
        // Nothing new after the newest position.
        const tail = next.at(-1)!;
        assert.deepEqual(await storage.fleet.seen(since, { lastSeenAt: tail.lastSeenAt, id: tail.id }, 10), []);
      } finally {
        await other.close();
      }
    });
  });
}
