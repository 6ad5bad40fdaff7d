// Retention keeps the database bounded under a steady load: old results are pruned and SQLite
// reuses their pages, so the file stops growing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Retention } from '../../src/service/retention.ts';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.ts';

const DAY = 86_400_000;

describe('retention', () => {
  it('keeps the database file bounded while commands keep flowing', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-retention-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'aspen.db');
    const storage = new SqliteStorage({ path });
    t.after(() => storage.close());

    // Simulated days: each day 50 devices get 20 commands each and answer them all; results are
    // kept for 2 days.
    let day = 0;
    const clock = () => new Date(Date.UTC(2026, 0, 1) + day * DAY);
    const retention = new Retention(storage, { resultDays: 2, checkedOutDays: 2, eventDays: 2, intervalMs: DAY }, pino({ level: 'silent' }), clock);
    const devices = Array.from({ length: 50 }, (_, i) => `DEV-${i}`);
    for (const id of devices) {
      await storage.authenticate({ id, type: 'device', serialNumber: null, platform: null, osVersion: null, facts: {}, topic: 't', keepPendingCommands: false, at: clock().toISOString() });
    }
    const result = new Uint8Array(2048).fill(7);
    const sizes: number[] = [];
    for (day = 0; day < 12; day++) {
      const at = clock().toISOString();
      for (let n = 0; n < 20; n++) {
        const uuid = `d${day}-c${n}`;
        await storage.enqueue({ uuid, requestType: 'ProfileList', payload: new Uint8Array(512) }, devices, at);
        for (const id of devices) {
          await storage.recordResult({ enrollmentId: id, commandUuid: uuid, status: 'Acknowledged', raw: result, errorChain: null, at });
        }
      }
      await retention.runOnce();
      storage.db.pragma('wal_checkpoint(TRUNCATE)');
      sizes.push(statSync(path).size);
    }
    // Growth stops once pruning keeps pace (from day 3 on): the last days are no larger than day 4.
    const settled = sizes[4]!;
    assert.ok(sizes.slice(5).every((s) => s <= settled * 1.05), `file sizes by day: ${sizes.join(', ')}`);
    assert.ok(sizes[4]! > sizes[0]!, 'the first days did grow (the test measures something)');
    const kept = storage.db.prepare('SELECT count(*) FROM command_targets').pluck().get() as number;
    assert.equal(kept, 3 * 20 * devices.length, 'three days of results are kept (today and the two before)');
  });
});
