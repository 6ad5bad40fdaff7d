// `aspen` against a server with a private TLS certificate: what an admin sees before and after
// telling the CLI which CA to trust (--cacert, or ASPEN_CACERT).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';
import { aspen } from './run-cli.ts';

const KEY = 'cli-tls-key-0123456789';

describe('aspen over HTTPS with a private CA', () => {
  let pki: OpensslPki;
  let ca: Issued;
  let server: TestServer;
  let elsewhere: TestServer;
  before(async () => {
    pki = new OpensslPki();
    ca = pki.rootCa('Private Server CA');
    const cert = pki.issue('127.0.0.1', ca, { extensions: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
    server = await startAspen({ API_KEY: KEY, TLS_CERT: cert.cert, TLS_KEY: cert.key });
    const other = pki.issue('aspen.example', ca, { extensions: ['subjectAltName=DNS:aspen.example', 'extendedKeyUsage=serverAuth'] });
    elsewhere = await startAspen({ API_KEY: KEY, TLS_CERT: other.cert, TLS_KEY: other.key });
  });
  after(async () => {
    await server?.close();
    await elsewhere?.close();
    pki?.cleanup();
  });

  it('says the certificate is not trusted, and how to trust it', async () => {
    assert.match(server.url, /^https:/);
    const run = await aspen(['enrollments'], { server: { url: server.url, apiKey: KEY } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^aspen: the TLS certificate of ${server.url} is not trusted \\([A-Z_]+\\): pass --cacert FILE or set ASPEN_CACERT to the CA that issued it\\n$`));
  });

  it('trusts the CA given with --cacert or ASPEN_CACERT', async () => {
    const flag = await aspen(['enrollments', '--cacert', ca.cert], { server: { url: server.url, apiKey: KEY } });
    assert.equal(flag.code, 0, flag.stderr);
    assert.equal(flag.stdout, 'no enrollments\n');
    const env = await aspen(['enrollments'], { server: { url: server.url, apiKey: KEY }, env: { ASPEN_CACERT: ca.cert } });
    assert.equal(env.code, 0, env.stderr);
  });

  it('tells a certificate for another host, a CA that is not it, and an unreadable file apart', async () => {
    const wrongHost = await aspen(['enrollments', '--cacert', ca.cert], { server: { url: elsewhere.url, apiKey: KEY } });
    assert.equal(wrongHost.code, 1);
    assert.match(wrongHost.stderr, /^aspen: the TLS certificate of https:\/\/127\.0\.0\.1:\d+ is for another host \(DNS:aspen\.example\), not 127\.0\.0\.1$/m);

    const otherCa = pki.rootCa('Unrelated CA');
    const wrongCa = await aspen(['enrollments'], { server: { url: server.url, apiKey: KEY }, env: { ASPEN_CACERT: otherCa.cert } });
    assert.equal(wrongCa.code, 1);
    assert.match(wrongCa.stderr, /is not trusted \([A-Z_]+\): neither the system's CAs nor ASPEN_CACERT \(.*\) vouch for it/);

    const missing = await aspen(['enrollments', '--cacert', '/no/such/ca.pem'], { server: { url: server.url, apiKey: KEY } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^aspen: cannot read the CA certificate \/no\/such\/ca\.pem: ENOENT/);
  });
});
