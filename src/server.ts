// Builds a running Aspen from a Config: storage, services, HTTP. Used by main.ts and by tests,
// which start the real thing on 127.0.0.1.
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { resolveApiKey } from './api-key.ts';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import { Metrics } from './observability/metrics.ts';
import { createApnsPusher } from './push/apns-pusher.ts';
import { CommandQueue } from './service/command-queue.ts';
import { EnrollmentDirectory } from './service/enrollment-directory.ts';
import { PushService } from './service/push-service.ts';
import { Retention } from './service/retention.ts';
import { MdmService } from './service/mdm-service.ts';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.ts';
import { VERSION } from './version.ts';

export interface Aspen {
  app: FastifyInstance;
  storage: SqliteStorage;
  apiKey: string;
  /** Stops accepting, lets in-flight requests finish, closes the database. */
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>): Logger {
  return pino({
    level: config.logLevel,
    ...(config.logPretty ? { transport: { target: 'pino-pretty' } } : {}),
  });
}

export async function createAspen(config: Config, logger: Logger = createLogger(config)): Promise<Aspen> {
  const storage = new SqliteStorage({ path: config.databasePath, synchronous: config.sqliteSynchronous });
  try {
    const { key, generatedAt } = resolveApiKey(config.apiKey, config.dataDir);
    if (generatedAt !== undefined) {
      logger.warn({ apiKey: key, file: generatedAt }, 'generated an admin API key (shown once; it is kept in this file)');
    }
    const service = new MdmService(storage, {
      userAuthenticate: config.userAuthenticate,
      returnToService: config.returnToService,
    });
    const metrics = new Metrics(() => storage.stats());
    const push = new PushService(
      storage,
      (certificate) =>
        createApnsPusher({
          certificate,
          url: config.apns.url,
          caPem: config.apns.caPem,
          expirationSeconds: config.apns.expirationSeconds,
          concurrency: config.apns.concurrency,
          retry: { attempts: config.apns.retryAttempts },
          transport: config.apns.transport,
          logger,
        }),
      metrics,
      logger,
    );
    await push.start(config.apns.certificate);
    const app = await buildApp({
      service,
      commands: new CommandQueue(storage),
      directory: new EnrollmentDirectory(storage),
      push,
      metrics,
      operations: {
        storage,
        pushCertificate: () => push.current(),
        metricsApiKey: config.metricsRequireApiKey ? key : null,
      },
      apiKey: key,
      bodyLimit: config.bodyLimit,
      logger,
      version: VERSION,
    });
    const retention = new Retention(storage, config.retention, logger);
    retention.start();
    return {
      app,
      storage,
      apiKey: key,
      async close() {
        // Fastify stops accepting, answers 503 to requests on kept-alive connections, and waits
        // for the requests in flight; only then does the database close.
        await app.close();
        await push.close();
        await retention.stop();
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close();
    throw err;
  }
}
