// One simulated device's request over keep-alive HTTP, and the check of its answer: shared by the
// fleet's lanes (device-loop.ts) and the large-result sender's thread (large-sender.ts).
import http from 'node:http';
import { commandPlist } from '../workload.ts';
import type { SignedBody } from './fleet.ts';

export interface Answer {
  status: number;
  body: Buffer;
}

/** PUTs `message` to /mdm, with its Mdm-Signature when `signed`; pushes its latency (ms) to `timings`. */
export function sendBody(agent: http.Agent, url: URL, message: SignedBody, contentType: string, signed: boolean, timings: number[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'content-type': contentType, 'content-length': message.body.length };
    if (signed) headers['mdm-signature'] = message.signature;
    const started = performance.now();
    const req = http.request({ agent, host: url.hostname, port: url.port, method: 'PUT', path: '/mdm', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        timings.push(performance.now() - started);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(message.body);
  });
}

const expectedBytes = new Map<string, Buffer>();

/** Throws unless the answer is a 200 with exactly `command`'s bytes (null: an empty body). */
export function expectAnswer(answer: Answer, command: string | null, what: string): void {
  let want: Buffer = Buffer.alloc(0);
  if (command !== null) {
    want = expectedBytes.get(command) ?? Buffer.from(commandPlist(command), 'utf8');
    expectedBytes.set(command, want);
  }
  if (answer.status === 200 && answer.body.equals(want)) return;
  const got = answer.body.toString('utf8', 0, 120).replace(/\s+/g, ' ');
  // A device that sees anything else stops there: the rest of its conversation would be noise.
  throw new Error(`${what}: expected ${command ?? 'an empty 200'}, got ${answer.status} ${got}`);
}
