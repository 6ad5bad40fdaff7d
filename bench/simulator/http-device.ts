// One simulated device's requests over a keep-alive HTTP/1.1 connection of its own, and the check
// of each answer: shared by the fleet's lanes (device-loop.ts) and the large-result sender's thread
// (large-sender.ts).
//
// Why not node:http: its client (ClientRequest, the agent, an IncomingMessage stream per answer)
// cost the simulator about 75 µs of CPU per request, a third of what the server spends, on the
// same 2-core machine; figure 12 then measured the client's share of the cores as much as the
// server's. A real fleet's devices run elsewhere, so the simulator should take as little of the
// machine as it can. This client writes a request head and body in one writev and reads the answer
// by its Content-Length; it handles exactly what Aspen and the baseline send (a status line,
// headers, a Content-Length body) and fails a request on anything else.
import { connect, type Socket } from 'node:net';
import { commandPlist } from '../workload.ts';
import type { SignedBody } from './fleet.ts';

export interface Answer {
  status: number;
  body: Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:/i;
const CLOSE = /\r\nconnection:[ \t]*close/i;

interface Waiting {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

/** A connection to one server, one request at a time, opened on first use and again after the
 *  server closes it. */
export class DeviceConnection {
  private socket: Socket | null = null;
  /** What has arrived of the answer being read. */
  private received: Buffer = Buffer.alloc(0);
  private waiting: Waiting | null = null;

  constructor(private readonly url: URL) {}

  /** PUTs `message` to /mdm, with its Mdm-Signature when `signed`; pushes its latency (ms) to `timings`. */
  send(message: SignedBody, contentType: string, signed: boolean, timings: number[]): Promise<Answer> {
    if (this.waiting !== null) return Promise.reject(new Error('DeviceConnection: one request at a time'));
    const signature = signed && message.signature !== undefined ? `Mdm-Signature: ${message.signature}\r\n` : '';
    const head = `PUT /mdm HTTP/1.1\r\nHost: ${this.url.host}\r\nContent-Type: ${contentType}\r\nContent-Length: ${message.body.length}\r\n${signature}\r\n`;
    const started = performance.now();
    return new Promise<Answer>((resolve, reject) => {
      this.waiting = {
        resolve: (answer) => {
          timings.push(performance.now() - started);
          resolve(answer);
        },
        reject,
      };
      const socket = this.open();
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(message.body);
      socket.uncork();
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): Socket {
    if (this.socket !== null) return this.socket;
    const socket = connect({ host: this.url.hostname, port: Number(this.url.port), noDelay: true });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(socket, err));
    socket.on('close', () => this.fail(socket, new Error('the server closed the connection before it answered')));
    this.socket = socket;
    return socket;
  }

  private receive(chunk: Buffer): void {
    if (this.waiting === null) {
      this.fail(this.socket!, new Error('bytes from the server while no request was waiting'));
      return;
    }
    const data = (this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]));
    const headEnd = data.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = data.toString('latin1', 0, headEnd);
    const length = CONTENT_LENGTH.exec(head);
    if (length === null || CHUNKED.test(head)) {
      this.fail(this.socket!, new Error(`an answer without a Content-Length body: ${head.slice(0, 120)}`));
      return;
    }
    const bodyStart = headEnd + HEAD_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    if (data.length < bodyEnd) return;
    if (data.length > bodyEnd) {
      this.fail(this.socket!, new Error('bytes after the answer that no request asked for'));
      return;
    }
    this.received = Buffer.alloc(0);
    // Aspen closes the connection after some errors; the next request opens another.
    if (CLOSE.test(head)) this.close();
    const waiting = this.waiting;
    this.waiting = null;
    waiting.resolve({ status: Number(head.slice(9, 12)), body: data.subarray(bodyStart, bodyEnd) });
  }

  private fail(socket: Socket, error: Error): void {
    if (socket !== this.socket) return;
    this.close();
    this.received = Buffer.alloc(0);
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(error);
  }
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
