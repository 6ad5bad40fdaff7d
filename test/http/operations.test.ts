// Health, readiness and metrics over real HTTP after real device traffic.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { command, enqueue, enroll, report } from '../helpers/device.ts';

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

describe('operations endpoints', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen();
  });
  after(() => server.close());

  it('answers /healthz without a key', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('reports not ready without a push certificate, naming each check', async () => {
    const res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> };
    assert.equal(body.status, 'not ready');
    assert.equal(body.checks.database?.ok, true);
    assert.equal(body.checks.push_certificate?.ok, false);
    assert.match(body.checks.push_certificate!.detail, /no push certificate/);
  });

  it('counts device requests, latency, queue depth, commands and enrollments by state', async () => {
    await enroll(server, 'METRICS-1');
    await enroll(server, 'METRICS-2');
    await enqueue(server, ['METRICS-1', 'METRICS-2'], command('m-1', 'ProfileList'));
    await enqueue(server, ['METRICS-1'], command('m-2', 'ProfileList'));
    await report(server, { Status: 'Idle', UDID: 'METRICS-1' });
    await report(server, { Status: 'Acknowledged', UDID: 'METRICS-1', CommandUUID: 'm-1' });
    await report(server, { Status: 'Idle', UDID: 'NOBODY' });

    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.equal(metricValue(text, 'aspen_device_requests_total', { message: 'Authenticate', status: '200' }), 2);
    assert.equal(metricValue(text, 'aspen_device_requests_total', { message: 'TokenUpdate', status: '200' }), 2);
    assert.equal(metricValue(text, 'aspen_device_requests_total', { message: 'Idle', status: '200' }), 1);
    assert.equal(metricValue(text, 'aspen_device_requests_total', { message: 'Idle', status: '400' }), 1);
    assert.equal(metricValue(text, 'aspen_device_request_duration_seconds_count', { message: 'Acknowledged' }), 1);
    assert.equal(metricValue(text, 'aspen_queue_depth'), 2);
    assert.equal(metricValue(text, 'aspen_commands', { state: 'queued' }), 2);
    assert.equal(metricValue(text, 'aspen_commands', { state: 'acknowledged' }), 1);
    assert.equal(metricValue(text, 'aspen_enrollments', { state: 'enrolled', channel: 'device' }), 2);
    assert.ok(metricValue(text, 'aspen_process_resident_memory_bytes')! > 0);
  });

  it('reports not ready when the database cannot take a write', async (t) => {
    const broken = await startAspen();
    t.after(() => broken.close());
    await broken.aspen.storage.close();
    const res = await fetch(`${broken.url}/readyz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
    assert.equal(body.checks.database?.ok, false);
    assert.equal((await fetch(`${broken.url}/healthz`)).status, 200, 'liveness does not depend on the database');
  });

  it('protects /metrics with the API key when configured', async (t) => {
    const guarded = await startAspen({ METRICS_REQUIRE_API_KEY: 'true' });
    t.after(() => guarded.close());
    assert.equal((await fetch(`${guarded.url}/metrics`)).status, 401);
    const ok = await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${guarded.apiKey}` } });
    assert.equal(ok.status, 200);
  });
});
