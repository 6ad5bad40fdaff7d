// `aspen config check`: validate the configuration as the server would, without starting it: the
// same checks of every value and of the files they name, and whether HOST:PORT can be listened on.
// It speaks of the variables an operator sets (DATABASE_URL, not an internal field name).
import { X509Certificate } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { DEVICE_CA_CERT_FILE } from '../../identity/index.ts';
import { API_KEY_FILE } from '../../service/shared-secrets.ts';
import { describeDatabase } from '../../storage/open-storage.ts';
import { expectPositionals } from '../args.ts';
import type { CliCommand } from '../command.ts';
import { asCliError, serverConfig } from '../local-config.ts';
import { print } from '../output.ts';
import { keyValues } from '../table.ts';

export const configCheck: CliCommand = {
  name: 'config check',
  usage: ['config check'],
  summary: 'validate the environment and .env as the server would (values, files, HOST:PORT) and print each variable',
  options: {},
  async run(args) {
    expectPositionals(args, []);
    const config = await serverConfig();
    const { checkListen, CONFIG_DEFAULTS, CONFIG_VARIABLES, PortInUseError } = await import('../../config.ts');
    // The port must be free, or held by this Aspen itself: checking before a restart is what this
    // command is for, and the restart frees it.
    let running: string | undefined;
    try {
      await checkListen(config);
    } catch (err) {
      running = err instanceof PortInUseError ? await aspenVersionAt(config) : undefined;
      if (running === undefined) await asCliError(err);
    }
    const files = { apiKey: join(config.dataDir, API_KEY_FILE), deviceCa: join(config.dataDir, DEVICE_CA_CERT_FILE) };
    const rows = CONFIG_VARIABLES.map((name) => {
      const raw = process.env[name]?.trim();
      const set = raw !== undefined && raw !== '';
      const text = describe(name, set ? raw : undefined, CONFIG_DEFAULTS[name], config, files);
      return [name, name === 'PORT' && running !== undefined ? `${text} (in use by the running Aspen ${running})` : text] as const;
    });
    print(keyValues(rows));
    print('configuration ok');
  },
};

const SECRET = /^API_KEY$|PASSPHRASE$|PASSWORD$|SECRET$|CHALLENGE$/;

/** One variable's effective value, as an operator would want to read it; secrets masked. */
function describe(name: string, value: string | undefined, fallback: string | undefined, config: Config, files: { apiKey: string; deviceCa: string }): string {
  const shown = value ?? (fallback === undefined ? '-' : `${fallback} (default)`);
  switch (name) {
    case 'DATA_DIR':
      return `${config.dataDir}${value === undefined ? ' (default)' : ''}`;
    case 'DATABASE_URL': {
      // A PostgreSQL URL's password is masked.
      const notes = [
        ...(value === undefined ? ['default: in DATA_DIR'] : []),
        ...(config.database.kind === 'sqlite' && !existsSync(config.database.path) ? ['created on first start'] : []),
      ];
      const database = describeDatabase(config.database);
      return notes.length === 0 ? database : `${database} (${notes.join('; ')})`;
    }
    case 'API_KEY':
      if (value !== undefined) return mask(value);
      return `- (the key shared through the database; a copy for the CLI in ${files.apiKey}${existsSync(files.apiKey) ? '' : ', written on first start'})`;
    case 'DEVICE_CA':
      if (value !== undefined) return `${value}: ${config.identity.caPem?.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0} certificates`;
      if (!config.identity.required) return '- (DEVICE_IDENTITY=off)';
      return `- (Aspen's own device CA, kept in the database; its certificate in ${files.deviceCa}${existsSync(files.deviceCa) ? '' : ' after the first start'})`;
    case 'APNS_CERT':
    case 'APNS_P12': {
      const certificate = config.apns.certificate;
      if (value === undefined || certificate === null) return shown;
      return `${value}: topic ${certificate.topic}, expires ${certificate.notAfter.toISOString()}`;
    }
    case 'TLS_CERT':
      return value === undefined || config.tls === null ? shown : `${value}: expires ${new Date(new X509Certificate(config.tls.certPem).validTo).toISOString()}`;
    default:
      return value !== undefined && SECRET.test(name) ? mask(value) : shown;
  }
}

/** The version an Aspen answering on HOST:PORT reports, or undefined when none answers there. */
function aspenVersionAt(config: Config): Promise<string | undefined> {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const get = config.tls === null ? httpGet : httpsGet;
  return new Promise((resolve) => {
    // A certificate for the server's public name will not match localhost: only the answer counts.
    const request = get({ host, port: config.port, path: '/version', rejectUnauthorized: false, timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        try {
          const { version } = JSON.parse(text) as { version?: unknown };
          resolve(res.statusCode === 200 && typeof version === 'string' ? version : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('no answer')));
    request.on('error', () => resolve(undefined));
  });
}

/** Enough to tell two keys apart, not enough to use one. */
function mask(key: string): string {
  return `${key.slice(0, 4)}${'*'.repeat(8)} (${key.length} characters)`;
}
