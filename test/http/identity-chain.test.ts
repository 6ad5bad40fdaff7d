// Device identities issued by an intermediate CA while DEVICE_CA holds only the root: the path is
// built from the certificates the request carries (the CMS certificates of an Mdm-Signature, the
// TLS client's chain). A proxy's forwarded header carries the leaf alone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { encodePlist, type PlistDict } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { CHECKIN, put, REPORT, TOPIC, tokenUpdate } from '../helpers/device.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';

describe('device identity under an intermediate CA, only the root trusted', () => {
  let pki: OpensslPki;
  let root: Issued;
  let issuing: Issued;
  let device: Issued;
  before(() => {
    pki = new OpensslPki();
    root = pki.rootCa('Chain Root CA');
    issuing = pki.intermediateCa('Chain Issuing CA', root);
    device = pki.issue('chain-device', issuing);
  });
  after(() => pki.cleanup());

  describe('Mdm-Signature', () => {
    let server: TestServer;
    before(async () => {
      server = await startAspen({ DEVICE_CA: root.cert });
    });
    after(() => server.close());

    /** Signed by openssl as a device does (SHA-1, no signed attributes), optionally carrying the intermediate. */
    const signed = (message: PlistDict, contentType: string, carryIntermediate: boolean) => {
      const body = encodePlist(message);
      const signature = pki.sign(Buffer.from(body), device, { md: 'sha1', noattr: true, ...(carryIntermediate ? { certfile: issuing.cert } : {}) });
      return put(`${server.url}/mdm`, body, contentType, { 'mdm-signature': signature });
    };

    it('accepts the device when its signature carries the intermediate, and refuses it when not', async () => {
      const refused = await signed({ MessageType: 'Authenticate', UDID: 'CHAIN-SIG', Topic: TOPIC }, CHECKIN, false);
      assert.equal(refused.status, 403);
      assert.match(refused.text(), /unknown-ca/);
      assert.equal((await signed({ MessageType: 'Authenticate', UDID: 'CHAIN-SIG', Topic: TOPIC }, CHECKIN, true)).status, 200);
      assert.equal((await signed(tokenUpdate({ UDID: 'CHAIN-SIG' }), CHECKIN, true)).status, 200);
      assert.equal((await signed({ Status: 'Idle', UDID: 'CHAIN-SIG' }, REPORT, true)).status, 200);
      assert.equal((await signed({ Status: 'Idle', UDID: 'CHAIN-SIG' }, REPORT, false)).status, 403, 'the same leaf without its intermediate');
    });
  });

  describe('forwarded by a proxy', () => {
    it('refuses the leaf alone: the header cannot carry the intermediate', async (t) => {
      const proxied = await startAspen({ DEVICE_CA: root.cert, DEVICE_CERT_HEADER: 'X-Client-Cert' });
      t.after(() => proxied.close());
      const body = encodePlist({ MessageType: 'Authenticate', UDID: 'CHAIN-PROXY', Topic: TOPIC });
      const res = await put(`${proxied.url}/mdm`, body, CHECKIN, { 'x-client-cert': `:${device.der.toString('base64')}:` });
      assert.equal(res.status, 403);
      assert.match(res.text(), /unknown-ca/);
    });
  });

  describe('mTLS', () => {
    it('accepts the device when its TLS chain carries the intermediate, and refuses the leaf alone', async (t) => {
      const serverCert = pki.issue('127.0.0.1', root, { extensions: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
      const tls = await startAspen({ DEVICE_CA: root.cert, TLS_CERT: serverCert.cert, TLS_KEY: serverCert.key });
      t.after(() => tls.close());
      const tlsPut = (message: PlistDict, contentType: string, certPem: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          // A fresh connection each time (no agent), so each request presents its own chain.
          const req = request(
            `${tls.url}/mdm`,
            { method: 'PUT', agent: false, ca: root.pem, headers: { 'content-type': contentType }, cert: certPem, key: readFileSync(device.key) },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString()));
              res.on('end', () => resolve({ status: res.statusCode!, body: text }));
            },
          );
          req.on('error', reject);
          req.end(encodePlist(message));
        });
      const withChain = device.pem + issuing.pem;
      const alone = await tlsPut({ MessageType: 'Authenticate', UDID: 'CHAIN-TLS', Topic: TOPIC }, CHECKIN, device.pem);
      assert.equal(alone.status, 403, alone.body);
      assert.equal((await tlsPut({ MessageType: 'Authenticate', UDID: 'CHAIN-TLS', Topic: TOPIC }, CHECKIN, withChain)).status, 200);
      assert.equal((await tlsPut(tokenUpdate({ UDID: 'CHAIN-TLS' }), CHECKIN, withChain)).status, 200);
      assert.equal((await tlsPut({ Status: 'Idle', UDID: 'CHAIN-TLS' }, REPORT, withChain)).status, 200);
    });
  });
});
