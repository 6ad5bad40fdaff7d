// The device simulator process: forked by the orchestrator (simulator/client.ts) so that the
// simulated devices never share an event loop with the bench or the server. It prepares a fleet,
// then runs phases on request. One thread is enough here: on the 2-core machine the bench targets
// the server needs the other core, and the simulator's per-request work is a few buffer copies.
import { buildFleet, type Device } from './fleet.ts';
import { runPhase } from './device-loop.ts';
import type { FromSimulator, ToSimulator } from './protocol.ts';

const fleets = new Map<string, { devices: Device[]; commandsPerRound: number }>();

const answer = (message: FromSimulator): void => {
  process.send!(message);
};

process.on('message', (message: ToSimulator) => {
  void handle(message).then(answer, (err: unknown) => answer({ kind: 'failed', error: (err as Error).stack ?? String(err) }));
});

async function handle(message: ToSimulator): Promise<FromSimulator> {
  if (message.kind === 'prepare') {
    const started = performance.now();
    fleets.set(message.fleet.name, { devices: buildFleet(message.fleet), commandsPerRound: message.fleet.commandsPerRound });
    return { kind: 'prepared', seconds: (performance.now() - started) / 1000 };
  }
  const fleet = fleets.get(message.run.fleet);
  if (fleet === undefined) throw new Error(`no fleet named ${message.run.fleet}`);
  const large = message.run.largeResults;
  const sender = large && fleets.get(large.fleet)?.devices[0];
  if (large && sender === undefined) throw new Error(`no fleet named ${large.fleet}`);
  return { kind: 'result', result: await runPhase(fleet.devices, message.run, fleet.commandsPerRound, sender) };
}
