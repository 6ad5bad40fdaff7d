// Row shapes of the DDM tables (migrations 010 / 004) as either backend returns them, and their
// mapping to the contract's types. JSON is text in both backends; booleans are 0/1 in SQLite.
import type { DeclarationStatus, JsonObject, StatusSnapshot, StatusReason, Validity } from '../ddm/index.ts';
import type { DataAsset, DataAssetInfo, StatusErrorEntry, StoredDeclaration, SyncCandidate } from './declarations.ts';
import { flag, type Flag } from './rows.ts';

export interface DeclarationRow {
  identifier: string;
  type: string;
  payload: string;
  touches: number;
  server_token: string;
  created_at: string;
  updated_at: string;
}

export function toStoredDeclaration(r: DeclarationRow): StoredDeclaration {
  return {
    type: r.type,
    identifier: r.identifier,
    payload: JSON.parse(r.payload) as JsonObject,
    touches: r.touches,
    serverToken: r.server_token,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface DeclarationStatusRow {
  enrollment_id: string;
  identifier: string;
  kind: DeclarationStatus['kind'];
  server_token: string;
  active: Flag;
  valid: string;
  reasons: string;
  reported_at: string;
}

export function toDeclarationStatus(r: DeclarationStatusRow): DeclarationStatus {
  return {
    kind: r.kind,
    identifier: r.identifier,
    serverToken: r.server_token,
    active: flag(r.active),
    valid: r.valid as Validity,
    reasons: JSON.parse(r.reasons) as StatusReason[],
  };
}

/** The snapshot as stored: its declarations live in ddm_declaration_status, only their time here. */
type StoredSnapshot = Omit<StatusSnapshot, 'declarations'> & { declarations?: { reportedAt: string } };

export function snapshotJson(snapshot: StatusSnapshot): string {
  const { declarations, ...rest } = snapshot;
  const stored: StoredSnapshot = declarations ? { ...rest, declarations: { reportedAt: declarations.reportedAt } } : rest;
  return JSON.stringify(stored);
}

/** The stored snapshot with its declaration statuses put back (ordered by identifier). */
export function toSnapshot(json: string, statuses: readonly DeclarationStatusRow[]): StatusSnapshot {
  const { declarations, ...rest } = JSON.parse(json) as StoredSnapshot;
  const snapshot: StatusSnapshot = rest;
  if (declarations) snapshot.declarations = { statuses: statuses.map(toDeclarationStatus), reportedAt: declarations.reportedAt };
  return snapshot;
}

/** The rows to store for a snapshot's declarations. */
export function declarationStatusRows(enrollmentId: string, snapshot: StatusSnapshot): DeclarationStatusRow[] {
  const declarations = snapshot.declarations;
  if (!declarations) return [];
  // A device lists each declaration once; should one repeat, the last entry counts.
  const byIdentifier = new Map(declarations.statuses.map((s) => [s.identifier, s]));
  return [...byIdentifier.values()].map((s) => ({
    enrollment_id: enrollmentId,
    identifier: s.identifier,
    kind: s.kind,
    server_token: s.serverToken,
    active: s.active,
    valid: s.valid,
    reasons: JSON.stringify(s.reasons),
    reported_at: declarations.reportedAt,
  }));
}

/** The status items a snapshot's client capabilities list (null: none reported yet). */
export function statusItemsJson(snapshot: StatusSnapshot): string | null {
  return snapshot.clientCapabilities ? JSON.stringify(snapshot.clientCapabilities.statusItems) : null;
}

export function parseStatusItems(json: string | null): string[] | null {
  return json === null ? null : (JSON.parse(json) as string[]);
}

export interface SyncCandidateRow {
  id: string;
  sets: string | string[] | null;
  status_items: string | null;
  declarations_token: string | null;
}

export function toSyncCandidate(r: SyncCandidateRow): SyncCandidate {
  const sets = r.sets === null ? [] : typeof r.sets === 'string' ? (JSON.parse(r.sets) as (string | null)[]) : r.sets;
  return {
    enrollmentId: r.id,
    sets: sets.filter((s): s is string => s !== null).sort(),
    statusItems: parseStatusItems(r.status_items),
    token: r.declarations_token,
  };
}

export interface StatusErrorRow {
  status_id: string;
  path: string;
  error: string;
  at: string;
}

export function toStatusError(r: StatusErrorRow): StatusErrorEntry {
  return { path: r.path, error: JSON.parse(r.error) as StatusErrorEntry['error'], at: r.at, statusId: r.status_id };
}

export interface AssetRow {
  name: string;
  content_type: string;
  sha256: string;
  size: number;
  updated_at: string;
  data?: Buffer;
}

export function toAssetInfo(r: AssetRow): DataAssetInfo {
  return { name: r.name, contentType: r.content_type, sha256: r.sha256, size: r.size, updatedAt: r.updated_at };
}

export function toAsset(r: AssetRow & { data: Buffer }): DataAsset {
  return { ...toAssetInfo(r), data: r.data };
}
