// Queueing commands and reading them back, for the admin API.
import { prepareRawCommand, type CommandEnvelope } from '../protocol/command-envelope.ts';
import { decodePlistDict, plistToJson, type JsonValue } from '../protocol/plist.ts';
import type { EnqueueOutcome, Storage, TargetState } from '../storage/storage.ts';

export interface EnqueueResult {
  command: CommandEnvelope;
  outcomes: Map<string, EnqueueOutcome>;
}

export interface CommandView {
  commandUuid: string;
  requestType: string;
  createdAt: string;
  command: JsonValue;
  targets: {
    enrollmentId: string;
    state: TargetState;
    queuedAt: string;
    updatedAt: string;
    notNowCount: number;
    result: JsonValue | null;
    errorChain: unknown[] | null;
  }[];
}

export class CommandQueue {
  constructor(
    private readonly storage: Storage,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Queues a raw command plist (throws PlistError for a bad one, DuplicateCommandError). */
  async enqueueRaw(body: Uint8Array, enrollmentIds: string[]): Promise<EnqueueResult> {
    const command = prepareRawCommand(body);
    const outcomes = await this.storage.enqueue(command, enrollmentIds, this.now().toISOString());
    return { command, outcomes };
  }

  async view(uuid: string): Promise<CommandView | undefined> {
    const record = await this.storage.getCommand(uuid);
    if (record === undefined) return undefined;
    return {
      commandUuid: record.uuid,
      requestType: record.requestType,
      createdAt: record.createdAt,
      command: plistToJson(decodePlistDict(record.payload)),
      targets: record.targets.map((t) => ({
        enrollmentId: t.enrollmentId,
        state: t.state,
        queuedAt: t.queuedAt,
        updatedAt: t.updatedAt,
        notNowCount: t.notNowCount,
        result: t.result === null ? null : plistToJson(decodePlistDict(t.result)),
        errorChain: t.errorChain,
      })),
    };
  }
}
