// Backups of the configured database, for the `aspen backup` and `aspen restore` commands.
// PostgreSQL has its own tools (pg_dump, pg_restore): Aspen does not wrap them.
import type { DatabaseConfig } from './open-storage.ts';

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

const NOT_SQLITE = 'the database is PostgreSQL (DATABASE_URL): use pg_dump and pg_restore (see deploy/README.md)';

/** The SQLite file a backup or restore works on; throws BackupError for a database that has none. */
function sqliteFile(database: DatabaseConfig): string {
  if (database.kind !== 'sqlite') throw new BackupError(NOT_SQLITE);
  if (database.path === ':memory:') throw new BackupError('the database is in memory (DATABASE_URL=:memory:); there is nothing to back up');
  return database.path;
}

export async function backupDatabase(database: DatabaseConfig, target: string): Promise<void> {
  const source = sqliteFile(database);
  const { backupSqlite } = await import('./sqlite/backup.ts');
  await backupSqlite(source, target);
}

export async function restoreDatabase(database: DatabaseConfig, backup: string): Promise<void> {
  const target = sqliteFile(database);
  const { restoreSqlite } = await import('./sqlite/backup.ts');
  await restoreSqlite(backup, target);
}
