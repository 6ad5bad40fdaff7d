// Builds a running Aspen from a Config: storage, services, HTTP. Used by main.ts and by tests,
// which start the real thing on 127.0.0.1.
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { ConfigError, type Config } from './config.ts';
import { buildApp } from './http/app.ts';
import { profileSignerFromPem, scepCa } from './enrollment/index.ts';
import { WebhookDispatcher } from './events/dispatcher.ts';
import { Webhooks } from './events/webhooks.ts';
import { DeviceCertVerifier, deviceCaFromPem, IdentityVerifier } from './identity/index.ts';
import { Metrics } from './observability/metrics.ts';
import { createApnsPusher } from './push/apns-pusher.ts';
import { Access } from './service/access.ts';
import { Accounts } from './service/accounts.ts';
import { AuditLog } from './service/audit-log.ts';
import { CommandQueue } from './service/command-queue.ts';
import { DataAssets } from './service/data-assets.ts';
import { DeclarationAdmin } from './service/declaration-admin.ts';
import { DeclarationReads } from './service/declaration-reads.ts';
import { DeclarativeEndpoints } from './service/declarative.ts';
import { DeclarativeSync } from './service/declarative-sync.ts';
import { DeviceAuth } from './service/device-auth.ts';
import { EnrollmentDirectory } from './service/enrollment-directory.ts';
import { EnrollmentProfiles } from './service/enrollment-profiles.ts';
import { IdentityRenewal, RENEWAL_JOB, type RenewalRun } from './service/identity-renewal.ts';
import { Invites } from './service/invites.ts';
import { IssuedIdentities } from './service/issued-identities.ts';
import { ScepService } from './service/scep-service.ts';
import { JobRunner } from './service/job-runner.ts';
import { PushService, REPUSH_JOB } from './service/push-service.ts';
import { PRUNE_JOB, Retention } from './service/retention.ts';
import { MdmService } from './service/mdm-service.ts';
import { resultEffects } from './service/result-effects.ts';
import { resolveApiKey, resolveDeviceCas, type ResolvedDeviceCas } from './service/shared-secrets.ts';
import { StatusReports } from './service/status-reports.ts';
import { openStorage } from './storage/open-storage.ts';
import type { Storage } from './storage/storage.ts';
import { VERSION } from './version.ts';

/**
 * Device certificates whose verification outcome is kept (least recently used first out). An entry
 * holds the certificate and its parsed public key, about 5 KB of memory: 4,000 is at most 20 MB,
 * and covers every device in the middle of a burst of requests (an Idle and the commands it is
 * handed, seconds apart) even in a large fleet answering a fan-out. A device seen again after
 * falling out is verified again (its chain checked natively, well under a millisecond).
 */
const CERTIFICATE_CACHE_SIZE = 4000;

/** How often an idle instance looks for webhook deliveries that came due. */
const DELIVERY_POLL_MS = 500;

export interface Aspen {
  app: FastifyInstance;
  storage: Storage;
  apiKey: string;
  /** Who is asking and what they may do: API credentials, console logins and sessions (service/access.ts). */
  access: Access;
  /** Admin accounts and their API tokens. */
  accounts: Accounts;
  /** The audit log; the admin API writes it for every change (also those the console makes through app.inject). */
  audit: AuditLog;
  /** Aspen's issuing device CA (RSA), when Aspen has its own (DEVICE_CA unset, or PUBLIC_URL set). */
  deviceCa: { certPem: string; keyPem: string } | null;
  /** Runs the background jobs due now (tests use it to run them without waiting for a poll). */
  runDueJobs(): Promise<number>;
  /** Runs the identity renewal job now, whenever it is next due (tests use it). */
  renewIdentities(): Promise<RenewalRun>;
  /** Stops accepting, lets in-flight requests finish, closes the database. */
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>): Logger {
  if (config.logPretty) return pino({ level: config.logLevel, transport: { target: 'pino-pretty' } });
  // Lines are written to stdout by libuv's thread pool, LOG_BATCH_BYTES at a time or every
  // LOG_FLUSH_MS, whichever comes first: a write(2) per line on the event loop's thread cost about
  // 20 µs per device request, and a hand-off to the thread pool per line still about 10 (more into
  // a slow pipe). pino flushes what is left on exit; a kill -9 loses the lines not written yet
  // (those of the last LOG_FLUSH_MS, nothing else).
  return pino({ level: config.logLevel }, pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS }));
}

/** About 25 device request lines; under sonic-boom's 16 KiB limit for one write. */
const LOG_BATCH_BYTES = 8 * 1024;
/** The longest a line waits in memory before it is written. */
const LOG_FLUSH_MS = 100;

/**
 * Which CAs device certificates may chain to, and Aspen's own (kept in the database, shared by
 * every instance). Aspen's own CAs are there when DEVICE_CA is unset, or when Aspen issues
 * identities itself (PUBLIC_URL set); they are then trusted beside DEVICE_CA: only Aspen issues
 * from them, so trusting them lets in exactly the devices Aspen enrolled.
 */
async function deviceCas(config: Config, storage: Storage, logger: Logger): Promise<{ trustedPem: string | null; own: ResolvedDeviceCas | null }> {
  const needsOwn = config.enrollment.publicUrl !== undefined || (config.identity.required && config.identity.caPem === undefined);
  const own = needsOwn ? await resolveDeviceCas(storage, config.dataDir) : null;
  if (own !== null) {
    const where = { certificate: own.certFile };
    if (own.origin === 'generated') logger.warn(where, 'created a device CA (RSA): it issues device identities through SCEP; set DEVICE_CA to trust a CA of your own besides');
    else if (own.origin === 'taken over') logger.info(where, 'moved the device CA of the data directory into the database');
    else logger.info(where, 'trusting the device CA kept in the database');
    if (own.addedIssuing) logger.info(where, 'created an RSA device CA beside the existing EC one to issue identities through SCEP; certificates of the old one stay trusted');
  }
  if (!config.identity.required) return { trustedPem: null, own };
  const trustedPem = [config.identity.caPem ?? '', ...(own?.trusted.map((ca) => ca.certPem) ?? [])].join('\n');
  return { trustedPem, own };
}

/** Built-in enrollment: profiles, invites, SCEP (when PUBLIC_URL is set) and the renewal job. */
function enrollmentParts(config: Config, storage: Storage, own: ResolvedDeviceCas | null, push: PushService, logger: Logger) {
  const settings = config.enrollment;
  const publicUrl = settings.publicUrl;
  const signerPem = settings.profileSigner ?? config.tls;
  const signer = publicUrl === undefined || signerPem === null ? null : profileSignerFromPem(signerPem.certPem, signerPem.keyPem);
  if (publicUrl !== undefined) {
    if (publicUrl.startsWith('http:')) logger.warn({ publicUrl }, 'PUBLIC_URL is http://: devices only enroll over HTTPS (fine for tests, or behind a TLS-terminating proxy)');
    if (signer === null) logger.warn('enrollment profiles are served unsigned: set PROFILE_SIGNING_CERT/PROFILE_SIGNING_KEY (or TLS_CERT) so devices show them as verified');
  }
  const profiles = new EnrollmentProfiles({ ...settings, publicUrl, signer }, async () => (await push.current())?.topic ?? null);
  const invites = new Invites(storage.issuance, publicUrl);
  // Own CAs are always resolved when PUBLIC_URL is set (see deviceCas), the issuing one RSA.
  const scep =
    publicUrl === undefined || own === null
      ? null
      : new ScepService(scepCa(deviceCaFromPem(own.issuing.certPem, own.issuing.keyPem)), storage.issuance, {
          staticChallenge: settings.staticChallenge,
          validityDays: settings.identityValidityDays,
        });
  const renewal = new IdentityRenewal(storage, invites, profiles, push, settings, logger);
  return { routes: { profiles, invites, scep, openChallenge: settings.open ? (settings.staticChallenge ?? null) : null }, renewal };
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
    const cas = await deviceCas(config, storage, logger);
    const certificates = cas.trustedPem === null ? null : new DeviceCertVerifier(cas.trustedPem, { cacheSize: CERTIFICATE_CACHE_SIZE });
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
    metrics.watchWebhooks(() => storage.events.stats());
    const webhooks = new Webhooks(storage.events, config.webhooks.timeoutMs);
    await webhooks.syncEnvironment(config.webhooks.environment);
    const dispatcher = new WebhookDispatcher(storage.events, metrics, logger, {
      pollMs: DELIVERY_POLL_MS,
      timeoutMs: config.webhooks.timeoutMs,
      concurrency: config.webhooks.concurrency,
      maxRetryAfterMs: config.webhooks.maxRetryAfterMs,
    });
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
    const audit = new AuditLog(storage.audit);
    const access = new Access(storage.accounts, { apiKey: apiKey.key, audit });
    const accounts = new Accounts(storage.accounts);
    const enrollment = enrollmentParts(config, storage, cas.own, pushService, logger);
    const identities = new IssuedIdentities(storage.issuance, config.enrollment, (fingerprint) => auth?.forget(fingerprint));
    jobs.register(RENEWAL_JOB, enrollment.renewal.job);
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
      webhooks,
      enrollment: enrollment.routes,
      identities,
      metrics,
      operations: {
        storage,
        pushCertificate: () => pushService.current(),
        metricsApiKey: config.metricsRequireApiKey ? apiKey.key : null,
      },
      access: { access, accounts, audit },
      console: { fleet: storage.fleet },
      tls: config.tls,
      deviceCertHeader: config.identity.certHeader,
      bodyLimit: config.bodyLimit,
      requestTimeoutMs: config.requestTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      logger,
      version: VERSION,
    });
    await retention.schedule(jobs);
    await enrollment.renewal.schedule(jobs);
    jobs.start();
    dispatcher.start();
    return {
      app,
      storage,
      apiKey: apiKey.key,
      access,
      accounts,
      audit,
      deviceCa: cas.own?.issuing ?? null,
      runDueJobs: () => jobs.runDue(),
      renewIdentities: () => enrollment.renewal.runOnce(),
      async close() {
        // Fastify stops accepting, answers 503 to requests on kept-alive connections, and waits
        // for the requests in flight; only then does the database close.
        await app.close();
        await dispatcher.stop();
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
