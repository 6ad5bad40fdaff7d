// What an operator reads: identity refusals as warnings with their reason, counted as refused in
// /metrics; the start-up line saying what is missing before /readyz would say ready; and how long
// the push certificate has left.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createAspen, type Aspen } from '../../src/server.ts';
import { generateApnsTestCertificates, type ApnsTestCertificates } from '../helpers/apns-certs.ts';
import { checkin, enroll, put, REPORT, TOPIC } from '../helpers/device.ts';
import { MdmSigner } from '../helpers/mdm-signer.ts';
import { OpensslPki } from '../helpers/openssl-pki.ts';
import { TestDevices } from '../helpers/test-devices.ts';
import { encodePlist } from '../../src/protocol/plist.ts';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A real Aspen whose log lines the test reads, as an operator reads journalctl. */
async function startLogged(env: Record<string, string>, t: { after(fn: () => Promise<void> | void): void }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'aspen-logged-'));
  const lines: LogLine[] = [];
  const waiters: { until: () => boolean; resolve: () => void }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      for (const w of waiters.filter((w) => w.until())) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      done();
    },
  });
  /** Resolves once the log satisfies `until`: lines are written as requests finish, not before the reply. */
  const logged = (until: () => boolean) => new Promise<void>((resolve) => (until() ? resolve() : waiters.push({ until, resolve })));
  const config = loadConfig({ DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', API_KEY: 'logged-key-0123456789', ...env });
  const aspen: Aspen = await createAspen(config, pino({ level: 'info' }, sink));
  const url = await aspen.app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await aspen.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const devices = new TestDevices(() => aspen.deviceCa);
  return { url, lines, logged, aspen, dataDir, deviceHeaders: (body: Uint8Array | string) => devices.headersFor(body) };
}

const WARN = 40;
const INFO = 30;

describe('identity refusals, start-up readiness and the push certificate gauge', () => {
  let certs: ApnsTestCertificates;
  let pki: OpensslPki;
  before(async () => {
    certs = await generateApnsTestCertificates();
    pki = new OpensslPki();
  });
  after(() => pki?.cleanup());

  it('says at start what is missing before it is ready', async (t) => {
    const server = await startLogged({}, t);
    const startup = () => server.lines.find((l) => l.msg === 'ready' || l.msg.startsWith('not ready'));
    await server.logged(() => startup() !== undefined);
    const line = startup()!;
    assert.equal(line.level, WARN);
    assert.match(line.msg, /^not ready \(GET \/readyz answers 503\): push_certificate: no push certificate configured \(set APNS_CERT and APNS_KEY, or upload one: aspen pushcert upload\)$/);
    const readyz = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: { push_certificate: { detail: string } } };
    assert.ok(line.msg.endsWith(readyz.checks.push_certificate.detail + ''), 'the same words /readyz uses');
  });

  it('says ready at start when it is, and gauges the seconds the push certificate has left', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-push-files-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'push.crt'), certs.push.certPem);
    writeFileSync(join(dir, 'push.key'), certs.push.keyPem);
    const server = await startLogged({ APNS_CERT: join(dir, 'push.crt'), APNS_KEY: join(dir, 'push.key') }, t);
    const startup = () => server.lines.find((l) => l.msg === 'ready' || l.msg.startsWith('not ready'));
    await server.logged(() => startup() !== undefined);
    assert.equal(startup()!.msg, 'ready');
    assert.equal(startup()!.level, INFO);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const match = new RegExp(`^aspen_push_certificate_expiry_seconds\\{topic="${certs.push.topic.replaceAll('.', '\\.')}"\\} (\\d+)$`, 'm').exec(metrics);
    assert.ok(match, 'a sample labelled with the topic');
    // The test certificates are valid for two days from their creation.
    assert.ok(Number(match[1]) > 86_400 && Number(match[1]) <= 2 * 86_400, match[1]);
  });

  it('has no expiry sample without a push certificate', async (t) => {
    const server = await startLogged({}, t);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^# TYPE aspen_push_certificate_expiry_seconds gauge$/m);
    assert.doesNotMatch(metrics, /^aspen_push_certificate_expiry_seconds\{/m);
  });

  it('logs identity refusals at warn with their reason, and counts them as refused', async (t) => {
    const server = await startLogged({}, t);
    await enroll(server, 'REFUSED-1');
    // An untrusted CA, a request with no identity at all, and a trusted certificate not bound to the device.
    const stranger = pki.issue('stranger', pki.rootCa('Stranger CA'));
    const idle = encodePlist({ Status: 'Idle', UDID: 'REFUSED-1' });
    assert.equal((await put(`${server.url}/mdm`, idle, REPORT, { 'mdm-signature': pki.sign(Buffer.from(idle), stranger, { md: 'sha256', noattr: true }) })).status, 403);
    assert.equal((await put(`${server.url}/mdm`, idle, REPORT)).status, 403);
    const other = new TestDevices(() => server.aspen.deviceCa).signerFor('someone-else');
    const impostor = { url: server.url, deviceHeaders: (body: Uint8Array | string) => ({ 'mdm-signature': (other as MdmSigner).sign(body) }) };
    assert.equal((await checkin(impostor, { MessageType: 'Authenticate', UDID: 'REFUSED-1', Topic: TOPIC })).status, 403);

    const refused = () => server.lines.filter((l) => l.msg === 'device request' && l.status === 403);
    await server.logged(() => refused().length === 3);
    const refusals = refused();
    assert.deepEqual(refusals.map((l) => [l.level, l.refusal]), [
      [WARN, 'unknown-ca'],
      [WARN, 'no-identity'],
      [WARN, 'not-bound'],
    ]);
    assert.equal(refusals[2]!.enrollmentId, 'REFUSED-1');
    assert.ok(server.lines.filter((l) => l.msg === 'device request' && l.status === 200).every((l) => l.level === INFO));

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^aspen_device_requests_total\{message="refused",status="403"\} 3$/m);
    assert.doesNotMatch(metrics, /message="unreadable"/);
    for (const reason of ['unknown-ca', 'no-identity', 'not-bound']) {
      assert.match(metrics, new RegExp(`^aspen_device_identity_refusals_total\\{reason="${reason}"\\} 1$`, 'm'));
    }
  });
});
