// The accounts store on SQLite. The login limit's count-then-insert is one BEGIN IMMEDIATE
// transaction, so processes sharing the file cannot both slip under the limit.
import type { Database } from 'better-sqlite3';
import type { Write } from './group-commit.ts';
import type { Account, AccountStore, ApiToken, Liveness, LoginAttempt, LoginAttemptOutcome, NewApiToken, NewSession, Role, SessionRecord, StoredAccount } from '../accounts.ts';
import {
  SESSION_COLUMNS,
  TOKEN_ACCOUNT_COLUMNS,
  TOKEN_COLUMNS,
  toAccount,
  toSession,
  toStoredAccount,
  toToken,
  tokenAccount,
  type AccountRow,
  type SessionRow,
  type TokenRow,
  type TokenWithAccountRow,
  leavesWindow,
} from '../accounts-rows.ts';

export class SqliteAccountStore implements AccountStore {
  private readonly stmt;

  constructor(
    private readonly db: Database,
    private readonly write: Write,
  ) {
    this.stmt = prepare(db);
  }

  async createAccount(account: StoredAccount): Promise<boolean> {
    return this.write(() => this.stmt.insertAccount.run(account).changes === 1);
  }

  async accountByName(name: string): Promise<StoredAccount | undefined> {
    const row = this.stmt.accountByName.get(name) as AccountRow | undefined;
    return row && toStoredAccount(row);
  }

  async accountById(id: string): Promise<StoredAccount | undefined> {
    const row = this.stmt.accountById.get(id) as AccountRow | undefined;
    return row && toStoredAccount(row);
  }

  async listAccounts(): Promise<Account[]> {
    return (this.stmt.listAccounts.all() as AccountRow[]).map(toAccount);
  }

  async removeAccount(id: string): Promise<boolean> {
    return this.write(() => this.stmt.removeAccount.run(id).changes === 1);
  }

  async updateAccount(id: string, change: { role?: Role; passwordHash?: string; at: string }): Promise<Account | undefined> {
    return this.write(() => {
      const changed = this.stmt.updateAccount.run({ id, role: change.role ?? null, passwordHash: change.passwordHash ?? null, at: change.at }).changes === 1;
      if (!changed) return undefined;
      if (change.passwordHash !== undefined) this.stmt.removeSessions.run(id);
      return toAccount(this.stmt.accountById.get(id) as AccountRow);
    });
  }

  async createToken(token: NewApiToken): Promise<ApiToken> {
    await this.write(() => this.stmt.insertToken.run(token));
    return toToken(this.stmt.tokenById.get(token.id) as TokenRow);
  }

  async tokenByHash(tokenHash: string, at: Pick<Liveness, 'at' | 'touchBefore'>): Promise<{ token: ApiToken; account: Account } | undefined> {
    const row = this.stmt.tokenByHash.get({ tokenHash, at: at.at }) as TokenWithAccountRow | undefined;
    if (row === undefined) return undefined;
    if (row.last_used_at === null || row.last_used_at < at.touchBefore) {
      await this.write(() => this.stmt.touchToken.run({ id: row.id, at: at.at }));
      row.last_used_at = at.at;
    }
    return { token: toToken(row), account: tokenAccount(row) };
  }

  async tokenById(id: string): Promise<ApiToken | undefined> {
    const row = this.stmt.tokenById.get(id) as TokenRow | undefined;
    return row && toToken(row);
  }

  async listTokens(filter: { accountId?: string }): Promise<ApiToken[]> {
    return (this.stmt.listTokens.all({ accountId: filter.accountId ?? null }) as TokenRow[]).map(toToken);
  }

  async removeToken(id: string): Promise<ApiToken | undefined> {
    return this.write(() => {
      const row = this.stmt.tokenById.get(id) as TokenRow | undefined;
      if (row !== undefined) this.stmt.removeToken.run(id);
      return row && toToken(row);
    });
  }

  async createSession(session: NewSession): Promise<void> {
    await this.write(() => this.stmt.insertSession.run(session));
  }

  async session(tokenHash: string, live: Liveness): Promise<SessionRecord | undefined> {
    const row = this.stmt.session.get({ tokenHash, at: live.at, idleSince: live.idleSince }) as SessionRow | undefined;
    if (row === undefined) return undefined;
    if (row.last_seen_at < live.touchBefore) {
      await this.write(() => this.stmt.touchSession.run({ tokenHash, at: live.at }));
      row.last_seen_at = live.at;
    }
    return toSession(row);
  }

  async removeSession(tokenHash: string): Promise<boolean> {
    return this.write(() => this.stmt.removeSession.run(tokenHash).changes === 1);
  }

  async removeSessions(accountId: string): Promise<number> {
    return this.write(() => this.stmt.removeSessions.run(accountId).changes);
  }

  async beginLoginAttempt(attempt: LoginAttempt): Promise<LoginAttemptOutcome> {
    return this.write((): LoginAttemptOutcome => {
      let retryAt: string | undefined;
      for (const key of attempt.keys) {
        const at = (this.stmt.limitingFailure.get({ key, windowStart: attempt.windowStart, offset: attempt.limit - 1 }) as { at: string } | undefined)?.at;
        if (at !== undefined && (retryAt === undefined || at > retryAt)) retryAt = at;
      }
      if (retryAt !== undefined) return { allowed: false, retryAt: leavesWindow(retryAt, attempt) };
      for (const key of attempt.keys) this.stmt.insertFailure.run({ key, at: attempt.at, attempt: attempt.attempt });
      return { allowed: true };
    });
  }

  async forgetLoginAttempt(attempt: string): Promise<void> {
    await this.write(() => this.stmt.forgetAttempt.run(attempt));
  }

  async prune(cutoffs: { at: string; failuresBefore: string }): Promise<{ sessions: number; loginFailures: number }> {
    const sessions = await this.write(() => this.stmt.pruneSessions.run(cutoffs.at).changes);
    const loginFailures = await this.write(() => this.stmt.pruneFailures.run(cutoffs.failuresBefore).changes);
    return { sessions, loginFailures };
  }
}

function prepare(db: Database) {
  return {
    insertAccount: db.prepare(`INSERT INTO accounts (id, name, role, password_hash, created_at, updated_at, password_changed_at)
      VALUES (@id, @name, @role, @passwordHash, @createdAt, @updatedAt, @passwordChangedAt) ON CONFLICT (name) DO NOTHING`),
    accountByName: db.prepare('SELECT * FROM accounts WHERE name = ?'),
    accountById: db.prepare('SELECT * FROM accounts WHERE id = ?'),
    listAccounts: db.prepare('SELECT * FROM accounts ORDER BY name'),
    removeAccount: db.prepare('DELETE FROM accounts WHERE id = ?'),
    updateAccount: db.prepare(`UPDATE accounts SET role = coalesce(@role, role), password_hash = coalesce(@passwordHash, password_hash),
      password_changed_at = CASE WHEN @passwordHash IS NULL THEN password_changed_at ELSE @at END, updated_at = @at WHERE id = @id`),
    insertToken: db.prepare(`INSERT INTO api_tokens (id, account_id, name, token_hash, created_at, created_by, expires_at)
      VALUES (@id, @accountId, @name, @tokenHash, @createdAt, @createdBy, @expiresAt)`),
    tokenById: db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?`),
    tokenByHash: db.prepare(`SELECT ${TOKEN_ACCOUNT_COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id
      WHERE t.token_hash = @tokenHash AND (t.expires_at IS NULL OR t.expires_at > @at)`),
    touchToken: db.prepare('UPDATE api_tokens SET last_used_at = @at WHERE id = @id'),
    listTokens: db.prepare(`SELECT ${TOKEN_COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id
      WHERE @accountId IS NULL OR t.account_id = @accountId ORDER BY t.created_at DESC, t.id DESC`),
    removeToken: db.prepare('DELETE FROM api_tokens WHERE id = ?'),
    insertSession: db.prepare(`INSERT INTO console_sessions (token_hash, account_id, created_at, last_seen_at, expires_at, client_address)
      VALUES (@tokenHash, @accountId, @createdAt, @createdAt, @expiresAt, @clientAddress)`),
    session: db.prepare(`SELECT ${SESSION_COLUMNS} FROM console_sessions s JOIN accounts a ON a.id = s.account_id
      WHERE s.token_hash = @tokenHash AND s.expires_at > @at AND s.last_seen_at >= @idleSince`),
    touchSession: db.prepare('UPDATE console_sessions SET last_seen_at = @at WHERE token_hash = @tokenHash'),
    removeSession: db.prepare('DELETE FROM console_sessions WHERE token_hash = ?'),
    removeSessions: db.prepare('DELETE FROM console_sessions WHERE account_id = ?'),
    // The limit-th newest failure in the window: when it leaves, the count is under the limit.
    limitingFailure: db.prepare('SELECT at FROM login_failures WHERE key = @key AND at > @windowStart ORDER BY at DESC LIMIT 1 OFFSET @offset'),
    insertFailure: db.prepare('INSERT INTO login_failures (key, at, attempt) VALUES (@key, @at, @attempt)'),
    forgetAttempt: db.prepare('DELETE FROM login_failures WHERE attempt = ?'),
    pruneSessions: db.prepare('DELETE FROM console_sessions WHERE expires_at <= ?'),
    pruneFailures: db.prepare('DELETE FROM login_failures WHERE at < ?'),
  };
}
