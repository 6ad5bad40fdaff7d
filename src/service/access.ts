// Who is asking, and what they may do. One place answers both for the admin API and the console:
// the bootstrap API key (API_KEY, an admin), an account's API token (Bearer, the account's role),
// HTTP Basic with an account's name and password, NanoMDM-style Basic (any name, the API key as
// password), and console sessions (a cookie; CSRF token per session).
//
// Everything that must hold across instances is in the database (storage.accounts): sessions,
// tokens, and the login failures the rate limit counts. Secrets are never stored: a session id or
// a token is found by its SHA-256, a password checked against its scrypt hash.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Account, AccountStore, Role } from '../storage/accounts.ts';
import type { AuditLog } from './audit-log.ts';
import { dummyHash, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords.ts';
import { roleHolds, type Permission } from './permissions.ts';

export type { Role } from '../storage/accounts.ts';
export type { Permission } from './permissions.ts';

export interface Principal {
  /** An account's name, or `api-key` for the bootstrap key. What the audit log names. */
  actor: string;
  accountId: string | null;
  role: Role;
  via: 'api-key' | 'token' | 'basic' | 'session';
  /** The API token's id, when via is `token`. */
  credential?: string;
}

export interface ConsoleSession {
  principal: Principal;
  /** Sent back in a form field or the x-csrf-token header with every change; derived from the
   *  session id, so it needs no storage and differs per session. */
  csrfToken: string;
  /** When it ends if used steadily (the absolute limit); idle sessions end sooner. */
  expiresAt: Date;
}

export type LoginResult = { ok: true; sessionId: string; session: ConsoleSession } | { ok: false; reason: 'invalid' | 'rate-limited' };

/** Why a request was not authenticated. */
export type Refusal = { refused: 'missing' | 'invalid' } | { refused: 'rate-limited'; retryAt: Date };

export const SESSION_COOKIE = 'aspen_session';
export const CSRF_HEADER = 'x-csrf-token';
/** The header an in-process request (app.inject) names its principal with; see Access.injectHeaders. */
export const PRINCIPAL_HEADER = 'x-aspen-principal';
/** Token values start with this, so a token is told from the API key and found in leaked text. */
export const TOKEN_PREFIX = 'aspen_';

export interface AccessOptions {
  /** The bootstrap admin key (API_KEY). */
  apiKey: string;
  /** A session ends this long after login at the latest. */
  sessionMaxMs?: number;
  /** ...and this long after its last use. */
  sessionIdleMs?: number;
  /** Failed logins per account name, and per client address, within the window before 429. */
  loginLimit?: number;
  loginWindowMs?: number;
  /** Where console logins and logouts are recorded (API changes are recorded by the API). */
  audit?: AuditLog;
  now?: () => Date;
}

export const DEFAULTS = { sessionMaxMs: 12 * 3600_000, sessionIdleMs: 2 * 3600_000, loginLimit: 10, loginWindowMs: 60_000 };
/** A session's or token's last use is written at most this often. */
const TOUCH_MS = 60_000;

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A random secret: 32 bytes, base64url. */
export function secret(): string {
  return randomBytes(32).toString('base64url');
}

/** Account names are compared lowercase. */
export function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

export class Access {
  private readonly opts: Required<Omit<AccessOptions, 'now' | 'audit'>>;
  private readonly now: () => Date;
  private readonly audit: AuditLog | undefined;
  /** Signs principals of in-process requests; never leaves the process. */
  private readonly injectKey = randomBytes(32);

  constructor(
    private readonly store: AccountStore,
    options: AccessOptions,
  ) {
    const { now, audit, ...rest } = options;
    this.opts = { ...DEFAULTS, ...rest };
    this.now = now ?? (() => new Date());
    this.audit = audit;
  }

  can(principal: Principal, permission: Permission): boolean {
    return roleHolds(principal.role, permission);
  }

  /** Checks a name and password (rate limited per name and per address) and opens a session. */
  /** Logins are audited (`session.login`), failed ones too; those the limit refuses are not, so a
   *  flood of guesses cannot flood the log. */
  async login(name: string, password: string, address: string | null): Promise<LoginResult> {
    const checked = await this.checkPassword(name, password, address);
    if ('refused' in checked) {
      if (checked.refused === 'rate-limited') return { ok: false, reason: 'rate-limited' };
      await this.audit?.record({ actor: normalizeName(name), via: 'session' }, { action: 'session.login', status: 401, clientAddress: address });
      return { ok: false, reason: 'invalid' };
    }
    const sessionId = secret();
    const at = this.now();
    const expiresAt = new Date(at.getTime() + this.opts.sessionMaxMs);
    await this.store.createSession({ tokenHash: sha256(sessionId), accountId: checked.id, createdAt: at.toISOString(), expiresAt: expiresAt.toISOString(), clientAddress: address });
    const principal = accountPrincipal(checked, 'session');
    await this.audit?.record(principal, { action: 'session.login', status: 200, targets: [{ kind: 'account', id: checked.name }], clientAddress: address });
    return { ok: true, sessionId, session: { principal, csrfToken: csrfToken(sessionId), expiresAt } };
  }

  /** The live session with this id (refreshing its last use), or null. */
  async session(sessionId: string): Promise<ConsoleSession | null> {
    if (sessionId === '') return null;
    const at = this.now();
    const found = await this.store.session(sha256(sessionId), {
      at: at.toISOString(),
      idleSince: new Date(at.getTime() - this.opts.sessionIdleMs).toISOString(),
      touchBefore: new Date(at.getTime() - TOUCH_MS).toISOString(),
    });
    if (found === undefined) return null;
    return { principal: accountPrincipal(found.account, 'session'), csrfToken: csrfToken(sessionId), expiresAt: new Date(found.expiresAt) };
  }

  async logout(sessionId: string): Promise<void> {
    const session = await this.session(sessionId);
    if (session === null) return;
    await this.store.removeSession(sha256(sessionId));
    await this.audit?.record(session.principal, { action: 'session.logout', status: 200, targets: [{ kind: 'account', id: session.principal.actor }] });
  }

  /** Whether the CSRF token presented (form field or header) is the session's. */
  csrfMatches(sessionId: string, presented: string | undefined): boolean {
    return presented !== undefined && sameSecret(presented, csrfToken(sessionId));
  }

  /** The principal of an API request, or null (see `identify` for why not). */
  async authenticate(headers: IncomingHttpHeaders, address: string | null = null): Promise<Principal | null> {
    const outcome = await this.identify(headers, address);
    return 'refused' in outcome ? null : outcome;
  }

  /**
   * The principal of an API request: Bearer (API key or token), Basic (account, or any name with
   * the API key), an in-process principal (injectHeaders), or a session cookie. A session request
   * that changes something must carry the session's CSRF token (the http layer checks, since only
   * it knows which requests change things: see `csrfMatches`).
   */
  async identify(headers: IncomingHttpHeaders, address: string | null): Promise<Principal | Refusal> {
    const injected = headers[PRINCIPAL_HEADER];
    if (typeof injected === 'string') return this.injectedPrincipal(injected) ?? { refused: 'invalid' };
    const authorization = headers.authorization;
    if (authorization !== undefined) return this.fromAuthorization(authorization, address);
    const sessionId = sessionIdFromCookie(headers.cookie);
    if (sessionId === undefined) return { refused: 'missing' };
    return (await this.session(sessionId))?.principal ?? { refused: 'invalid' };
  }

  /**
   * Headers that make a request sent with `app.inject` act as `principal` (the console calls the
   * admin API this way, so the API's permission checks and audit cover what the console does).
   * They carry an HMAC with a key that never leaves this process: over the network they are
   * refused like any bad credential.
   */
  injectHeaders(principal: Principal): Record<string, string> {
    const body = Buffer.from(JSON.stringify(principal)).toString('base64url');
    return { [PRINCIPAL_HEADER]: `${body}.${this.sign(body)}` };
  }

  private injectedPrincipal(value: string): Principal | undefined {
    const [body, mac] = value.split('.');
    if (body === undefined || mac === undefined || !sameSecret(mac, this.sign(body))) return undefined;
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Principal;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.injectKey).update(body).digest('base64url');
  }

  private async fromAuthorization(authorization: string, address: string | null): Promise<Principal | Refusal> {
    const [scheme = '', value] = authorization.trim().split(/\s+/, 2);
    if (value === undefined) return { refused: 'invalid' };
    if (scheme.toLowerCase() === 'bearer') {
      if (sameSecret(value, this.opts.apiKey)) return API_KEY_PRINCIPAL;
      if (!value.startsWith(TOKEN_PREFIX)) return { refused: 'invalid' };
      const at = this.now();
      const found = await this.store.tokenByHash(sha256(value), { at: at.toISOString(), touchBefore: new Date(at.getTime() - TOUCH_MS).toISOString() });
      if (found === undefined) return { refused: 'invalid' };
      return { ...accountPrincipal(found.account, 'token'), credential: found.token.id };
    }
    if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) return { refused: 'invalid' };
      const password = decoded.slice(colon + 1);
      // NanoMDM tooling sends any user name with the key as password.
      if (sameSecret(password, this.opts.apiKey)) return API_KEY_PRINCIPAL;
      const checked = await this.checkPassword(decoded.slice(0, colon), password, address);
      return 'refused' in checked ? checked : accountPrincipal(checked, 'basic');
    }
    return { refused: 'invalid' };
  }

  /**
   * The account whose password this is. The attempt counts as a failure before the password is
   * checked (see AccountStore.beginLoginAttempt), and is taken back when it succeeds.
   */
  private async checkPassword(rawName: string, password: string, address: string | null): Promise<Account | Refusal> {
    const name = normalizeName(rawName);
    const at = this.now();
    const attempt = randomUUID();
    const keys = [`name:${name}`, ...(address === null ? [] : [`address:${address}`])];
    const outcome = await this.store.beginLoginAttempt({
      attempt,
      keys,
      at: at.toISOString(),
      windowStart: new Date(at.getTime() - this.opts.loginWindowMs).toISOString(),
      limit: this.opts.loginLimit,
    });
    if (!outcome.allowed) return { refused: 'rate-limited', retryAt: new Date(outcome.retryAt) };
    const account = name === '' || password.length > MAX_PASSWORD_LENGTH ? undefined : await this.store.accountByName(name);
    const matches = await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH), account?.passwordHash ?? (await dummyHash()));
    if (account === undefined || !matches) return { refused: 'invalid' };
    await this.store.forgetLoginAttempt(attempt);
    const { passwordHash: _secret, ...plain } = account;
    return plain;
  }
}

const API_KEY_PRINCIPAL: Principal = Object.freeze({ actor: 'api-key', accountId: null, role: 'admin', via: 'api-key' });

function accountPrincipal(account: Account, via: Principal['via']): Principal {
  return { actor: account.name, accountId: account.id, role: account.role, via };
}

function csrfToken(sessionId: string): string {
  return createHash('sha256').update(`aspen-csrf\0${sessionId}`).digest('base64url');
}

/** Constant-time comparison: both sides are hashed first so their lengths cannot leak either. */
export function sameSecret(presented: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(presented).digest(), createHash('sha256').update(expected).digest());
}

/** The session id in a Cookie header, if any. */
export function sessionIdFromCookie(cookie: string | undefined): string | undefined {
  return cookieValue(cookie, SESSION_COOKIE);
}

function cookieValue(cookie: string | undefined, name: string): string | undefined {
  if (cookie === undefined) return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The Set-Cookie value that carries a session: HttpOnly, SameSite=Strict, Secure over TLS, ending with it. */
export function sessionCookie(sessionId: string, session: Pick<ConsoleSession, 'expiresAt'>, opts: { secure: boolean }): string {
  return [`${SESSION_COOKIE}=${encodeURIComponent(sessionId)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Expires=${session.expiresAt.toUTCString()}`, ...(opts.secure ? ['Secure'] : [])].join('; ');
}

/**
 * The login form has no session to tie a CSRF token to: it uses a double-submit cookie instead.
 * Serve the form with `loginCsrfCookie(value)` set and `value` (from `secret()`) in a hidden field;
 * accept the POST only when `loginCsrfMatches(cookie header, field)`. A SameSite=Strict cookie
 * another site cannot read or set, so only the form Aspen served can pass. No server state, so
 * any instance accepts the form another served.
 */
export const LOGIN_CSRF_COOKIE = 'aspen_login_csrf';

export function loginCsrfCookie(value: string, opts: { secure: boolean }): string {
  return [`${LOGIN_CSRF_COOKIE}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=3600', ...(opts.secure ? ['Secure'] : [])].join('; ');
}

export function loginCsrfMatches(cookieHeader: string | undefined, field: string | undefined): boolean {
  const cookie = cookieValue(cookieHeader, LOGIN_CSRF_COOKIE);
  return cookie !== undefined && cookie !== '' && field !== undefined && sameSecret(field, cookie);
}

/** The Set-Cookie value that removes the session cookie (logout). */
export function clearedSessionCookie(opts: { secure: boolean }): string {
  return [`${SESSION_COOKIE}=`, 'Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=0', ...(opts.secure ? ['Secure'] : [])].join('; ');
}
