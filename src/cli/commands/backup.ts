// `aspen backup`: a consistent copy of the live SQLite database, taken with SQLite's online
// backup API, which is safe against the running server writing in WAL mode.
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { expectPositionals } from '../args.ts';
import type { CliCommand } from '../command.ts';
import { CliError } from '../errors.ts';
import { serverConfig } from '../local-config.ts';
import { print } from '../output.ts';

/** better-sqlite3 clamps the pages-per-step to this; it means "everything in one step". */
const ALL_PAGES = 0x7fffffff;

export const backup: CliCommand = {
  name: 'backup',
  usage: ['backup <file> [--force]'],
  summary: 'copy the database consistently while the server runs (--force overwrites <file>)',
  options: { force: 'boolean' },
  async run(args) {
    const [file] = expectPositionals(args, ['<file>']);
    const target = resolve(file);
    const { database } = await serverConfig();
    if (database.kind !== 'sqlite') throw new CliError('the database is PostgreSQL (DATABASE_URL): back it up with pg_dump (see deploy/README.md)');
    const source = database.path;
    if (source === ':memory:') throw new CliError('the database is in memory (DATABASE_URL=:memory:); there is nothing to back up');
    if (!existsSync(source)) throw new CliError(`no database at ${source}`);
    if (target === source) throw new CliError('the backup file is the database itself');
    if (existsSync(target) && !args.values.force) throw new CliError(`${target} exists; pass --force to overwrite it`);

    // Read-only and without migrations: a backup must never change the database it copies.
    const db = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
    // Written beside the target and renamed into place, so a failed run never leaves half a backup
    // under the real name, nor destroys the file --force would replace.
    const partial = `${target}.partial-${process.pid}`;
    try {
      db.pragma('busy_timeout = 5000');
      // Copying every page in one step reads one snapshot; in small steps, each write by the
      // server would restart the copy, and a busy server could keep it from ever finishing.
      await db.backup(partial, { progress: () => ALL_PAGES });
      singleFile(partial);
      renameSync(partial, target);
    } catch (err) {
      rmSync(partial, { force: true });
      throw new CliError(`backup failed: ${(err as Error).message}`);
    } finally {
      db.close();
    }
    print(`backed up ${source} to ${target} (${humanSize(statSync(target).size)})`);
  },
};

/** The copy inherits WAL mode; a rollback-journal database is one self-contained file to move around. */
function singleFile(path: string): void {
  const copy = new BetterSqlite3(path);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
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
