// Device bodies are read off the event loop's thread when they are large. Reading a 4 MiB report
// of 100,000 keys takes 35-55 ms even building only its top level (plist-reader.ts); on the
// event loop's thread, even in slices, every other device's request waits behind it (bench
// figure 7). On the decoder thread the event loop only copies the bytes there (about 0.5 ms for
// 4 MiB) and gets back the few values a request acts on (a report's Status, UDID, CommandUUID...).
//
// The cost: a thread and its memory (a few MB), started on the first large body and kept while the
// process runs, and a hop (well under a millisecond) per large body; small bodies, nearly all of
// them, are read in place, where a hop would cost more than the read.
import { decodePlistDict, PlistError, type PlistDict, type ReadOptions } from '../protocol/plist.ts';
import { RequestWorker, workerModule } from './request-worker.ts';

/** Bodies larger than this are read on the decoder thread. */
export const OFF_THREAD_BODY_BYTES = 64 * 1024;

export interface DecodeRequest {
  body: Uint8Array;
  options: ReadOptions;
}
/** What the decoder thread answers: the dictionary, or why the body was refused (a PlistError,
 *  carried as data so that it stays the sender's fault; any other failure is the server's). */
export type DecodeAnswer = { dict: PlistDict } | { refused: { reason: string; keyPath?: string } };

const decoder = new RequestWorker<DecodeRequest, DecodeAnswer>(workerModule(import.meta.url, 'plist-decoder-worker'));

/** As `decodePlistDict`, with a large body read on the decoder thread. A PlistError is the
 *  sender's fault; any other rejection (the thread failed) is the server's. */
export async function decodeDeviceBody(body: Uint8Array, options: ReadOptions = {}): Promise<PlistDict> {
  if (body.byteLength <= OFF_THREAD_BODY_BYTES) return decodePlistDict(body, options);
  const answer = await decoder.request({ body, options });
  if ('refused' in answer) throw new PlistError(answer.refused.reason, answer.refused.keyPath);
  return answer.dict;
}
