// Managing admin accounts and their API tokens: what `aspen users`/`aspen tokens` and the admin
// API's /v1/accounts and /v1/tokens do. Passwords are hashed here (passwords.ts); a token's value
// is returned once, at creation, and only its SHA-256 is kept.
import { randomUUID } from 'node:crypto';
import type { Account, AccountStore, ApiToken, Role } from '../storage/accounts.ts';
import { ROLES } from '../storage/accounts.ts';
import { normalizeName, secret, sha256, TOKEN_PREFIX } from './access.ts';
import { hashPassword, passwordProblem } from './passwords.ts';

/** A request that cannot be done as asked (a 400, or `aspen` exit 1), with why. */
export class AccountError extends Error {
  override readonly name = 'AccountError';
  constructor(
    message: string,
    readonly kind: 'bad_request' | 'not_found' | 'conflict' = 'bad_request',
  ) {
    super(message);
  }
}

const NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export class Accounts {
  constructor(
    private readonly store: AccountStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async add(rawName: string, role: Role, password: string): Promise<Account> {
    const name = normalizeName(rawName);
    if (!NAME.test(name)) throw new AccountError('an account name is 1 to 64 of a-z, 0-9, . _ @ -, starting with a letter or digit');
    checkPassword(password);
    const at = this.now().toISOString();
    const account = { id: randomUUID(), name, role, passwordHash: await hashPassword(password), createdAt: at, updatedAt: at, passwordChangedAt: at };
    if (!(await this.store.createAccount(account))) throw new AccountError(`an account ${name} exists`, 'conflict');
    const { passwordHash: _hash, ...created } = account;
    return created;
  }

  list(): Promise<Account[]> {
    return this.store.listAccounts();
  }

  async byName(rawName: string): Promise<Account> {
    const found = await this.store.accountByName(normalizeName(rawName));
    if (found === undefined) throw new AccountError(`no account ${normalizeName(rawName)}`, 'not_found');
    const { passwordHash: _hash, ...account } = found;
    return account;
  }

  /** Removes the account with its tokens and sessions. */
  async remove(rawName: string): Promise<Account> {
    const account = await this.byName(rawName);
    await this.store.removeAccount(account.id);
    return account;
  }

  /** A new password ends the account's console sessions; its tokens stay. */
  async change(rawName: string, change: { role?: Role; password?: string }): Promise<Account> {
    const account = await this.byName(rawName);
    if (change.password !== undefined) checkPassword(change.password);
    const passwordHash = change.password === undefined ? undefined : await hashPassword(change.password);
    const updated = await this.store.updateAccount(account.id, { ...(change.role && { role: change.role }), ...(passwordHash && { passwordHash }), at: this.now().toISOString() });
    if (updated === undefined) throw new AccountError(`no account ${account.name}`, 'not_found');
    return updated;
  }

  /** A token for the account, with the account's role; `value` is shown this once. */
  async createToken(account: Account, opts: { name: string | null; expiresAt: Date | null; createdBy: string }): Promise<{ token: ApiToken; value: string }> {
    const value = `${TOKEN_PREFIX}${secret()}`;
    const token = await this.store.createToken({
      id: randomUUID(),
      accountId: account.id,
      name: opts.name,
      tokenHash: sha256(value),
      createdAt: this.now().toISOString(),
      createdBy: opts.createdBy,
      expiresAt: opts.expiresAt?.toISOString() ?? null,
    });
    return { token, value };
  }

  listTokens(accountId?: string): Promise<ApiToken[]> {
    return this.store.listTokens(accountId === undefined ? {} : { accountId });
  }

  tokenById(id: string): Promise<ApiToken | undefined> {
    return this.store.tokenById(id);
  }

  revokeToken(id: string): Promise<ApiToken | undefined> {
    return this.store.removeToken(id);
  }
}

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new AccountError(problem);
}
