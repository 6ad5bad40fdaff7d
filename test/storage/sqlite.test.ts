import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { migrationsDir, readMigrations } from '../../src/storage/migration-files.ts';
import { migrate } from '../../src/storage/sqlite/migrate.ts';
import { SqliteEventStore } from '../../src/storage/sqlite/events.ts';
import type { Write } from '../../src/storage/sqlite/group-commit.ts';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.ts';
import { openSqlite } from './backends.ts';
import { storageContract } from './contract.ts';
import { issuanceContract } from './issuance-contract.ts';

storageContract('SQLite', openSqlite);
issuanceContract('SQLite', openSqlite);

describe('SQLite specifics', () => {
  it('applies each migration once, in WAL mode with synchronous=FULL by default', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-sqlite-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'a.db');
    const first = new SqliteStorage({ path });
    assert.equal(first.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(first.db.pragma('synchronous', { simple: true }), 2, 'FULL');
    const versions = first.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    assert.deepEqual(versions, readMigrations(migrationsDir('sqlite')).map((m) => m.version));
    await first.close();
    const second = new SqliteStorage({ path, synchronous: 'NORMAL' });
    assert.equal(second.db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
    assert.equal(migrate(second.db).length, 0, 'nothing applied twice');
    await second.close();
  });

  it('rolls a failing migration back completely', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-sqlite-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const storage = new SqliteStorage({ path: join(dir, 'b.db') });
    t.after(() => storage.close());
    const broken = [{ version: 999, name: '999_broken.sql', sql: 'CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);' }];
    assert.throws(() => migrate(storage.db, broken));
    assert.equal(storage.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get(), 0);
    assert.equal(storage.db.prepare('SELECT count(*) FROM schema_migrations WHERE version = 999').pluck().get(), 0);
  });

  it('a read that writes buffered last-seen times waits for another writer without holding the thread', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-sqlite-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'c.db');
    const storage = new SqliteStorage({ path });
    t.after(() => storage.close());
    await storage.authenticate({ id: 'S1', type: 'device', serialNumber: 'SN', platform: 'macOS', osVersion: '15.1', facts: {}, topic: 't', keepPendingCommands: false, at: '2026-01-01T00:00:00.000Z' });
    assert.equal(await storage.startSession('S1', '2026-01-02T00:00:00.000Z'), true);
    // Another connection (the large-result thread, another process) holds the write lock. A
    // transaction waiting in SQLite's busy handler would sleep on this thread, and so hold this
    // connection's own reader (and every request) until the busy timeout failed it.
    const other = new BetterSqlite3(path);
    t.after(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    const read = storage.getEnrollment('S1');
    // Nothing is left in the buffer for this one to write, but the write in flight holds its answer.
    const again = storage.getEnrollment('S1');
    const settled: string[] = [];
    void read.finally(() => settled.push('read'));
    void again.finally(() => settled.push('again'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(settled, [], 'both reads wait for the write lock');
    other.exec('COMMIT');
    assert.equal((await read)?.lastSeenAt, '2026-01-02T00:00:00.000Z');
    assert.equal((await again)?.lastSeenAt, '2026-01-02T00:00:00.000Z');
  });

  it('admin, push, job and webhook writes wait for another writer without holding the thread', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-sqlite-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'w.db');
    const storage = new SqliteStorage({ path });
    t.after(() => storage.close());
    const at = '2026-01-01T00:00:00.000Z';
    await storage.authenticate({ id: 'S1', type: 'device', serialNumber: 'SN', platform: 'macOS', osVersion: '15.1', facts: {}, topic: 't', keepPendingCommands: false, at });
    const other = new BetterSqlite3(path);
    t.after(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    // Each of these once ran a transaction of its own, which slept in SQLite's busy handler on
    // this thread until the busy timeout (5 s) failed it with SQLITE_BUSY.
    const writes = {
      enqueue: storage.enqueue({ uuid: 'C1', requestType: 'DeviceInformation', payload: Buffer.from('<plist/>') }, ['S1'], at),
      audit: storage.audit.append({ at, actor: 'admin', via: 'api', accountId: null, credential: null, action: 'command.queue', method: 'POST', path: '/v1/commands', status: 201, outcome: 'ok', targets: [], details: null, clientAddress: null }),
      job: storage.scheduleJob({ key: 'k', kind: 'repush', runAt: at }),
      claim: storage.events.claimDeliveries(at, at, 4),
    };
    const settled: string[] = [];
    for (const [name, write] of Object.entries(writes)) void write.then(() => settled.push(name), () => settled.push(`${name} failed`));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(settled, [], 'the writes wait for the lock, and the event loop turns meanwhile');
    other.exec('COMMIT');
    assert.equal((await writes.enqueue).get('S1'), 'queued');
    assert.ok((await writes.audit) > 0);
    await writes.job;
    assert.deepEqual(await writes.claim, []);
    assert.deepEqual((await storage.listQueue('S1'))?.map((q) => q.commandUuid), ['C1']);
  });

  it('sends no webhook event before the WAL holding it is on disk', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-sqlite-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'e.db');
    await new SqliteStorage({ path }).close(); // migrated
    const db = new BetterSqlite3(path);
    t.after(() => db.close());
    // The store as SqliteStorage builds it, but with the WAL's fdatasync held by the test: a
    // committed event is visible before it is durable, and a power loss in between would erase an
    // event a receiver already has.
    const synced: (() => void)[] = [];
    const inTransaction: Write = async (work) => db.transaction(work).immediate();
    const events = new SqliteEventStore(db, db, inTransaction, inTransaction, () => new Promise<void>((resolve) => synced.push(resolve)));
    const at = '2026-01-01T00:00:00.000Z';
    await events.createEndpoint({ id: 'e', url: 'http://127.0.0.1:1/', secret: 's', format: 'micromdm', topics: null, includeSecrets: false, enabled: true, disabledReason: null, source: 'api', createdAt: at, updatedAt: at });
    await events.record({ id: 'ev-1', topic: 'mdm.Connect', chain: 'D1', at, data: {}, raw: null, redacted: null });
    assert.deepEqual(await events.claimDeliveries('2025-01-01T00:00:00.000Z', at, 4), [], 'nothing due yet: no sync waited for');
    const claim = events.claimDeliveries('2030-01-01T00:00:00.000Z', '2030-01-01T00:05:00.000Z', 4);
    let sent = false;
    void claim.then(() => (sent = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(synced.length, 1, 'the claim waits for a sync of everything committed before it');
    assert.equal(sent, false, 'and hands out nothing before it');
    synced[0]!();
    assert.deepEqual((await claim).map((d) => d.event.id), ['ev-1']);
  });

  it('reads the head of a queue through the partial index, not by scanning history', () => {
    const storage = new SqliteStorage({ path: ':memory:' });
    const plan = storage.db
      .prepare(`EXPLAIN QUERY PLAN SELECT c.uuid FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid
        WHERE t.enrollment_id = ? AND t.state = 'queued' ORDER BY t.seq LIMIT 1`)
      .all('x') as { detail: string }[];
    assert.ok(plan.some((p) => p.detail.includes('command_targets_queued')), JSON.stringify(plan));
    void storage.close();
  });
});
