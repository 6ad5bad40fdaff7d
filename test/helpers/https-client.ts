// HTTPS requests to a server whose certificate comes from a test CA (fetch cannot be given one).
import { request } from 'node:https';
import type { HttpTransport } from './scep-test-client.ts';

export interface HttpsReply {
  status: number;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function httpsRequest(
  url: string | URL,
  options: { ca: string; method?: string; headers?: Record<string, string>; body?: Uint8Array | string },
): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', ca: options.ca, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A SCEP client transport over HTTPS trusting `ca`. */
export function httpsTransport(ca: string): HttpTransport {
  return async (url, init) => {
    const reply = await httpsRequest(url, { ca, method: init.method, ...(init.headers && { headers: init.headers }), ...(init.body && { body: init.body }) });
    return { status: reply.status, contentType: reply.contentType, body: reply.body };
  };
}
