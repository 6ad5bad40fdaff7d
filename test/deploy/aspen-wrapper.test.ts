// deploy/aspen, the `aspen` command of a systemd install: with nothing but the service's
// environment file and data directory, it finds the server (its PORT), the generated API key and
// the configuration, as an admin on that machine would use it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { enroll } from '../helpers/device.ts';
import { run, tempDir } from '../cli/run-cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRAPPER = join(ROOT, 'deploy/aspen');
const USER = execFileSync('id', ['-un']).toString().trim();

function wrapper(args: string[], env: Record<string, string>, cwd: string) {
  // The PATH systemd gives services, plus wherever this test's node is.
  return run('/bin/sh', [WRAPPER, ...args], { cwd, env: { PATH: `${join(process.execPath, '..')}:/usr/local/bin:/usr/bin:/bin`, ...env } });
}

describe('deploy/aspen', () => {
  let server: TestServer;
  before(async () => {
    // No API_KEY: the server generates one into its data directory, as a fresh install does.
    server = await startAspen();
    await enroll(server, 'WRAPPED-1', { ProductName: 'Mac14,7', OSVersion: '15.1' });
  });
  after(() => server?.close());

  it('runs the CLI with the service environment file, data directory and user', async (t) => {
    const etc = tempDir(t);
    const port = new URL(server.url).port;
    // systemd EnvironmentFile syntax: comments on their own lines, quoted values, no export.
    writeFileSync(join(etc, 'aspen.env'), `# Aspen\nHOST=127.0.0.1\nPORT="${port}"\nLOG_LEVEL='warn'\n`);
    const env = { ASPEN_HOME: ROOT, ASPEN_USER: USER, ASPEN_ENV_FILE: join(etc, 'aspen.env'), ASPEN_DATA_DIR: server.dataDir };

    const listed = await wrapper(['enrollments'], env, etc);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^WRAPPED-1\s+device\s+enrolled\s+macOS/m, 'found the server on its PORT, with the generated key');
    assert.ok(readFileSync(join(server.dataDir, 'api-key'), 'utf8').trim().length >= 16);

    const checked = await wrapper(['config', 'check'], env, etc);
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, new RegExp(`^PORT\\s+${port} \\(in use by the running Aspen [^)]+\\)$`, 'm'));
    assert.match(checked.stdout, /^LOG_LEVEL\s+warn$/m);
    assert.match(checked.stdout, new RegExp(`^DATA_DIR\\s+${server.dataDir.replaceAll('/', '\\/')}$`, 'm'));

    const missing = await wrapper(['enrollments'], { ...env, ASPEN_ENV_FILE: join(etc, 'nope.env') }, etc);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^aspen: cannot read the environment file .*nope\.env/);
  });
});
