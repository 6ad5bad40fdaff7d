// The thread of large-sender.ts: one device uploading large results until told to stop.
import { MdmSigner } from '../../test/helpers/mdm-signer.ts';
import { answerRequests } from '../../src/threads/request-worker.ts';
import { largeResult, REPORT_CONTENT_TYPE } from '../workload.ts';
import type { SignedBody } from './fleet.ts';
import { DeviceConnection, expectAnswer } from './http-device.ts';
import type { Upload, UploadOutcome } from './large-sender.ts';

/** Large results back to back, each answered by the next command, until told to stop. */
async function upload({ url, id, idle, signing, large, stop }: Upload): Promise<UploadOutcome> {
  const signer = signing && new MdmSigner(signing.certPem, signing.keyPem);
  const connection = new DeviceConnection(new URL(url));
  const latencies: number[] = [];
  const put = (message: SignedBody) => connection.send(message, REPORT_CONTENT_TYPE, signer !== undefined, latencies);
  try {
    // Structured cloning made the Buffer a plain Uint8Array.
    let answer = await put({ body: Buffer.from(idle.body), signature: idle.signature });
    for (const [i, uuid] of large.commands.entries()) {
      expectAnswer(answer, uuid, `${id} large result ${i}`);
      if (Atomics.load(stop, 0) === 1) return { latencies };
      const body = largeResult(id, uuid, large.bytes, large.keys);
      answer = await put({ body, signature: signer?.sign(body) });
    }
    throw new Error(`${id}: its ${large.commands.length} commands ran out before the phase ended; queue more`);
  } catch (err) {
    return { latencies, error: (err as Error).message };
  } finally {
    connection.close();
  }
}

answerRequests(upload);
