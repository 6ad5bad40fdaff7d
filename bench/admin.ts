// The one admin API call the bench makes: queue a command to many enrollments.
import { API_KEY } from './server-process.ts';
import { commandPlist } from './workload.ts';

export interface QueueOutcome {
  status: number;
  queued: number;
  seconds: number;
  requestBytes: number;
}

/** The JSON body of POST /v1/commands for this command and targets, without a push. */
export function queueRequestBody(targets: readonly string[], uuid: string): string {
  return JSON.stringify({ targets, plist: commandPlist(uuid), command_uuid: uuid, push: false });
}

/** POST /v1/commands; `seconds` runs from sending to the whole answer having arrived. */
export async function queueCommand(url: string, targets: readonly string[], uuid: string): Promise<QueueOutcome> {
  const body = queueRequestBody(targets, uuid);
  const started = performance.now();
  const res = await fetch(`${url}/v1/commands`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  const seconds = (performance.now() - started) / 1000;
  if (res.status !== 201) throw new Error(`POST /v1/commands answered ${res.status}: ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as { targets: Record<string, { status: string }> };
  const queued = Object.values(answer.targets).filter((t) => t.status === 'queued').length;
  return { status: res.status, queued, seconds, requestBytes: Buffer.byteLength(body) };
}
