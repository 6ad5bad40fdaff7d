// The storage contract of admin accounts (storage.accounts): accounts and their roles, API tokens,
// console sessions and the login failures the rate limit counts. Both backends implement it
// (sqlite/accounts.ts, postgres/accounts.ts); test/storage/accounts-contract.ts holds them to the
// same behaviour, across connections included.
//
// Secrets never reach storage: a password arrives as its scrypt hash, a token and a session as the
// SHA-256 of their random value, so they are found by digest and no secret is compared here.

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Account {
  id: string;
  /** Lowercase (the service normalizes it); unique. */
  name: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
  passwordChangedAt: string;
}

export interface StoredAccount extends Account {
  /** `scrypt$N$r$p$salt$hash` (see service/accounts-passwords.ts). */
  passwordHash: string;
}

export interface NewApiToken {
  id: string;
  accountId: string;
  name: string | null;
  tokenHash: string;
  createdAt: string;
  /** Who made it (an actor, as the audit log names it). */
  createdBy: string;
  expiresAt: string | null;
}

export interface ApiToken {
  id: string;
  accountId: string;
  accountName: string;
  name: string | null;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  /** Refreshed at most once a minute (see `tokenByHash`). */
  lastUsedAt: string | null;
}

export interface NewSession {
  tokenHash: string;
  accountId: string;
  createdAt: string;
  /** The absolute limit; the idle one is decided at each lookup. */
  expiresAt: string;
  clientAddress: string | null;
}

export interface SessionRecord {
  account: Account;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

/** When a lookup happens, and what it takes to be alive. */
export interface Liveness {
  at: string;
  /** A session last seen before this has been idle too long. */
  idleSince: string;
  /** last_seen_at (last_used_at for a token) older than this is moved to `at`: one write a minute at most. */
  touchBefore: string;
}

export interface LoginAttempt {
  /** Identifies this attempt's rows, so a success can take them back. */
  attempt: string;
  /** What the limit counts per: `name:<account>`, `address:<client>`. */
  keys: string[];
  at: string;
  /** Failures before this no longer count. */
  windowStart: string;
  /** Refused when any key already has this many failures in the window. */
  limit: number;
}

export type LoginAttemptOutcome = { allowed: true } | { allowed: false; retryAt: string };

export interface AccountStore {
  /** False when the name is taken. */
  createAccount(account: StoredAccount): Promise<boolean>;
  accountByName(name: string): Promise<StoredAccount | undefined>;
  accountById(id: string): Promise<StoredAccount | undefined>;
  listAccounts(): Promise<Account[]>;
  /** Removes the account with its tokens and sessions; false when there is none. */
  removeAccount(id: string): Promise<boolean>;
  /** A new password ends every session of the account in the same transaction. */
  updateAccount(id: string, change: { role?: Role; passwordHash?: string; at: string }): Promise<Account | undefined>;

  createToken(token: NewApiToken): Promise<ApiToken>;
  /** An unexpired token and its account (refreshing its last use, see Liveness). */
  tokenByHash(tokenHash: string, at: Pick<Liveness, 'at' | 'touchBefore'>): Promise<{ token: ApiToken; account: Account } | undefined>;
  tokenById(id: string): Promise<ApiToken | undefined>;
  /** Newest first. */
  listTokens(filter: { accountId?: string }): Promise<ApiToken[]>;
  /** Deletes it; the token as it was, or undefined when there was none. */
  removeToken(id: string): Promise<ApiToken | undefined>;

  createSession(session: NewSession): Promise<void>;
  /** A live session (not past its absolute limit, not idle too long), its last use refreshed. */
  session(tokenHash: string, live: Liveness): Promise<SessionRecord | undefined>;
  removeSession(tokenHash: string): Promise<boolean>;
  /** Ends every session of the account; how many there were. */
  removeSessions(accountId: string): Promise<number>;

  /**
   * Counts an attempt as a failure before its password is checked (so attempts racing on several
   * instances cannot get past the limit), unless a key is at the limit already: then nothing is
   * written and `retryAt` is when the oldest counted failure leaves the window.
   */
  beginLoginAttempt(attempt: LoginAttempt): Promise<LoginAttemptOutcome>;
  /** The attempt succeeded: its rows stop counting. */
  forgetLoginAttempt(attempt: string): Promise<void>;
  /** Expired sessions and login failures from before `failuresBefore`. */
  prune(cutoffs: { at: string; failuresBefore: string }): Promise<{ sessions: number; loginFailures: number }>;
}
