// Keeping devices in step with their declarations. An enrollment's effective set is what its sets
// (and the sets of every enrollment) assign plus what Aspen generates (src/ddm/effective-set.ts).
// When it changes (a declaration edited or touched, a set assigned or unassigned, a set's content
// changed, a re-enrollment, new client capabilities), the enrollment gets one DeclarativeManagement
// command carrying its tokens, and a push.
//
// One pending per enrollment, however many changes and instances: the command is queued only to
// enrollments without a pending one, decided in storage under a lock (CommandStore.enqueue with
// unlessPending). A change made while one is pending is coalesced into it; since the tokens it
// carries may then be stale, its acknowledgement is checked against the current set and a fresh
// sync queued if they differ, so no change is ever lost between a device's fetch and its answer.
// Devices awaiting configuration are held until an acknowledged DeviceConfigured.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { declarationsToken, effectiveDeclarations, isJsonObject, parseJson, tokensResponse, type EffectiveDeclaration } from '../ddm/index.ts';
import type { CommandEnvelope } from '../protocol/command-envelope.ts';
import { buildCommandPlist } from '../protocol/commands/index.ts';
import { decodePlistDict, isDict } from '../protocol/plist.ts';
import type { AffectedSelector, DeclarationStore, StoredDeclaration, SyncCandidate } from '../storage/declarations.ts';
import type { CommandStore } from '../storage/storage.ts';
import type { ResultHook } from './command-loop.ts';
import type { CommandQueue } from './command-queue.ts';
import type { PushGateway } from './push-gateway.ts';

export const SYNC_REQUEST_TYPE = 'DeclarativeManagement';

/** The effective set of an enrollment with these assigned declarations and client capabilities. */
export function effectiveSet(assigned: readonly StoredDeclaration[], statusItems: readonly string[] | null): EffectiveDeclaration[] {
  return effectiveDeclarations({
    assigned: assigned.map((d) => ({ type: d.type, identifier: d.identifier, payload: d.payload, serverToken: d.serverToken })),
    supportedStatusItems: statusItems ?? undefined,
  });
}

/** An enrollment's effective set as it is served now, and since when its token has stood. */
export interface ServedSet {
  declarations: EffectiveDeclaration[];
  token: string;
  changedAt: Date;
}

export interface NotifyOptions {
  /** Queue even for an enrollment whose set is empty and always was (an explicit notify). */
  force?: boolean;
  /** Wait for the push (an admin's request); false when a device's request must not wait on APNs. */
  wait?: boolean;
}

export interface SyncOutcome {
  /** Enrollments a sync command was queued for (and pushed). */
  queued: string[];
  /** Enrollments that had one pending already: it covers this change. */
  coalesced: string[];
}

export class DeclarativeSync {
  constructor(
    private readonly store: DeclarationStore,
    private readonly commands: CommandQueue,
    private readonly commandStore: Pick<CommandStore, 'getCommand'>,
    private readonly push: PushGateway,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The enrollment's effective set (the device's documents are built from it). */
  async effective(enrollmentId: string): Promise<EffectiveDeclaration[]> {
    const input = await this.store.enrollmentDeclarations(enrollmentId);
    return effectiveSet(input.assigned, input.statusItems);
  }

  /** The set served now, recording its token (and, when the token is new, that it changed now). */
  async served(enrollmentId: string, at: Date): Promise<ServedSet> {
    const input = await this.store.enrollmentDeclarations(enrollmentId);
    const declarations = effectiveSet(input.assigned, input.statusItems);
    const token = declarationsToken(declarations);
    if (input.token?.value === token) return { declarations, token, changedAt: new Date(input.token.changedAt) };
    const changedAt = (await this.store.recordTokens([{ enrollmentId, token }], at.toISOString())).get(enrollmentId);
    return { declarations, token, changedAt: new Date(changedAt ?? at) };
  }

  /**
   * Queues a sync for the enrollments a change affects, and pushes them. Unless `force` (an
   * explicit notify), an enrollment whose effective set is empty and was never anything else is
   * left alone: there is nothing to tell it.
   */
  async notify(selector: AffectedSelector, { force = false, wait = true }: NotifyOptions = {}): Promise<SyncOutcome> {
    const candidates = await this.store.syncCandidates(selector);
    if (candidates.length === 0) return { queued: [], coalesced: [] };
    const at = this.now();
    const tokens = await this.tokensOf(candidates, force);
    if (tokens.length === 0) return { queued: [], coalesced: [] };
    const changedAt = await this.store.recordTokens(
      tokens.map((t) => ({ enrollmentId: t.enrollmentId, token: t.token })),
      at.toISOString(),
    );

    // One command per distinct payload (token and timestamp): a fleet on the same sets shares one.
    const byPayload = new Map<string, { declarations: EffectiveDeclaration[]; changedAt: string; ids: string[] }>();
    for (const t of tokens) {
      const since = changedAt.get(t.enrollmentId);
      if (since === undefined) continue; // forgotten meanwhile
      const key = `${t.token} ${since}`;
      const group = byPayload.get(key) ?? { declarations: t.declarations, changedAt: since, ids: [] };
      group.ids.push(t.enrollmentId);
      byPayload.set(key, group);
    }
    const outcome: SyncOutcome = { queued: [], coalesced: [] };
    for (const group of byPayload.values()) {
      const results = await this.commands.enqueueUnlessPending(syncCommand(group.declarations, new Date(group.changedAt)), group.ids);
      for (const [id, result] of results) {
        if (result.status === 'queued') outcome.queued.push(id);
        else if (result.status === 'already_pending') outcome.coalesced.push(id);
        else if (result.status === 'not_allowed') this.log.debug({ enrollmentId: id, reason: result.reason }, 'ddm: no sync for an enrollment that cannot take DeclarativeManagement');
      }
    }
    this.log.info({ queued: outcome.queued.length, coalesced: outcome.coalesced.length }, 'ddm: sync');
    if (outcome.queued.length > 0) {
      const pushed = this.pushQueued(outcome.queued);
      if (wait) await pushed;
    }
    return outcome;
  }

  private async pushQueued(ids: string[]): Promise<void> {
    try {
      if (await this.push.configured()) await this.push.push(ids);
    } catch (err) {
      // The command is queued: the device gets it when it next checks in, pushed or not.
      this.log.warn({ err, enrollments: ids.length }, 'ddm: push after queueing a sync failed');
    }
  }

  /** The effective set and token of each candidate; those with the same sets and status items
   *  have the same effective set, which is computed once for them. */
  private async tokensOf(candidates: readonly SyncCandidate[], force: boolean): Promise<{ enrollmentId: string; token: string; declarations: EffectiveDeclaration[] }[]> {
    const everyone = await this.store.globalSets();
    const sets = [...new Set([...candidates.flatMap((c) => c.sets), ...everyone])];
    // A new enrollment in a fleet without sets (every first TokenUpdate) has nothing to read.
    const bySet = sets.length === 0 ? new Map<string, StoredDeclaration[]>() : await this.store.declarationsOfSets(sets);
    const computed = new Map<string, { token: string; declarations: EffectiveDeclaration[] }>();
    const out: { enrollmentId: string; token: string; declarations: EffectiveDeclaration[] }[] = [];
    for (const c of candidates) {
      const key = JSON.stringify([c.sets, c.statusItems]);
      let set = computed.get(key);
      if (set === undefined) {
        const assigned = [...new Set([...c.sets, ...everyone])].flatMap((s) => bySet.get(s) ?? []);
        const declarations = effectiveSet(assigned, c.statusItems);
        set = { token: declarationsToken(declarations), declarations };
        computed.set(key, set);
      }
      const nothingToTell = set.declarations.length === 0 && (c.token === null || c.token === set.token);
      if (force || !nothingToTell) out.push({ enrollmentId: c.enrollmentId, ...set });
    }
    return out;
  }

  /** A channel's first TokenUpdate since Authenticate (a new enrollment, or a re-enrollment: the
   *  device has none of its declarations any more). */
  async enrolled(enrollmentId: string): Promise<void> {
    await this.notify({ enrollmentIds: [enrollmentId] }, { wait: false });
  }

  /**
   * After a stored result: an acknowledged DeviceConfigured releases the held sync; an
   * acknowledged sync whose tokens are no longer current (a change coalesced into it) is followed
   * by a fresh one. Idempotent, as result hooks must be (a replay runs it again).
   */
  readonly resultHook: ResultHook = async ({ requestType }, message, who) => {
    if (message.Status !== 'Acknowledged') return;
    // The device is in a session: it is handed the new sync in this very reply, pushed or not.
    if (requestType === 'DeviceConfigured') {
      await this.notify({ enrollmentIds: [who.id] }, { wait: false });
    } else if (requestType === SYNC_REQUEST_TYPE && typeof message.CommandUUID === 'string') {
      const carried = await this.carriedToken(message.CommandUUID);
      const current = declarationsToken(await this.effective(who.id));
      if (carried !== current) await this.notify({ enrollmentIds: [who.id] }, { force: true, wait: false });
    }
  };

  /** The DeclarationsToken a sync command carried (undefined: none, e.g. an admin's own). */
  private async carriedToken(commandUuid: string): Promise<string | undefined> {
    const command = await this.commandStore.getCommand(commandUuid, { limit: 0 });
    if (command === undefined) return undefined;
    const data = decodePlistDict(command.payload).Command;
    if (!isDict(data) || !(data.Data instanceof Uint8Array)) return undefined;
    const parsed = parseJson(data.Data);
    const sync = parsed.ok && isJsonObject(parsed.value) ? parsed.value.SyncTokens : undefined;
    return isJsonObject(sync) && typeof sync.DeclarationsToken === 'string' ? sync.DeclarationsToken : undefined;
  }
}

/** The DeclarativeManagement command carrying the tokens, which saves the device a `tokens` fetch. */
function syncCommand(declarations: readonly EffectiveDeclaration[], changedAt: Date): CommandEnvelope {
  const uuid = randomUUID();
  const data = Buffer.from(JSON.stringify(tokensResponse(declarations, changedAt)));
  const xml = buildCommandPlist({ commandUuid: uuid, command: { RequestType: SYNC_REQUEST_TYPE, Data: data } });
  return { uuid, requestType: SYNC_REQUEST_TYPE, payload: Buffer.from(xml, 'utf8') };
}
