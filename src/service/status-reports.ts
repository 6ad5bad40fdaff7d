// What a device's status report changes. Reports are incremental (src/ddm/status-snapshot.ts), so
// each one is merged into what is stored, under a lock, and kept raw (bounded) for KMFDDM's
// status-report route; its errors join the status-errors history.
//
// A report that changes a declaration's reported status writes a declaration.status_changed
// event in the same transaction.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { kmfddmStatusErrors, mergeStatusReport, parseStatusReport, type DeclarationStatus, type StatusSnapshot } from '../ddm/index.ts';
import { declarationStatusChanged } from '../events/drafts.ts';
import { deviceIdOf } from '../protocol/enrollment-id.ts';
import type { DeclarationStore } from '../storage/declarations.ts';
import type { DeclarativeSync } from './declarative-sync.ts';

/** A declaration whose reported status changed between two reports (absent: not reported). */
export interface DeclarationStatusChange {
  identifier: string;
  before?: DeclarationStatus;
  after?: DeclarationStatus;
}

export type RecordedStatus = { ok: true; changes: DeclarationStatusChange[] } | { ok: false; reason: 'unknown-enrollment' | 'unreadable'; message: string };

export class StatusReports {
  constructor(
    private readonly store: DeclarationStore,
    private readonly sync: DeclarativeSync,
    private readonly log: Logger,
  ) {}

  async record(enrollmentId: string, data: Uint8Array, receivedAt: Date): Promise<RecordedStatus> {
    const parsed = parseStatusReport(data);
    if (!parsed.ok) return { ok: false, reason: 'unreadable', message: parsed.reason };
    const report = parsed.report;
    const statusId = randomUUID();
    const errors = kmfddmStatusErrors(report, receivedAt, statusId).map(({ path, error }) => ({ path, error }));
    const at = receivedAt.toISOString();
    let changes: DeclarationStatusChange[] = [];
    const stored = await this.store.recordStatusReport(
      { enrollmentId, statusId, receivedAt: at, raw: data, errors },
      (previous) => mergeStatusReport(previous, report, receivedAt),
      (previous, snapshot) => {
        changes = declarationStatusChanges(previous, snapshot);
        return changes.length > 0 ? declarationStatusChanged(enrollmentId, deviceIdOf(enrollmentId), changes, at) : undefined;
      },
    );
    if (stored === undefined) return { ok: false, reason: 'unknown-enrollment', message: `unknown enrollment ${enrollmentId}` };
    if (report.problems.length > 0) this.log.debug({ enrollmentId, problems: report.problems.slice(0, 10) }, 'ddm: status report read with problems');

    if (changes.length > 0) this.log.debug({ enrollmentId, changed: changes.map((c) => c.identifier) }, 'ddm: declaration status changed');
    // New client capabilities change the generated status subscriptions, so the effective set.
    if (!sameItems(stored.previous?.clientCapabilities?.statusItems, stored.snapshot.clientCapabilities?.statusItems)) {
      await this.sync.notify({ enrollmentIds: [enrollmentId] }, { wait: false });
    }
    return { ok: true, changes };
  }
}

/** The declarations whose status differs between two snapshots (a report without declaration
 *  status changes none of them). */
export function declarationStatusChanges(previous: StatusSnapshot | undefined, next: StatusSnapshot): DeclarationStatusChange[] {
  if (next.declarations === previous?.declarations) return [];
  const before = new Map((previous?.declarations?.statuses ?? []).map((s) => [s.identifier, s]));
  const after = new Map((next.declarations?.statuses ?? []).map((s) => [s.identifier, s]));
  const changes: DeclarationStatusChange[] = [];
  for (const identifier of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(identifier);
    const a = after.get(identifier);
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    const change: DeclarationStatusChange = { identifier };
    if (b) change.before = b;
    if (a) change.after = a;
    changes.push(change);
  }
  return changes;
}

function sameItems(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort()) && (a === undefined) === (b === undefined);
}
