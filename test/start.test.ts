// `npm start` as an operator runs it: a real process in a fresh directory, no configuration.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { createDeviceCa } from '../src/identity/index.ts';
import { encodePlist } from '../src/protocol/plist.ts';
import { command, enqueue, enroll, getCommand, report, REPORT } from './helpers/device.ts';
import { TestDevices } from './helpers/test-devices.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(cwd: string, env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, ['--import', TSX, MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, output: () => out, exited };
}

async function listeningUrl(s: Started): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(s.output());
    if (m) return m[1]!;
    if (s.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not start:\n${s.output()}`);
}

describe('npm start', () => {
  it('serves with no configuration, generating and keeping an API key, and stops cleanly on SIGTERM', async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), 'aspen-start-'));
    t.after(() => rmSync(cwd, { recursive: true, force: true }));

    const first = start(cwd);
    t.after(() => first.child.kill('SIGKILL'));
    const url = await listeningUrl(first);
    const keyFile = join(cwd, 'data', 'api-key');
    const key = readFileSync(keyFile, 'utf8').trim();
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(first.output().includes(key), 'the generated key is printed once');
    assert.ok(statSync(join(cwd, 'data', 'aspen.db')).isFile());
    assert.equal(statSync(join(cwd, 'data', 'aspen.db')).mode & 0o777, 0o600, 'the database holds keys and tokens');
    assert.equal(statSync(join(cwd, 'data')).mode & 0o777, 0o700);
    assert.ok(statSync(join(cwd, 'data', 'device-ca.pem')).isFile(), "a device CA is created on first start (its certificate copied out of the database)");
    assert.match(first.output(), /created a device CA/);

    const version = await fetch(`${url}/version`);
    assert.equal(version.status, 200);
    const authed = await fetch(`${url}/v1/commands/x`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(authed.status, 404);

    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    const second = start(cwd);
    t.after(() => second.child.kill('SIGKILL'));
    const url2 = await listeningUrl(second);
    assert.ok(!second.output().includes(key), 'the key is not printed again');
    assert.equal((await fetch(`${url2}/v1/commands/x`, { headers: { authorization: `Bearer ${key}` } })).status, 404);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });

  it('on SIGTERM finishes the request in flight, exits 0, and loses nothing', async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), 'aspen-start-'));
    t.after(() => rmSync(cwd, { recursive: true, force: true }));
    const ca = createDeviceCa();
    writeFileSync(join(cwd, 'device-ca.pem'), ca.certPem);
    const env = { API_KEY: 'sigterm-test-key-0123456789', DEVICE_CA: join(cwd, 'device-ca.pem') };
    const first = start(cwd, env);
    t.after(() => first.child.kill('SIGKILL'));
    const url = await listeningUrl(first);
    const devices = new TestDevices(() => ca);
    const device = { url, deviceHeaders: (body: Uint8Array | string) => devices.headersFor(body) };
    await enroll(device, 'SIGTERM-DEV');
    await enqueue({ url, apiKey: env.API_KEY }, ['SIGTERM-DEV'], command('sigterm-cmd', 'ProfileList'));
    assert.equal((await report(device, { Status: 'Idle', UDID: 'SIGTERM-DEV' })).plist().CommandUUID, 'sigterm-cmd');

    // The device's result is half uploaded when the service is told to stop.
    const body = Buffer.from(encodePlist({ Status: 'Acknowledged', UDID: 'SIGTERM-DEV', CommandUUID: 'sigterm-cmd' }));
    const answer = new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/mdm`, {
        method: 'PUT',
        headers: { 'content-type': REPORT, 'content-length': body.length, ...devices.headersFor(body) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write(body.subarray(0, 40));
      setTimeout(() => {
        first.child.kill('SIGTERM');
        setTimeout(() => req.end(body.subarray(40)), 300);
      }, 100);
    });
    assert.equal(await answer, 200, 'the device gets its answer');
    assert.equal(await first.exited, 0);

    const second = start(cwd, env);
    t.after(() => second.child.kill('SIGKILL'));
    const url2 = await listeningUrl(second);
    const view = await getCommand({ url: url2, apiKey: env.API_KEY }, 'sigterm-cmd');
    assert.equal(view.json.targets[0]!.state, 'acknowledged', 'the acknowledged result survived the restart');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });

  it('reads .env, and stops with one clear line for a bad value', async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), 'aspen-start-'));
    t.after(() => rmSync(cwd, { recursive: true, force: true }));
    writeFileSync(join(cwd, '.env'), 'LOG_LEVEL=chatty\n');
    const bad = start(cwd);
    assert.equal(await bad.exited, 1);
    assert.match(bad.output().trim(), /^aspen: invalid configuration: LOG_LEVEL: [^\n]+$/);
  });
});
