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

/**
 * Targets kept per entry. A command to 100,000 devices would otherwise write 100,000 target rows
 * with its entry (and double the cost of the fan-out); past this many, the entry keeps the first
 * ones and says how many there were (`details.targets_total`): the command's own targets, through
 * GET /v1/commands/{uuid}, hold the rest.
 */
export const MAX_AUDIT_TARGETS = 1_000;

export function outcomeOf(status: number): 'ok' | 'refused' | 'error' {
  return status >= 500 ? 'error' : status >= 400 ? 'refused' : 'ok';
}

export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(who: Actor, entry: AuditRecord): Promise<number> {
    const targets = entry.targets ?? [];
    const capped = targets.length > MAX_AUDIT_TARGETS;
    // The ids a change named last (the command it created) are kept whatever the cap.
    const kept = capped ? [...targets.slice(0, MAX_AUDIT_TARGETS - 1), targets.at(-1)!] : targets;
    const details = capped ? { ...entry.details, targets_total: targets.length } : (entry.details ?? null);
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
      targets: kept,
      details,
      clientAddress: entry.clientAddress ?? null,
    });
  }

  list(filter: AuditFilter, page: { before?: number; limit: number }): Promise<AuditEntry[]> {
    return this.store.list(filter, page);
  }
}
