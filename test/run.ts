// `npm test`: every test file on the embedded SQLite default, then the HTTP suites (test/http/)
// again on PostgreSQL. PostgreSQL is a throwaway cluster started here (initdb + pg_ctl in a temp
// directory) whenever its binaries are installed, or the server PG_TEST_URL names; without either,
// the PostgreSQL suites are skipped and this says so loudly.
//
//   npm test                      everything
//   npm test -- test/http/x.test.ts ...   just these files (HTTP ones on both backends)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import pg from 'pg';
import { migrate } from '../src/storage/postgres/migrate.ts';
import { findPostgresBin, pgTestUrl, prepareTemplate, startCluster, type TestCluster } from './helpers/postgres.ts';

const ROOT = join(import.meta.dirname, '..');
const HTTP_SUITES = 'test/http/';

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : testFiles(path);
      return name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
    })
    .sort();
}

function runTests(files: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { cwd: ROOT, env, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

const LOUD = (why: string) =>
  `\n${'!'.repeat(78)}\n!! PostgreSQL suites SKIPPED: ${why}\n!! Install PostgreSQL (Debian: apt-get install postgresql) or set PG_TEST_URL.\n${'!'.repeat(78)}\n`;

const files = process.argv.length > 2 ? process.argv.slice(2) : testFiles(join(ROOT, 'test'));
const env: NodeJS.ProcessEnv = { ...process.env };
let cluster: TestCluster | undefined;
let skipped: string | undefined;
if (pgTestUrl() === undefined) {
  const bin = findPostgresBin();
  if (bin === undefined) skipped = 'no PostgreSQL server binaries (initdb, pg_ctl) found';
  else {
    try {
      cluster = await startCluster(bin);
      env.PG_TEST_URL = process.env.PG_TEST_URL = cluster.url;
    } catch (err) {
      skipped = `starting a throwaway cluster failed: ${(err as Error).message}`;
    }
  }
}
const stop = () => cluster?.stop();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (stop(), process.exit(1)));

let status = 1;
try {
  if (skipped === undefined) {
    await prepareTemplate(async (url) => {
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      try {
        await migrate(pool);
      } finally {
        await pool.end();
      }
    });
  } else console.error(LOUD(skipped));
  status = await runTests(files, env);
  const http = files.filter((f) => f.startsWith(HTTP_SUITES));
  if (skipped === undefined && http.length > 0) {
    console.log(`\n# the HTTP suites again, on PostgreSQL (${cluster ? 'throwaway cluster' : 'PG_TEST_URL'})\n`);
    status = Math.max(status, await runTests(http, { ...env, ASPEN_TEST_BACKEND: 'postgres' }));
  }
  if (skipped !== undefined) console.error(LOUD(skipped));
} finally {
  stop();
}
process.exit(status);
