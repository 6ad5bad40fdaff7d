// Reads a device request's body as raw bytes, as Fastify's own buffer parser does (the same limit,
// the same errors), with one difference for large bodies: they are read into shared memory.
//
// A large body (a Mac's InstalledApplicationList, megabytes) is read on the decoder thread and
// written by the large-result thread (src/threads/, src/storage/sqlite/large-result-writer.ts).
// Sent to a thread, an ordinary Buffer is copied, on the event loop's thread, once per thread:
// 3-6 ms each for 4 MiB, during which every other device waits (bench figure 7). A Buffer over a
// SharedArrayBuffer is handed over without a copy, and filling it chunk by chunk as the body
// arrives also spares the one large copy that joining the chunks at the end would be.
//
// What it trades: the shared memory is allocated at the size the Content-Length announces, once
// more than OFF_THREAD_BODY_BYTES of it has arrived; its pages are only committed as they are
// written, so a client that announces much and sends little holds address space, not memory. Nobody
// writes to a body once it is read, so sharing it is safe.
import { errorCodes, type FastifyRequest } from 'fastify';
import { OFF_THREAD_BODY_BYTES } from '../threads/plist-decoder.ts';

type Done = (err: Error | null, body?: Buffer) => void;

/** A Fastify content-type parser (the stream form) for raw device bodies of at most `limit` bytes. */
export function deviceBodyParser(limit: number): (request: FastifyRequest, payload: NodeJS.ReadableStream, done: Done) => void {
  return (request, payload, done) => {
    const announced = Number(request.headers['content-length']);
    if (announced > limit) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    const chunks: Buffer[] = [];
    let shared: Buffer | null = null;
    let received = 0;
    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    function onData(chunk: Buffer | string) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const end = received + bytes.length;
      if (end > limit || (shared !== null && end > shared.length)) {
        stop();
        done(end > limit ? new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE() : new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      if (shared === null && end > OFF_THREAD_BODY_BYTES && announced >= end) {
        shared = Buffer.from(new SharedArrayBuffer(announced));
        for (let at = 0; chunks.length > 0; ) at += chunks.shift()!.copy(shared, at);
      }
      if (shared !== null) bytes.copy(shared, received);
      else chunks.push(bytes);
      received = end;
    }
    function onEnd(err?: Error) {
      stop();
      if (err !== undefined) {
        const status = (err as { statusCode?: unknown }).statusCode;
        done(typeof status === 'number' && status >= 400 ? err : Object.assign(err, { statusCode: 400 }));
        return;
      }
      if (!Number.isNaN(announced) && received !== announced) {
        done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      // A chunk may be a view over the socket's read buffer: the body is always a copy of them.
      done(null, shared ?? Buffer.concat(chunks, received));
    }
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  };
}
