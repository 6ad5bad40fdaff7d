// How `aspen` finds the server and its key, help output, and an unreachable server.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { aspen, tempDir } from './run-cli.ts';

const KEY = 'cli-connection-key-0123456789';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('aspen: connection and help', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen({ API_KEY: KEY });
  });
  after(() => server.close());

  it('prints the usage for no arguments, help and --help, and for one command', async () => {
    for (const args of [[], ['help'], ['--help']]) {
      const run = await aspen(args);
      assert.equal(run.code, 0);
      assert.match(run.stdout, /^usage: aspen <command> \[options\]/);
      for (const name of ['enrollments', 'show <id>', 'send <id...>', 'result <uuid>', 'queue <id>', 'push <id...>', 'config check', 'backup <file>']) {
        assert.ok(run.stdout.includes(`  ${name}`), `usage lists ${name}`);
      }
    }
    const one = await aspen(['queue', '--help']);
    assert.equal(one.code, 0);
    assert.match(one.stdout, /^usage: aspen queue <id>\nusage: aspen queue <id> --cancel <uuid>/);
    assert.equal((await aspen(['help', 'config', 'check'])).stdout.split('\n')[0], 'usage: aspen config check');

    const family = await aspen(['users', '--help']);
    assert.equal(family.code, 0, family.stderr);
    assert.match(family.stdout, /^aspen users add <name>/m);
    assert.match(family.stdout, /^aspen users list/m);
    const bare = await aspen(['users']);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^aspen: users needs a subcommand:\n\naspen users add/);

    const unknown = await aspen(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^aspen: unknown command frobnicate\n/);
  });

  it('says the server is not reachable at the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await aspen(['enrollments'], { server: { url, apiKey: KEY } });
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `aspen: the Aspen server is not reachable at ${url} (ECONNREFUSED)\n`);
  });

  it('takes the URL and key from flags over the environment', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await aspen(['enrollments', '--url', server.url, '--api-key', KEY], { server: { url, apiKey: 'wrong-key-0123456789' } });
    assert.equal(run.code, 0, run.stderr);
  });

  it('reads ASPEN_URL and API_KEY from .env, and the key from the data directory of a fresh install', async (t) => {
    const cwd = tempDir(t);
    writeFileSync(join(cwd, '.env'), `ASPEN_URL=${server.url}\nAPI_KEY=${KEY}\n`);
    assert.equal((await aspen(['enrollments'], { cwd })).code, 0);

    const fresh = tempDir(t);
    mkdirSync(join(fresh, 'data'));
    writeFileSync(join(fresh, 'data', 'api-key'), `${KEY}\n`);
    assert.equal((await aspen(['enrollments'], { cwd: fresh, env: { ASPEN_URL: server.url } })).code, 0);

    const elsewhere = tempDir(t);
    writeFileSync(join(elsewhere, 'api-key'), `${KEY}\n`);
    assert.equal((await aspen(['enrollments'], { cwd: fresh, env: { ASPEN_URL: server.url, DATA_DIR: elsewhere } })).code, 0);

    const none = await aspen(['enrollments'], { env: { ASPEN_URL: server.url } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^aspen: no API key: set API_KEY, pass --api-key/);
  });
});
