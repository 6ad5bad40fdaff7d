// The PostgreSQL backend: the storage contract (with its concurrency cases across connections),
// migrations under a lock, and the indexes every queue query needs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { migrationsDir, readMigrations } from '../../src/storage/migration-files.ts';
import { migrate } from '../../src/storage/postgres/migrate.ts';
import { barePool, createTestDatabase, pgSkipReason } from '../helpers/postgres.ts';
import { openPostgres } from './backends.ts';
import { storageContract } from './contract.ts';
import { issuanceContract } from './issuance-contract.ts';

const skip = pgSkipReason();

storageContract('PostgreSQL', openPostgres, { skip });
issuanceContract('PostgreSQL', openPostgres, { skip });

describe('PostgreSQL specifics', { skip }, () => {
  it('migrates once when instances start at once, and rolls a failing migration back', async (t) => {
    const database = await createTestDatabase();
    const pools = [1, 2, 3].map(() => barePool(database.url, 2));
    t.after(async () => {
      await Promise.all(pools.map((p) => p.end()));
      await database.drop();
    });
    // The template is migrated already: start from nothing to see the lock at work.
    await pools[0]!.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    const applied = await Promise.all(pools.map((p) => migrate(p)));
    const all = readMigrations(migrationsDir('postgres')).map((m) => m.name);
    assert.deepEqual(applied.flat().sort(), all.sort(), 'each migration applied exactly once');

    const broken = [{ version: 999, name: '999_broken.sql', sql: 'CREATE TABLE half (x int); INSERT INTO nowhere VALUES (1);' }];
    await assert.rejects(migrate(pools[0]!, broken));
    assert.equal((await pools[0]!.query(`SELECT to_regclass('half') AS t`)).rows[0].t, null);
    assert.equal((await pools[0]!.query('SELECT count(*)::int AS n FROM schema_migrations WHERE version = 999')).rows[0].n, 0);
  });

  it('answers every queue query from an index with 1,000,000 queued rows', async (t) => {
    const database = await createTestDatabase();
    const db = barePool(database.url, 1);
    t.after(async () => {
      await db.end();
      await database.drop();
    });
    // 10,000 enrollments with 100 queued commands each, written set-based (foreign-key triggers
    // off while seeding: the rows are consistent by construction, and it is several times faster).
    await db.query('SET session_replication_role = replica');
    await db.query(`INSERT INTO enrollments (id, device_id, channel, type, state, first_seen_at, last_seen_at, last_status)
      SELECT 'E' || i, 'E' || i, 'device', 'device', 'enrolled', now(), now(), 'Idle' FROM generate_series(1, 10000) i`);
    await db.query(`INSERT INTO commands (uuid, request_type, payload, created_at)
      SELECT 'C' || i, 'ProfileList', '\\x00', now() FROM generate_series(1, 100) i`);
    await db.query(`INSERT INTO command_targets (enrollment_id, command_uuid, state, queued_at, updated_at)
      SELECT 'E' || e, 'C' || c, 'queued', now(), now() FROM generate_series(1, 10000) e, generate_series(1, 100) c`);
    await db.query('ANALYZE');
    const plan = async (sql: string, values: unknown[]) =>
      JSON.stringify((await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, values)).rows[0]['QUERY PLAN']);
    const queries: [string, string, unknown[]][] = [
      ['next command', `SELECT c.uuid FROM command_targets t JOIN commands c ON c.uuid = t.command_uuid WHERE t.enrollment_id = $1 AND t.state = 'queued' ORDER BY t.seq LIMIT 1`, ['E5']],
      ['deferred', `SELECT 1 FROM command_targets WHERE enrollment_id = $1 AND state = 'notnow' LIMIT 1`, ['E5']],
      ['a result', `SELECT seq FROM command_targets WHERE enrollment_id = $1 AND command_uuid = $2`, ['E5', 'C7']],
      ['queue', `SELECT * FROM command_targets WHERE enrollment_id = $1 AND state IN ('queued', 'notnow') ORDER BY seq`, ['E5']],
      ['history', `SELECT * FROM command_targets WHERE enrollment_id = $1 ORDER BY seq DESC LIMIT 100`, ['E5']],
      ['targets of a command', `SELECT * FROM command_targets WHERE command_uuid = $1 AND enrollment_id > $2 ORDER BY enrollment_id LIMIT 100`, ['C7', 'E5']],
    ];
    for (const [what, sql, values] of queries) {
      const p = await plan(sql, values);
      assert.doesNotMatch(p, /"Seq Scan"[^}]*"command_targets"/, `${what} scans command_targets: ${p}`);
      assert.match(p, /Index/, `${what} uses an index: ${p}`);
    }
  });
});
