// The command loop (docs/protocol.md §4): every report is answered with the next queued command of
// that channel, or a zero-length 200 when none is left.
//
// Guarantees: a result is durable before the reply; a replayed result or one for a command this
// enrollment never had changes nothing and still gets a 200 (devices re-send results until they
// see a 2xx); a NotNow keeps the command queued but deferred until the next session (Idle), so the
// device is never offered the same deferred command twice in one session.
import { describeIssues, reportSchema } from '../protocol/messages.ts';
import { plistToJson, type PlistDict } from '../protocol/plist.ts';
import type { CommandStore, RecordedResult } from '../storage/storage.ts';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import { DeviceRequestError, emptyReply, unknownEnrollment, type DeviceReply, type RequestSummary } from './device-reply.ts';

/** Runs once a result is stored (also for a replay of it: what it triggers must be idempotent). */
export type ResultHook = (result: RecordedResult, message: PlistDict, who: ResolvedEnrollment, at: string) => Promise<void>;

export async function handleReport(
  storage: CommandStore,
  message: PlistDict,
  raw: Uint8Array,
  who: ResolvedEnrollment,
  at: string,
  afterResult: ResultHook,
): Promise<DeviceReply> {
  const parsed = reportSchema.safeParse(message);
  if (!parsed.success) throw new DeviceRequestError(400, `invalid report: ${describeIssues(parsed.error)}`);
  const report = parsed.data;
  const summary = { enrollmentId: who.id, message: report.Status, commandUuid: report.CommandUUID };

  let outcome: string;
  if (report.Status === 'Idle') {
    if (!(await storage.startSession(who.id, at))) throw unknownEnrollment(who, report.Status);
    outcome = 'session started';
  } else {
    const recorded = await storage.recordResult({
      enrollmentId: who.id,
      commandUuid: report.CommandUUID!,
      status: report.Status,
      raw,
      // Devices' responses are validated leniently (docs/protocol.md §4.3): a malformed ErrorChain is kept as
      // it came rather than refusing the result, which the device would re-send forever.
      errorChain: message.ErrorChain === undefined ? null : asArray(plistToJson(message.ErrorChain)),
      at,
    });
    outcome = recorded.outcome;
    if (outcome === 'unknown-enrollment') throw unknownEnrollment(who, report.Status);
    if (outcome === 'completed' || outcome === 'replayed') await afterResult(recorded, message, who, at);
  }
  const next = await storage.nextCommand(who.id);
  if (next === undefined && report.Status !== 'NotNow' && report.Status !== 'Idle' && (await storage.hasDeferred(who.id))) {
    // The device re-polls by itself only when NotNow was the last status of its session; this
    // session ended on another status with deferred commands left, so they need a push later.
    return emptyReply({ ...summary, outcome, deferredLeft: true });
  }
  return commandReply(next, { ...summary, outcome });
}

function commandReply(next: Awaited<ReturnType<CommandStore['nextCommand']>>, summary: RequestSummary): DeviceReply {
  if (next === undefined) return emptyReply(summary);
  return {
    status: 200,
    body: next.payload,
    contentType: 'application/xml; charset=UTF-8',
    summary: { ...summary, nextCommandUuid: next.uuid, nextRequestType: next.requestType },
  };
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}
