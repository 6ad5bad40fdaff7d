// What admins read about declarations on devices: per enrollment, its effective set with each
// declaration's state (pending, active, inactive, failed with reasons, out of date) and what its
// status reports said; per declaration, which enrollments have it in which state. And KMFDDM's
// status reads, in its shapes (docs/ddm-kmfddm-compat.md).
import {
  declarationKind,
  declarationStates,
  declarationsToken,
  kmfddmDeclarationStatus,
  kmfddmPathMatcher,
  kmfddmStatusValues,
  referenceIssues,
  type ClientCapabilities,
  type DeclarationState,
  type DeclarationStateName,
  type DeclarationStatus,
  type EffectiveDeclaration,
  type KmfddmDeclarationStatus,
  type KmfddmStatusError,
  type KmfddmStatusValue,
  type ReferenceIssue,
  type ReportedValue,
} from '../ddm/index.ts';
import type { DeclarationStore, StoredDeclaration, StoredStatusReport } from '../storage/declarations.ts';
import type { EnrollmentStore } from '../storage/storage.ts';
import { effectiveSet } from './declarative-sync.ts';

export interface EnrollmentDeclarationsView {
  enrollmentId: string;
  /** Its own sets; `globalSets` are every enrollment's. */
  sets: string[];
  globalSets: string[];
  /** The DeclarationsToken of the set as it is now. */
  declarationsToken: string;
  /** The token the device was last served or sent, and since when (null: never). */
  served: { token: string; changedAt: string } | null;
  lastStatusReportAt: string | null;
  declarations: DeclarationState[];
  /** Declarations the device still reports but is no longer served (it drops them at its next sync). */
  unassigned: DeclarationStatus[];
  statusValues: Record<string, ReportedValue>;
  clientCapabilities: ClientCapabilities | null;
  /** References in the set that name nothing in it (the device would fail them). */
  referenceIssues: ReferenceIssue[];
}

export const DECLARATION_STATE_NAMES = ['pending', 'out-of-date', 'failed', 'active', 'inactive'] as const satisfies readonly DeclarationStateName[];

export interface DeclarationEnrollmentsView {
  declaration: StoredDeclaration;
  sets: string[];
  counts: Record<DeclarationStateName, number>;
  /** A page of the enrollments it is assigned to, by id. */
  enrollments: { enrollmentId: string; state: DeclarationStateName; reported?: DeclarationStatus }[];
}

export class DeclarationReads {
  constructor(
    private readonly store: DeclarationStore,
    private readonly enrollments: Pick<EnrollmentStore, 'getEnrollment'>,
  ) {}

  /** Undefined when the enrollment is unknown. */
  async enrollment(enrollmentId: string): Promise<EnrollmentDeclarationsView | undefined> {
    if ((await this.enrollments.getEnrollment(enrollmentId)) === undefined) return undefined;
    const [input, snapshot, sets, globalSets] = await Promise.all([
      this.store.enrollmentDeclarations(enrollmentId),
      this.store.statusSnapshot(enrollmentId),
      this.store.enrollmentSets(enrollmentId),
      this.store.globalSets(),
    ]);
    const effective = effectiveSet(input.assigned, input.statusItems);
    const states = declarationStates(effective, snapshot?.declarations?.statuses);
    return {
      enrollmentId,
      sets,
      globalSets,
      declarationsToken: declarationsToken(effective),
      served: input.token && { token: input.token.value, changedAt: input.token.changedAt },
      lastStatusReportAt: snapshot?.updatedAt ?? null,
      declarations: states.declarations,
      unassigned: states.unassigned,
      statusValues: snapshot?.values ?? {},
      clientCapabilities: snapshot?.clientCapabilities ?? null,
      referenceIssues: referenceIssues(effective),
    };
  }

  /** Undefined when there is no such declaration. */
  async declaration(identifier: string, page: { state?: DeclarationStateName; after?: string; limit: number }): Promise<DeclarationEnrollmentsView | undefined> {
    const stored = await this.store.getDeclaration(identifier);
    if (stored === undefined) return undefined;
    const [sets, reports] = await Promise.all([this.store.declarationSets(identifier), this.store.declarationReports(identifier)]);
    const served: EffectiveDeclaration = { ...stored, kind: declarationKind(stored.type)!, generated: false };
    const counts = Object.fromEntries(DECLARATION_STATE_NAMES.map((s) => [s, 0])) as Record<DeclarationStateName, number>;
    const enrollments: DeclarationEnrollmentsView['enrollments'] = [];
    for (const { enrollmentId, status } of reports) {
      const [state] = declarationStates([served], status ? [status] : []).declarations;
      counts[state!.state]++;
      if ((page.state !== undefined && state!.state !== page.state) || (page.after !== undefined && enrollmentId <= page.after) || enrollments.length >= page.limit) continue;
      enrollments.push(status ? { enrollmentId, state: state!.state, reported: status } : { enrollmentId, state: state!.state });
    }
    return { declaration: stored, sets, counts, enrollments };
  }

  /** KMFDDM's declaration-status: ids without a reported status are left out. */
  async kmfddmDeclarationStatus(ids: readonly string[]): Promise<Record<string, KmfddmDeclarationStatus[]>> {
    return this.perEnrollment(ids, async (id) => {
      const snapshot = await this.store.statusSnapshot(id);
      if (!snapshot?.declarations) return undefined;
      const input = await this.store.enrollmentDeclarations(id);
      return kmfddmDeclarationStatus(snapshot.declarations, effectiveSet(input.assigned, input.statusItems));
    });
  }

  /** KMFDDM's status-errors: the history, oldest first; ids without errors are left out. */
  async kmfddmStatusErrors(ids: readonly string[]): Promise<Record<string, KmfddmStatusError[]>> {
    return this.perEnrollment(ids, async (id) => {
      const errors = await this.store.statusErrors(id);
      return errors.length === 0 ? undefined : errors.map((e) => ({ path: e.path, error: e.error, timestamp: e.at, status_id: e.statusId }));
    });
  }

  /** KMFDDM's status-values: the latest value of every leaf, narrowed by a LIKE pattern. */
  async kmfddmStatusValues(ids: readonly string[], prefix: string | undefined): Promise<Record<string, KmfddmStatusValue[]>> {
    const matches = kmfddmPathMatcher(prefix);
    return this.perEnrollment(ids, async (id) => {
      const snapshot = await this.store.statusSnapshot(id);
      return snapshot && kmfddmStatusValues(snapshot.values).filter((v) => matches(v.path));
    });
  }

  statusReport(enrollmentId: string, which: { index: number } | { statusId: string }): Promise<StoredStatusReport | undefined> {
    return this.store.statusReport(enrollmentId, which);
  }

  private async perEnrollment<T>(ids: readonly string[], read: (id: string) => Promise<T | undefined>): Promise<Record<string, T>> {
    const out: Record<string, T> = {};
    for (const id of new Set(ids)) {
      const value = await read(id);
      if (value !== undefined) Object.defineProperty(out, id, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}
