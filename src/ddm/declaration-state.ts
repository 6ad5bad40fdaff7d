// The state of each declaration an enrollment is served, from the device's last declaration status.
import type { EffectiveDeclaration } from './effective-set.ts';
import type { DeclarationStatus } from './status-report.ts';

/**
 * - pending: the device has not reported this declaration at all (not fetched, or no report since);
 * - out-of-date: it reports the identifier under another ServerToken (an earlier version);
 * - failed: it reports the current token as invalid, or with an `Error.*` reason;
 * - active / inactive: it reports the current token, applied or not (a predicate that does not
 *   match, a configuration no activation references: `Info.*` reasons).
 */
export type DeclarationStateName = 'pending' | 'out-of-date' | 'failed' | 'active' | 'inactive';

export interface DeclarationState {
  declaration: EffectiveDeclaration;
  state: DeclarationStateName;
  /** What the device last reported under this identifier; absent while pending. */
  reported?: DeclarationStatus;
}

export interface DeclarationStates {
  declarations: DeclarationState[];
  /** Declarations the device still reports but is no longer served: it drops them at its next sync. */
  unassigned: DeclarationStatus[];
}

export function declarationStates(effective: readonly EffectiveDeclaration[], reported: readonly DeclarationStatus[] | undefined): DeclarationStates {
  const byIdentifier = new Map((reported ?? []).map((status) => [status.identifier, status]));
  const declarations = effective.map((declaration): DeclarationState => {
    const status = byIdentifier.get(declaration.identifier);
    return status ? { declaration, state: stateOf(declaration, status), reported: status } : { declaration, state: 'pending' };
  });
  const served = new Set(effective.map((d) => d.identifier));
  return { declarations, unassigned: (reported ?? []).filter((status) => !served.has(status.identifier)) };
}

function stateOf(declaration: EffectiveDeclaration, status: DeclarationStatus): DeclarationStateName {
  if (status.serverToken !== declaration.serverToken) return 'out-of-date';
  if (status.valid === 'invalid' || status.reasons.some((reason) => reason.code.startsWith('Error.'))) return 'failed';
  return status.active ? 'active' : 'inactive';
}
