// The storage contract of the audit log (storage.audit): one entry per change anyone made or
// tried, with its targets. Both backends implement it (sqlite/audit.ts, postgres/audit.ts).

export type AuditOutcome = 'ok' | 'refused' | 'error';

/** What a change was about: `{kind: 'enrollment', id: '<UDID>'}`, `{kind: 'command', id}`, ... */
export interface AuditTarget {
  kind: string;
  id: string;
}

export interface NewAuditEntry {
  at: string;
  /** An account name, `api-key`, or for `via: 'cli'` the operating system user. */
  actor: string;
  via: string;
  accountId: string | null;
  /** The API token's id, when a token was used. */
  credential: string | null;
  /** e.g. `command.queue`, `account.create`, `session.login`. */
  action: string;
  method: string | null;
  path: string | null;
  status: number;
  outcome: AuditOutcome;
  targets: AuditTarget[];
  /** A few facts about the change; never a secret. */
  details: Record<string, unknown> | null;
  clientAddress: string | null;
}

export interface AuditEntry extends NewAuditEntry {
  /** Increases with every entry: the order they were written in, and the paging cursor. */
  seq: number;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  /** A target's id, of any kind. */
  target?: string;
  since?: string;
  until?: string;
}

export interface AuditStore {
  append(entry: NewAuditEntry): Promise<number>;
  /** Newest first, before the `before` seq (the previous page's last). */
  list(filter: AuditFilter, page: { before?: number; limit: number }): Promise<AuditEntry[]>;
  /** Entries from before `before`; how many were removed. */
  prune(before: string): Promise<number>;
}
