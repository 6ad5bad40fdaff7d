// The storage contracts the core services rely on, one per role, and the types they speak.
// SQLite (embedded, the default) and PostgreSQL (many instances on one database) implement them;
// test/storage/contract.ts holds every backend to the same behaviour.
//
// Methods are async even though better-sqlite3 is synchronous, so that a networked backend fits.
// Every method that changes state is atomic and durable when its promise resolves (the service
// answers a device only after that), and holds across processes: several Aspen instances may
// share one database, so no decision may rest on something one process remembers.
import type { Channel, EnrollmentType } from '../protocol/enrollment-id.ts';
import type { AccountStore } from './accounts.ts';
import type { AuditStore } from './audit.ts';
import type { EventDraft, EventStore } from './events.ts';
import type { IssuanceStore } from './issuance.ts';
import type { DeclarationStore } from './declarations.ts';
import type { FleetStore } from './fleet.ts';

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
  /** From DeviceInformation results (device channel; null until one arrived). */
  deviceName: string | null;
  model: string | null;
  supervised: boolean | null;
  /** A Shared iPad (DeviceInformation IsMultiUser). */
  multiUser: boolean | null;
  /** Every DeviceInformation answer merged, newest value per query, as JSON. */
  inventory: Record<string, unknown> | null;
  inventoryUpdatedAt: string | null;
}

/** What a DeviceInformation result says about the device: its QueryResponses as JSON, and the
 *  facts the server keeps in their own fields (absent: not answered this time). */
export interface InventoryRecord {
  deviceId: string;
  values: Record<string, unknown>;
  deviceName?: string;
  model?: string;
  serialNumber?: string;
  osVersion?: string;
  supervised?: boolean;
  multiUser?: boolean;
  at: string;
}

export interface IdentityBinding {
  fingerprint: string;
  deviceId: string;
  subject: string;
  notAfter: string;
  boundAt: string;
  /** SHA-256 of the trusted CA certificate the certificate chained to (null: bound before it was recorded). */
  anchor: string | null;
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
  /** The event describing it, written with it (see events.ts). */
  event?: EventDraft;
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
  /** The event describing it, written with it when the channel is known. */
  event?: EventDraft;
}

/** What a TokenUpdate found: the channel newly enrolled (its first TokenUpdate since
 *  Authenticate, or a new user channel), already enrolled (a token refresh), or unknown. */
export type TokenUpdateOutcome = 'newly-enrolled' | 'already-enrolled' | 'unknown';

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

/** `already-pending`: not queued, the enrollment has a pending command of this RequestType (only
 *  with `unlessPending`). */
export type EnqueueOutcome = 'queued' | 'unknown-enrollment' | 'already-pending';

export interface EnqueueOptions {
  /** Skip the enrollments that already have a command of this RequestType pending (queued or
   *  deferred), deciding under a lock on each enrollment: of several instances coalescing at once,
   *  one queues. For commands of which one pending is enough (the DeclarativeManagement sync). */
  unlessPending?: boolean;
  /** The event describing it (command.queued), written when anything was queued, with the queued
   *  ids as `targets`. */
  event?: EventDraft;
}

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
  /** The event describing it, written only when the result changed something (not for a replay). */
  event?: EventDraft;
}

/**
 * What recording a result did: `completed` (stored, dequeued), `notnow` (kept queued, deferred for
 * this session), `replayed` (already final: nothing changed), `unknown-command` (never queued for
 * this enrollment: nothing changed), `unknown-enrollment` (nothing changed).
 */
export type ResultOutcome = 'completed' | 'notnow' | 'replayed' | 'unknown-command' | 'unknown-enrollment';

/** What recording a result did, and the RequestType of the command it answered (null when there
 *  is no such command for the enrollment). */
export interface RecordedResult {
  outcome: ResultOutcome;
  requestType: string | null;
}

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
  serialNumber?: string;
  /** The device's platform (a user channel has its device's). */
  platform?: string;
  topic?: string;
  lastSeenBefore?: string;
  lastSeenAfter?: string;
}

/** What deciding whether a command may be queued to an enrollment needs to know (a user channel
 *  has its device's platform, OS and supervision). */
export interface EnrollmentTraits {
  type: EnrollmentType;
  channel: Channel;
  platform: string | null;
  osVersion: string | null;
  supervised: boolean | null;
  multiUser: boolean | null;
}

export interface CommandFilter {
  requestType?: string;
  /** Commands with at least one target in this state. */
  state?: TargetState;
  /** Commands queued to this enrollment. */
  target?: string;
  /** Created at or after. */
  since?: string;
}

/** A command in a listing: how many of its targets are in each state. */
export interface CommandSummary {
  uuid: string;
  requestType: string;
  createdAt: string;
  targetsByState: Record<TargetState, number>;
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
  /** When the first certificate bound to an enrollment that is not checked out expires. */
  soonestIdentityExpiry: string | null;
}


/** What deciding whether a certificate may speak for a device needs, read atomically with the
 *  decision (under a lock on the device and the certificate, across processes). */
export interface AdmissionFacts {
  /** The device the certificate is bound to, if any. */
  boundTo: string | undefined;
  /** The certificates bound to the device. */
  deviceBindings: IdentityBinding[];
  /** The device channel's enrollment, if it exists yet. */
  device: Pick<Enrollment, 'state' | 'serialNumber' | 'identityRenewalUntil'> | undefined;
  /** The certificate is one Aspen issued and has since revoked. */
  revoked: boolean;
}

/** What an admission decision asks storage to do; the policy itself lives in the service. */
export interface AdmissionChange {
  /** Bind the certificate to the device. */
  bind: boolean;
  /** Close the device's renewal window (it is used up by this admission). */
  consumeRenewal: boolean;
}

/** A time-ordered unit of background work, run by one instance at a time (see JobStore). */
export interface Job {
  /** Unique: scheduling a key that exists coalesces with it. */
  key: string;
  kind: string;
  payload: unknown;
  runAt: string;
  attempts: number;
}

/** A job claimed by one instance until `leaseUntil`; `token` proves the claim when finishing. */
export interface ClaimedJob extends Job {
  token: string;
}

/** Check-ins and the enrollment records they keep. */
export interface EnrollmentStore {
  /** Creates the device-channel enrollment or resets it (and its user channels) for re-enrollment:
   *  channels return to `authenticated` and, unless kept, every pending command is cancelled.
   *  Says whether the enrollment is new. */
  authenticate(rec: AuthenticateRecord): Promise<{ created: boolean }>;
  /** Stores push credentials and marks the channel enrolled. A user channel is created here.
   *  Says whether the channel was enrolled before it (read in the same step, so the caller need
   *  not read the enrollment first); `unknown` when the device channel is unknown. */
  tokenUpdate(rec: TokenUpdateRecord): Promise<TokenUpdateOutcome>;
  /** Marks the channel checked out (for the device channel, its user channels too). */
  checkOut(id: string, at: string, event?: EventDraft): Promise<boolean>;
  /** Escrows (or with null, deletes) the device's bootstrap token. */
  setBootstrapToken(deviceId: string, token: Uint8Array | null, at: string, event?: EventDraft): Promise<boolean>;
  /** The escrowed token, null when none; undefined when the enrollment is unknown. */
  getBootstrapToken(deviceId: string, at: string, event?: EventDraft): Promise<Uint8Array | null | undefined>;
  /** Records that a known enrollment was heard from. Returns false when it is unknown. */
  recordSeen(id: string, status: string, at: string, event?: EventDraft): Promise<boolean>;
  getEnrollment(id: string): Promise<Enrollment | undefined>;
  /** Enrollments ordered by id, starting after `after`. */
  listEnrollments(filter: EnrollmentFilter, page: { after?: string; limit: number }): Promise<Enrollment[]>;
  /** The known enrollments among `ids`, grouped by their traits (a fleet has few kinds of device,
   *  so a command is checked once per group). Unknown ids are in no group. */
  groupByTraits(ids: string[]): Promise<{ traits: EnrollmentTraits; ids: string[] }[]>;
  /** Merges a DeviceInformation answer into the device's inventory; false when unknown. */
  recordInventory(rec: InventoryRecord): Promise<boolean>;
  /** An acknowledged DeviceConfigured: the channel no longer awaits configuration. False when unknown. */
  recordDeviceConfigured(id: string): Promise<boolean>;
  /** Forgets an enrollment: a device channel with its user channels, their queues and results,
   *  the device's certificates and its pending jobs. False when unknown. */
  deleteEnrollment(id: string): Promise<boolean>;
}

/** Command queues and results. */
export interface CommandStore {
  /** Queues one command to many enrollments in one transaction; when none of them is known (or,
   *  with `unlessPending`, none takes it), nothing is stored. Throws DuplicateCommandError. */
  enqueue(command: NewCommand, enrollmentIds: string[], at: string, options?: EnqueueOptions): Promise<Map<string, EnqueueOutcome>>;
  /** Stores a device's answer to a command (and records the enrollment as seen). Idempotent, also
   *  when the same result arrives twice at once. */
  recordResult(rec: ResultRecord): Promise<RecordedResult>;
  /** An Idle report starts a new session: records the enrollment as seen (bookkeeping a backend
   *  may write lazily, see the backend) and makes the commands the device deferred (NotNow) in
   *  earlier sessions eligible again. False when unknown. */
  startSession(id: string, at: string, event?: EventDraft): Promise<boolean>;
  /** Whether the enrollment has commands deferred (NotNow) in its current session. */
  hasDeferred(enrollmentId: string): Promise<boolean>;
  /** The head of the enrollment's queue, passing over commands deferred (NotNow) this session. */
  nextCommand(enrollmentId: string): Promise<QueuedCommand | undefined>;
  /** A command with a page of its targets, ordered by enrollment id, starting after `after`. */
  getCommand(uuid: string, page?: { after?: string; limit: number }): Promise<CommandRecord | undefined>;
  /** The pending commands of an enrollment in queue order; undefined when it is unknown. */
  listQueue(enrollmentId: string): Promise<QueueEntry[] | undefined>;
  /** Cancels one pending command (or with null, all of them); returns how many were cancelled,
   *  undefined when the enrollment is unknown. The event, written when any was, gets their
   *  uuids as `command_uuids`. */
  cancelPending(enrollmentId: string, commandUuid: string | null, at: string, event?: EventDraft): Promise<number | undefined>;
  /** An enrollment's commands, newest first, those older than `before` (a seq); undefined when
   *  the enrollment is unknown. */
  listEnrollmentCommands(enrollmentId: string, page: { before?: number; limit: number }): Promise<HistoryEntry[] | undefined>;
  /** Commands, newest first (by creation, then uuid), those after the cursor `before`. */
  listCommands(filter: CommandFilter, page: { before?: { createdAt: string; uuid: string }; limit: number }): Promise<CommandSummary[]>;
}

/** Which certificate speaks for which device. */
export interface IdentityStore {
  /** The device a certificate is bound to (a plain read: callers may cache it briefly). */
  getIdentityBinding(fingerprint: string): Promise<IdentityBinding | undefined>;
  /**
   * Reads the facts about `binding`'s certificate and device, lets `decide` (pure, synchronous)
   * judge them, and applies what it asks, all in one atomic step: two instances admitting
   * different certificates for one device at once cannot both bind. Binding a certificate Aspen
   * issued also records the device on it (IssuedIdentity.deviceId). Returns what `decide` returned.
   */
  admitIdentity<D extends AdmissionChange>(binding: IdentityBinding, decide: (facts: AdmissionFacts) => D): Promise<D>;
  /**
   * admitIdentity for an Authenticate: when the decision admits the certificate, the Authenticate
   * `record` makes of it is written in the same atomic step (as EnrollmentStore.authenticate
   * writes it), so enrolling with a new certificate costs one commit, not two. `record` returns
   * null for a refusal, which writes nothing. Returns the decision, with whether the enrollment
   * is new when it was written.
   */
  admitAuthenticate<D extends AdmissionChange>(
    binding: IdentityBinding,
    decide: (facts: AdmissionFacts) => D,
    record: (decision: D) => AuthenticateRecord | null,
  ): Promise<{ decision: D; created?: boolean }>;
  listIdentityBindings(deviceId: string): Promise<IdentityBinding[]>;
  /** Opens (until a time) or closes (null) the window for a new certificate at Authenticate. */
  setIdentityRenewal(deviceId: string, until: string | null): Promise<void>;
  /** Removes a device's bindings (so its next Authenticate binds a new certificate); returns how many. */
  unbindIdentities(deviceId: string): Promise<number>;
  /** Removes one binding of a device (undoing a bind whose request then failed). */
  unbindIdentity(fingerprint: string, deviceId: string): Promise<void>;
  /** The CAs bound certificates chained to (null: bound before it was recorded), with how many
   *  devices hold one. */
  identityAnchors(): Promise<{ anchor: string | null; devices: number }[]>;
}

/** Push credentials, outcomes and the push certificate. */
export interface PushStore {
  /** Push credentials of the known enrollments among `ids` (unknown ids are absent). */
  getPushTargets(ids: string[]): Promise<Map<string, PushTargetRecord>>;
  recordPushResults(results: PushResultRecord[], at: string, events?: EventDraft[]): Promise<void>;
  getPushCertificate(): Promise<StoredPushCertificate | undefined>;
  savePushCertificate(cert: StoredPushCertificate): Promise<void>;
}

/**
 * Background work shared by every instance: each due job is claimed by one instance for a lease,
 * and a crashed instance's lease runs out so another takes the job over.
 */
export interface JobStore {
  /** Schedules a job. An existing one with the same key keeps the earlier run time; if it is
   *  running right now, it runs again at `runAt` after it finishes. */
  scheduleJob(job: { key: string; kind: string; payload?: unknown; runAt: string }): Promise<void>;
  /** Claims up to `limit` jobs due at `now` that no live lease holds, until `leaseUntil`. */
  claimJobs(now: string, leaseUntil: string, limit: number): Promise<ClaimedJob[]>;
  /** Ends a claim: removes the job, or with `next`, keeps it to run again then (a periodic job, or
   *  a retry). Does nothing if the claim was lost (its lease ran out and another took it). */
  finishJob(job: ClaimedJob, next: { runAt: string; error?: string } | null): Promise<void>;
  listJobs(): Promise<Job[]>;
}

/** Values every instance must share: generated once, by whichever instance comes first. */
export interface SecretStore {
  /** The secret named `name`; if there is none yet, stores `create()`'s. Atomic across instances. */
  sharedSecret(name: string, create: () => string): Promise<{ value: string; created: boolean }>;
}

/** Housekeeping and health. */
export interface MaintenanceStore {
  /** Deletes final results last changed before `resultsBefore` (and commands left with no
   *  target), and enrollments checked out before `checkedOutBefore`. Either may be null (keep).
   *  Works in small batches so device requests are not held up. */
  prune(cutoffs: { resultsBefore: string | null; checkedOutBefore: string | null }): Promise<PruneCounts>;
  /** Proves the database accepts a durable write (for readiness checks); throws if it does not. */
  heartbeat(at: string): Promise<void>;
  stats(): Promise<StorageStats>;
}

/** Everything a backend provides; components ask for the roles they use. */
export interface Storage extends EnrollmentStore, CommandStore, IdentityStore, PushStore, JobStore, SecretStore, MaintenanceStore {
  /** Which backend this is, for logs and /version (nothing may branch on it outside storage). */
  readonly backend: 'sqlite' | 'postgres';
  readonly events: EventStore;
  /** Enrollment invites and the identities Aspen issues (issuance.ts). */
  readonly issuance: IssuanceStore;
  /** Declarative Device Management (declarations.ts). */
  readonly declarations: DeclarationStore;
  /** The fleet at a glance: counts and recently seen channels (fleet.ts). */
  readonly fleet: FleetStore;
  /** Admin accounts, API tokens, console sessions, login failures (accounts.ts). */
  readonly accounts: AccountStore;
  /** The audit log of changes (audit.ts). */
  readonly audit: AuditStore;
  close(): Promise<void>;
}
