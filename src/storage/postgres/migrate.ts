// Applies the PostgreSQL migrations the database has not seen yet, each in its own transaction.
// The run holds a session advisory lock, so instances starting at once migrate once: the others
// wait, then find everything applied.
import type { Pool } from 'pg';
import { migrationsDir, readMigrations, type Migration } from '../migration-files.ts';

/** Any constant both sides agree on; "ASPN" in ASCII. */
const MIGRATION_LOCK = 0x4153504e;

/** Returns the names of the migrations it applied. */
export async function migrate(pool: Pool, migrations: Migration[] = readMigrations(migrationsDir('postgres'))): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`);
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      const done: string[] = [];
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql); // several statements: the simple query protocol takes them
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        done.push(m.name);
      }
      return done;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
