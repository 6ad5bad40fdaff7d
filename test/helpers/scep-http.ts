// A minimal node:http server on 127.0.0.1 that routes /scep to the enrollment module's SCEP entry
// point, the way the HTTP layer is meant to: operation and message from the query (GET) or the
// body (POST), the answer's status, content type and body sent back as they are.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleScepRequest, type PkiOperationOutcome, type ScepDependencies } from '../../src/enrollment/index.ts';

export interface ScepTestServer {
  /** The SCEP URL, e.g. http://127.0.0.1:PORT/scep */
  readonly url: string;
  /** Every PKIOperation outcome, in order. */
  readonly outcomes: PkiOperationOutcome[];
  /** Statuses of every response, in order, to check that none was a 5xx. */
  readonly statuses: number[];
  /** Every PKIOperation message received, as bytes. */
  readonly messages: Buffer[];
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

export async function startScepServer(deps: ScepDependencies): Promise<ScepTestServer> {
  const outcomes: PkiOperationOutcome[] = [];
  const statuses: number[] = [];
  const messages: Buffer[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/scep') {
        res.writeHead(404).end();
        return;
      }
      let status: number;
      try {
        const operation = url.searchParams.get('operation') ?? undefined;
        const message = req.method === 'POST' ? await readBody(req) : (url.searchParams.get('message') ?? undefined);
        if (operation === 'PKIOperation' && message !== undefined) {
          messages.push(typeof message === 'string' ? Buffer.from(message, 'base64') : message);
        }
        const response = await handleScepRequest({ operation, message }, deps);
        if (response.outcome) outcomes.push(response.outcome);
        status = response.status;
        res.writeHead(status, { 'content-type': response.contentType }).end(response.body);
      } catch (error) {
        status = 500;
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      }
      statuses.push(status);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/scep`,
    outcomes,
    statuses,
    messages,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
