// The PostgreSQL the bench's PostgreSQL figures run on: a throwaway cluster (initdb + pg_ctl, as
// the tests start one) with production durability (fsync on, synchronous_commit on), whose CPU —
// the server and its backends — is read from /proc like Aspen's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../src/storage/postgres/migrate.ts';
import { createTestDatabase, findPostgresBin, startCluster, type TestDatabase } from '../test/helpers/postgres.ts';
import { treeCpuSeconds } from './proc-stats.ts';

export interface BenchPostgres {
  /** A new, migrated database. */
  database(): Promise<TestDatabase>;
  /** CPU seconds the cluster has used so far. */
  cpuSeconds(): number;
  stop(): void;
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql)');
  const cluster = await startCluster(bin, { durable: true });
  const postmaster = Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    async database() {
      const db = await createTestDatabase(cluster.url, 'template0');
      const pool = new pg.Pool({ connectionString: db.url, max: 1 });
      try {
        await migrate(pool);
      } finally {
        await pool.end();
      }
      return db;
    },
    cpuSeconds: () => treeCpuSeconds(postmaster),
    stop: () => cluster.stop(),
  };
}
