// PUT /v1/pushcert never swaps in a certificate that would stop the fleet's pushes: an expired or
// not yet valid one is refused outright, and one expiring before the current one needs force.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { opensslDate } from '../helpers/openssl-pki.ts';

const DAY = 86_400_000;
const TOPIC = 'com.apple.mgmt.External.6a1c0e2d-validity';
const CA_CONFIG = [
  '[ca]', 'default_ca = d', '[d]', 'database = index.txt', 'serial = serial.txt', 'new_certs_dir = .',
  'default_md = sha256', 'policy = p', 'unique_subject = no', 'preserve = yes', '[p]', 'UID = supplied', 'commonName = optional', '',
].join('\n');

describe('PUT /v1/pushcert and certificate validity', () => {
  let dir: string;
  let key: string;
  let server: TestServer;
  /** A push certificate (subject UID = topic) valid from `from` to `until`, made by openssl. */
  const pushCertificate = (name: string, from: Date, until: Date) => {
    const csr = join(dir, `${name}.csr`);
    const cert = join(dir, `${name}.pem`);
    execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/UID=${TOPIC}/CN=APSP:${name}`, '-out', csr], { cwd: dir });
    execFileSync('openssl', ['ca', '-batch', '-selfsign', '-config', 'ca.cnf', '-keyfile', key, '-in', csr, '-out', cert, '-notext',
      '-startdate', opensslDate(from), '-enddate', opensslDate(until)], { cwd: dir, stdio: 'pipe' });
    return `${readFileSync(cert, 'utf8')}${readFileSync(key, 'utf8')}`;
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
    dir = mkdtempSync(join(tmpdir(), 'aspen-pushcert-'));
    writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial.txt'), '1000\n');
    key = join(dir, 'push.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
    server = await startAspen();
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an expired or not yet valid certificate with a 400, forced or not, and keeps the current one', async () => {
    const now = Date.now();
    const good = await upload(pushCertificate('good', new Date(now - DAY), new Date(now + 300 * DAY)));
    assert.equal(good.status, 200);
    const inUse = await current();
    for (const [name, from, until] of [
      ['expired', now - 400 * DAY, now - DAY],
      ['future', now + 10 * DAY, now + 400 * DAY],
    ] as const) {
      for (const query of ['', '?force=1']) {
        const refused = await upload(pushCertificate(`${name}${query.length}`, new Date(from), new Date(until)), query);
        assert.equal(refused.status, 400, `${name}${query}`);
        assert.match(refused.json.error!.message, name === 'expired' ? /expired/ : /not valid before/);
      }
    }
    assert.equal(await current(), inUse, 'the certificate in use did not change');
  });

  it('needs force to replace the current certificate with one that expires earlier; a later one just works', async () => {
    const now = Date.now();
    const latest = pushCertificate('latest', new Date(now - DAY), new Date(now + 700 * DAY));
    assert.equal((await upload(latest)).status, 200);
    const inUse = await current();
    const earlier = pushCertificate('earlier', new Date(now - DAY), new Date(now + 100 * DAY));
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
