// Backing up and restoring the SQLite database, which holds everything a restore needs: the fleet,
// and the secrets kept with it (admin API key, Aspen's device CA and key, the push certificate).
import { existsSync, renameSync, rmSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { BackupError } from '../backup.ts';

/** better-sqlite3 clamps the pages-per-step to this; it means "everything in one step". */
const ALL_PAGES = 0x7fffffff;

/**
 * A consistent copy of the live database (SQLite's online backup API, safe while the server
 * writes in WAL mode), written beside `target` and renamed into place, so a failed run never
 * leaves half a backup under the real name, nor destroys a file it was to replace.
 */
export async function backupSqlite(source: string, target: string): Promise<void> {
  // Read-only and without migrations: a backup must never change the database it copies.
  const db = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
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
    throw new BackupError(`backup failed: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Puts a backup in place of the database at `target`. Refuses a file that is not an Aspen database
 * or fails SQLite's integrity check, and refuses while a server has the database open (switching
 * it out of WAL mode needs every other connection gone): replacing a database under a running
 * server would mix the new file with the old one's write-ahead log.
 */
export async function restoreSqlite(backup: string, target: string): Promise<void> {
  checkBackup(backup);
  if (existsSync(target)) {
    const live = new BetterSqlite3(target, { fileMustExist: true });
    try {
      live.pragma('busy_timeout = 2000');
      if (live.pragma('journal_mode = DELETE', { simple: true }) !== 'delete') throw new Error('in use');
    } catch {
      throw new BackupError(`${target} is in use by a running server: stop it first`);
    } finally {
      live.close();
    }
  }
  const partial = `${target}.restoring-${process.pid}`;
  const source = new BetterSqlite3(backup, { readonly: true, fileMustExist: true });
  try {
    // The backup API again, rather than a file copy: the result is a complete, consistent file
    // whatever journal state the backup file was left in.
    await source.backup(partial, { progress: () => ALL_PAGES });
  } finally {
    source.close();
  }
  singleFile(partial);
  for (const leftover of ['-wal', '-shm', '-journal']) rmSync(`${target}${leftover}`, { force: true });
  renameSync(partial, target);
}

function checkBackup(path: string): void {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError(`${path} is not a SQLite database: ${(err as Error).message}`);
  }
  try {
    const tables = new Set(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[]);
    if (!tables.has('schema_migrations') || !tables.has('enrollments')) throw new BackupError(`${path} is not an Aspen database`);
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new BackupError(`${path} fails SQLite's integrity check: ${String(integrity)}`);
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${path} cannot be read: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/** The copy inherits WAL mode; a rollback-journal database is one self-contained file to move around. */
function singleFile(path: string): void {
  const copy = new BetterSqlite3(path);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}
