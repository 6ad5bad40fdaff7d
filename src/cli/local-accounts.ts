// What `aspen users` and `aspen tokens` share: the database the server's configuration names
// (opened directly, as `aspen backup` does, so the first admin can be made before any credential
// exists), the audit log entry for what they change, and reading a password.
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { Accounts, AccountError } from '../service/accounts.ts';
import { AuditLog, type AuditRecord } from '../service/audit-log.ts';
import type { AuditTarget } from '../storage/audit.ts';
import { openStorage } from '../storage/open-storage.ts';
import { CliError } from './errors.ts';
import { serverConfig } from './local-config.ts';

export interface LocalAccounts {
  accounts: Accounts;
  /** Records a change made here, by the operating system user who ran the command. */
  audit(action: string, targets: AuditTarget[], details?: Record<string, unknown>): Promise<void>;
}

/** Runs `fn` with the server's database open, closing it after; AccountErrors become CliErrors. */
export async function withAccounts<T>(fn: (local: LocalAccounts) => Promise<T>): Promise<T> {
  const { database } = await serverConfig();
  const storage = await openStorage(database);
  const log = new AuditLog(storage.audit);
  const actor = { actor: osUser(), via: 'cli' as const };
  try {
    return await fn({
      accounts: new Accounts(storage.accounts),
      audit: async (action, targets, details) => {
        const entry: AuditRecord = { action, status: 200, targets, details: details ?? null };
        await log.record(actor, entry);
      },
    });
  } catch (err) {
    if (err instanceof AccountError) throw new CliError(err.message);
    throw err;
  } finally {
    await storage.close();
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * The password: all of stdin with --password-stdin (its last newline dropped), otherwise asked for
 * twice on the terminal without echo.
 */
export async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!process.stdin.isTTY) throw new CliError('no terminal to ask for the password on: pass it with --password-stdin');
  const first = await ask('password: ');
  const again = await ask('again: ');
  if (first !== again) throw new CliError('the two passwords differ');
  return first;
}

function ask(prompt: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo nothing of what is typed (the prompt itself is written before muting).
  process.stderr.write(prompt);
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
