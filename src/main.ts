// Entry point: `npm start`. Reads .env (if present) and the environment, then serves.
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createAspen, createLogger } from './server.ts';
import { describeDatabase } from './storage/open-storage.ts';

if (existsSync('.env')) process.loadEnvFile('.env');
// Everything Aspen writes (database, keys, the generated CA) is for its own user alone.
process.umask(0o077);

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`aspen: invalid configuration: ${err.message}`);
  process.exit(1);
}

const logger = createLogger(config);
const aspen = await createAspen(config, logger);
await aspen.app.listen({ host: config.host, port: config.port });
logger.info({ database: describeDatabase(config.database) }, 'aspen is listening');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
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
