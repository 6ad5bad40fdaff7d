// The one place that knows which backends exist: opens (and migrates) the configured one.
import type { Storage } from './storage.ts';

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string; synchronous: 'FULL' | 'NORMAL' }
  | { kind: 'postgres'; url: string; poolSize: number };

export async function openStorage(database: DatabaseConfig): Promise<Storage> {
  // Loaded on use: a server on SQLite never loads node-postgres, and the other way round.
  if (database.kind === 'postgres') {
    const { PostgresStorage } = await import('./postgres/postgres-storage.ts');
    return PostgresStorage.open(database);
  }
  const { SqliteStorage } = await import('./sqlite/sqlite-storage.ts');
  return new SqliteStorage(database);
}

/** Where the database is, for logs: a SQLite path, or the PostgreSQL URL without its password. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.kind === 'sqlite') return database.path;
  const url = new URL(database.url);
  if (url.password !== '') url.password = '***';
  return url.toString();
}
