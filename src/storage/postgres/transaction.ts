// A transaction on a pooled connection, run again when PostgreSQL aborted it for a deadlock or a
// serialization conflict (both are safe to retry: nothing of it was committed).
import type { Pool, PoolClient } from 'pg';

const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 5;

export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      if (attempt < ATTEMPTS && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
      throw err;
    } finally {
      client.release();
    }
  }
}
