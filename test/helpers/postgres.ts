// A throwaway PostgreSQL for the tests: a cluster made with initdb in a temp directory and started
// with pg_ctl on 127.0.0.1 (test/run.ts does that once per `npm test`), or the server PG_TEST_URL
// names. Each test gets a database of its own, copied from a migrated template.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The database every test database is copied from (migrated by test/run.ts). */
export const TEMPLATE_DATABASE = 'aspen_test_template';

/** The server's URL (any database on it), or undefined when the PostgreSQL suites cannot run. */
export function pgTestUrl(): string | undefined {
  const url = process.env.PG_TEST_URL;
  return url === undefined || url === '' ? undefined : url;
}

/** Why the PostgreSQL suites are skipped, for node:test's `skip` option; false when they run. */
export function pgSkipReason(): string | false {
  return pgTestUrl() === undefined ? 'no PostgreSQL: install it (postgresql) or set PG_TEST_URL' : false;
}

export function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>, base = pgTestUrl()!): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(base, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database on the server `base` names, a copy of `template` (by default the migrated
 *  test template; 'template0' for an empty one). */
export async function createTestDatabase(base = pgTestUrl()!, template = TEMPLATE_DATABASE): Promise<TestDatabase> {
  const name = `aspen_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`), base);
  return {
    url: databaseUrl(base, name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`), base).then(() => {}),
  };
}

/**
 * A bare pool on a test database, for tests that reach under the storage. pool.end() resolves once
 * its clients are told to close, not once the server has let them go, so the drop() that follows
 * (WITH FORCE) can still terminate one of them: the "terminating connection due to administrator
 * command" it then receives would be an uncaught 'error' event without this listener (the
 * storage's own pool has one too).
 */
export function barePool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {});
  return pool;
}

/** (Re)creates the template database with every migration applied. */
export async function prepareTemplate(migrateDatabase: (url: string) => Promise<void>, base = pgTestUrl()!): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  }, base);
  await migrateDatabase(databaseUrl(base, TEMPLATE_DATABASE));
}

/** The directory holding initdb and pg_ctl, if PostgreSQL is installed. */
export function findPostgresBin(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  const candidates = [
    ...(onPath ? [join(onPath, '..')] : []),
    // Debian keeps the server binaries out of PATH.
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : []),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

export interface TestCluster {
  url: string;
  stop(): void;
}

/**
 * initdb + pg_ctl in a temp directory, listening on 127.0.0.1 only, with trust authentication
 * (nothing else can reach it) and, unless `durable` (the bench measures what production does),
 * without fsync: a test cluster need not survive power loss. PostgreSQL refuses to run as root,
 * so as root it runs as the `postgres` user.
 */
export async function startCluster(bin: string, { durable = false } = {}): Promise<TestCluster & { dataDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'aspen-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    execFileSync(file, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  if (asRoot) {
    const postgres = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (postgres.status !== 0) throw new Error('running as root, and there is no postgres user to run PostgreSQL as');
    chownSync(dir, Number(postgres.stdout), Number(gid.stdout));
    chmodSync(dir, 0o700);
  }
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const fast = durable ? '' : ' -c fsync=off -c full_page_writes=off';
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=300${fast}`;
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    dataDir: data,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
