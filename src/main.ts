// Entry point: `npm start`. Reads .env (if present) and the environment, then serves; with
// WORKERS above 1, this process supervises that many server processes (cluster.ts), each of
// which runs this file again as a worker.
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import type { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Aspen } from './server.ts';
import { startUpDone } from './start-up-v8.ts';

// The server's modules are imported only now, after start-up-v8.ts has held V8
// lean: loading them is most of what a start allocates.
const [{ superviseWorkers }, { ConfigError, listenProblem, loadConfig, readTlsPair }, { createAspen, createLogger }, { describeDatabase }] = await Promise.all([
  import('./cluster.ts'),
  import('./config.ts'),
  import('./server.ts'),
  import('./storage/open-storage.ts'),
]);

if (existsSync('.env')) process.loadEnvFile('.env');
// Everything Aspen writes (database, keys, the generated CA) is for its own user alone.
process.umask(0o077);

/** What an operator must fix, as one line naming the variable (no stack trace), then exit 1. */
function refuseToStart(err: InstanceType<typeof ConfigError>): never {
  console.error(`aspen: invalid configuration: ${err.message}`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  refuseToStart(err);
}

const logger = createLogger(config);
if (config.workers > 1 && cluster.isPrimary) process.exit(await superviseWorkers(config, logger));
let aspen: Aspen;
try {
  aspen = await createAspen(config, logger);
} catch (err) {
  // What only the database can tell (devices bound to a CA no longer trusted) is a configuration
  // problem too.
  if (!(err instanceof ConfigError)) throw err;
  refuseToStart(err);
}
try {
  await aspen.app.listen({ host: config.host, port: config.port });
} catch (err) {
  const problem = listenProblem(err, config);
  if (problem === undefined) throw err;
  await aspen.close();
  refuseToStart(problem);
}
logger.info({ database: describeDatabase(config.database) }, 'aspen is listening');
startUpDone();

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    // Ctrl-C under `npm start` signals both npm and Aspen, and npm passes its copy on: the second
    // must not cut the shutdown short (SHUTDOWN_TIMEOUT_MS still bounds it).
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing those in flight');
    // Bounded: a request that never finishes must not keep the service from stopping.
    setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting with requests unfinished');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    aspen.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

// SIGHUP: a renewed TLS certificate (certbot and the like replace the files, then signal) is read
// again and used for new connections; connected devices keep theirs. A pair that does not work
// together is refused and the current one kept.
process.on('SIGHUP', () => {
  if (config.tls === null) logger.info('SIGHUP: no TLS_CERT/TLS_KEY to reload');
  else reloadTls(aspen.app.server as unknown as TlsServer, config.tls, logger);
});

function reloadTls(server: TlsServer, files: { certPath: string; keyPath: string }, log: Logger): void {
  try {
    const { certPem, keyPem } = readTlsPair(files.certPath, files.keyPath);
    server.setSecureContext({ cert: certPem, key: keyPem });
    log.info({ certificate: files.certPath, key: files.keyPath }, 'TLS certificate reloaded; new connections use it');
  } catch (err) {
    // Whatever went wrong, a reload must never take the running server down.
    const problem = err instanceof ConfigError ? err.message : `TLS_CERT: ${(err as Error).message}`;
    log.error({ problem }, `TLS certificate not reloaded, still serving the previous one: ${problem}`);
  }
}
