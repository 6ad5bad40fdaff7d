// The audit log: who changed what, when, on which targets, and how it ended. The admin API writes
// an entry for every change request it answers (http/admin/access-hooks.ts), and `aspen users`
// for the changes it makes on the server's machine; reads are not logged.
import type { AuditEntry, AuditFilter, AuditStore, AuditTarget } from '../storage/audit.ts';

export interface AuditRecord {
  action: string;
  method?: string;
  path?: string;
  status: number;
  targets?: AuditTarget[];
  details?: Record<string, unknown> | null;
  clientAddress?: string | null;
}

/** Who acted: a Principal, or someone without one (the CLI's operating system user, via `cli`;
 *  a failed console login, by the name it tried). */
export interface Actor {
  actor: string;
  via: string;
  accountId?: string | null;
  credential?: string;
}

export function outcomeOf(status: number): 'ok' | 'refused' | 'error' {
  return status >= 500 ? 'error' : status >= 400 ? 'refused' : 'ok';
}

export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(who: Actor, entry: AuditRecord): Promise<number> {
    return this.store.append({
      at: this.now().toISOString(),
      actor: who.actor,
      via: who.via,
      accountId: who.accountId ?? null,
      credential: who.credential ?? null,
      action: entry.action,
      method: entry.method ?? null,
      path: entry.path ?? null,
      status: entry.status,
      outcome: outcomeOf(entry.status),
      targets: entry.targets ?? [],
      details: entry.details ?? null,
      clientAddress: entry.clientAddress ?? null,
    });
  }

  list(filter: AuditFilter, page: { before?: number; limit: number }): Promise<AuditEntry[]> {
    return this.store.list(filter, page);
  }
}
