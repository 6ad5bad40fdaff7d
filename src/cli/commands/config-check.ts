// `aspen config check`: validate the configuration as the server would, without starting it: the
// same checks of every value and of the files they name, and whether HOST:PORT can be listened on.
// It speaks of the variables an operator sets (DATABASE_URL, not an internal field name).
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { API_KEY_FILE } from '../../api-key.ts';
import type { Config } from '../../config.ts';
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
    const { checkListen, CONFIG_DEFAULTS, CONFIG_VARIABLES } = await import('../../config.ts');
    await checkListen(config).catch(asCliError);
    const { DEVICE_CA_CERT_FILE } = await import('../../identity/device-ca.ts');
    const files = { apiKey: join(config.dataDir, API_KEY_FILE), deviceCa: join(config.dataDir, DEVICE_CA_CERT_FILE) };
    const rows = CONFIG_VARIABLES.map((name) => {
      const raw = process.env[name]?.trim();
      const set = raw !== undefined && raw !== '';
      return [name, describe(name, set ? raw : undefined, CONFIG_DEFAULTS[name], config, files)] as const;
    });
    print(keyValues(rows));
    print('configuration ok');
  },
};

const SECRET = /^API_KEY$|PASSPHRASE$/;

/** One variable's effective value, as an operator would want to read it; secrets masked. */
function describe(name: string, value: string | undefined, fallback: string | undefined, config: Config, files: { apiKey: string; deviceCa: string }): string {
  const shown = value ?? (fallback === undefined ? '-' : `${fallback} (default)`);
  switch (name) {
    case 'DATA_DIR':
      return `${config.dataDir}${value === undefined ? ' (default)' : ''}`;
    case 'DATABASE_URL': {
      const notes = [...(value === undefined ? ['default: in DATA_DIR'] : []), ...(existsSync(config.databasePath) ? [] : ['created on first start'])];
      return notes.length === 0 ? config.databasePath : `${config.databasePath} (${notes.join('; ')})`;
    }
    case 'API_KEY': {
      if (value !== undefined) return mask(value);
      return existsSync(files.apiKey) ? `- (the key in ${files.apiKey})` : `- (generated on first start into ${files.apiKey})`;
    }
    case 'DEVICE_CA': {
      if (value !== undefined) return `${value}: ${config.identity.caPem?.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0} certificates`;
      if (!config.identity.required) return '- (DEVICE_IDENTITY=off)';
      return `- (Aspen's own device CA, ${files.deviceCa}${existsSync(files.deviceCa) ? '' : ', created on first start'})`;
    }
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

/** Enough to tell two keys apart, not enough to use one. */
function mask(key: string): string {
  return `${key.slice(0, 4)}${'*'.repeat(8)} (${key.length} characters)`;
}
