// Applies the SQLite migrations the database has not seen yet. The whole run holds SQLite's write
// lock (BEGIN IMMEDIATE per migration, after re-reading what is applied), so processes starting at
// once on one file migrate once.
import type { Database } from 'better-sqlite3';
import { migrationsDir, readMigrations, type Migration } from '../migration-files.ts';

/** Returns the names of the migrations it applied. */
export function migrate(db: Database, migrations: Migration[] = readMigrations(migrationsDir('sqlite'))): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const done: string[] = [];
  for (const m of migrations) {
    const applied = db
      .transaction(() => {
        if (isApplied.get(m.version) !== undefined) return false;
        db.exec(m.sql);
        record.run(m.version, m.name, new Date().toISOString());
        return true;
      })
      .immediate();
    if (applied) done.push(m.name);
  }
  return done;
}
