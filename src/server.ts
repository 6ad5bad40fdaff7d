// Builds a running Aspen from a Config: storage, services, HTTP. Used by main.ts and by tests,
// which start the real thing on 127.0.0.1.
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { ConfigError, type Config } from './config.ts';
import { buildApp } from './http/app.ts';
import { DeviceCertVerifier, IdentityVerifier } from './identity/index.ts';
import { Metrics } from './observability/metrics.ts';
import { createApnsPusher } from './push/apns-pusher.ts';
import { CommandQueue } from './service/command-queue.ts';
import { DataAssets } from './service/data-assets.ts';
import { DeclarationAdmin } from './service/declaration-admin.ts';
import { DeclarationReads } from './service/declaration-reads.ts';
import { DeclarativeEndpoints } from './service/declarative.ts';
import { DeclarativeSync } from './service/declarative-sync.ts';
import { DeviceAuth } from './service/device-auth.ts';
import { EnrollmentDirectory } from './service/enrollment-directory.ts';
import { JobRunner } from './service/job-runner.ts';
import { PushService, REPUSH_JOB } from './service/push-service.ts';
import { PRUNE_JOB, Retention } from './service/retention.ts';
import { MdmService } from './service/mdm-service.ts';
import { resultEffects } from './service/result-effects.ts';
import { resolveApiKey, resolveDeviceCa } from './service/shared-secrets.ts';
import { StatusReports } from './service/status-reports.ts';
import { openStorage } from './storage/open-storage.ts';
import type { Storage } from './storage/storage.ts';
import { VERSION } from './version.ts';

export interface Aspen {
  app: FastifyInstance;
  storage: Storage;
  apiKey: string;
  /** Aspen's own device CA, when it is the trusted one (DEVICE_CA unset). */
  deviceCa: { certPem: string; keyPem: string } | null;
  /** Runs the background jobs due now (tests use it to run them without waiting for a poll). */
  runDueJobs(): Promise<number>;
  /** Stops accepting, lets in-flight requests finish, closes the database. */
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>): Logger {
  return pino({
    level: config.logLevel,
    ...(config.logPretty ? { transport: { target: 'pino-pretty' } } : {}),
  });
}

/** Trusts DEVICE_CA, or else Aspen's own device CA (kept in the database, shared by every instance). */
async function deviceTrust(config: Config, storage: Storage, logger: Logger): Promise<{ caPem: string; own: Aspen['deviceCa'] }> {
  if (config.identity.caPem !== undefined) return { caPem: config.identity.caPem, own: null };
  const ca = await resolveDeviceCa(storage, config.dataDir);
  const where = { certificate: ca.certFile };
  if (ca.origin === 'generated') logger.warn(where, 'created a device CA: issue device identities from it, or set DEVICE_CA to your own');
  else if (ca.origin === 'taken over') logger.info(where, 'moved the device CA of the data directory into the database');
  else logger.info(where, 'trusting the device CA kept in the database');
  return { caPem: ca.certPem, own: { certPem: ca.certPem, keyPem: ca.keyPem } };
}

/**
 * Devices bound to certificates of a CA that is no longer trusted (DEVICE_CA changed, a database
 * restored without the CA it was used with) would all be refused: a start must not do that
 * silently. Bindings from before the anchor was recorded are not judged.
 */
async function refuseStrandedDevices(storage: Storage, certificates: DeviceCertVerifier, allow: boolean, logger: Logger): Promise<void> {
  const trusted = new Set(certificates.anchors());
  const stranded = (await storage.identityAnchors()).filter((a) => a.anchor !== null && !trusted.has(a.anchor));
  if (stranded.length === 0) return;
  const devices = stranded.reduce((n, a) => n + a.devices, 0);
  const cas = stranded.map((a) => `sha256 ${a.anchor!.slice(0, 16)}…`).join(', ');
  const problem = `${devices} enrolled device(s) hold certificates from a CA that is not trusted here (${cas})`;
  if (!allow) {
    throw new ConfigError(`DEVICE_CA: ${problem}; trust that CA again (DEVICE_CA, or restore the database it came with: aspen restore), or set ALLOW_UNTRUSTED_BINDINGS=true to start anyway`);
  }
  logger.warn({ devices, cas }, `${problem}; they are refused until they enroll again (ALLOW_UNTRUSTED_BINDINGS=true)`);
}

export async function createAspen(config: Config, logger: Logger = createLogger(config)): Promise<Aspen> {
  const storage = await openStorage(config.database);
  let pushToClose: PushService | undefined; // closed if assembly fails after it started
  try {
    const apiKey = await resolveApiKey(config.apiKey, storage, config.dataDir);
    if (apiKey.origin === 'generated') {
      logger.warn({ apiKey: apiKey.key, file: apiKey.file }, 'generated an admin API key (shown once; a copy is kept in this file)');
    }
    const trust = config.identity.required ? await deviceTrust(config, storage, logger) : null;
    const certificates = trust && new DeviceCertVerifier(trust.caPem);
    if (certificates) await refuseStrandedDevices(storage, certificates, config.identity.allowUntrustedBindings, logger);
    const auth =
      certificates &&
      new DeviceAuth(new IdentityVerifier(certificates), storage, {
        renewalWindowMs: config.identity.renewalWindowMs,
        trustCommonName: config.identity.trustCommonName,
        bindingCacheMs: config.identity.bindingCacheMs,
      });
    if (auth === null) logger.warn('DEVICE_IDENTITY=off: device requests are NOT authenticated; anyone who reaches /mdm can speak for any device');
    const metrics = new Metrics(() => storage.stats());
    const jobs = new JobRunner(storage, logger);
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
      jobs,
      config.apns.notNowRepushMs,
    );
    pushToClose = pushService;
    await pushService.start(config.apns.certificate);
    const retention = new Retention(storage, config.retention, logger);
    jobs.register(REPUSH_JOB, pushService.repushJob);
    jobs.register(PRUNE_JOB, retention.job);
    const releaseIdentities = auth ? (id: string) => auth.release(id) : (id: string) => storage.unbindIdentities(id);
    const commands = new CommandQueue(storage);
    const sync = new DeclarativeSync(storage.declarations, commands, storage, pushService, logger);
    const effects = resultEffects(storage, releaseIdentities);
    const service = new MdmService(
      storage,
      { userAuthenticate: config.userAuthenticate, returnToService: config.returnToService },
      auth,
      new DeclarativeEndpoints(sync, new StatusReports(storage.declarations, sync, logger)),
      (enrollmentId) => pushService.scheduleRepush(enrollmentId),
      // The enrollment's own effects first: DeviceConfigured ends Await Configuration, which releases a held sync.
      async (...result) => {
        await effects(...result);
        await sync.resultHook(...result);
      },
    );
    const app = await buildApp({
      service,
      commands,
      declarations: {
        admin: new DeclarationAdmin(storage.declarations, sync),
        reads: new DeclarationReads(storage.declarations, storage),
        assets: new DataAssets(storage.declarations, storage, sync, auth),
      },
      directory: new EnrollmentDirectory(storage, releaseIdentities),
      push: pushService,
      metrics,
      operations: {
        storage,
        pushCertificate: () => pushService.current(),
        metricsApiKey: config.metricsRequireApiKey ? apiKey.key : null,
      },
      apiKey: apiKey.key,
      tls: config.tls,
      deviceCertHeader: config.identity.certHeader,
      bodyLimit: config.bodyLimit,
      requestTimeoutMs: config.requestTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      logger,
      version: VERSION,
    });
    await retention.schedule(jobs);
    jobs.start();
    return {
      app,
      storage,
      apiKey: apiKey.key,
      deviceCa: trust?.own ?? null,
      runDueJobs: () => jobs.runDue(),
      async close() {
        // Fastify stops accepting, answers 503 to requests on kept-alive connections, and waits
        // for the requests in flight; only then does the database close.
        await app.close();
        await jobs.stop();
        await pushService.close();
        await storage.close();
      },
    };
  } catch (err) {
    await pushToClose?.close();
    await storage.close();
    throw err;
  }
}
