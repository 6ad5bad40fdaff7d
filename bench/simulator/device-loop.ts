// Runs one phase of the MDM conversation for every device of a fleet over keep-alive HTTP, a
// bounded number of devices at a time (each lane with a connection of its own to each server), and
// checks every answer byte for byte. Optionally one more device uploads large results alongside,
// until the phase is done.
import { quantile } from '../stats.ts';
import { CHECKIN_CONTENT_TYPE, REPORT_CONTENT_TYPE, roundCommands } from '../workload.ts';
import type { Device, SignedBody } from './fleet.ts';
import { DeviceConnection, expectAnswer as expect, type Answer } from './http-device.ts';
import { startLargeSender } from './large-sender.ts';
import type { Phase, RunResult, RunSpec } from './protocol.ts';

const MAX_ERROR_SAMPLES = 5;

export async function runPhase(fleet: readonly Device[], spec: RunSpec, commandsPerRound: number, largeSender?: Device): Promise<RunResult> {
  const servers = spec.urls.map((u) => new URL(u));
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const connections: DeviceConnection[] = [];

  const converse = async (device: Device, connection: DeviceConnection, phase: Phase): Promise<void> => {
    const send = (message: SignedBody, contentType: string): Promise<Answer> => connection.send(message, contentType, spec.signed, latencies);
    if (phase.kind === 'enroll') {
      expect(await send(device.authenticate, CHECKIN_CONTENT_TYPE), null, `${device.id} Authenticate`);
      expect(await send(device.tokenUpdate, CHECKIN_CONTENT_TYPE), null, `${device.id} TokenUpdate`);
      return;
    }
    if (phase.kind === 'idle') {
      for (let i = 0; i < phase.repeats; i++) expect(await send(device.idle, REPORT_CONTENT_TYPE), null, `${device.id} Idle`);
      return;
    }
    const commands = phase.kind === 'session' ? roundCommands(phase.round, commandsPerRound) : [phase.expect];
    let answer = await send(device.idle, REPORT_CONTENT_TYPE);
    for (const uuid of commands) {
      expect(answer, uuid, `${device.id} after ${uuid === commands[0] ? 'Idle' : 'Acknowledged'}`);
      if (phase.kind === 'first-command') return;
      answer = await send(device.acknowledged.get(uuid)!, REPORT_CONTENT_TYPE);
    }
    expect(answer, null, `${device.id} after the last Acknowledged`);
  };

  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let next = 0;
  const lane = async (): Promise<void> => {
    const own = servers.map((url) => new DeviceConnection(url));
    connections.push(...own);
    for (let i = next++; i < fleet.length; i = next++) {
      try {
        await converse(fleet[i]!, own[i % own.length]!, spec.phase);
      } catch (err) {
        errors += 1;
        if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push((err as Error).message);
      }
    }
  };
  const large =
    largeSender && spec.largeResults
      ? startLargeSender({
          url: servers[0]!.href,
          id: largeSender.id,
          idle: largeSender.idle,
          ...(spec.signed && largeSender.signing ? { signing: largeSender.signing } : {}),
          large: spec.largeResults,
        })
      : undefined;
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, fleet.length) }, lane));
  const uploaded = await large?.stop();
  if (uploaded?.error !== undefined) {
    errors += 1;
    if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(uploaded.error);
  }
  const largeLatencies = uploaded?.latencies ?? [];
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  for (const connection of connections) connection.close();
  return {
    requests: latencies.length,
    errors,
    errorSamples,
    wallSeconds,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    ...(spec.largeResults ? { large: { sent: largeLatencies.length - 1, p50Ms: quantile(largeLatencies.slice(1), 0.5) } } : {}),
  };
}
