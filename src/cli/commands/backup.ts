// `aspen backup` and `aspen restore`: one file that holds everything a restore needs — the
// database, and with it the admin API key, Aspen's device CA and its key, and the push
// certificate — so it must be kept as secret as the server itself.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BackupError, backupDatabase, restoreDatabase } from '../../storage/backup.ts';
import { expectPositionals } from '../args.ts';
import type { CliCommand } from '../command.ts';
import { CliError } from '../errors.ts';
import { serverConfig } from '../local-config.ts';
import { print } from '../output.ts';
import { describeDatabase } from '../../storage/open-storage.ts';

export const backup: CliCommand = {
  name: 'backup',
  usage: ['backup <file> [--force]'],
  summary: 'copy the database (with the API key, device CA and push certificate it holds) consistently while the server runs (--force overwrites <file>)',
  options: { force: 'boolean' },
  async run(args) {
    const [file] = expectPositionals(args, ['<file>']);
    const target = resolve(file);
    const { database } = await serverConfig();
    if (database.kind === 'sqlite') {
      if (target === database.path) throw new CliError('the backup file is the database itself');
      if (database.path !== ':memory:' && !existsSync(database.path)) throw new CliError(`no database at ${database.path}`);
    }
    if (existsSync(target) && !args.values.force) throw new CliError(`${target} exists; pass --force to overwrite it`);
    await backupErrorsAsCli(() => backupDatabase(database, target));
    print(`backed up ${describeDatabase(database)} to ${target} (${humanSize(statSync(target).size)})`);
  },
};

export const restore: CliCommand = {
  name: 'restore',
  usage: ['restore <file> [--force]'],
  summary: 'put a backup in place of the database (stop the server first; --force replaces an existing database)',
  options: { force: 'boolean' },
  async run(args) {
    const [file] = expectPositionals(args, ['<file>']);
    const source = resolve(file);
    if (!existsSync(source)) throw new CliError(`no backup at ${source}`);
    const { database } = await serverConfig();
    if (database.kind === 'sqlite' && existsSync(database.path) && !args.values.force) {
      throw new CliError(`${database.path} exists; pass --force to replace it with the backup`);
    }
    await backupErrorsAsCli(() => restoreDatabase(database, source));
    print(`restored ${source} to ${describeDatabase(database)}; start the server`);
  },
};

async function backupErrorsAsCli(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message);
    throw err;
  }
}

function humanSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${size.toFixed(1)} ${units[unit]}`;
}
