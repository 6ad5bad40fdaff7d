// Group commit on SQLite (src/storage/sqlite/group-commit.ts): what happens when a write ends the
// shared transaction itself, which no savepoint can contain. The storage contract covers the
// ordinary case (writes of one turn that fail alone) on both backends.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it, type TestContext } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { GroupCommit } from '../../src/storage/sqlite/group-commit.ts';
import { WalSync } from '../../src/storage/sqlite/wal-sync.ts';

it('a write that aborts the shared transaction fails alone; the writes before and after it are committed', async (t) => {
  const { db, insert } = fullDatabase(t);
  const writes = new GroupCommit(db);
  const settled = await Promise.allSettled([
    writes.run(() => insert.run(1).changes),
    // What SQLITE_FULL or SQLITE_IOERR do to a transaction: end it, with everything in it.
    writes.run(() => {
      insert.run(2);
      db.exec('ROLLBACK');
    }),
    writes.run(() => insert.run(3).changes),
  ]);
  assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(db.prepare('SELECT n FROM t ORDER BY n').pluck().all(), [1, 3]);
  assert.equal(db.inTransaction, false);
});

it('writes of one turn are one transaction: none is visible to another connection before all commit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aspen-group-commit-'));
  const path = join(dir, 'g.db');
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  const other = new BetterSqlite3(path, { readonly: true });
  t.after(() => {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  const committed = other.prepare('SELECT n FROM t ORDER BY n').pluck();
  const writes = new GroupCommit(db);
  const seenByOther = await Promise.all([1, 2, 3].map((n) => writes.run(() => (insert.run(n), committed.all()))));
  assert.deepEqual(seenByOther, [[], [], []]);
  assert.deepEqual(committed.all(), [1, 2, 3]);
  // The next turn is the next transaction: it sees the first one committed.
  assert.deepEqual(await writes.run(() => (insert.run(4), committed.all())), [1, 2, 3]);
});

it('a batch that finds the write lock taken tries again, and commits once it is released', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aspen-group-commit-'));
  const path = join(dir, 'g.db');
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  const other = new BetterSqlite3(path);
  t.after(() => {
    other.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const writes = new GroupCommit(db);
  other.exec('BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (1)');
  const write = writes.run(() => db.prepare('INSERT INTO t (n) VALUES (2)').run().changes);
  // Immediates run in order: by the time this one runs, the batch has found the lock taken.
  await new Promise((resolve) => setImmediate(resolve));
  other.exec('COMMIT');
  assert.equal(await write, 1);
  assert.deepEqual(db.prepare('SELECT n FROM t ORDER BY n').pluck().all(), [1, 2]);
});

it('with synchronous=FULL, a batch settles only through the WAL sync: when it fails, every write then fails, and the connection keeps FULL', async (t) => {
  const { db, insert } = fullDatabase(t);
  // /dev/full refuses fdatasync (EINVAL): a disk that cannot make the batch durable.
  const wal = new WalSync('/dev/full');
  t.after(() => wal.close());
  const writes = new GroupCommit(db, wal);
  const first = await Promise.allSettled([writes.run(() => insert.run(1)), writes.run(() => insert.run(2))]);
  assert.deepEqual(first.map((s) => s.status), ['rejected', 'rejected'], 'nobody is told a write was kept');
  assert.match(String((first[0] as PromiseRejectedResult).reason), /fdatasync of the SQLite WAL failed/);
  await assert.rejects(writes.run(() => insert.run(3)), /fdatasync/, 'a later sync proves nothing: later writes fail too');
  assert.equal(db.pragma('synchronous', { simple: true }), 2, 'the connection is back at FULL for every other transaction');
});

it('with a WAL sync, a batch is answered once synced, and the connection keeps FULL between batches', async (t) => {
  const { db, insert, path } = fullDatabase(t);
  const wal = new WalSync(`${path}-wal`);
  t.after(() => wal.close());
  const writes = new GroupCommit(db, wal);
  // Batches committed while a sync is in flight wait for the next one, which covers them.
  const results = await Promise.all(Array.from({ length: 50 }, (_, n) => (n % 10 === 0 ? new Promise((r) => setImmediate(r)) : Promise.resolve()).then(() => writes.run(() => insert.run(n).changes))));
  assert.deepEqual(results, Array(50).fill(1));
  assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 50);
  assert.equal(db.pragma('synchronous', { simple: true }), 2);
});

/** A WAL database at synchronous=FULL with one table, removed after the test. */
function fullDatabase(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'aspen-group-commit-'));
  const path = join(dir, 'g.db');
  const db = new BetterSqlite3(path);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  return { db, path, insert: db.prepare('INSERT INTO t (n) VALUES (?)') };
}
