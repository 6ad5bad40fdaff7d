// WORKERS=N: N server processes on one port (node:cluster), sharing the database (SQLite in WAL
// mode or PostgreSQL). Every guarantee already holds across processes, since several Aspen
// instances may share one database: decisions are made in the database under its locks, jobs are
// leased there, shared secrets live there. This module only supervises:
// - before forking, it opens the database once (migrations run once, not raced by N processes)
//   and resolves the API key (a generated one is made and shown once);
// - it passes SIGHUP on (each worker reloads its TLS certificate) and SIGTERM/SIGINT (each worker
//   finishes its requests and closes the database; stragglers are killed after SHUTDOWN_TIMEOUT_MS);
// - a worker that dies while serving is logged and replaced; one that dies before it ever listened
//   (a configuration problem it has reported itself, a port in use) stops them all: restarting it
//   could only fail the same way.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { resolveApiKey } from './service/shared-secrets.ts';
import { openStorage } from './storage/open-storage.ts';

/** Beyond SHUTDOWN_TIMEOUT_MS (which each worker enforces itself), how long before a worker that
 *  has not exited is killed. */
const KILL_GRACE_MS = 2000;

/** Runs the primary until every worker has stopped; resolves with the exit code for the process. */
export async function superviseWorkers(config: Config, logger: Logger): Promise<number> {
  const storage = await openStorage(config.database);
  try {
    const apiKey = await resolveApiKey(config.apiKey, storage, config.dataDir);
    if (apiKey.origin === 'generated') {
      logger.warn({ apiKey: apiKey.key, file: apiKey.file }, 'generated an admin API key (shown once; a copy is kept in this file)');
    }
  } finally {
    await storage.close();
  }

  const listening = new WeakSet<Worker>();
  let stopping = false;
  let exitCode = 0;
  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      listening.add(worker);
      logger.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker serving');
    });
    return worker;
  };
  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const stopAll = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: live().length }, 'shutting down: stopping every worker');
    for (const worker of live()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of live()) {
        logger.error({ worker: worker.id, workerPid: worker.process.pid }, 'worker did not stop in time; killing it');
        worker.process.kill('SIGKILL');
      }
    }, config.shutdownTimeoutMs + KILL_GRACE_MS).unref();
  };

  const allStopped = new Promise<number>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      const how = { worker: worker.id, workerPid: worker.process.pid, code, signal };
      if (!stopping && listening.has(worker)) {
        logger.error(how, 'worker died; starting another');
        fork();
      } else if (!stopping) {
        logger.error(how, 'worker exited before it listened; stopping');
        exitCode = 1;
        stopAll('SIGTERM');
      } else if (code !== 0) {
        exitCode = 1;
      }
      if (stopping && live().length === 0) resolve(exitCode);
    });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stopAll(signal));
  process.on('SIGHUP', () => {
    for (const worker of live()) worker.process.kill('SIGHUP');
  });
  logger.info({ workers: config.workers }, 'starting workers');
  for (let i = 0; i < config.workers; i += 1) fork();
  return allStopped;
}
