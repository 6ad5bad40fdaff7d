// Aspen as a separate process (src/main.ts, as `npm start` runs it but from the sources), for
// tests that need what only a process has: a kill -9, several instances side by side.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export interface AspenProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with its URL once it listens; rejects if it exits first. */
  listening: Promise<string>;
  exited: Promise<number | null>;
  /** kill -9: no shutdown, nothing flushed. */
  crash(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<number | null>;
}

/** Only a guard against a hang: a server that has not said where it listens by then is broken. */
const START_GUARD_MS = 120_000;

/** `env` may not lower LOG_LEVEL below info: the "Server listening" line is how the URL is found. */
export function startAspenProcess(env: Record<string, string>, cwd?: string): AspenProcess {
  const child = spawn(process.execPath, ['--import', TSX, MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const look = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Server listening at (https?:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    void exited.then((code) => reject(new Error(`aspen exited (${code}) before listening:\n${out}`)));
    setTimeout(() => reject(new Error(`aspen did not listen within ${START_GUARD_MS} ms:\n${out}`)), START_GUARD_MS).unref();
  });
  listening.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  return {
    child,
    output: () => out,
    listening,
    exited,
    async crash() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
