// The DDM sub-store's contract on both backends (PostgreSQL skipped, loudly by test/run.ts, when
// there is none).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStorage } from '../../src/storage/postgres/postgres-storage.ts';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.ts';
import { createTestDatabase, pgSkipReason } from '../helpers/postgres.ts';
import { declarationStoreContract } from './declarations-contract.ts';

declarationStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aspen-ddm-'));
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
});

declarationStoreContract(
  'PostgreSQL',
  async () => {
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
  },
  { skip: pgSkipReason() },
);
