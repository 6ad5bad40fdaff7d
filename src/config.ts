// Configuration from the environment, validated once at start. Every variable is documented in
// .env.example; a bad value stops the server with one line naming the variable.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

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
  SQLITE_SYNCHRONOUS: z.enum(['FULL', 'NORMAL']).default('FULL'),
  API_KEY: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_PRETTY: bool.default(false),
  BODY_LIMIT: z.coerce.number().int().min(1024).default(4 * 1024 * 1024),
  USER_AUTHENTICATE: z.enum(['decline', 'allow']).default('decline'),
  RETURN_TO_SERVICE_WIFI_PROFILE: optionalString,
  RETURN_TO_SERVICE_MDM_PROFILE: optionalString,
});

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databasePath: string;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  apiKey: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  logPretty: boolean;
  bodyLimit: number;
  userAuthenticate: 'decline' | 'allow';
  returnToService: { wifiProfile: Uint8Array; mdmProfile: Uint8Array | null } | null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir,
    databasePath: databasePath(e.DATABASE_URL, dataDir),
    sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
    apiKey: e.API_KEY,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
    bodyLimit: e.BODY_LIMIT,
    userAuthenticate: e.USER_AUTHENTICATE,
    returnToService: returnToService(e.RETURN_TO_SERVICE_WIFI_PROFILE, e.RETURN_TO_SERVICE_MDM_PROFILE),
  };
}

/** Accepts a plain path, `sqlite:<path>` or `sqlite://<path>`; relative paths are from the cwd. */
function databasePath(url: string | undefined, dataDir: string): string {
  if (url === undefined) return resolve(dataDir, 'aspen.db');
  const match = /^sqlite:(?:\/\/)?(.+)$/.exec(url);
  if (match === null && /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigError(`DATABASE_URL: unsupported scheme in ${JSON.stringify(url)} (expected a SQLite path or sqlite: URL)`);
  }
  const path = match ? match[1]! : url;
  return path === ':memory:' || isAbsolute(path) ? path : resolve(path);
}

function returnToService(wifiPath: string | undefined, mdmPath: string | undefined): Config['returnToService'] {
  if (wifiPath === undefined) {
    if (mdmPath !== undefined) throw new ConfigError('RETURN_TO_SERVICE_MDM_PROFILE: needs RETURN_TO_SERVICE_WIFI_PROFILE');
    return null;
  }
  return {
    wifiProfile: readProfile('RETURN_TO_SERVICE_WIFI_PROFILE', wifiPath),
    mdmProfile: mdmPath === undefined ? null : readProfile('RETURN_TO_SERVICE_MDM_PROFILE', mdmPath),
  };
}

function readProfile(variable: string, path: string): Uint8Array {
  if (!existsSync(path)) throw new ConfigError(`${variable}: no file at ${path}`);
  return readFileSync(path);
}
