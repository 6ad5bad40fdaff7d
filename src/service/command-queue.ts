// Queueing commands and reading them back, for the admin API.
import { randomUUID } from 'node:crypto';
import {
  buildCommandPlist,
  commandAllowed,
  PLATFORMS,
  validateCommandJson,
  validateCommandPlist,
  type CommandIssue,
  type Platform,
} from '../protocol/commands/index.ts';
import { commandCancelled, commandQueued } from '../events/drafts.ts';
import { prepareRawCommand, type CommandEnvelope } from '../protocol/command-envelope.ts';
import { deviceIdOf } from '../protocol/enrollment-id.ts';
import { decodePlistDict, plistToJson, type JsonValue } from '../protocol/plist.ts';
import { fanOutChunks } from '../storage/fan-out.ts';
import type {
  CommandFilter,
  CommandStore,
  CommandSummary,
  CommandTarget,
  EnqueueOutcome,
  EnrollmentStore,
  EnrollmentTraits,
  QueueEntry,
  TargetState,
} from '../storage/storage.ts';

export interface EnqueueResult {
  command: CommandEnvelope;
  outcomes: Map<string, EnqueueOutcome>;
}

/** A command as an admin submits it: a JSON `Command` dictionary or a raw plist. */
export interface CommandSubmission {
  targets: string[];
  command?: Record<string, unknown>;
  plist?: string;
  commandUuid?: string;
}

export type TargetOutcome = { status: 'queued' } | { status: 'unknown_enrollment' } | { status: 'not_allowed'; reason: string };

export type SubmitResult =
  | { ok: false; errors: CommandIssue[] }
  | { ok: true; command: CommandEnvelope; targets: Map<string, TargetOutcome> };

const UNKNOWN: TargetOutcome = { status: 'unknown_enrollment' };
const QUEUED: TargetOutcome = { status: 'queued' };

export interface TargetView {
  enrollmentId: string;
  state: TargetState;
  queuedAt: string;
  updatedAt: string;
  notNowCount: number;
  result: JsonValue | null;
  errorChain: unknown[] | null;
}

export interface HistoryView extends TargetView {
  commandUuid: string;
  requestType: string;
  seq: number;
}

export interface CommandView {
  commandUuid: string;
  requestType: string;
  createdAt: string;
  command: JsonValue;
  targets: TargetView[];
}

export class CommandQueue {
  constructor(
    private readonly storage: CommandStore & Pick<EnrollmentStore, 'groupByTraits'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Queues a raw command plist as it is (NanoMDM-compatible; throws PlistError for a bad one,
   *  DuplicateCommandError). Only the envelope is checked, so commands newer than our schema pass. */
  async enqueueRaw(body: Uint8Array, enrollmentIds: string[]): Promise<EnqueueResult> {
    const command = prepareRawCommand(body);
    const at = this.now().toISOString();
    const outcomes = await this.storage.enqueue(command, enrollmentIds, at, { event: commandQueued(command.uuid, command.requestType, at) });
    return { command, outcomes };
  }

  /** Validates a command against the schema and each target's platform and channel, then queues
   *  it to the targets that may run it (throws DuplicateCommandError). */
  async submit(submission: CommandSubmission): Promise<SubmitResult> {
    const built = buildCommand(submission);
    if (!built.ok) return built;
    const { command } = built;
    const { outcomes, allowed } = await this.gate(command.requestType, submission.targets);
    const at = this.now().toISOString();
    if (allowed.length > 0) await this.storage.enqueue(command, allowed, at, { event: commandQueued(command.uuid, command.requestType, at) });
    return { ok: true, command, targets: outcomes };
  }

  /**
   * Queues a command the server built itself to the targets that may run it and have no command of
   * its RequestType pending yet: of any number of requests (on any number of instances) wanting
   * one pending, one queues. `already-pending` says a pending one will do.
   */
  async enqueueUnlessPending(command: CommandEnvelope, targets: string[]): Promise<Map<string, TargetOutcome | { status: 'already_pending' }>> {
    const { outcomes, allowed } = await this.gate(command.requestType, targets);
    if (allowed.length === 0) return outcomes;
    const at = this.now().toISOString();
    const queued = await this.storage.enqueue(command, allowed, at, { unlessPending: true, event: commandQueued(command.uuid, command.requestType, at) });
    const result = new Map<string, TargetOutcome | { status: 'already_pending' }>(outcomes);
    for (const [id, outcome] of queued) {
      if (outcome === 'already-pending') result.set(id, { status: 'already_pending' });
      else if (outcome === 'unknown-enrollment') result.set(id, { status: 'unknown_enrollment' }); // forgotten meanwhile
    }
    return result;
  }

  /** Each target's outcome (in the order given), and those that may run the command. */
  private async gate(requestType: string, requested: string[]): Promise<{ outcomes: Map<string, TargetOutcome>; allowed: string[] }> {
    // One map, filled in the order the admin gave the targets (which set() on a key keeps), and
    // deduping them: a fan-out to 100,000 enrollments holds no other per-target copy. Traits are
    // read a chunk at a time (fan-out.ts).
    const outcomes = new Map<string, TargetOutcome>();
    for (const id of requested) outcomes.set(id, UNKNOWN);
    for (const chunk of fanOutChunks([...outcomes.keys()])) {
      for (const group of await this.storage.groupByTraits(chunk)) {
        const gate = commandAllowed(requestType, gateTarget(group.traits));
        const outcome: TargetOutcome = gate.ok ? QUEUED : { status: 'not_allowed', reason: gate.reason };
        for (const id of group.ids) outcomes.set(id, outcome);
      }
    }
    // From the map's keys, the admin's own strings, rather than the copies storage handed back.
    const allowed: string[] = [];
    for (const [id, outcome] of outcomes) if (outcome === QUEUED) allowed.push(id);
    return { outcomes, allowed };
  }

  /** A command and one page of its targets (a command may have been queued to 100,000 devices). */
  async view(uuid: string, page: { after?: string; limit: number }): Promise<CommandView | undefined> {
    const record = await this.storage.getCommand(uuid, page);
    if (record === undefined) return undefined;
    return {
      commandUuid: record.uuid,
      requestType: record.requestType,
      createdAt: record.createdAt,
      command: plistToJson(decodePlistDict(record.payload)),
      targets: record.targets.map(targetView),
    };
  }

  /** Commands, newest first, with their targets counted by state. */
  list(filter: CommandFilter, page: { before?: { createdAt: string; uuid: string }; limit: number }): Promise<CommandSummary[]> {
    return this.storage.listCommands(filter, page);
  }

  /** An enrollment's commands, newest first; undefined when the enrollment is unknown. */
  async history(enrollmentId: string, page: { before?: number; limit: number }): Promise<HistoryView[] | undefined> {
    const entries = await this.storage.listEnrollmentCommands(enrollmentId, page);
    return entries?.map((e) => ({ ...targetView(e), commandUuid: e.commandUuid, requestType: e.requestType, seq: e.seq }));
  }

  /** The pending commands of an enrollment in the order the device will get them. */
  queue(enrollmentId: string): Promise<QueueEntry[] | undefined> {
    return this.storage.listQueue(enrollmentId);
  }

  /** Cancels one pending command, or all of them (commandUuid null); returns how many. */
  cancel(enrollmentId: string, commandUuid: string | null): Promise<number | undefined> {
    const at = this.now().toISOString();
    return this.storage.cancelPending(enrollmentId, commandUuid, at, commandCancelled(enrollmentId, deviceIdOf(enrollmentId), at));
  }
}

function targetView(t: CommandTarget): TargetView {
  return {
    enrollmentId: t.enrollmentId,
    state: t.state,
    queuedAt: t.queuedAt,
    updatedAt: t.updatedAt,
    notNowCount: t.notNowCount,
    result: t.result === null ? null : plistToJson(decodePlistDict(t.result)),
    errorChain: t.errorChain,
  };
}

function buildCommand(s: CommandSubmission): { ok: false; errors: CommandIssue[] } | { ok: true; command: CommandEnvelope } {
  const issue = (path: string, message: string) => ({ ok: false as const, errors: [{ path, message }] });
  if ((s.command === undefined) === (s.plist === undefined)) return issue('$', 'give exactly one of "command" and "plist"');
  if (s.command !== undefined) {
    const valid = validateCommandJson(s.command);
    if (!valid.ok) return valid;
    const uuid = s.commandUuid ?? randomUUID();
    const xml = buildCommandPlist({ commandUuid: uuid, command: valid.command });
    return { ok: true, command: { uuid, requestType: valid.requestType, payload: Buffer.from(xml, 'utf8') } };
  }
  const valid = validateCommandPlist(s.plist!);
  if (!valid.ok) return valid;
  if (valid.commandUuid !== undefined && s.commandUuid !== undefined && valid.commandUuid !== s.commandUuid) {
    return issue('command_uuid', `differs from the plist's CommandUUID "${valid.commandUuid}"`);
  }
  // The admin's own bytes are what the device gets (a re-encode could change value types).
  return { ok: true, command: prepareRawCommand(s.plist!, () => s.commandUuid ?? randomUUID()) };
}

function gateTarget(t: EnrollmentTraits) {
  return {
    platform: (PLATFORMS as readonly string[]).includes(t.platform ?? '') ? (t.platform as Platform) : undefined,
    channel: t.channel,
    userEnrollment: t.type === 'user-enrollment-device' || t.type === 'user-enrollment-user',
    // A Shared iPad user channel implies a Shared iPad; otherwise DeviceInformation may have said.
    sharedIPad: t.type === 'shared-ipad-user' ? true : (t.multiUser ?? undefined),
    supervised: t.supervised ?? undefined,
    osVersion: t.osVersion ?? undefined,
  };
}
