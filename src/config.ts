// Configuration from the environment, validated once at start. Every variable is documented in
// .env.example; a bad value stops the server with one line naming the variable, and so does a
// file a variable names that the server could not use (a TLS key that does not match its
// certificate, a DEVICE_CA without a CA certificate, an expired push certificate) or a HOST:PORT it
// could not listen on. `aspen config check` runs the same checks.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { EVENT_TOPICS } from './events/drafts.ts';
import { standardSecretKey } from './events/render.ts';
import type { WebhookConfig } from './events/webhooks.ts';
import { WEBHOOK_FORMATS } from './storage/events.ts';
import { accessRightsProblem, ALL_ACCESS_RIGHTS, DEFAULT_VALIDITY_DAYS, profileSignerFromPem } from './enrollment/index.ts';
import type { DatabaseConfig } from './storage/open-storage.ts';
import {
  loadPushCertificate,
  loadPushCertificateFromPkcs12,
  PushCertificateError,
  type PushCertificate,
} from './push/push-certificate.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const envSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(9000),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: optionalString,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  SQLITE_SYNCHRONOUS: z.enum(['FULL', 'NORMAL']).default('FULL'),
  IDENTITY_CACHE_SECONDS: z.coerce.number().min(0).max(10).default(5),
  API_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_PRETTY: bool.default(false),
  BODY_LIMIT: z.coerce.number().int().min(1024).default(4 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).default(10_000),
  METRICS_REQUIRE_API_KEY: bool.default(false),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]).default(1),
  RESULT_RETENTION_DAYS: z.coerce.number().int().min(0).default(90),
  CHECKED_OUT_RETENTION_DAYS: z.coerce.number().int().min(0).default(30),
  PRUNE_INTERVAL_MINUTES: z.coerce.number().min(1).default(60),
  USER_AUTHENTICATE: z.enum(['decline', 'allow']).default('decline'),
  DEVICE_IDENTITY: z.enum(['required', 'off']).default('required'),
  DEVICE_CA: optionalString,
  ALLOW_UNTRUSTED_BINDINGS: bool.default(false),
  DEVICE_CERT_HEADER: optionalString.pipe(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name').optional()),
  IDENTITY_RENEWAL_WINDOW_MINUTES: z.coerce.number().min(1).default(60),
  IDENTITY_TRUST_COMMON_NAME: bool.default(false),
  TLS_CERT: optionalString,
  TLS_KEY: optionalString,
  APNS_CERT: optionalString,
  APNS_KEY: optionalString,
  APNS_KEY_PASSPHRASE: optionalString,
  APNS_P12: optionalString,
  APNS_P12_PASSPHRASE: optionalString,
  APNS_URL: optionalString.pipe(z.url({ protocol: /^https$/ }).optional()),
  APNS_SANDBOX_URL: optionalString.pipe(z.url({ protocol: /^https$/ }).optional()),
  APNS_CA: optionalString,
  APNS_EXPIRATION_SECONDS: z.coerce.number().int().min(0).default(3 * 24 * 3600),
  APNS_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(100),
  APNS_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  APNS_TRANSPORT: z.enum(['http2', 'node-apn']).default('http2'),
  NOTNOW_REPUSH_SECONDS: z.coerce.number().min(1).default(600),
  WEBHOOK_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  WEBHOOK_SECRET: optionalString,
  WEBHOOK_FORMAT: z.enum(WEBHOOK_FORMATS).default('micromdm'),
  WEBHOOK_TOPICS: optionalString,
  WEBHOOK_INCLUDE_SECRETS: bool.default(false),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(1).max(300).default(10),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
  WEBHOOK_RETRY_AFTER_MAX_SECONDS: z.coerce.number().int().min(1).default(3600),
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).default(7),
  RETURN_TO_SERVICE_WIFI_PROFILE: optionalString,
  RETURN_TO_SERVICE_MDM_PROFILE: optionalString,
  PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  ENROLLMENT_OPEN: bool.default(false),
  ENROLLMENT_CHALLENGE: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  PROFILE_SIGNING_CERT: optionalString,
  PROFILE_SIGNING_KEY: optionalString,
  PROFILE_TRUST_CA: optionalString,
  PROFILE_ORGANIZATION: optionalString,
  SIGN_MESSAGE: bool.default(true),
  ACCESS_RIGHTS: z.coerce.number().default(ALL_ACCESS_RIGHTS).superRefine((rights, ctx) => {
    const problem = accessRightsProblem(rights);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  IDENTITY_VALIDITY_DAYS: z.coerce.number().min(1).max(3650).default(DEFAULT_VALIDITY_DAYS),
  IDENTITY_RENEW_BEFORE_DAYS: z.coerce.number().min(0).default(30),
});

/** Every variable Aspen reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/** What each variable is when unset, as it would be written in the environment; undefined: no default. */
export const CONFIG_DEFAULTS: Readonly<Record<string, string | undefined>> = Object.fromEntries(
  Object.entries(envSchema.shape).map(([name, schema]) => {
    const value: unknown = (schema as z.ZodType).parse(undefined);
    return [name, value === undefined ? undefined : String(value)];
  }),
);

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseConfig;
  apiKey: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  logPretty: boolean;
  bodyLimit: number;
  /** A whole request, and its headers, must arrive within these (slow-client protection). */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  metricsRequireApiKey: boolean;
  shutdownTimeoutMs: number;
  /** Server processes on the port (WORKERS; `auto`: one per core). */
  workers: number;
  retention: { resultDays: number; checkedOutDays: number; eventDays: number; intervalMs: number };
  userAuthenticate: 'decline' | 'allow';
  identity: {
    required: boolean;
    /** PEM bundle of trusted device CAs; undefined: Aspen's own CA in the data directory. */
    caPem: string | undefined;
    /** Start even when enrolled devices hold certificates of a CA no longer trusted. */
    allowUntrustedBindings: boolean;
    certHeader: string | undefined;
    renewalWindowMs: number;
    trustCommonName: boolean;
    /** How long a certificate binding read from the database is trusted before it is read again. */
    bindingCacheMs: number;
  };
  /** Serve HTTPS (and accept client certificates) when set; the paths are read again on SIGHUP. */
  tls: { certPem: string; keyPem: string; certPath: string; keyPath: string } | null;
  apns: {
    /** From APNS_CERT/APNS_KEY or APNS_P12; one uploaded through the API takes precedence. */
    certificate: PushCertificate | null;
    url: string | undefined;
    sandboxUrl: string | undefined;
    caPem: string | undefined;
    expirationSeconds: number;
    concurrency: number;
    retryAttempts: number;
    transport: 'http2' | 'node-apn';
    /** After a session ends with NotNow-deferred commands on another status, push again after this. */
    notNowRepushMs: number;
  };
  returnToService: { wifiProfile: Uint8Array; mdmProfile: Uint8Array | null } | null;
  webhooks: {
    /** The endpoint WEBHOOK_URL configures; endpoints made through the API live in the database. */
    environment: WebhookConfig | null;
    timeoutMs: number;
    concurrency: number;
    maxRetryAfterMs: number;
  };
  enrollment: EnrollmentConfig;
}

/** Built-in enrollment: the profile, SCEP and the identities it issues. */
export interface EnrollmentConfig {
  /** Where devices reach Aspen (no trailing slash), e.g. https://mdm.example.com; unset: no enrollment. */
  publicUrl: string | undefined;
  /** GET /mdm/enroll serves a profile with the static challenge to anyone who asks. */
  open: boolean;
  /** A challenge accepted by SCEP besides invites (the one the open profile carries). */
  staticChallenge: string | undefined;
  /** PROFILE_SIGNING_CERT/KEY; undefined: the TLS certificate signs, if there is one. */
  profileSigner: { certPem: string; keyPem: string } | undefined;
  /** DER of a CA certificate the profile asks devices to trust (a private CA of the TLS certificate). */
  trustCaDer: Uint8Array | undefined;
  organization: string | undefined;
  signMessage: boolean;
  accessRights: number;
  /** Validity of issued identities. */
  identityValidityDays: number;
  /** How long before an issued identity expires its renewal is queued; 0: never. */
  renewBeforeDays: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `now` decides whether a configured push certificate is in force. */
/** One process per core for `auto`; several processes cannot share a database in memory. */
function workers(setting: number | 'auto', db: DatabaseConfig): number {
  const n = setting === 'auto' ? availableParallelism() : setting;
  if (n > 1 && db.kind === 'sqlite' && db.path === ':memory:') throw new ConfigError('WORKERS: several processes cannot share a :memory: database (DATABASE_URL)');
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  const db = database(e, dataDir);
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir,
    database: db,
    apiKey: e.API_KEY,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
    bodyLimit: e.BODY_LIMIT,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    metricsRequireApiKey: e.METRICS_REQUIRE_API_KEY,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workers: workers(e.WORKERS, db),
    retention: {
      resultDays: e.RESULT_RETENTION_DAYS,
      checkedOutDays: e.CHECKED_OUT_RETENTION_DAYS,
      eventDays: e.EVENT_RETENTION_DAYS,
      intervalMs: e.PRUNE_INTERVAL_MINUTES * 60_000,
    },
    userAuthenticate: e.USER_AUTHENTICATE,
    identity: {
      required: e.DEVICE_IDENTITY === 'required',
      caPem: e.DEVICE_CA === undefined ? undefined : deviceCaBundle(e.DEVICE_CA),
      allowUntrustedBindings: e.ALLOW_UNTRUSTED_BINDINGS,
      certHeader: e.DEVICE_CERT_HEADER,
      renewalWindowMs: e.IDENTITY_RENEWAL_WINDOW_MINUTES * 60_000,
      trustCommonName: e.IDENTITY_TRUST_COMMON_NAME,
      bindingCacheMs: e.IDENTITY_CACHE_SECONDS * 1000,
    },
    tls: tls(e.TLS_CERT, e.TLS_KEY),
    apns: {
      certificate: pushCertificate(e, now),
      url: e.APNS_URL,
      sandboxUrl: e.APNS_SANDBOX_URL,
      caPem: e.APNS_CA === undefined ? undefined : readFile('APNS_CA', e.APNS_CA).toString('utf8'),
      expirationSeconds: e.APNS_EXPIRATION_SECONDS,
      concurrency: e.APNS_CONCURRENCY,
      retryAttempts: e.APNS_RETRY_ATTEMPTS,
      transport: e.APNS_TRANSPORT,
      notNowRepushMs: e.NOTNOW_REPUSH_SECONDS * 1000,
    },
    returnToService: returnToService(e.RETURN_TO_SERVICE_WIFI_PROFILE, e.RETURN_TO_SERVICE_MDM_PROFILE),
    webhooks: {
      environment: webhookEndpoint(e),
      timeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000,
      concurrency: e.WEBHOOK_CONCURRENCY,
      maxRetryAfterMs: e.WEBHOOK_RETRY_AFTER_MAX_SECONDS * 1000,
    },
    enrollment: enrollment(e),
  };
}

/** `postgres://` or `postgresql://` selects PostgreSQL; a plain path, `sqlite:<path>` or
 *  `sqlite://<path>` selects SQLite (relative paths are from the cwd), as does no URL at all. */
function database(e: z.infer<typeof envSchema>, dataDir: string): DatabaseConfig {
  const url = e.DATABASE_URL;
  if (url !== undefined && /^postgres(?:ql)?:\/\//i.test(url)) return { kind: 'postgres', url, poolSize: e.DATABASE_POOL_SIZE };
  if (url === undefined) return { kind: 'sqlite', path: resolve(dataDir, 'aspen.db'), synchronous: e.SQLITE_SYNCHRONOUS };
  const match = /^sqlite:(?:\/\/)?(.+)$/.exec(url);
  if (match === null && /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError(`DATABASE_URL: unsupported scheme in ${JSON.stringify(url)} (expected postgres://, postgresql://, a SQLite path or sqlite: URL)`);
  }
  const path = match ? match[1]! : url;
  return { kind: 'sqlite', path: path === ':memory:' || isAbsolute(path) ? path : resolve(path), synchronous: e.SQLITE_SYNCHRONOUS };
}

function tls(certPath: string | undefined, keyPath: string | undefined): Config['tls'] {
  if (certPath === undefined && keyPath === undefined) return null;
  if (certPath === undefined) throw new ConfigError('TLS_CERT: needed with TLS_KEY');
  if (keyPath === undefined) throw new ConfigError('TLS_KEY: needed with TLS_CERT');
  return { ...readTlsPair(certPath, keyPath), certPath, keyPath };
}

/**
 * Reads the TLS certificate (with any chain after it) and its key, and checks that a TLS server
 * could use them together; throws a ConfigError naming TLS_CERT or TLS_KEY. Also how SIGHUP
 * re-reads them.
 */
export function readTlsPair(certPath: string, keyPath: string): { certPem: string; keyPem: string } {
  const certPem = readFile('TLS_CERT', certPath).toString('utf8');
  const keyPem = readFile('TLS_KEY', keyPath).toString('utf8');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new ConfigError(`TLS_CERT: ${certPath} holds no PEM certificate`);
  }
  let matches: boolean;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw new ConfigError(`TLS_KEY: ${keyPath} holds no readable, unencrypted private key (${firstLine(err)})`);
  }
  if (!matches) throw new ConfigError(`TLS_KEY: the private key in ${keyPath} does not belong to the certificate in ${certPath} (TLS_CERT)`);
  try {
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (err) {
    throw new ConfigError(`TLS_CERT: ${certPath} cannot be served: ${firstLine(err)}`);
  }
  return { certPem, keyPem };
}

/** The DEVICE_CA bundle, once every certificate in it parses and one of them is a CA. */
function deviceCaBundle(path: string): string {
  const pem = readFile('DEVICE_CA', path).toString('utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`DEVICE_CA: ${path} holds no PEM certificate`);
  const certificates = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new ConfigError(`DEVICE_CA: certificate ${i + 1} of ${blocks.length} in ${path} does not parse`);
    }
  });
  if (!certificates.some((c) => c.ca)) {
    throw new ConfigError(`DEVICE_CA: none of the ${certificates.length} certificates in ${path} is a CA certificate (basicConstraints CA:TRUE), so no device could be trusted`);
  }
  return pem;
}

function pushCertificate(e: z.infer<typeof envSchema>, now: Date): PushCertificate | null {
  const variable = e.APNS_P12 !== undefined ? 'APNS_P12' : 'APNS_CERT';
  let certificate: PushCertificate | null;
  try {
    certificate = configuredPushCertificate(e);
  } catch (err) {
    if (err instanceof PushCertificateError) throw new ConfigError(`${variable}: ${err.message}`);
    throw err;
  }
  if (certificate === null) return null;
  const notBefore = new Date(new X509Certificate(certificate.certPem).validFrom);
  if (now < notBefore) throw new ConfigError(`${variable}: the push certificate is not valid before ${notBefore.toISOString()}`);
  if (now >= certificate.notAfter) {
    throw new ConfigError(
      `${variable}: the push certificate expired at ${certificate.notAfter.toISOString()}; renew it (same topic) or unset ${variable} to use one uploaded with PUT /v1/pushcert`,
    );
  }
  return certificate;
}

function configuredPushCertificate(e: z.infer<typeof envSchema>): PushCertificate | null {
  if (e.APNS_P12 !== undefined) {
    if (e.APNS_CERT !== undefined || e.APNS_KEY !== undefined) throw new ConfigError('APNS_P12: set either APNS_P12 or APNS_CERT and APNS_KEY, not both');
    return loadPushCertificateFromPkcs12(readFile('APNS_P12', e.APNS_P12), e.APNS_P12_PASSPHRASE);
  }
  if (e.APNS_CERT === undefined && e.APNS_KEY === undefined) return null;
  if (e.APNS_CERT === undefined) throw new ConfigError('APNS_CERT: needed with APNS_KEY');
  if (e.APNS_KEY === undefined) throw new ConfigError('APNS_KEY: needed with APNS_CERT');
  return loadPushCertificate({
    certPem: readFile('APNS_CERT', e.APNS_CERT).toString('utf8'),
    keyPem: readFile('APNS_KEY', e.APNS_KEY).toString('utf8'),
    passphrase: e.APNS_KEY_PASSPHRASE,
  });
}

function webhookEndpoint(e: z.infer<typeof envSchema>): WebhookConfig | null {
  if (e.WEBHOOK_URL === undefined) {
    if (e.WEBHOOK_SECRET !== undefined) throw new ConfigError('WEBHOOK_SECRET: needs WEBHOOK_URL');
    return null;
  }
  const topics = e.WEBHOOK_TOPICS === undefined ? null : e.WEBHOOK_TOPICS.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = topics?.find((t) => !(EVENT_TOPICS as readonly string[]).includes(t));
  if (unknown !== undefined) throw new ConfigError(`WEBHOOK_TOPICS: unknown topic ${JSON.stringify(unknown)} (topics: ${EVENT_TOPICS.join(', ')})`);
  if (e.WEBHOOK_FORMAT === 'standard' && (e.WEBHOOK_SECRET === undefined || standardSecretKey(e.WEBHOOK_SECRET) === undefined)) {
    throw new ConfigError('WEBHOOK_SECRET: the standard format needs a "whsec_" secret (whsec_ followed by at least 16 bytes in base64)');
  }
  return { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET, format: e.WEBHOOK_FORMAT, topics, includeSecrets: e.WEBHOOK_INCLUDE_SECRETS };
}

function returnToService(wifiPath: string | undefined, mdmPath: string | undefined): Config['returnToService'] {
  if (wifiPath === undefined) {
    if (mdmPath !== undefined) throw new ConfigError('RETURN_TO_SERVICE_MDM_PROFILE: needs RETURN_TO_SERVICE_WIFI_PROFILE');
    return null;
  }
  return {
    wifiProfile: readFile('RETURN_TO_SERVICE_WIFI_PROFILE', wifiPath),
    mdmProfile: mdmPath === undefined ? null : readFile('RETURN_TO_SERVICE_MDM_PROFILE', mdmPath),
  };
}

function enrollment(e: z.infer<typeof envSchema>): EnrollmentConfig {
  const publicUrl = e.PUBLIC_URL === undefined ? undefined : new URL(e.PUBLIC_URL);
  if (publicUrl && (publicUrl.search !== '' || publicUrl.hash !== '')) throw new ConfigError('PUBLIC_URL: must not have a query or fragment');
  if (e.ENROLLMENT_OPEN && publicUrl === undefined) throw new ConfigError('PUBLIC_URL: needed with ENROLLMENT_OPEN=true (the profile names it)');
  if (e.ENROLLMENT_OPEN && e.ENROLLMENT_CHALLENGE === undefined) throw new ConfigError('ENROLLMENT_CHALLENGE: needed with ENROLLMENT_OPEN=true (the open profile carries it)');
  if (e.IDENTITY_RENEW_BEFORE_DAYS >= e.IDENTITY_VALIDITY_DAYS) {
    throw new ConfigError(`IDENTITY_RENEW_BEFORE_DAYS: must be less than IDENTITY_VALIDITY_DAYS (${e.IDENTITY_VALIDITY_DAYS})`);
  }
  return {
    publicUrl: publicUrl && publicUrl.toString().replace(/\/+$/, ''),
    open: e.ENROLLMENT_OPEN,
    staticChallenge: e.ENROLLMENT_CHALLENGE,
    profileSigner: profileSigner(e.PROFILE_SIGNING_CERT, e.PROFILE_SIGNING_KEY),
    trustCaDer: e.PROFILE_TRUST_CA === undefined ? undefined : certificateDer('PROFILE_TRUST_CA', e.PROFILE_TRUST_CA),
    organization: e.PROFILE_ORGANIZATION,
    signMessage: e.SIGN_MESSAGE,
    accessRights: e.ACCESS_RIGHTS,
    identityValidityDays: e.IDENTITY_VALIDITY_DAYS,
    renewBeforeDays: e.IDENTITY_RENEW_BEFORE_DAYS,
  };
}

function profileSigner(certPath: string | undefined, keyPath: string | undefined): EnrollmentConfig['profileSigner'] {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined) throw new ConfigError('PROFILE_SIGNING_CERT: needed with PROFILE_SIGNING_KEY');
  if (keyPath === undefined) throw new ConfigError('PROFILE_SIGNING_KEY: needed with PROFILE_SIGNING_CERT');
  const pair = { certPem: readFile('PROFILE_SIGNING_CERT', certPath).toString('utf8'), keyPem: readFile('PROFILE_SIGNING_KEY', keyPath).toString('utf8') };
  try {
    profileSignerFromPem(pair.certPem, pair.keyPem);
  } catch (err) {
    throw new ConfigError(`PROFILE_SIGNING_CERT: ${(err as Error).message}`);
  }
  return pair;
}

/** The first certificate of a PEM file, or a DER file, as DER. */
function certificateDer(variable: string, path: string): Uint8Array {
  const bytes = readFile(variable, path);
  try {
    return new X509Certificate(bytes).raw;
  } catch {
    throw new ConfigError(`${variable}: ${path} holds no certificate (PEM or DER)`);
  }
}

function readFile(variable: string, path: string): Buffer {
  if (!existsSync(path)) throw new ConfigError(`${variable}: no file at ${path}`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${path}: ${firstLine(err)}`);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** HOST:PORT is taken: by another program, or (what `aspen config check` then looks at) by this
 *  very Aspen, already running. */
export class PortInUseError extends ConfigError {}

/** Why the server cannot listen on HOST:PORT, as a ConfigError naming the variable; undefined for
 *  an error that is not about the address. */
export function listenProblem(err: unknown, config: Pick<Config, 'host' | 'port'>): ConfigError | undefined {
  const where = `${config.host}:${config.port}`;
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return new PortInUseError(`PORT: ${where} is already in use by another process`);
    case 'EACCES':
      return new ConfigError(`PORT: no permission to listen on ${where} (ports below 1024 need CAP_NET_BIND_SERVICE; see deploy/README.md)`);
    case 'EADDRNOTAVAIL':
      return new ConfigError(`HOST: ${config.host} is not an address of this machine`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(`HOST: cannot resolve ${config.host}`);
    default:
      return undefined;
  }
}

/** Listens on HOST:PORT and lets go at once, to find what the server would meet there. */
export async function checkListen(config: Pick<Config, 'host' | 'port'>): Promise<void> {
  if (config.port === 0) return;
  const server = createServer();
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen({ host: config.host, port: config.port, exclusive: true }, done);
    });
  } catch (err) {
    throw listenProblem(err, config) ?? err;
  }
  await new Promise((done) => server.close(done));
}
