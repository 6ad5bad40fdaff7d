// The stand-in must be as strict as APNs about who may connect, or the pusher tests prove nothing
// about the client certificate.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { generateApnsTestCertificates, type ApnsTestCertificates } from '../helpers/apns-certs.ts';
import { startApnsStandin, type ApnsStandin } from '../helpers/apns-standin.ts';

/** Status of one POST, or the error that stopped it. */
function post(url: string, tls: http2.SecureClientSessionOptions): Promise<number | Error> {
  return new Promise((resolve) => {
    const session = http2.connect(url, tls);
    session.on('error', resolve);
    const stream = session.request({ ':method': 'POST', ':path': '/3/device/abcd' });
    stream.on('response', (headers) => resolve(Number(headers[':status'])));
    stream.on('error', resolve);
    stream.on('close', () => {
      resolve(new Error(`stream closed without a response (code ${stream.rstCode})`));
      session.close();
    });
    stream.end('{"mdm":"x"}');
  });
}

describe('APNs stand-in', () => {
  let certs: ApnsTestCertificates;
  let standin: ApnsStandin;
  before(async () => {
    certs = await generateApnsTestCertificates();
    standin = await startApnsStandin({
      caCertPem: certs.ca.certPem,
      serverCertPem: certs.server.certPem,
      serverKeyPem: certs.server.keyPem,
    });
  });
  after(() => standin.close());

  it('answers a client with a certificate from the test CA', async () => {
    const result = await post(standin.url, { ca: certs.ca.certPem, cert: certs.push.certPem, key: certs.push.keyPem });
    assert.equal(result, 200);
    assert.equal(standin.requests.at(-1)?.path, '/3/device/abcd');
  });

  it('refuses a client without a certificate', async () => {
    const seen = standin.requests.length;
    const result = await post(standin.url, { ca: certs.ca.certPem });
    assert.ok(result instanceof Error, `got ${String(result)}`);
    assert.equal(standin.requests.length, seen);
  });

  it('refuses a client certificate from another CA', async () => {
    const seen = standin.requests.length;
    const result = await post(standin.url, {
      ca: certs.ca.certPem,
      cert: certs.untrustedPush.certPem,
      key: certs.untrustedPush.keyPem,
    });
    assert.ok(result instanceof Error, `got ${String(result)}`);
    assert.equal(standin.requests.length, seen);
  });
});
