// The pusher against the APNs stand-in, over both transports. Where node-apn cannot do what the
// direct HTTP/2 client does (Retry-After), the node-apn test pins down its actual behaviour.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createApnsPusher, type ApnsPusher, type ApnsPusherOptions, type PushTarget } from '../../src/push/apns-pusher.ts';
import { loadPushCertificate, type PushCertificate } from '../../src/push/push-certificate.ts';
import { generateApnsTestCertificates, type ApnsTestCertificates } from '../helpers/apns-certs.ts';
import {
  reply,
  startApnsStandin,
  type ApnsStandin,
  type ApnsStandinOptions,
  type RecordedRequest,
  type StandinBehaviour,
} from '../helpers/apns-standin.ts';

let certs: ApnsTestCertificates;
let certificate: PushCertificate;
before(async () => {
  certs = await generateApnsTestCertificates();
  certificate = loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.push.keyPem });
});

/** Token bytes whose hex is `prefix` followed by `n` as 8 hex digits. */
function target(n: number, prefix = 'ab'): PushTarget {
  return { id: `enrollment-${n}`, token: Buffer.from(prefix + n.toString(16).padStart(8, '0'), 'hex'), pushMagic: `magic-${n}` };
}

const tokenHex = (t: PushTarget): string => Buffer.from(t.token).toString('hex');

/** Runs `body` with a stand-in and a pusher pointed at it, closing both whatever happens. */
async function withPusher(
  transport: 'http2' | 'node-apn',
  setup: { behaviour?: StandinBehaviour; standin?: Partial<ApnsStandinOptions>; pusher?: Partial<ApnsPusherOptions> },
  body: (pusher: ApnsPusher, standin: ApnsStandin) => Promise<void>,
): Promise<void> {
  const standin = await startApnsStandin({
    caCertPem: certs.ca.certPem,
    serverCertPem: certs.server.certPem,
    serverKeyPem: certs.server.keyPem,
    ...(setup.behaviour ? { behaviour: setup.behaviour } : {}),
    ...setup.standin,
  });
  const pusher = createApnsPusher({
    certificate,
    url: standin.url,
    caPem: certs.ca.certPem,
    transport,
    retry: { attempts: 4, baseDelayMs: 20, maxDelayMs: 2000 },
    ...setup.pusher,
  });
  try {
    await body(pusher, standin);
  } finally {
    await pusher.close();
    await standin.close();
  }
}

function requestsFor(standin: ApnsStandin, t: PushTarget): RecordedRequest[] {
  return standin.requests.filter((r) => r.path === `/3/device/${tokenHex(t)}`);
}

function gapsMs(requests: RecordedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.receivedAt - (requests[i] as RecordedRequest).receivedAt);
}

for (const transport of ['http2', 'node-apn'] as const) {
  describe(`APNs pusher over ${transport}`, () => {
    it('sends the exact MDM push request with the push certificate', async () => {
      await withPusher(transport, { pusher: { expirationSeconds: 3600 } }, async (pusher, standin) => {
        const t = { id: 'e1', token: Buffer.from('00ff10a0deadbeef', 'hex'), pushMagic: '8A1F5C2E-0B6D-4E3A-9C77-1234567890AB' };
        const sentFrom = Math.floor(Date.now() / 1000);
        const [outcome] = await pusher.push([t]);
        const sentUntil = Math.floor(Date.now() / 1000);

        assert.equal(standin.requests.length, 1);
        const request = standin.requests[0] as RecordedRequest;
        assert.equal(request.method, 'POST');
        assert.equal(request.path, '/3/device/00ff10a0deadbeef');
        assert.equal(request.headers['apns-push-type'], 'mdm');
        assert.equal(request.headers['apns-topic'], certs.push.topic);
        assert.equal(request.headers['apns-priority'], '10');
        const expiration = Number(request.headers['apns-expiration']);
        assert.ok(expiration >= sentFrom + 3600 && expiration <= sentUntil + 3600, `apns-expiration ${expiration}`);
        assert.deepEqual(request.body, Buffer.from('{"mdm":"8A1F5C2E-0B6D-4E3A-9C77-1234567890AB"}'));
        assert.match(request.clientSubject, new RegExp(`UID=${certs.push.topic.replaceAll('.', '\\.')}`));

        assert.equal(outcome?.ok, true);
        assert.equal(outcome?.id, 'e1');
        assert.equal(outcome?.status, 200);
        assert.equal(outcome?.attempts, 1);
        assert.equal(outcome?.tokenInvalid, false);
        assert.match(outcome?.apnsId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-/);
      });
    });

    it('marks dead tokens invalid and does not retry any 4xx', async () => {
      const answers: Record<string, ReturnType<StandinBehaviour>> = {
        [tokenHex(target(1))]: reply.unregistered(),
        [tokenHex(target(2))]: reply.badDeviceToken(),
        [tokenHex(target(3))]: reply.notForTopic(),
        [tokenHex(target(4))]: { status: 403, reason: 'BadCertificateEnvironment' },
        [tokenHex(target(5))]: { status: 400, reason: 'BadExpirationDate' },
      };
      const behaviour: StandinBehaviour = (token) => answers[token] ?? reply.ok();
      const warnings: object[] = [];
      const logger = { warn: (details: object) => warnings.push(details) };
      await withPusher(transport, { behaviour, pusher: { logger } }, async (pusher, standin) => {
        const targets = [1, 2, 3, 4, 5, 6].map((n) => target(n));
        const outcomes = await pusher.push(targets);
        assert.deepEqual(
          outcomes.map(({ id, ok, status, reason, tokenInvalid, attempts }) => ({ id, ok, status, reason, tokenInvalid, attempts })),
          [
            { id: 'enrollment-1', ok: false, status: 410, reason: 'Unregistered', tokenInvalid: true, attempts: 1 },
            { id: 'enrollment-2', ok: false, status: 400, reason: 'BadDeviceToken', tokenInvalid: true, attempts: 1 },
            { id: 'enrollment-3', ok: false, status: 400, reason: 'DeviceTokenNotForTopic', tokenInvalid: true, attempts: 1 },
            { id: 'enrollment-4', ok: false, status: 403, reason: 'BadCertificateEnvironment', tokenInvalid: false, attempts: 1 },
            { id: 'enrollment-5', ok: false, status: 400, reason: 'BadExpirationDate', tokenInvalid: false, attempts: 1 },
            { id: 'enrollment-6', ok: true, status: 200, reason: undefined, tokenInvalid: false, attempts: 1 },
          ],
        );
        assert.equal(standin.requests.length, 6);
        // One summary line for the call, not one per device.
        assert.deepEqual(warnings.map((w) => ({ ...w, example: undefined })), [
          { total: 6, failed: 5, tokenInvalid: 3, example: undefined },
        ]);
      });
    });

    it('retries a 500 with growing backoff up to the attempt limit, then reports the failure', async () => {
      await withPusher(transport, { behaviour: () => reply.internalError() }, async (pusher, standin) => {
        const t = target(7);
        const [outcome] = await pusher.push([t]);
        assert.equal(outcome?.ok, false);
        assert.equal(outcome?.status, 500);
        assert.equal(outcome?.tokenInvalid, false);
        assert.equal(outcome?.attempts, 4);
        const requests = requestsFor(standin, t);
        assert.equal(requests.length, 4);
        // baseDelayMs 20 doubles per retry; equal jitter waits at least half of it (1 ms timer slack).
        gapsMs(requests).forEach((gap, i) => assert.ok(gap >= 10 * 2 ** i - 1, `gap ${i + 1} was ${gap} ms`));
      });
    });

    it('retries after a dropped stream and after a dropped connection', async () => {
      const dropStream = target(8);
      const dropConnection = target(9);
      const behaviour: StandinBehaviour = (token, attempt) => {
        if (attempt > 1) return reply.ok();
        if (token === tokenHex(dropStream)) return reply.dropStream();
        if (token === tokenHex(dropConnection)) return reply.dropConnection();
        return reply.ok();
      };
      await withPusher(transport, { behaviour }, async (pusher, standin) => {
        for (const t of [dropStream, dropConnection]) {
          const [outcome] = await pusher.push([t]);
          assert.equal(outcome?.ok, true, JSON.stringify(outcome));
          assert.equal(outcome?.attempts, 2);
          assert.equal(requestsFor(standin, t).length, 2);
        }
      });
    });

    it('delivers 3,000 targets exactly once with bounded concurrency shared by concurrent calls', async () => {
      const concurrency = 40;
      // A little server latency so that requests really overlap.
      const behaviour: StandinBehaviour = () => ({ status: 200, delayMs: 2 });
      await withPusher(transport, { behaviour, pusher: { concurrency } }, async (pusher, standin) => {
        const targets = Array.from({ length: 3000 }, (_, n) => target(n));
        const [first, second] = await Promise.all([pusher.push(targets.slice(0, 1500)), pusher.push(targets.slice(1500))]);
        const outcomes = [...(first ?? []), ...(second ?? [])];
        assert.deepEqual(outcomes.map((o) => o.id), targets.map((t) => t.id));
        assert.ok(outcomes.every((o) => o.ok && o.attempts === 1));
        assert.equal(standin.requests.length, 3000);
        assert.equal(new Set(standin.requests.map((r) => r.path)).size, 3000);
        assert.ok(standin.maxInFlight() <= concurrency, `max in flight ${standin.maxInFlight()}`);
        assert.ok(standin.maxInFlight() > concurrency / 2, `max in flight ${standin.maxInFlight()}: concurrency unused`);
      });
    });

    it('reports a gateway that cannot be reached after the allowed attempts', async () => {
      const standin = await startApnsStandin({
        caCertPem: certs.ca.certPem,
        serverCertPem: certs.server.certPem,
        serverKeyPem: certs.server.keyPem,
      });
      await standin.close(); // its port is now closed
      const pusher = createApnsPusher({
        certificate,
        url: standin.url,
        caPem: certs.ca.certPem,
        transport,
        retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 50 },
      });
      try {
        const [outcome] = await pusher.push([target(1)]);
        assert.equal(outcome?.ok, false);
        assert.equal(outcome?.status, undefined);
        assert.equal(outcome?.attempts, 3);
        assert.match(outcome?.error ?? '', /ECONNREFUSED|connect/i);
      } finally {
        await pusher.close();
      }
    });
  });
}

describe('Retry-After on 429', () => {
  const behaviour: StandinBehaviour = (_token, attempt) => (attempt === 1 ? reply.tooMany(1) : reply.ok());

  it('http2: waits at least Retry-After before retrying, then succeeds', async () => {
    await withPusher('http2', { behaviour }, async (pusher, standin) => {
      const t = target(1);
      const [outcome] = await pusher.push([t]);
      assert.equal(outcome?.ok, true);
      assert.equal(outcome?.attempts, 2);
      const [gap] = gapsMs(requestsFor(standin, t));
      assert.ok(gap !== undefined && gap >= 999, `retried after ${gap} ms`);
    });
  });

  it('http2: caps Retry-After at maxDelayMs', async () => {
    const slow: StandinBehaviour = (_token, attempt) => (attempt === 1 ? reply.tooMany(3600) : reply.ok());
    await withPusher('http2', { behaviour: slow, pusher: { retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 200 } } }, async (pusher, standin) => {
      const t = target(1);
      const [outcome] = await pusher.push([t]);
      assert.equal(outcome?.ok, true);
      const [gap] = gapsMs(requestsFor(standin, t));
      assert.ok(gap !== undefined && gap >= 199 && gap < 1000, `retried after ${gap} ms`);
    });
  });

  it('node-apn: never sees Retry-After, so the retry comes after plain backoff', async () => {
    await withPusher('node-apn', { behaviour }, async (pusher, standin) => {
      const t = target(1);
      const [outcome] = await pusher.push([t]);
      assert.equal(outcome?.ok, true);
      assert.equal(outcome?.attempts, 2);
      const [gap] = gapsMs(requestsFor(standin, t));
      // If this fails, node-apn has learnt to report Retry-After: update node-apn-transport.ts.
      assert.ok(gap !== undefined && gap < 500, `retried after ${gap} ms`);
    });
  });
});

describe('certificates with only the production extension (like every real MDM push certificate)', () => {
  const productionOnly = (): PushCertificate =>
    loadPushCertificate({ certPem: certs.productionOnlyPush.certPem, keyPem: certs.productionOnlyPush.keyPem });

  it('http2: pushes through an override URL', async () => {
    await withPusher('http2', { pusher: { certificate: productionOnly() } }, async (pusher) => {
      const [outcome] = await pusher.push([target(1)]);
      assert.equal(outcome?.ok, true, JSON.stringify(outcome));
    });
  });

  it('node-apn: refuses them under an override URL (it assumes the sandbox), without retrying', async () => {
    await withPusher('node-apn', { pusher: { certificate: productionOnly() } }, async (pusher, standin) => {
      const [outcome] = await pusher.push([target(1)]);
      assert.equal(outcome?.ok, false);
      assert.equal(outcome?.attempts, 1);
      assert.match(outcome?.error ?? '', /does not support configured environment, production: false/);
      assert.equal(standin.requests.length, 0);
    });
  });
});
