// The storage contract the core service relies on. SQLite implements it today; PostgreSQL will
// follow, and test/storage/contract.ts holds every backend to the same behaviour.
//
// Methods are async even though better-sqlite3 is synchronous, so that a networked backend fits.
// Every method that changes state is atomic and durable when its promise resolves: the service
// answers a device only after that.
import type { Channel, EnrollmentType } from '../protocol/enrollment-id.ts';

export const ENROLLMENT_STATES = ['authenticated', 'enrolled', 'checked-out'] as const;
export type EnrollmentState = (typeof ENROLLMENT_STATES)[number];

export interface Enrollment {
  id: string;
  deviceId: string;
  channel: Channel;
  type: EnrollmentType;
  state: EnrollmentState;
  serialNumber: string | null;
  /** iOS, macOS, tvOS, visionOS or watchOS, from the device channel's Authenticate; null if unknown. */
  platform: string | null;
  osVersion: string | null;
  /** The Authenticate message as JSON (device channel only). */
  facts: Record<string, unknown> | null;
  userId: string | null;
  userShortName: string | null;
  userLongName: string | null;
  topic: string | null;
  pushToken: Uint8Array | null;
  pushMagic: string | null;
  hasUnlockToken: boolean;
  awaitingConfiguration: boolean;
  hasBootstrapToken: boolean;
  firstSeenAt: string;
  lastSeenAt: string;
  lastStatus: string;
  authenticatedAt: string | null;
  tokenUpdatedAt: string | null;
  checkedOutAt: string | null;
  pushTokenInvalid: boolean;
  lastPushAt: string | null;
  /** `pushed <apns-id>`, or why the last push failed. */
  lastPushResult: string | null;
  /** Until when a new identity certificate may replace the bound ones at Authenticate. */
  identityRenewalUntil: string | null;
}

export interface IdentityBinding {
  fingerprint: string;
  deviceId: string;
  subject: string;
  notAfter: string;
  boundAt: string;
}

/** What pushing a channel needs. */
export interface PushTargetRecord {
  id: string;
  state: EnrollmentState;
  topic: string | null;
  pushToken: Uint8Array | null;
  pushMagic: string | null;
  pushTokenInvalid: boolean;
  /** The token belongs to the APNs development environment. */
  sandbox: boolean;
}

export interface PushResultRecord {
  id: string;
  /** The token that was pushed. */
  pushToken: Uint8Array;
  result: string;
  /** APNs said the token is dead: stop pushing until the next TokenUpdate. */
  tokenInvalid: boolean;
  /** The token was found to belong to the development environment. */
  sandbox: boolean;
}

export interface StoredPushCertificate {
  certPem: string;
  keyPem: string;
  topic: string;
  notAfter: string;
  updatedAt: string;
}

export interface AuthenticateRecord {
  id: string;
  type: EnrollmentType;
  serialNumber: string | null;
  platform: string | null;
  osVersion: string | null;
  facts: Record<string, unknown>;
  topic: string | null;
  /** Profile replacement (identity renewal) keeps the queue; any other Authenticate clears it. */
  keepPendingCommands: boolean;
  at: string;
}

export interface TokenUpdateRecord {
  id: string;
  deviceId: string;
  channel: Channel;
  type: EnrollmentType;
  userId: string | null;
  userShortName: string | null;
  userLongName: string | null;
  topic: string;
  pushToken: Uint8Array;
  pushMagic: string;
  /** Absent means "unchanged": a TokenUpdate without UnlockToken never erases a stored one. */
  unlockToken: Uint8Array | null;
  awaitingConfiguration: boolean;
  at: string;
}

/** Command states: the first two are pending (in the queue), the rest are final. `notnow` means
 *  deferred by the device in its current session; the next session (Idle) re-queues it. */
export const TARGET_STATES = ['queued', 'notnow', 'acknowledged', 'error', 'commandformaterror', 'cancelled'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

export interface NewCommand {
  uuid: string;
  requestType: string;
  /** The exact plist bytes handed to devices. */
  payload: Uint8Array;
}

export type EnqueueOutcome = 'queued' | 'unknown-enrollment';

export class DuplicateCommandError extends Error {
  override readonly name = 'DuplicateCommandError';
  constructor(readonly commandUuid: string) {
    super(`command ${commandUuid} already exists`);
  }
}

export type ReportStatus = 'Acknowledged' | 'Error' | 'CommandFormatError' | 'NotNow';

export interface ResultRecord {
  enrollmentId: string;
  commandUuid: string;
  status: ReportStatus;
  /** The device's raw report. */
  raw: Uint8Array;
  errorChain: unknown[] | null;
  at: string;
}

/**
 * What recording a result did: `completed` (stored, dequeued), `notnow` (kept queued, deferred for
 * this session), `replayed` (already final: nothing changed), `unknown-command` (never queued for
 * this enrollment: nothing changed), `unknown-enrollment` (nothing changed).
 */
export type ResultOutcome = 'completed' | 'notnow' | 'replayed' | 'unknown-command' | 'unknown-enrollment';

export interface QueuedCommand {
  uuid: string;
  requestType: string;
  payload: Uint8Array;
}

export interface CommandTarget {
  enrollmentId: string;
  state: TargetState;
  queuedAt: string;
  updatedAt: string;
  notNowCount: number;
  result: Uint8Array | null;
  errorChain: unknown[] | null;
}

export interface CommandRecord {
  uuid: string;
  requestType: string;
  payload: Uint8Array;
  createdAt: string;
  targets: CommandTarget[];
}

export interface EnrollmentFilter {
  type?: EnrollmentType;
  channel?: Channel;
  state?: EnrollmentState;
  /** The device and all its user channels. */
  deviceId?: string;
  lastSeenBefore?: string;
  lastSeenAfter?: string;
}

/** What deciding whether a command may be queued to an enrollment needs to know. */
export interface EnrollmentTraits {
  type: EnrollmentType;
  channel: Channel;
  platform: string | null;
  osVersion: string | null;
}

/** A pending command in one enrollment's queue. */
export interface QueueEntry {
  commandUuid: string;
  requestType: string;
  state: 'queued' | 'notnow';
  queuedAt: string;
  updatedAt: string;
  notNowCount: number;
}

/** One command in an enrollment's history; `seq` orders the history (and pages it). */
export interface HistoryEntry extends CommandTarget {
  seq: number;
  commandUuid: string;
  requestType: string;
}

export interface PruneCounts {
  results: number;
  commands: number;
  enrollments: number;
}

/** Counts for metrics. */
export interface StorageStats {
  commandTargetsByState: Record<TargetState, number>;
  enrollments: { state: EnrollmentState; channel: Channel; count: number }[];
}

export interface Storage {
  /** Creates the device-channel enrollment or resets it (and its user channels) for re-enrollment:
   *  channels return to `authenticated` and, unless kept, every pending command is cancelled. */
  authenticate(rec: AuthenticateRecord): Promise<void>;
  /** Stores push credentials and marks the channel enrolled. A user channel is created here.
   *  Returns false when the device channel is unknown. */
  tokenUpdate(rec: TokenUpdateRecord): Promise<boolean>;
  /** Marks the channel checked out (for the device channel, its user channels too). */
  checkOut(id: string, at: string): Promise<boolean>;
  /** Escrows (or with null, deletes) the device's bootstrap token. */
  setBootstrapToken(deviceId: string, token: Uint8Array | null, at: string): Promise<boolean>;
  /** The escrowed token, null when none; undefined when the enrollment is unknown. */
  getBootstrapToken(deviceId: string, at: string): Promise<Uint8Array | null | undefined>;
  /** Records that a known enrollment was heard from. Returns false when it is unknown. */
  recordSeen(id: string, status: string, at: string): Promise<boolean>;
  getEnrollment(id: string): Promise<Enrollment | undefined>;
  /** The device a certificate is bound to. */
  getIdentityBinding(fingerprint: string): Promise<IdentityBinding | undefined>;
  listIdentityBindings(deviceId: string): Promise<IdentityBinding[]>;
  /** Binds a certificate to a device; false when it is bound to another device already. */
  bindIdentity(binding: IdentityBinding): Promise<boolean>;
  /** Opens (until a time) or closes (null) the window for a new certificate at Authenticate. */
  setIdentityRenewal(deviceId: string, until: string | null): Promise<void>;
  /** Removes a device's bindings (so its next Authenticate binds a new certificate); returns how many. */
  unbindIdentities(deviceId: string): Promise<number>;
  /** Removes one binding of a device (undoing a bind whose request then failed). */
  unbindIdentity(fingerprint: string, deviceId: string): Promise<void>;
  /** Push credentials of the known enrollments among `ids` (unknown ids are absent). */
  getPushTargets(ids: string[]): Promise<Map<string, PushTargetRecord>>;
  recordPushResults(results: PushResultRecord[], at: string): Promise<void>;
  getPushCertificate(): Promise<StoredPushCertificate | undefined>;
  savePushCertificate(cert: StoredPushCertificate): Promise<void>;
  /** The known enrollments among `ids`, grouped by their traits (a fleet has few kinds of device,
   *  so a command is checked once per group). Unknown ids are in no group. */
  groupByTraits(ids: string[]): Promise<{ traits: EnrollmentTraits; ids: string[] }[]>;

  /** Queues one command to many enrollments in one transaction; when none of them is known,
   *  nothing is stored. Throws DuplicateCommandError. */
  enqueue(command: NewCommand, enrollmentIds: string[], at: string): Promise<Map<string, EnqueueOutcome>>;
  /** Stores a device's answer to a command (and records the enrollment as seen). Idempotent. */
  recordResult(rec: ResultRecord): Promise<ResultOutcome>;
  /** An Idle report starts a new session: records the enrollment as seen (a backend may batch
   *  this bookkeeping, but reads must reflect it) and makes the commands the device deferred
   *  (NotNow) in earlier sessions eligible again. False when unknown. */
  startSession(id: string, at: string): Promise<boolean>;
  /** Whether the enrollment has commands deferred (NotNow) in its current session. */
  hasDeferred(enrollmentId: string): Promise<boolean>;
  /** The head of the enrollment's queue, passing over commands deferred (NotNow) this session. */
  nextCommand(enrollmentId: string): Promise<QueuedCommand | undefined>;
  /** A command with a page of its targets, ordered by enrollment id, starting after `after`. */
  getCommand(uuid: string, page?: { after?: string; limit: number }): Promise<CommandRecord | undefined>;

  /** Enrollments ordered by id, starting after `after`. */
  listEnrollments(filter: EnrollmentFilter, page: { after?: string; limit: number }): Promise<Enrollment[]>;
  /** The pending commands of an enrollment in queue order; undefined when it is unknown. */
  listQueue(enrollmentId: string): Promise<QueueEntry[] | undefined>;
  /** Cancels one pending command (or with null, all of them); returns how many were cancelled,
   *  undefined when the enrollment is unknown. */
  cancelPending(enrollmentId: string, commandUuid: string | null, at: string): Promise<number | undefined>;
  /** An enrollment's commands, newest first, those older than `before` (a seq); undefined when
   *  the enrollment is unknown. */
  listEnrollmentCommands(enrollmentId: string, page: { before?: number; limit: number }): Promise<HistoryEntry[] | undefined>;

  /** Deletes final results last changed before `resultsBefore` (and commands left with no
   *  target), and enrollments checked out before `checkedOutBefore`. Either may be null (keep).
   *  Works in small batches so device requests are not held up. */
  prune(cutoffs: { resultsBefore: string | null; checkedOutBefore: string | null }): Promise<PruneCounts>;
  /** Proves the database accepts a durable write (for readiness checks); throws if it does not. */
  heartbeat(at: string): Promise<void>;
  stats(): Promise<StorageStats>;

  close(): Promise<void>;
}
