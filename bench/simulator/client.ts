// The orchestrator's handle on the device simulator process.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetSpec, FromSimulator, RunResult, RunSpec, ToSimulator } from './protocol.ts';

const ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

export class Simulator {
  private readonly child: ChildProcess;
  private pending: Promise<unknown> = Promise.resolve();

  constructor() {
    this.child = fork(ENTRY, [], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: 'inherit' });
  }

  /** Builds the fleet (certificates, signed bodies); returns the seconds it took. */
  async prepare(fleet: FleetSpec): Promise<number> {
    const reply = await this.call({ kind: 'prepare', fleet });
    if (reply.kind !== 'prepared') throw new Error(`simulator: unexpected ${reply.kind}`);
    return reply.seconds;
  }

  async run(run: RunSpec): Promise<RunResult> {
    const reply = await this.call({ kind: 'run', run });
    if (reply.kind !== 'result') throw new Error(`simulator: unexpected ${reply.kind}`);
    return reply.result;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  /** One request at a time: replies carry no id, so calls must not overlap. */
  private call(message: ToSimulator): Promise<FromSimulator> {
    const reply = this.pending.then(
      () =>
        new Promise<FromSimulator>((resolve, reject) => {
          const onExit = (code: number | null) => reject(new Error(`simulator exited with ${code}`));
          this.child.once('exit', onExit);
          this.child.once('message', (m: FromSimulator) => {
            this.child.off('exit', onExit);
            if (m.kind === 'failed') reject(new Error(`simulator: ${m.error}`));
            else resolve(m);
          });
          this.child.send(message);
        }),
    );
    this.pending = reply.catch(() => undefined);
    return reply;
  }
}
