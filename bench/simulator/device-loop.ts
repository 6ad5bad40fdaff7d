// Runs one phase of the MDM conversation for every device of a fleet over keep-alive HTTP, a
// bounded number of devices at a time, and checks every answer byte for byte. Optionally one more
// device uploads large results alongside, until the phase is done.
import http from 'node:http';
import { quantile } from '../stats.ts';
import { CHECKIN_CONTENT_TYPE, commandPlist, largeResult, REPORT_CONTENT_TYPE, roundCommands } from '../workload.ts';
import type { Device, SignedBody } from './fleet.ts';
import type { Phase, RunResult, RunSpec } from './protocol.ts';

const MAX_ERROR_SAMPLES = 5;

interface Answer {
  status: number;
  body: Buffer;
}

export async function runPhase(fleet: readonly Device[], spec: RunSpec, commandsPerRound: number, largeSender?: Device): Promise<RunResult> {
  const servers = spec.urls.map((u) => new URL(u));
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const expected = new Map<string, Buffer>();
  const commandBytes = (uuid: string): Buffer => {
    let bytes = expected.get(uuid);
    if (bytes === undefined) expected.set(uuid, (bytes = Buffer.from(commandPlist(uuid), 'utf8')));
    return bytes;
  };

  const largeLatencies: number[] = [];
  const send = (url: URL, message: SignedBody, contentType: string, timings = latencies): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': contentType, 'content-length': message.body.length };
      if (spec.signed) headers['mdm-signature'] = message.signature;
      const started = performance.now();
      const req = http.request({ agent, host: url.hostname, port: url.port, method: 'PUT', path: '/mdm', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          timings.push(performance.now() - started);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(message.body);
    });

  const expect = (answer: Answer, command: string | null, what: string): void => {
    const want = command === null ? Buffer.alloc(0) : commandBytes(command);
    if (answer.status === 200 && answer.body.equals(want)) return;
    const got = answer.body.toString('utf8', 0, 120).replace(/\s+/g, ' ');
    // A device that sees anything else stops there: the rest of its conversation would be noise.
    throw new Error(`${what}: expected ${command ?? 'an empty 200'}, got ${answer.status} ${got}`);
  };

  const converse = async (device: Device, url: URL, phase: Phase): Promise<void> => {
    if (phase.kind === 'enroll') {
      expect(await send(url, device.authenticate, CHECKIN_CONTENT_TYPE), null, `${device.id} Authenticate`);
      expect(await send(url, device.tokenUpdate, CHECKIN_CONTENT_TYPE), null, `${device.id} TokenUpdate`);
      return;
    }
    if (phase.kind === 'idle') {
      for (let i = 0; i < phase.repeats; i++) expect(await send(url, device.idle, REPORT_CONTENT_TYPE), null, `${device.id} Idle`);
      return;
    }
    const commands = phase.kind === 'session' ? roundCommands(phase.round, commandsPerRound) : [phase.expect];
    let answer = await send(url, device.idle, REPORT_CONTENT_TYPE);
    for (const uuid of commands) {
      expect(answer, uuid, `${device.id} after ${uuid === commands[0] ? 'Idle' : 'Acknowledged'}`);
      if (phase.kind === 'first-command') return;
      answer = await send(url, device.acknowledged.get(uuid)!, REPORT_CONTENT_TYPE);
    }
    expect(answer, null, `${device.id} after the last Acknowledged`);
  };

  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < fleet.length; i = next++) {
      try {
        await converse(fleet[i]!, servers[i % servers.length]!, spec.phase);
      } catch (err) {
        errors += 1;
        if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push((err as Error).message);
      }
    }
  };
  let lanesDone = false;
  /** Large results back to back, each answered by the next command, until the lanes are done. */
  const uploadLarge = async (device: Device, large: NonNullable<RunSpec['largeResults']>): Promise<void> => {
    const url = servers[0]!;
    let answer = await send(url, device.idle, REPORT_CONTENT_TYPE, largeLatencies);
    for (const [i, uuid] of large.commands.entries()) {
      expect(answer, uuid, `${device.id} large result ${i}`);
      if (lanesDone) return;
      const body = largeResult(device.id, uuid, large.bytes, large.keys);
      answer = await send(url, { body, signature: device.sign(body) }, REPORT_CONTENT_TYPE, largeLatencies);
    }
    throw new Error(`${device.id}: its ${large.commands.length} commands ran out before the phase ended; queue more`);
  };
  const uploading = (largeSender && spec.largeResults ? uploadLarge(largeSender, spec.largeResults) : Promise.resolve()).catch((err: unknown) => {
    errors += 1;
    if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push((err as Error).message);
  });
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, fleet.length) }, lane));
  lanesDone = true;
  await uploading;
  const wallSeconds = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    requests: latencies.length,
    errors,
    errorSamples,
    wallSeconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    ...(spec.largeResults ? { large: { sent: largeLatencies.length - 1, p50Ms: quantile(largeLatencies.slice(1), 0.5) } } : {}),
  };
}
