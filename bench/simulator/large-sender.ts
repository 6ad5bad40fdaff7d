// The device that uploads large results while a phase runs (figure 7), on a thread of its own.
// Building a 4 MiB result and signing it (a SHA-256 of the whole body) holds a thread for about
// 10 ms; on the lanes' thread every Idle in flight would be timed that much late, a stall of the
// simulator's, not the server's. A real fleet's devices do not share a CPU thread, so neither do
// these: the sender shares only the machine's cores.
import { RequestWorker, workerModule } from '../../src/threads/request-worker.ts';
import type { SignedBody } from './fleet.ts';
import type { LargeResults } from './protocol.ts';

export interface LargeSender {
  url: string;
  id: string;
  idle: SignedBody;
  /** The device's certificate and key; absent for an unsigned fleet. */
  signing?: { certPem: string; keyPem: string };
  large: LargeResults;
}

export interface Upload extends LargeSender {
  /** Set to 1 (Atomics) by the phase when its lanes are done: the sender stops after its answer. */
  stop: Int32Array;
}

/** Latencies of every request the sender made (its first, an Idle, included), or why it stopped. */
export type UploadOutcome = { latencies: number[]; error?: string };

const thread = new RequestWorker<Upload, UploadOutcome>(workerModule(import.meta.url, 'large-sender-worker'));

/** Starts uploading; the returned `stop` ends it and gives the outcome. The thread is kept for
 *  the next phase (a new one would spend the phase's first second loading its modules). */
export function startLargeSender(sender: LargeSender): { stop: () => Promise<UploadOutcome> } {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const outcome = thread.request({ ...sender, stop });
  return {
    stop: async () => {
      Atomics.store(stop, 0, 1);
      return outcome;
    },
  };
}
