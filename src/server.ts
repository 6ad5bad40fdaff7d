// Builds a running Aspen from a Config: storage, services, HTTP. Used by main.ts and by tests,
// which start the real thing on 127.0.0.1.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { resolveApiKey } from './api-key.ts';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import { DeviceCertVerifier, ensureDeviceCa, IdentityVerifier } from './identity/index.ts';
import { Metrics } from './observability/metrics.ts';
import { createApnsPusher } from './push/apns-pusher.ts';
import { CommandQueue } from './service/command-queue.ts';
import { DeviceAuth } from './service/device-auth.ts';
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

/** Trusts DEVICE_CA, or else Aspen's own device CA (created in the data directory on first start). */
async function deviceAuth(config: Config, storage: SqliteStorage, logger: Logger): Promise<DeviceAuth> {
  let caPem = config.identity.caPem;
  if (caPem === undefined) {
    const ca = await ensureDeviceCa(config.dataDir);
    if (ca.created) logger.warn({ certificate: ca.certPath }, 'created a device CA: issue device identities from it, or set DEVICE_CA to your own');
    else logger.info({ certificate: ca.certPath }, 'trusting the device CA in the data directory');
    caPem = readFileSync(ca.certPath, 'utf8');
  }
  return new DeviceAuth(new IdentityVerifier(new DeviceCertVerifier(caPem)), storage, {
    renewalWindowMs: config.identity.renewalWindowMs,
    trustCommonName: config.identity.trustCommonName,
  });
}

export async function createAspen(config: Config, logger: Logger = createLogger(config)): Promise<Aspen> {
  const storage = new SqliteStorage({ path: config.databasePath, synchronous: config.sqliteSynchronous });
  let pushToClose: PushService | undefined; // closed if assembly fails after it started
  try {
    const { key, generatedAt } = resolveApiKey(config.apiKey, config.dataDir);
    if (generatedAt !== undefined) {
      logger.warn({ apiKey: key, file: generatedAt }, 'generated an admin API key (shown once; it is kept in this file)');
    }
    const auth = config.identity.required ? await deviceAuth(config, storage, logger) : null;
    if (auth === null) logger.warn('DEVICE_IDENTITY=off: device requests are NOT authenticated; anyone who reaches /mdm can speak for any device');
    const metrics = new Metrics(() => storage.stats());
    const pushService = new PushService(
      storage,
      (certificate) =>
        createApnsPusher({
          certificate,
          url: config.apns.url,
          sandboxUrl: config.apns.sandboxUrl,
          caPem: config.apns.caPem,
          expirationSeconds: config.apns.expirationSeconds,
          concurrency: config.apns.concurrency,
          retry: { attempts: config.apns.retryAttempts },
          transport: config.apns.transport,
          logger,
        }),
      metrics,
      logger,
      config.apns.notNowRepushMs,
    );
    pushToClose = pushService;
    await pushService.start(config.apns.certificate);
    const service = new MdmService(
      storage,
      { userAuthenticate: config.userAuthenticate, returnToService: config.returnToService },
      auth,
      (enrollmentId) => pushService.scheduleRepush(enrollmentId),
    );
    const app = await buildApp({
      service,
      commands: new CommandQueue(storage),
      directory: new EnrollmentDirectory(storage),
      push: pushService,
      metrics,
      operations: {
        storage,
        pushCertificate: () => pushService.current(),
        metricsApiKey: config.metricsRequireApiKey ? key : null,
      },
      apiKey: key,
      tls: config.tls,
      deviceCertHeader: config.identity.certHeader,
      bodyLimit: config.bodyLimit,
      requestTimeoutMs: config.requestTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
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
        await pushService.close();
        await retention.stop();
        await storage.close();
      },
    };
  } catch (err) {
    await pushToClose?.close();
    await storage.close();
    throw err;
  }
}
