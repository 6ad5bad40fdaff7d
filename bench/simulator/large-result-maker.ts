// Figure 7's large results are made and signed on this thread, not on the simulator's event loop:
// making and signing a 4 MiB result takes 20-40 ms on a busy 2-core machine (the plist text, its
// SHA-256, the RSA signature), and on the event loop every Idle answer arriving meanwhile would be
// timed late by that much, the client's own stall counted as the server's. A real device does
// this work on its own hardware.
import { RequestWorker, workerModule } from '../../src/threads/request-worker.ts';

export interface MakeRequest {
  id: string;
  uuid: string;
  bytes: number;
  keys: number;
}
export interface Made {
  body: Uint8Array;
  signature: string | undefined;
}

/** On the simulator's thread: makes large results of one device, signed with its credentials. */
export class LargeResultMaker {
  readonly #thread: RequestWorker<MakeRequest, Made>;

  constructor(credentials: { certPem: string; keyPem: string } | undefined) {
    this.#thread = new RequestWorker(workerModule(import.meta.url, 'large-result-maker-thread'), credentials ?? null);
  }

  async make(request: MakeRequest): Promise<{ body: Buffer; signature: string | undefined }> {
    const made = await this.#thread.request(request);
    return { body: Buffer.from(made.body.buffer, made.body.byteOffset, made.body.byteLength), signature: made.signature };
  }

  close(): Promise<void> {
    return this.#thread.close();
  }
}
