// Runs the real `aspen` command (bin/aspen.js) as a child process, as an operator would.
// Asynchronous on purpose: the test server lives in this process and must keep answering.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/aspen.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Sets ASPEN_URL and API_KEY. */
  server?: { url: string; apiKey: string };
  env?: Record<string, string>;
  /** Defaults to an empty directory, so no .env or data/api-key of the developer's leaks in. */
  cwd?: string;
  /** Written to the command's stdin (otherwise it reads an empty stdin). */
  input?: string;
}

/** A fresh empty directory, removed when the test ends. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'aspen-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let emptyCwd: string | undefined;

export function aspen(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  emptyCwd ??= mkdtempSync(join(tmpdir(), 'aspen-cli-cwd-'));
  const env = {
    PATH: process.env.PATH ?? '',
    ...(opts.server ? { ASPEN_URL: opts.server.url, API_KEY: opts.server.apiKey } : {}),
    ...opts.env,
  };
  return run(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? emptyCwd, env, ...(opts.input === undefined ? {} : { input: opts.input }) });
}

/** Runs a program to its end, collecting its output; `input` is its whole stdin. */
export function run(file: string, args: string[], opts: { cwd: string; env: Record<string, string>; input?: string }): Promise<CliRun> {
  const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

process.on('exit', () => {
  if (emptyCwd !== undefined) rmSync(emptyCwd, { recursive: true, force: true });
});

/** A time as the CLI prints it: today's `HH:MM:SS`, or `YYYY-MM-DD HH:MM` (a run across midnight). */
export const TIME = String.raw`(?:\d\d:\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d)`;

/** stdout parsed as JSON, failing with the whole run when it is not. */
export function json<T = Record<string, any>>(run: CliRun): T { // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  if (run.code !== 0) throw new Error(`aspen failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
