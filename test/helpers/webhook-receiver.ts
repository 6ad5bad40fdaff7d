// A webhook receiver on 127.0.0.1: records every delivery, answers as the test says, can go down
// and come back on the same port, and lets a test wait until what it expects has arrived.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  /** The path and query it was posted to. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
}

/** How to answer one delivery: a status (and headers), or hold it unanswered until released. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hold';

export interface WebhookReceiver {
  url: string;
  /** Every delivery, in the order they arrived (answered ones and refused ones alike). */
  received: Received[];
  /** Only those answered 2xx. */
  accepted(): Received[];
  answer: (request: Received) => Answer;
  /** Resolves once `until()` holds (checked after each delivery). */
  waitFor(until: () => boolean): Promise<void>;
  /** Stops listening (connections refused) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Answers every held request with `status`. */
  release(status?: number): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const acceptedList: Received[] = [];
  const waiters: { until: () => boolean; resolve: () => void }[] = [];
  const held: ((status: number) => void)[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.until()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  let server: Server;
  const listen = (port: number) =>
    new Promise<Server>((resolve) => {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const request: Received = { url: req.url ?? '', headers: req.headers, body, json: JSON.parse(body) as Record<string, unknown> };
          received.push(request);
          const answer = receiver.answer(request);
          const reply = (status: number, headers: Record<string, string> = {}) => {
            if (status >= 200 && status < 300) acceptedList.push(request);
            res.writeHead(status, headers).end();
            check();
          };
          if (answer === 'hold') {
            held.push((status) => reply(status));
            check();
          } else reply(answer.status, answer.headers);
        });
      });
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  server = await listen(0);
  const { port } = server.address() as AddressInfo;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    accepted: () => acceptedList,
    answer: () => ({ status: 204 }),
    waitFor: (until) => new Promise((resolve) => (until() ? resolve() : waiters.push({ until, resolve }))),
    async down() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
    async up() {
      server = await listen(port);
    },
    release(status = 204) {
      for (const answer of held.splice(0)) answer(status);
    },
    async close() {
      receiver.release(503);
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return receiver;
}
