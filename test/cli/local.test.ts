// The commands that work on the installation itself: `aspen config check`, `aspen backup` and `aspen restore`.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { generateApnsTestCertificates } from '../helpers/apns-certs.ts';
import { startAspen } from '../helpers/aspen-server.ts';
import { enroll, report } from '../helpers/device.ts';
import { UnusableSetups, type UnusableSetup } from '../helpers/unusable-setups.ts';
import { aspen, tempDir } from './run-cli.ts';

describe('aspen config check', () => {
  it('prints each variable with its effective value, from the environment and .env, secrets masked', async (t) => {
    const cwd = tempDir(t);
    const certs = await generateApnsTestCertificates();
    writeFileSync(join(cwd, 'push.crt'), certs.push.certPem);
    writeFileSync(join(cwd, 'push.key'), certs.push.keyPem);
    const key = 'config-check-secret-key-0123456789';
    // Port 0 (the kernel's choice) is always free, so only the values are checked here.
    writeFileSync(join(cwd, '.env'), `HOST=127.0.0.1\nPORT=0\nAPI_KEY=${key}\nLOG_LEVEL=warn\nAPNS_CERT=push.crt\nAPNS_KEY=push.key\n`);
    const run = await aspen(['config', 'check'], { cwd, env: { LOG_LEVEL: 'debug' } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^PORT\s+0$/m);
    assert.match(run.stdout, /^LOG_LEVEL\s+debug$/m, 'the environment wins over .env');
    assert.match(run.stdout, /^SQLITE_SYNCHRONOUS\s+FULL \(default\)$/m);
    assert.match(run.stdout, /^DATA_DIR\s+\S+\/data \(default\)$/m);
    assert.match(run.stdout, /^DATABASE_URL\s+\S+\/data\/aspen\.db \(default: in DATA_DIR; created on first start\)$/m);
    assert.match(run.stdout, /^API_KEY\s+conf\*+ \(34 characters\)$/m);
    assert.ok(!run.stdout.includes(key), 'the API key itself is never printed');
    assert.match(run.stdout, new RegExp(`^APNS_CERT\\s+push\\.crt: topic ${certs.push.topic.replaceAll('.', '\\.')}, expires \\S+Z$`, 'm'));
    assert.match(run.stdout, /^APNS_KEY\s+push\.key$/m);
    assert.ok(!run.stdout.includes('PRIVATE KEY'), 'key material is never printed');
    assert.ok(!/^[a-z]+[A-Z.]/m.test(run.stdout), 'no internal setting names (databasePath, apns.certificate...)');
    assert.match(run.stdout, /^configuration ok$/m);
  });

  it('prints the one-line error and exits 1 for a bad value, from the environment or .env', async (t) => {
    const run = await aspen(['config', 'check'], { env: { PORT: 'ninety' } });
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^aspen: invalid configuration: PORT: [^\n]+\n$/);

    const cwd = tempDir(t);
    writeFileSync(join(cwd, '.env'), 'API_KEY=short\n');
    const fromFile = await aspen(['config', 'check'], { cwd });
    assert.equal(fromFile.code, 1);
    assert.equal(fromFile.stderr, 'aspen: invalid configuration: API_KEY: must be at least 16 characters\n');
  });

  describe('fails for what would stop the server from starting', () => {
    const unusable = new UnusableSetups();
    let setups: UnusableSetup[];
    before(async () => {
      setups = await unusable.setups();
    });
    after(() => unusable.cleanup());

    it('a port in use, a mismatched TLS key, an empty DEVICE_CA, an expired APNS_CERT: one line naming the variable', async () => {
      for (const setup of setups) {
        const run = await aspen(['config', 'check'], { env: setup.env });
        assert.equal(run.code, 1, `${setup.name}: ${run.stdout}`);
        assert.equal(run.stdout, '');
        assert.match(run.stderr, new RegExp(`^aspen: invalid configuration: ${setup.variable}: [^\\n]+\\n$`), setup.name);
        assert.match(run.stderr, setup.says, setup.name);
      }
    });
  });
});

describe('aspen backup', () => {
  it('copies the database consistently while the server keeps writing', async (t) => {
    const server = await startAspen();
    t.after(() => server.close());
    const udids = ['BK-1', 'BK-2', 'BK-3'];
    for (const udid of udids) await enroll(server, udid, { ProductName: 'iPhone14,2', OSVersion: '18.1' });

    // The writer: queues commands back to back until the backup is done.
    let writes = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        const res = await fetch(`${server.url}/v1/commands`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ targets: udids, command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber'] }, push: false }),
        });
        assert.equal(res.status, 201);
        writes++;
      }
    })();

    const dir = tempDir(t);
    const file = join(dir, 'aspen-backup.db');
    try {
      while (writes < 20) await new Promise((r) => setTimeout(r, 10));
      const writesBefore = writes;
      const run = await aspen(['backup', file], { env: { DATA_DIR: server.dataDir } });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^backed up \S+aspen\.db to \S+aspen-backup\.db \(\d+\.\d KiB\)\n$/);
      assert.ok(writes > writesBefore, 'the server kept writing during the backup');
    } finally {
      stop = true;
      await writer;
    }

    assert.ok(!existsSync(`${file}-wal`), 'the backup is one self-contained file');
    const copy = new BetterSqlite3(file, { readonly: true });
    t.after(() => copy.close());
    assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
    assert.equal(copy.pragma('journal_mode', { simple: true }), 'delete');
    const ids = copy.prepare('SELECT id FROM enrollments ORDER BY id').all() as { id: string }[];
    assert.deepEqual(ids.map((r) => r.id), udids);
    const commands = (copy.prepare('SELECT count(*) AS n FROM commands').get() as { n: number }).n;
    assert.ok(commands >= 20 && commands <= writes, `a snapshot: ${commands} of ${writes} commands`);
    // Each command is in the copy with all its targets, or not at all.
    const partial = copy.prepare('SELECT count(*) AS n FROM (SELECT command_uuid FROM command_targets GROUP BY command_uuid HAVING count(*) <> 3)').get() as { n: number };
    assert.equal(partial.n, 0);
  });

  it('refuses to overwrite a file unless --force, and needs a database', async (t) => {
    const server = await startAspen();
    t.after(() => server.close());
    const dir = tempDir(t);
    const file = join(dir, 'existing.db');
    writeFileSync(file, 'not a database');

    const refused = await aspen(['backup', file], { env: { DATA_DIR: server.dataDir } });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `aspen: ${file} exists; pass --force to overwrite it\n`);
    assert.equal(readFileSync(file, 'utf8'), 'not a database');

    const forced = await aspen(['backup', file, '--force'], { env: { DATA_DIR: server.dataDir } });
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(statSync(file).size > 0);
    const copy = new BetterSqlite3(file, { readonly: true });
    assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
    copy.close();

    const empty = tempDir(t);
    const none = await aspen(['backup', join(dir, 'other.db')], { env: { DATA_DIR: empty } });
    assert.equal(none.code, 1);
    assert.equal(none.stderr, `aspen: no database at ${join(empty, 'aspen.db')}\n`);
  });
});

describe('aspen restore', () => {
  it('brings a fleet back into a new data directory: same API key, same device CA, devices accepted', async (t) => {
    const first = await startAspen();
    await enroll(first, 'RESTORED-1', { ProductName: 'iPhone14,2', OSVersion: '18.1' });
    const dir = tempDir(t);
    const file = join(dir, 'aspen-backup.db');
    const made = await aspen(['backup', file], { env: { DATA_DIR: first.dataDir } });
    assert.equal(made.code, 0, made.stderr);
    const { apiKey } = first;
    const device = { deviceHeaders: first.deviceHeaders };
    await first.close();

    const fresh = tempDir(t);
    const restored = await aspen(['restore', file], { env: { DATA_DIR: fresh } });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^restored \S+aspen-backup\.db to \S+aspen\.db; start the server\n$/);

    const second = await startAspen({}, fresh);
    t.after(() => second.close());
    assert.equal(second.apiKey, apiKey, 'the API key came back with the database');
    assert.equal(readFileSync(join(fresh, 'api-key'), 'utf8').trim(), apiKey, 'and its local copy for the CLI');
    const idle = await report({ url: second.url, ...device }, { Status: 'Idle', UDID: 'RESTORED-1' });
    assert.equal(idle.status, 200, `the device's certificate is still trusted and bound: ${idle.text()}`);

    const again = await aspen(['restore', file], { env: { DATA_DIR: fresh } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; pass --force to replace it/);
    const underServer = await aspen(['restore', file, '--force'], { env: { DATA_DIR: fresh } });
    assert.equal(underServer.code, 1);
    assert.match(underServer.stderr, /in use by a running server: stop it first/);
  });

  it('refuses what is not an Aspen backup', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'junk.db'), 'not a database');
    const run = await aspen(['restore', join(dir, 'junk.db')], { env: { DATA_DIR: tempDir(t) } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /is not a SQLite database|is not an Aspen database|cannot be read/);
  });
});
