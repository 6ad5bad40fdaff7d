// The storage contract of Declarative Device Management: declarations, sets, which sets each
// enrollment (or every enrollment) has, what the devices reported, and the data assets Aspen hosts.
// `storage.declarations` on every backend; test/storage/declarations-contract.ts holds both to it.
//
// Every change is atomic and holds across instances: a decision that reads before it writes (is
// this PUT a change? what does this report change?) is made under a lock on what it decides about.
// What a change means for the devices (their effective sets, the sync command) is the service's
// business (src/service/declarative-sync.ts); storage only answers who is affected.
import type { DeclarationStatus, JsonObject, JsonValue, StatusSnapshot } from '../ddm/index.ts';
import type { EventDraft } from './events.ts';

/** Raw status reports kept per enrollment (KMFDDM's status-report `index` reaches this far back). */
export const STATUS_REPORT_HISTORY = 20;
/** Status errors kept per enrollment, the newest. */
export const STATUS_ERROR_HISTORY = 100;

/** A declaration as the admin defined it, with its touch count and the token derived from both. */
export interface StoredDeclaration {
  type: string;
  identifier: string;
  payload: JsonObject;
  touches: number;
  serverToken: string;
  createdAt: string;
  updatedAt: string;
}

export interface NewDeclaration {
  type: string;
  identifier: string;
  payload: JsonObject;
}

/** Derives a declaration's token from its content and touch count (serverToken); storage calls it
 *  with what it holds under its lock, so a token always matches the content stored with it. */
export type TokenFor = (declaration: NewDeclaration, touches: number) => string;

export type DeclarationChange = 'created' | 'updated' | 'unchanged';

export type DeclarationDeletion = { outcome: 'deleted' } | { outcome: 'absent' } | { outcome: 'in-sets'; sets: string[] };

export type SetAddition = 'added' | 'present' | 'unknown-declaration';

/** Which enrollments a change affects: those whose sets hold these declarations, those assigned
 *  these sets (everyone, when one of them is assigned to every enrollment), these ids, or all. */
export interface AffectedSelector {
  declarations?: readonly string[];
  sets?: readonly string[];
  enrollmentIds?: readonly string[];
  all?: boolean;
}

/** An enrollment a sync command may be queued for: enrolled, not checked out, and not awaiting
 *  configuration (its sync is held until DeviceConfigured). */
export interface SyncCandidate {
  enrollmentId: string;
  /** The sets assigned to it by id (the sets assigned to every enrollment are everyone's). */
  sets: string[];
  /** The status items its client reported it supports; null before its first report. */
  statusItems: string[] | null;
  /** The DeclarationsToken it was last served or sent; null if never. */
  token: string | null;
}

/** What computing one enrollment's effective set needs. */
export interface EnrollmentDeclarations {
  /** The declarations its sets (and the sets of every enrollment) hold, each once. */
  assigned: StoredDeclaration[];
  statusItems: string[] | null;
  token: { value: string; changedAt: string } | null;
}

export interface StatusReportRecord {
  enrollmentId: string;
  statusId: string;
  receivedAt: string;
  /** The report's JSON as the device sent it. */
  raw: Uint8Array;
  /** What this report adds to the status-errors history. */
  errors: { path: string; error: JsonValue }[];
}

/** Derives the new snapshot from the last one (mergeStatusReport); pure and synchronous. */
export type SnapshotMerge = (previous: StatusSnapshot | undefined) => StatusSnapshot;

/** The event describing what a report changed, if anything (written in the report's transaction). */
export type SnapshotEvent = (previous: StatusSnapshot | undefined, snapshot: StatusSnapshot) => EventDraft | undefined;

export interface StoredStatusReport {
  statusId: string;
  receivedAt: string;
  raw: Uint8Array;
  /** 0 is the newest. */
  index: number;
}

export interface StatusErrorEntry {
  path: string;
  error: JsonValue;
  at: string;
  statusId: string;
}

/** One enrollment a declaration is assigned to, and what it last reported for it (none: pending). */
export interface DeclarationReport {
  enrollmentId: string;
  status?: DeclarationStatus;
}

export interface DataAssetInfo {
  name: string;
  contentType: string;
  sha256: string;
  size: number;
  updatedAt: string;
}

export interface DataAsset extends DataAssetInfo {
  data: Uint8Array;
}

export interface DeclarationStore {
  /** Stores a declaration, deciding atomically whether it changed: the token `tokenFor` derives
   *  with the stored touch count equals the stored token, or not. */
  putDeclaration(declaration: NewDeclaration, tokenFor: TokenFor, at: string): Promise<DeclarationChange>;
  /** Counts a touch and stores the token `tokenFor` derives with the new count; false when unknown. */
  touchDeclaration(identifier: string, tokenFor: TokenFor, at: string): Promise<boolean>;
  getDeclaration(identifier: string): Promise<StoredDeclaration | undefined>;
  listDeclarations(): Promise<string[]>;
  /** Deletes a declaration no set holds. */
  deleteDeclaration(identifier: string): Promise<DeclarationDeletion>;

  /** Names of the sets that hold at least one declaration. */
  listSets(): Promise<string[]>;
  setDeclarations(set: string): Promise<string[]>;
  /** The sets that hold a declaration. */
  declarationSets(identifier: string): Promise<string[]>;
  addToSet(set: string, identifier: string): Promise<SetAddition>;
  /** False when it was not in the set. */
  removeFromSet(set: string, identifier: string): Promise<boolean>;

  /** The sets assigned to an enrollment id (known or not yet enrolled). */
  enrollmentSets(enrollmentId: string): Promise<string[]>;
  /** False when it was assigned already. */
  assignSet(enrollmentId: string, set: string): Promise<boolean>;
  /** False when it was not assigned. */
  unassignSet(enrollmentId: string, set: string): Promise<boolean>;
  /** Removes every set of an enrollment id; returns how many. */
  unassignAllSets(enrollmentId: string): Promise<number>;
  /** The sets assigned to every enrollment. */
  globalSets(): Promise<string[]>;
  assignGlobalSet(set: string): Promise<boolean>;
  unassignGlobalSet(set: string): Promise<boolean>;

  /** Everything computing an enrollment's effective set needs, read together. */
  enrollmentDeclarations(enrollmentId: string): Promise<EnrollmentDeclarations>;
  /** The declarations each of `sets` holds. */
  declarationsOfSets(sets: readonly string[]): Promise<Map<string, StoredDeclaration[]>>;
  /** Records the DeclarationsToken each enrollment is served (or sent) now; when it differs from
   *  the last one, now becomes the time it changed. Returns that time per known enrollment. */
  recordTokens(tokens: readonly { enrollmentId: string; token: string }[], at: string): Promise<Map<string, string>>;
  /** The enrollments a change affects that a sync command may be queued for now. */
  syncCandidates(selector: AffectedSelector): Promise<SyncCandidate[]>;

  /** Stores a status report: the raw report (the oldest dropped beyond STATUS_REPORT_HISTORY), its
   *  errors (beyond STATUS_ERROR_HISTORY), and the snapshot `merge` derives from the stored one, in
   *  one step under a lock on the enrollment. Undefined when the enrollment is unknown. */
  recordStatusReport(record: StatusReportRecord, merge: SnapshotMerge, eventOf?: SnapshotEvent): Promise<{ previous: StatusSnapshot | undefined; snapshot: StatusSnapshot } | undefined>;
  /** The status known from every report so far; undefined before the first. */
  statusSnapshot(enrollmentId: string): Promise<StatusSnapshot | undefined>;
  /** A stored raw report: by `index` (0 the newest) or by its status id. */
  statusReport(enrollmentId: string, which: { index: number } | { statusId: string }): Promise<StoredStatusReport | undefined>;
  /** The status-errors history, oldest first. */
  statusErrors(enrollmentId: string): Promise<StatusErrorEntry[]>;
  /** Every enrollment (not checked out) a declaration is assigned to, by id, with its report. */
  declarationReports(identifier: string): Promise<DeclarationReport[]>;

  putAsset(asset: Omit<DataAsset, 'updatedAt'>, at: string): Promise<DeclarationChange>;
  getAsset(name: string): Promise<DataAsset | undefined>;
  listAssets(): Promise<DataAssetInfo[]>;
  deleteAsset(name: string): Promise<boolean>;
}
