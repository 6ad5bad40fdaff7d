// The accounts store on PostgreSQL, for several instances on one database. The login limit takes
// a transaction-scoped advisory lock per key it counts (in sorted order, so two attempts never
// deadlock), so attempts racing on different instances are counted one after the other.
import type { Pool, QueryResultRow } from 'pg';
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
import { inTransaction } from './transaction.ts';

export class PostgresAccountStore implements AccountStore {
  constructor(private readonly pool: Pool) {}

  private async rows<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  async createAccount(a: StoredAccount): Promise<boolean> {
    const inserted = await this.pool.query(
      `INSERT INTO accounts (id, name, role, password_hash, created_at, updated_at, password_changed_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING`,
      [a.id, a.name, a.role, a.passwordHash, a.createdAt, a.updatedAt, a.passwordChangedAt],
    );
    return inserted.rowCount === 1;
  }

  async accountByName(name: string): Promise<StoredAccount | undefined> {
    const [row] = await this.rows<AccountRow>('SELECT * FROM accounts WHERE name = $1', [name]);
    return row && toStoredAccount(row);
  }

  async accountById(id: string): Promise<StoredAccount | undefined> {
    const [row] = await this.rows<AccountRow>('SELECT * FROM accounts WHERE id = $1', [id]);
    return row && toStoredAccount(row);
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.rows<AccountRow>('SELECT * FROM accounts ORDER BY name')).map(toAccount);
  }

  async removeAccount(id: string): Promise<boolean> {
    return (await this.pool.query('DELETE FROM accounts WHERE id = $1', [id])).rowCount === 1;
  }

  async updateAccount(id: string, change: { role?: Role; passwordHash?: string; at: string }): Promise<Account | undefined> {
    return inTransaction(this.pool, async (c) => {
      const updated = await c.query<AccountRow>(
        `UPDATE accounts SET role = coalesce($2, role), password_hash = coalesce($3, password_hash),
          password_changed_at = CASE WHEN $3::text IS NULL THEN password_changed_at ELSE $4 END, updated_at = $4
        WHERE id = $1 RETURNING *`,
        [id, change.role ?? null, change.passwordHash ?? null, change.at],
      );
      const row = updated.rows[0];
      if (row === undefined) return undefined;
      if (change.passwordHash !== undefined) await c.query('DELETE FROM console_sessions WHERE account_id = $1', [id]);
      return toAccount(row);
    });
  }

  async createToken(t: NewApiToken): Promise<ApiToken> {
    await this.pool.query(
      `INSERT INTO api_tokens (id, account_id, name, token_hash, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [t.id, t.accountId, t.name, t.tokenHash, t.createdAt, t.createdBy, t.expiresAt],
    );
    return (await this.tokenById(t.id))!;
  }

  async tokenByHash(tokenHash: string, at: Pick<Liveness, 'at' | 'touchBefore'>): Promise<{ token: ApiToken; account: Account } | undefined> {
    const [row] = await this.rows<TokenWithAccountRow>(
      `SELECT ${TOKEN_ACCOUNT_COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id
      WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)`,
      [tokenHash, at.at],
    );
    if (row === undefined) return undefined;
    if (row.last_used_at === null || row.last_used_at < at.touchBefore) {
      await this.pool.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [row.id, at.at]);
      row.last_used_at = at.at;
    }
    return { token: toToken(row), account: tokenAccount(row) };
  }

  async tokenById(id: string): Promise<ApiToken | undefined> {
    const [row] = await this.rows<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = $1`, [id]);
    return row && toToken(row);
  }

  async listTokens(filter: { accountId?: string }): Promise<ApiToken[]> {
    const rows = await this.rows<TokenRow>(
      `SELECT ${TOKEN_COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id
      WHERE $1::text IS NULL OR t.account_id = $1 ORDER BY t.created_at DESC, t.id DESC`,
      [filter.accountId ?? null],
    );
    return rows.map(toToken);
  }

  async removeToken(id: string): Promise<ApiToken | undefined> {
    return inTransaction(this.pool, async (c) => {
      const found = await c.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.id = $1 FOR UPDATE OF t`, [id]);
      const row = found.rows[0];
      if (row !== undefined) await c.query('DELETE FROM api_tokens WHERE id = $1', [id]);
      return row && toToken(row);
    });
  }

  async createSession(s: NewSession): Promise<void> {
    await this.pool.query(
      `INSERT INTO console_sessions (token_hash, account_id, created_at, last_seen_at, expires_at, client_address) VALUES ($1, $2, $3, $3, $4, $5)`,
      [s.tokenHash, s.accountId, s.createdAt, s.expiresAt, s.clientAddress],
    );
  }

  async session(tokenHash: string, live: Liveness): Promise<SessionRecord | undefined> {
    const [row] = await this.rows<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM console_sessions s JOIN accounts a ON a.id = s.account_id
      WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at >= $3`,
      [tokenHash, live.at, live.idleSince],
    );
    if (row === undefined) return undefined;
    if (row.last_seen_at < live.touchBefore) {
      await this.pool.query('UPDATE console_sessions SET last_seen_at = $2 WHERE token_hash = $1', [tokenHash, live.at]);
      row.last_seen_at = live.at;
    }
    return toSession(row);
  }

  async removeSession(tokenHash: string): Promise<boolean> {
    return (await this.pool.query('DELETE FROM console_sessions WHERE token_hash = $1', [tokenHash])).rowCount === 1;
  }

  async removeSessions(accountId: string): Promise<number> {
    return (await this.pool.query('DELETE FROM console_sessions WHERE account_id = $1', [accountId])).rowCount ?? 0;
  }

  async beginLoginAttempt(attempt: LoginAttempt): Promise<LoginAttemptOutcome> {
    const keys = [...attempt.keys].sort();
    return inTransaction(this.pool, async (c): Promise<LoginAttemptOutcome> => {
      for (const key of keys) await c.query("SELECT pg_advisory_xact_lock(hashtextextended('aspen-login:' || $1, 0))", [key]);
      let retryAt: string | undefined;
      for (const key of keys) {
        // The failure whose leaving brings the count under the limit, if it is at the limit.
        const found = await c.query<{ at: string }>(
          `SELECT at FROM login_failures WHERE key = $1 AND at > $2 ORDER BY at DESC OFFSET $3 LIMIT 1`,
          [key, attempt.windowStart, attempt.limit - 1],
        );
        const at = found.rows[0]?.at;
        if (at !== undefined && (retryAt === undefined || at > retryAt)) retryAt = at;
      }
      if (retryAt !== undefined) return { allowed: false, retryAt: leavesWindow(retryAt, attempt) };
      for (const key of keys) await c.query('INSERT INTO login_failures (key, at, attempt) VALUES ($1, $2, $3)', [key, attempt.at, attempt.attempt]);
      return { allowed: true };
    });
  }

  async forgetLoginAttempt(attempt: string): Promise<void> {
    await this.pool.query('DELETE FROM login_failures WHERE attempt = $1', [attempt]);
  }

  async prune(cutoffs: { at: string; failuresBefore: string }): Promise<{ sessions: number; loginFailures: number }> {
    const sessions = (await this.pool.query('DELETE FROM console_sessions WHERE expires_at <= $1', [cutoffs.at])).rowCount ?? 0;
    const loginFailures = (await this.pool.query('DELETE FROM login_failures WHERE at < $1', [cutoffs.failuresBefore])).rowCount ?? 0;
    return { sessions, loginFailures };
  }
}
