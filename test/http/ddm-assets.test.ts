// Data assets Aspen hosts for declarations, fetched the way a device fetches them: over HTTPS with its
// MDM identity as the TLS client certificate (no Mdm-Signature), and only by a device whose
// effective set has an asset declaration naming the URL.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { encodePlist } from '../../src/protocol/plist.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { CHECKIN, TOPIC, tokenUpdate } from '../helpers/device.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';

const KEY = 'ddm-assets-key-0123456789abcdef';
const SSHD = Buffer.from('PermitRootLogin no\nPasswordAuthentication no\n');

describe('data assets hosted by Aspen', () => {
  let pki: OpensslPki;
  let ca: Issued;
  let server: TestServer;
  const devices: Record<'a' | 'b' | 'stranger', Issued> = {} as never;

  function https(method: string, path: string, options: { client?: Issued; body?: Buffer; headers?: Record<string, string> } = {}) {
    return new Promise<{ status: number; body: Buffer; contentType: string | undefined }>((resolve, reject) => {
      const req = request(
        server.url + path,
        {
          method,
          ca: ca.pem,
          headers: options.headers ?? {},
          ...(options.client ? { cert: options.client.pem, key: pki.openssl(['pkey', '-in', options.client.key]).toString() } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), contentType: res.headers['content-type'] }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  }
  const admin = (method: string, path: string, body?: unknown, contentType = 'application/json') =>
    https(method, path, {
      headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)) }),
    });
  const fetchAsset = (name: string, client?: Issued) => https('GET', `/ddm/assets/${name}`, client ? { client } : {});

  async function enroll(udid: string, client: Issued): Promise<void> {
    for (const message of [{ MessageType: 'Authenticate', UDID: udid, Topic: TOPIC }, tokenUpdate({ UDID: udid })]) {
      const res = await https('PUT', '/mdm', { client, body: Buffer.from(encodePlist(message)), headers: { 'content-type': CHECKIN } });
      assert.equal(res.status, 200, res.body.toString());
    }
  }

  before(async () => {
    pki = new OpensslPki();
    ca = pki.rootCa('Device CA');
    const tls = pki.issue('127.0.0.1', ca, { extensions: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
    devices.a = pki.issue('asset-device-a', ca);
    devices.b = pki.issue('asset-device-b', ca);
    devices.stranger = pki.issue('stranger', ca);
    server = await startAspen({ API_KEY: KEY, DEVICE_CA: ca.cert, TLS_CERT: tls.cert, TLS_KEY: tls.key });
    await enroll('ASSET-A', devices.a);
    await enroll('ASSET-B', devices.b);
  });
  after(async () => {
    await server?.close();
    pki?.cleanup();
  });

  it('serves an asset to the device its declarations give it to, by its TLS client certificate', async () => {
    const uploaded = await admin('PUT', '/v1/ddm/assets/sshd_config', SSHD, 'text/plain');
    assert.equal(uploaded.status, 200, uploaded.body.toString());
    const info = JSON.parse(uploaded.body.toString());
    const sha256 = createHash('sha256').update(SSHD).digest('hex');
    assert.deepEqual({ ...info, updated_at: undefined }, { name: 'sshd_config', content_type: 'text/plain', sha256, size: SSHD.length, path: '/ddm/assets/sshd_config', changed: true, updated_at: undefined });
    assert.equal(JSON.parse((await admin('PUT', '/v1/ddm/assets/sshd_config', SSHD, 'text/plain')).body.toString()).changed, false);

    const asset = {
      Type: 'com.apple.asset.data',
      Identifier: 'com.example.sshd-config',
      Payload: { Reference: { DataURL: `${server.url}${info.path}`, ContentType: 'text/plain', 'Hash-SHA-256': sha256, Size: SSHD.length }, Authentication: { Type: 'MDM' } },
    };
    const files = { Type: 'com.apple.configuration.services.configuration-files', Identifier: 'com.example.sshd', Payload: { ServiceType: 'com.openssh.sshd', DataAssetReference: 'com.example.sshd-config' } };
    for (const d of [asset, files]) assert.equal((await admin('PUT', '/v1/declarations', d)).status, 204);
    for (const id of ['com.example.sshd-config', 'com.example.sshd']) assert.equal((await admin('PUT', `/v1/set-declarations/ssh?declaration=${id}`)).status, 204);
    assert.equal((await admin('PUT', '/v1/enrollment-sets/ASSET-A?set=ssh')).status, 204);

    const got = await fetchAsset('sshd_config', devices.a);
    assert.equal(got.status, 200);
    assert.equal(got.contentType, 'text/plain');
    assert.deepEqual(got.body, SSHD);

    assert.equal((await fetchAsset('sshd_config', devices.b)).status, 404, 'a device not given the asset does not learn it exists');
    assert.equal((await fetchAsset('nothing', devices.a)).status, 404);
    assert.equal((await fetchAsset('sshd_config', devices.stranger)).status, 403, 'a trusted certificate bound to no enrollment');
    assert.equal((await fetchAsset('sshd_config')).status, 403, 'no identity');

    const listed = JSON.parse((await admin('GET', '/v1/ddm/assets')).body.toString());
    assert.deepEqual(listed.assets.map((a: { name: string }) => a.name), ['sshd_config']);
    assert.equal((await admin('DELETE', '/v1/ddm/assets/sshd_config')).status, 200);
    assert.equal((await admin('DELETE', '/v1/ddm/assets/sshd_config')).status, 404);
    assert.equal((await fetchAsset('sshd_config', devices.a)).status, 404);
  });

  it('refuses bad asset names and empty uploads', async () => {
    assert.equal((await admin('PUT', '/v1/ddm/assets/.hidden', SSHD, 'text/plain')).status, 400);
    assert.equal((await admin('PUT', '/v1/ddm/assets/empty', Buffer.alloc(0), 'text/plain')).status, 400);
  });
});
