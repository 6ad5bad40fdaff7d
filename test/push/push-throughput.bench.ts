// Pushes per second through the APNs stand-in: the pusher over each transport, and a bare
// node:http2 client doing the same requests as the ceiling. The stand-in runs in a child process
// so that client and server don't share one event loop. Not a test; nothing is asserted.
//
//   node --import tsx test/push/push-throughput.bench.ts [pushes=20000] [concurrency=100]
import http2 from 'node:http2';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createApnsPusher, type PushTarget } from '../../src/push/apns-pusher.ts';
import { mdmPushRequest } from '../../src/push/apns-transport.ts';
import { loadPushCertificate, type PushCertificate } from '../../src/push/push-certificate.ts';
import { generateApnsTestCertificates, type ApnsTestCertificates } from '../helpers/apns-certs.ts';
import { startApnsStandin } from '../helpers/apns-standin.ts';

type ToStandin = { certs: Pick<ApnsTestCertificates, 'ca' | 'server'> } | 'count' | 'stop';
type FromStandin = { url: string } | { count: number };

/** Child side: run the stand-in, report its URL, answer 'count' with the number of requests seen. */
async function serveStandin(certs: Pick<ApnsTestCertificates, 'ca' | 'server'>): Promise<void> {
  let count = 0;
  const standin = await startApnsStandin({
    caCertPem: certs.ca.certPem,
    serverCertPem: certs.server.certPem,
    serverKeyPem: certs.server.keyPem,
    record: false,
    behaviour: () => {
      count += 1;
      return { status: 200 };
    },
  });
  const answer = (message: FromStandin): boolean | undefined => process.send?.(message);
  answer({ url: standin.url });
  process.on('message', (message: ToStandin) => {
    if (message === 'count') answer({ count });
    if (message === 'stop') void standin.close().then(() => process.disconnect());
  });
}

function targets(count: number, offset: number): PushTarget[] {
  return Array.from({ length: count }, (_, i) => ({
    id: String(offset + i),
    token: Buffer.from((offset + i).toString(16).padStart(64, '0'), 'hex'),
    pushMagic: `magic-${offset + i}`,
  }));
}

async function viaPusher(transport: 'http2' | 'node-apn', url: string, caPem: string, certificate: PushCertificate,
  list: PushTarget[], concurrency: number): Promise<number> {
  const pusher = createApnsPusher({ certificate, url, caPem, transport, concurrency });
  try {
    const outcomes = await pusher.push(list);
    return outcomes.filter((o) => o.ok).length;
  } finally {
    await pusher.close();
  }
}

/** The same requests with nothing but node:http2: one session, a fixed number of workers. */
async function viaBareHttp2(url: string, caPem: string, certificate: PushCertificate,
  list: PushTarget[], concurrency: number): Promise<number> {
  const session = http2.connect(url, { ca: caPem, cert: certificate.certPem, key: certificate.keyPem });
  const expiration = Math.floor(Date.now() / 1000) + 3 * 24 * 3600;
  let next = 0;
  let ok = 0;
  const one = (t: PushTarget): Promise<void> =>
    new Promise((resolve, reject) => {
      const { path, headers, body } = mdmPushRequest({
        gatewayUrl: url, tokenHex: Buffer.from(t.token).toString('hex'), pushMagic: t.pushMagic,
        topic: certificate.topic, expiration,
      });
      const stream = session.request({ ':method': 'POST', ':path': path, ...headers });
      stream.on('response', (h) => { if (h[':status'] === 200) ok += 1; });
      stream.on('error', reject);
      stream.on('close', () => resolve());
      stream.resume();
      stream.end(body);
    });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < list.length) await one(list[next++] as PushTarget);
  }));
  await new Promise<void>((resolve) => session.close(resolve));
  return ok;
}

async function main(): Promise<void> {
  const pushes = Number(process.argv[2] ?? 20_000);
  const concurrency = Number(process.argv[3] ?? 100);
  const certs = await generateApnsTestCertificates();
  const certificate = loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.push.keyPem });
  const child = fork(fileURLToPath(import.meta.url), ['--standin'], { execArgv: ['--import', 'tsx'] });
  const tell = (message: ToStandin): boolean => child.send(message);
  const nextMessage = (): Promise<FromStandin> => new Promise((resolve) => child.once('message', resolve));
  tell({ certs: { ca: certs.ca, server: certs.server } });
  const started = await nextMessage();
  if (!('url' in started)) throw new Error('the stand-in process did not start');
  const { url } = started;

  const clients: [string, (list: PushTarget[]) => Promise<number>][] = [
    ['bare node:http2', (list) => viaBareHttp2(url, certs.ca.certPem, certificate, list, concurrency)],
    ['pusher (http2 transport)', (list) => viaPusher('http2', url, certs.ca.certPem, certificate, list, concurrency)],
    ['pusher (node-apn transport)', (list) => viaPusher('node-apn', url, certs.ca.certPem, certificate, list, concurrency)],
  ];
  console.log(`${pushes} pushes, concurrency ${concurrency}, node ${process.version}`);
  let offset = 0;
  for (const [name, run] of clients) {
    await run(targets(1000, offset)); // warm-up: TLS, JIT
    offset += 1000;
    const started = performance.now();
    const delivered = await run(targets(pushes, offset));
    const seconds = (performance.now() - started) / 1000;
    offset += pushes;
    console.log(`${name.padEnd(28)} ${String(Math.round(delivered / seconds)).padStart(7)} pushes/s  ` +
      `(${delivered}/${pushes} ok in ${seconds.toFixed(2)} s)`);
  }
  tell('count');
  const seen = await nextMessage();
  console.log(`stand-in saw ${'count' in seen ? seen.count : '?'} requests (expected ${offset})`);
  tell('stop');
}

if (process.argv[2] === '--standin') {
  process.once('message', (message: ToStandin) => {
    if (typeof message === 'object') void serveStandin(message.certs);
  });
} else {
  await main();
}
