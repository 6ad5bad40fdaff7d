// Row shapes of the account tables as either backend returns them, and their mapping to the
// accounts contract's types; and the audit log's listing query, written once for both backends.
import type { Account, ApiToken, LoginAttempt, Role, SessionRecord, StoredAccount } from './accounts.ts';
import type { AuditEntry, AuditFilter, AuditOutcome } from './audit.ts';
import { Where, type Placeholder, type Query } from './listing-queries.ts';
import type { Json } from './rows.ts';

export interface AccountRow {
  id: string;
  name: string;
  role: string;
  password_hash: string;
  created_at: string;
  updated_at: string;
  password_changed_at: string;
}

export function toStoredAccount(r: AccountRow): StoredAccount {
  return { ...toAccount(r), passwordHash: r.password_hash };
}

export function toAccount(r: Omit<AccountRow, 'password_hash'>): Account {
  return { id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, updatedAt: r.updated_at, passwordChangedAt: r.password_changed_at };
}

export interface TokenRow {
  id: string;
  account_id: string;
  account_name: string;
  name: string | null;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export function toToken(r: TokenRow): ApiToken {
  return {
    id: r.id,
    accountId: r.account_id,
    accountName: r.account_name,
    name: r.name,
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
  };
}

/** A token with its account's columns, prefixed `a_`. */
export type TokenWithAccountRow = TokenRow & { a_role: string; a_created_at: string; a_updated_at: string; a_password_changed_at: string };

export function tokenAccount(r: TokenWithAccountRow): Account {
  return { id: r.account_id, name: r.account_name, role: r.a_role as Role, createdAt: r.a_created_at, updatedAt: r.a_updated_at, passwordChangedAt: r.a_password_changed_at };
}

export const TOKEN_COLUMNS = 't.id, t.account_id, a.name AS account_name, t.name, t.created_at, t.created_by, t.expires_at, t.last_used_at';
export const TOKEN_ACCOUNT_COLUMNS = `${TOKEN_COLUMNS}, a.role AS a_role, a.created_at AS a_created_at, a.updated_at AS a_updated_at, a.password_changed_at AS a_password_changed_at`;

export interface SessionRow extends Omit<AccountRow, 'password_hash' | 'created_at'> {
  account_created_at: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

export const SESSION_COLUMNS = `a.id, a.name, a.role, a.created_at AS account_created_at, a.updated_at, a.password_changed_at,
  s.created_at, s.last_seen_at, s.expires_at`;

export function toSession(r: SessionRow): SessionRecord {
  return {
    account: toAccount({ ...r, created_at: r.account_created_at }),
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
  };
}

/** When a failure at `at` stops counting for the limit: the window's length after it. */
export function leavesWindow(at: string, attempt: Pick<LoginAttempt, 'at' | 'windowStart'>): string {
  const length = Date.parse(attempt.at) - Date.parse(attempt.windowStart);
  return new Date(Date.parse(at) + length).toISOString();
}

export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  via: string;
  account_id: string | null;
  credential: string | null;
  action: string;
  method: string | null;
  path: string | null;
  status: number;
  outcome: string;
  details: Json;
  client_address: string | null;
}

export interface AuditTargetRow {
  seq: number;
  kind: string;
  id: string;
}

/** Entries with their targets (read with a second query, `targets` from auditTargetsQuery). */
export function toAuditEntries(rows: AuditRow[], targets: AuditTargetRow[]): AuditEntry[] {
  const bySeq = new Map<number, AuditEntry['targets']>();
  for (const t of targets) {
    let list = bySeq.get(t.seq);
    if (list === undefined) bySeq.set(t.seq, (list = []));
    list.push({ kind: t.kind, id: t.id });
  }
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    via: r.via,
    accountId: r.account_id,
    credential: r.credential,
    action: r.action,
    method: r.method,
    path: r.path,
    status: r.status,
    outcome: r.outcome as AuditOutcome,
    targets: bySeq.get(r.seq) ?? [],
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown> | null,
    clientAddress: r.client_address,
  }));
}

/** The audit log, newest first, before the cursor. */
export function auditListQuery(filter: AuditFilter, page: { before?: number; limit: number }, placeholder: Placeholder): Query {
  const where = new Where(placeholder)
    .add('a.actor = ?', filter.actor)
    .add('a.action = ?', filter.action)
    .add('EXISTS (SELECT 1 FROM audit_targets t WHERE t.seq = a.seq AND t.id = ?)', filter.target)
    .add('a.at >= ?', filter.since)
    .add('a.at < ?', filter.until)
    .add('a.seq < ?', page.before);
  return { text: `SELECT a.* FROM audit_log a ${where} ORDER BY a.seq DESC LIMIT ${where.next(page.limit)}`, values: where.values };
}

/** The targets of the entries listed. */
export function auditTargetsQuery(seqs: number[], placeholder: Placeholder): Query {
  return { text: `SELECT seq, kind, id FROM audit_targets WHERE seq IN (${seqs.map((_, i) => placeholder(i + 1)).join(', ')}) ORDER BY seq, position`, values: seqs };
}
