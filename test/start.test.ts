// `npm start` as an operator runs it: a real process in a fresh directory, no configuration.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync, statSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createDeviceCa } from '../src/identity/index.ts';
import { encodePlist } from '../src/protocol/plist.ts';
import { command, enqueue, enroll, getCommand, report, REPORT } from './helpers/device.ts';
import { OpensslPki, type Issued } from './helpers/openssl-pki.ts';
import { TestDevices } from './helpers/test-devices.ts';
import { UnusableSetups, type UnusableSetup } from './helpers/unusable-setups.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(cwd: string, env: Record<string, string> = {}, command: [string, ...string[]] = [process.execPath, '--import', TSX, MAIN]): Started {
  const child = spawn(command[0], command.slice(1), {
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

/** Resolves with the first match of `pattern` in the output as it arrives; rejects if the process ends first. */
function outputMatching(s: Started, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(s.output());
      if (match === null) return false;
      s.child.stdout!.off('data', check);
      s.child.stderr!.off('data', check);
      s.child.off('exit', ended);
      resolve(match);
      return true;
    };
    const ended = () => reject(new Error(`the process ended before printing ${pattern}:\n${s.output()}`));
    if (check()) return;
    s.child.stdout!.on('data', check);
    s.child.stderr!.on('data', check);
    s.child.once('exit', ended);
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise((resolve) => server.close(resolve));
  return free;
}

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** What `npm start` needs of a clone after `npm ci`, copied with its timestamps (dist/ included
 *  when there is one), and the installed node_modules linked in. */
function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aspen-npm-start-'));
  for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'scripts', 'migrations', 'bin', 'dist']) {
    if (existsSync(join(REPO, entry))) cpSync(join(REPO, entry), join(dir, entry), { recursive: true, preserveTimestamps: true });
  }
  copyFileSync(join(REPO, 'package-lock.json'), join(dir, 'package-lock.json'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function listeningUrl(s: Started): Promise<string> {
  return (await outputMatching(s, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
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

    // The device's result is on its way when the service is told to stop: its headers are in
    // (the server's 100 Continue says so, whatever the machine's load) and the body is sent only
    // once the server says it is shutting down.
    const body = Buffer.from(encodePlist({ Status: 'Acknowledged', UDID: 'SIGTERM-DEV', CommandUUID: 'sigterm-cmd' }));
    const answer = new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/mdm`, {
        method: 'PUT',
        headers: { 'content-type': REPORT, 'content-length': body.length, expect: '100-continue', ...devices.headersFor(body) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.on('continue', () => {
        first.child.kill('SIGTERM');
        outputMatching(first, /shutting down/).then(() => req.end(body), reject);
      });
      req.flushHeaders();
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

describe('npm start, as a supervisor runs it', () => {
  let cwd: string;
  before(async () => {
    cwd = freshCopy();
    // What `npm ci` leaves behind (its prepare step builds); a dist/ copied fresh is kept as it is.
    const prepared = start(cwd, {}, [process.execPath, 'scripts/build-if-stale.mjs']);
    assert.equal(await prepared.exited, 0, prepared.output());
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stops the server cleanly on a ${signal} to the npm process: exit 0, port released, no process left`, async (t) => {
      const npm = start(cwd, { API_KEY: 'npm-start-key-0123456789' }, ['npm', 'start']);
      t.after(() => npm.child.kill('SIGKILL'));
      const [line, url] = await outputMatching(npm, /\{[^\n]*"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"[^\n]*\}/);
      const pid = Number(/"pid":(\d+)/.exec(line)![1]);
      t.after(() => {
        if (isRunning(pid)) process.kill(pid, 'SIGKILL');
      });
      assert.notEqual(pid, npm.child.pid, 'the server is a process of its own');
      assert.equal((await fetch(`${url}/version`)).status, 200);
      assert.doesNotMatch(npm.output(), /building dist/, 'nothing is compiled at start once installed');

      npm.child.kill(signal);
      assert.equal(await npm.exited, 0, npm.output());
      assert.equal(isRunning(pid), false, 'the server process is gone with npm');
      assert.equal(await portIsFree(Number(new URL(url!).port)), true, 'the port is released');
      assert.match(npm.output(), /"msg":"stopped"/);
    });
  }
});

describe('start refuses what it could not run with', () => {
  const unusable = new UnusableSetups();
  let setups: UnusableSetup[];
  before(async () => {
    setups = await unusable.setups();
  });
  after(() => unusable.cleanup());

  it('a port in use, a mismatched TLS key, an empty DEVICE_CA, an expired APNS_CERT: one line naming the variable, exit 1', async (t) => {
    for (const setup of setups) {
      const cwd = mkdtempSync(join(tmpdir(), 'aspen-start-'));
      t.after(() => rmSync(cwd, { recursive: true, force: true }));
      const refused = start(cwd, setup.env);
      assert.equal(await refused.exited, 1, `${setup.name}:\n${refused.output()}`);
      const lines = refused.output().trim().split('\n').filter((l) => !l.startsWith('{'));
      assert.equal(lines.length, 1, `${setup.name}: one line, no stack trace:\n${refused.output()}`);
      assert.match(lines[0]!, new RegExp(`^aspen: invalid configuration: ${setup.variable}: `), setup.name);
      assert.match(lines[0]!, setup.says, setup.name);
    }
  });
});

describe('SIGHUP reloads the TLS certificate', () => {
  let pki: OpensslPki;
  let ca: Issued;
  before(() => {
    pki = new OpensslPki();
    ca = pki.rootCa('Reload CA');
  });
  after(() => pki.cleanup());

  it('new connections get the new certificate, connected ones stay, and a bad pair is refused keeping the old', async (t) => {
    const serverCert = (name: string) => pki.issue(name, ca, { extensions: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
    const [first, second] = [serverCert('first.example'), serverCert('second.example')];
    const cwd = mkdtempSync(join(tmpdir(), 'aspen-start-'));
    t.after(() => rmSync(cwd, { recursive: true, force: true }));
    const files = { cert: join(cwd, 'tls.crt'), key: join(cwd, 'tls.key') };
    const install = (cert: Issued, key: Issued) => {
      copyFileSync(cert.cert, files.cert);
      copyFileSync(key.key, files.key);
    };
    install(first, first);
    const server = start(cwd, { TLS_CERT: files.cert, TLS_KEY: files.key, API_KEY: 'tls-reload-key-0123456789' });
    t.after(() => server.child.kill('SIGKILL'));
    const [, url] = await outputMatching(server, /Server listening at (https:\/\/127\.0\.0\.1:\d+)/);

    const kept = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: ca.pem });
    t.after(() => kept.destroy());
    /** GET /version; which certificate the server showed, and whether an open connection was reused. */
    const get = (agent: HttpsAgent | false) =>
      new Promise<{ cn: string; reused: boolean; status: number }>((resolve, reject) => {
        const req = httpsRequest(`${url}/version`, { agent, ca: ca.pem }, (res) => {
          const cn = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
          res.resume();
          res.on('end', () => resolve({ cn, reused: req.reusedSocket, status: res.statusCode! }));
        });
        req.on('error', reject);
        req.end();
      });

    assert.deepEqual(await get(kept), { cn: 'first.example', reused: false, status: 200 });
    install(second, second);
    server.child.kill('SIGHUP');
    await outputMatching(server, /TLS certificate reloaded/);
    assert.equal((await get(false)).cn, 'second.example', 'a new connection gets the new certificate');
    assert.deepEqual(await get(kept), { cn: 'first.example', reused: true, status: 200 }, 'the open connection was not dropped');

    install(first, second); // a key that does not belong to the certificate
    server.child.kill('SIGHUP');
    const [refusal] = await outputMatching(server, /\{[^\n]*TLS certificate not reloaded[^\n]*\}/);
    assert.match(refusal, /TLS_KEY: the private key in \S+ does not belong to the certificate/);
    assert.equal((await get(false)).cn, 'second.example', 'the previous certificate is still served');

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });
});
