// The thread of large-result-maker.ts: makes each large result it is asked for and signs it with
// the device's credentials (workerData; null for an unsigned fleet).
import { workerData } from 'node:worker_threads';
import { answerRequests } from '../../src/threads/request-worker.ts';
import { MdmSigner } from '../../test/helpers/mdm-signer.ts';
import { largeResult } from '../workload.ts';
import type { Made, MakeRequest } from './large-result-maker.ts';

const credentials = workerData as { certPem: string; keyPem: string } | null;
const signer = credentials === null ? undefined : new MdmSigner(credentials.certPem, credentials.keyPem);
answerRequests<MakeRequest, Made>(({ id, uuid, bytes, keys }) => {
  const body = largeResult(id, uuid, bytes, keys);
  return { body, signature: signer?.sign(body) };
});
