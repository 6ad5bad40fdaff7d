// Starts a server (Aspen as `npm start` runs it, the compiled dist/main.js, or the baseline) as a
// child process on 127.0.0.1, waits until it answers, and reads its CPU time and memory from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { memory, treeCpuSeconds } from './proc-stats.ts';

/** Built by `npm run build` (the bench script builds first). */
const ASPEN_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
/** Absolute, so the child can run in its own temp directory (where main.ts looks for .env). */
const TSX = import.meta.resolve('tsx');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Runs a timed phase; returns the server CPU seconds spent during it (the process and its child
   *  processes: with WORKERS, the workers do the serving). The phase's window is
   *  kept and, for a profiled server, written beside the profile: the summary counts only it. */
  timed<T>(phase: () => Promise<T>): Promise<{ result: T; cpuSeconds: number }>;
  /** CPU seconds used so far (for phases that span several servers; not kept for profiles). */
  cpuSeconds(): number;
  memory(): { rss: number; peak: number };
  /** SIGTERM, then wait for the exit (the server finishes requests in flight and closes SQLite). */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** The entry point to run: a .ts file runs through tsx, a .js file as it is. */
  entry: string;
  env: Record<string, string>;
  /** Working directory; the child's stdout and stderr go to `<dir>/server.log`. */
  dir: string;
  /** Write a V8 CPU profile into this directory when the process exits. */
  cpuProfileDir?: string;
}

/** Timed phases of a profiled server, in monotonic microseconds, written beside its profile. */
export interface TimedWindow {
  start: number;
  end: number;
}
export const TIMED_WINDOWS_FILE = 'timed-windows.json';

export const API_KEY = 'aspen-bench-admin-key-0123456789';

/** Aspen with the environment a bench figure asks for; the API key is fixed so the bench can call it. */
export function startAspen(dir: string, env: Record<string, string>, cpuProfileDir?: string): Promise<ServerProcess> {
  return startServer({
    entry: ASPEN_MAIN,
    dir,
    cpuProfileDir,
    env: { DATA_DIR: dir, API_KEY, LOG_LEVEL: 'info', ...env },
  });
}

export async function startServer(options: SpawnOptions): Promise<ServerProcess> {
  const port = await freePort();
  const logPath = join(options.dir, 'server.log');
  const log = openSync(logPath, 'a');
  const profile = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
  // dist/ runs as `npm start` runs it (no source maps: README, Performance).
  const loader = options.entry.endsWith('.ts') ? ['--import', TSX] : [];
  const child = spawn(process.execPath, [...profile, ...loader, options.entry], {
    cwd: options.dir,
    // Only what the server needs: a stray variable in the bench's own environment must not
    // change what is measured.
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...options.env },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(url, child, logPath);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  const pid = child.pid!;
  const windows: TimedWindow[] = [];
  return {
    url,
    pid,
    async timed(phase) {
      const cpuBefore = treeCpuSeconds(pid);
      const start = monotonicMicros();
      const result = await phase();
      windows.push({ start, end: monotonicMicros() });
      return { result, cpuSeconds: treeCpuSeconds(pid) - cpuBefore };
    },
    cpuSeconds: () => treeCpuSeconds(pid),
    memory: () => memory(pid),
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      if (options.cpuProfileDir) writeFileSync(join(options.cpuProfileDir, TIMED_WINDOWS_FILE), JSON.stringify(windows));
      if (code !== 0) throw new Error(`server ${options.entry} exited with ${code}; log:\n${tail(logPath)}`);
    },
  };
}

/** The clock V8 stamps CPU profile samples with (CLOCK_MONOTONIC, microseconds) on Linux. */
function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A port the kernel just handed out and released: good enough on a machine the bench owns. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUntilAnswering(url: string, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} while starting; log:\n${tail(logPath)}`);
    try {
      const res = await fetch(`${url}/version`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`server did not answer within ${START_TIMEOUT_MS} ms; log:\n${tail(logPath)}`);
}

function tail(path: string): string {
  return readFileSync(path, 'utf8').split('\n').slice(-20).join('\n');
}
