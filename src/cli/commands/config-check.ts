// `aspen config check`: validate the configuration as the server would, without starting it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { API_KEY_FILE } from '../../service/shared-secrets.ts';
import { describeDatabase } from '../../storage/open-storage.ts';
import { expectPositionals } from '../args.ts';
import type { CliCommand } from '../command.ts';
import { serverConfig } from '../local-config.ts';
import { print } from '../output.ts';
import { keyValues } from '../table.ts';

export const configCheck: CliCommand = {
  name: 'config check',
  usage: ['config check'],
  summary: 'validate the environment and .env as the server would and print the effective settings',
  options: {},
  async run(args) {
    expectPositionals(args, []);
    const config = await serverConfig();
    const keyFile = join(config.dataDir, API_KEY_FILE);
    const explained: Record<string, string> = {
      apiKey: config.apiKey !== undefined ? mask(config.apiKey) : existsSync(keyFile) ? `from ${keyFile}` : `generated on first start into ${keyFile}`,
      'database.path': config.database.kind === 'sqlite' && !existsSync(config.database.path) ? `${config.database.path} (created on first start)` : describeDatabase(config.database),
      'database.url': describeDatabase(config.database),
    };
    // Walked rather than listed, so settings added to Config show up here without a change.
    const settings = flatten('', config).map(([label, text]) => [label, explained[label] ?? text] as const);
    print(keyValues(settings));
    print('configuration ok');
  },
};

const SECRET_NAME = /passphrase|password|secret|challenge/i;

/** Setting paths and printable values; key material and file contents are summarised, never shown. */
function flatten(path: string, value: unknown): [string, string][] {
  const name = path.slice(path.lastIndexOf('.') + 1);
  if (value === null || value === undefined) return [[path, '-']];
  if (value instanceof Uint8Array) return [[path, `${value.length} bytes`]];
  if (value instanceof Date) return [[path, value.toISOString()]];
  if (typeof value === 'string' && value.includes('-----BEGIN')) return [[path, `PEM, ${value.length} characters`]];
  if (typeof value === 'string' && SECRET_NAME.test(name)) return [[path, mask(value)]];
  if (typeof value === 'object') return Object.entries(value).flatMap(([key, v]) => flatten(path === '' ? key : `${path}.${key}`, v));
  return [[path, String(value)]];
}

/** Enough to tell two keys apart, not enough to use one. */
function mask(key: string): string {
  return `${key.slice(0, 4)}${'*'.repeat(8)} (${key.length} characters)`;
}
