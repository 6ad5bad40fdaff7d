// The bench's handle on the webhook receiver process.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type ToReceiver = { kind: 'count' } | { kind: 'wait'; count: number } | { kind: 'reset' } | { kind: 'stop' };
export type FromReceiver = { kind: 'started'; url: string } | { kind: 'count'; count: number; first: number; last: number };

const ENTRY = fileURLToPath(new URL('./receiver-process.ts', import.meta.url));

export interface ReceiverProcess {
  url: string;
  /** Deliveries answered so far, and when (epoch ms) the first and the last arrived. */
  count(): Promise<{ count: number; first: number; last: number }>;
  /** Resolves once `count` deliveries have arrived. */
  waitFor(count: number): Promise<{ count: number; first: number; last: number }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startReceiverProcess(): Promise<ReceiverProcess> {
  const child = fork(ENTRY, [], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: 'inherit' });
  const next = (): Promise<FromReceiver> =>
    new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`webhook receiver exited with ${code}`)));
    });
  const ask = async (message: ToReceiver) => {
    child.send(message);
    const reply = await next();
    if (reply.kind !== 'count') throw new Error('the webhook receiver did not count');
    return reply;
  };
  const started = await next();
  if (started.kind !== 'started') throw new Error('the webhook receiver did not start');
  return {
    url: started.url,
    count: () => ask({ kind: 'count' }),
    waitFor: (count) => ask({ kind: 'wait', count }),
    reset: async () => void (await ask({ kind: 'reset' })),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ kind: 'stop' });
      await exited;
    },
  };
}
