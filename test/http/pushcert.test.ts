// PUT /v1/pushcert never swaps in a certificate that would stop the fleet's pushes: an expired or
// not yet valid one is refused outright, and one expiring before the current one needs force.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { DatedPushCertificates } from '../helpers/dated-push-certificate.ts';

const DAY = 86_400_000;

describe('PUT /v1/pushcert and certificate validity', () => {
  let certificates: DatedPushCertificates;
  let server: TestServer;
  /** A push certificate and its key, as one body, valid from `from` to `until`. */
  const pushCertificate = (from: Date, until: Date) => {
    const { certPem, keyPem } = certificates.issue(from, until);
    return `${certPem}${keyPem}`;
  };
  const upload = async (body: string, query = '') => {
    const res = await fetch(`${server.url}/v1/pushcert${query}`, { method: 'PUT', body, headers: { authorization: `Bearer ${server.apiKey}` } });
    return { status: res.status, json: (await res.json()) as { not_after?: string; error?: { code: string; message: string } } };
  };
  const current = async () => {
    const res = await fetch(`${server.url}/v1/pushcert`, { headers: { authorization: `Bearer ${server.apiKey}` } });
    return ((await res.json()) as { not_after: string }).not_after;
  };

  before(async () => {
    certificates = new DatedPushCertificates('com.apple.mgmt.External.6a1c0e2d-validity');
    server = await startAspen();
  });
  after(async () => {
    await server.close();
    certificates.cleanup();
  });

  it('refuses an expired or not yet valid certificate with a 400, forced or not, and keeps the current one', async () => {
    const now = Date.now();
    const good = await upload(pushCertificate(new Date(now - DAY), new Date(now + 300 * DAY)));
    assert.equal(good.status, 200);
    const inUse = await current();
    for (const [name, from, until] of [
      ['expired', now - 400 * DAY, now - DAY],
      ['future', now + 10 * DAY, now + 400 * DAY],
    ] as const) {
      for (const query of ['', '?force=1']) {
        const refused = await upload(pushCertificate(new Date(from), new Date(until)), query);
        assert.equal(refused.status, 400, `${name}${query}`);
        assert.match(refused.json.error!.message, name === 'expired' ? /expired/ : /not valid before/);
      }
    }
    assert.equal(await current(), inUse, 'the certificate in use did not change');
  });

  it('needs force to replace the current certificate with one that expires earlier; a later one just works', async () => {
    const now = Date.now();
    const latest = pushCertificate(new Date(now - DAY), new Date(now + 700 * DAY));
    assert.equal((await upload(latest)).status, 200);
    const inUse = await current();
    const earlier = pushCertificate(new Date(now - DAY), new Date(now + 100 * DAY));
    const refused = await upload(earlier);
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error!.code, 'conflict');
    assert.match(refused.json.error!.message, /expires .* before the current one/);
    assert.equal(await current(), inUse);
    const forced = await upload(earlier, '?force=1');
    assert.equal(forced.status, 200);
    assert.equal(await current(), forced.json.not_after);
    assert.equal((await upload(latest)).status, 200, 'a renewal that expires later needs no force');
  });
});
