// The bench's handle on the APNs stand-in process.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ApnsTestCertificates } from '../../test/helpers/apns-certs.ts';

export type ToStandin =
  | { kind: 'start'; caCertPem: string; serverCertPem: string; serverKeyPem: string }
  | { kind: 'count' }
  | { kind: 'stop' };
export type FromStandin = { kind: 'started'; url: string } | { kind: 'count'; answered: number };

const ENTRY = fileURLToPath(new URL('./standin-process.ts', import.meta.url));

export interface StandinProcess {
  url: string;
  /** Pushes the stand-in has answered so far. */
  answered(): Promise<number>;
  stop(): Promise<void>;
}

export async function startStandinProcess(certs: Pick<ApnsTestCertificates, 'ca' | 'server'>): Promise<StandinProcess> {
  const child = fork(ENTRY, [], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: 'inherit' });
  const next = (): Promise<FromStandin> =>
    new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`APNs stand-in exited with ${code}`)));
    });
  const send = (message: ToStandin): void => {
    child.send(message);
  };
  send({ kind: 'start', caCertPem: certs.ca.certPem, serverCertPem: certs.server.certPem, serverKeyPem: certs.server.keyPem });
  const started = await next();
  if (started.kind !== 'started') throw new Error('the APNs stand-in did not start');
  return {
    url: started.url,
    async answered() {
      send({ kind: 'count' });
      const reply = await next();
      if (reply.kind !== 'count') throw new Error('the APNs stand-in did not count');
      return reply.answered;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      send({ kind: 'stop' });
      await exited;
    },
  };
}
