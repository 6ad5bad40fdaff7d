// Each backend under test, opened fresh: a SQLite file in a temp directory, or a database of its own
// on the test PostgreSQL. Shared by the contract suites.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStorage } from '../../src/storage/postgres/postgres-storage.ts';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import type { BackendUnderTest } from './contract.ts';

export async function openSqlite(): Promise<BackendUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'aspen-sqlite-'));
  const path = join(dir, 'aspen.db');
  let storage = new SqliteStorage({ path });
  return {
    storage,
    second: async () => new SqliteStorage({ path }),
    async reopen() {
      await storage.close();
      storage = new SqliteStorage({ path });
      return storage;
    },
    async destroy() {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function openPostgres(): Promise<BackendUnderTest> {
  const database = await createTestDatabase();
  const open = () => PostgresStorage.open({ url: database.url, poolSize: 4 });
  let storage = await open();
  return {
    storage,
    second: open,
    async reopen() {
      await storage.close();
      storage = await open();
      return storage;
    },
    async destroy() {
      await storage.close();
      await database.drop();
    },
  };
}
