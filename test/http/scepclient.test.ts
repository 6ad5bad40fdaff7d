// Debian's scepclient (micromdm's scep 2.1, an independent implementation: SHA-1 and single DES,
// POST without a Content-Type) against the real server: it enrolls with an invite's challenge,
// renews with RenewalReq, and a revoked identity cannot renew.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { OpensslPki } from '../helpers/openssl-pki.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON
const SCEPCLIENT = '/usr/bin/scepclient';
const skip = existsSync(SCEPCLIENT) ? false : `${SCEPCLIENT} is not installed (Debian package "scep")`;
const KEY = 'scepclient-http-key-0123456789';

describe('scepclient against Aspen', { skip }, () => {
  let pki: OpensslPki;
  let rig: PushRig;
  let server: TestServer;
  let scepUrl: string;

  const api = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return (await res.json()) as Json;
  };

  /** Runs scepclient (asynchronously: the server answering it lives in this process). It keeps its
   *  key and certificate in `dir`, and sends a RenewalReq when given -certificate. */
  const scepclient = (dir: string, args: string[]) => {
    mkdirSync(dir, { recursive: true });
    return new Promise<{ code: number; output: string }>((resolve) => {
      execFile(SCEPCLIENT, ['-private-key', join(dir, 'key.pem'), '-server-url', scepUrl, ...args], (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
      });
    });
  };

  before(async () => {
    pki = new OpensslPki();
    rig = await startPushRig();
    const port = await freePort();
    server = await startAspen({ API_KEY: KEY, ...rig.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    scepUrl = `http://127.0.0.1:${port}/scep`;
  });
  after(async () => {
    await server?.close();
    await rig?.close();
    pki?.cleanup();
  });

  it("enrolls with an invite's challenge, renews with RenewalReq, and cannot renew once revoked", async () => {
    const invite = await api('POST', '/v1/enrollment-invites', { label: 'scepclient' });
    const dir = join(pki.dir, 'scepclient');
    const wrong = await scepclient(join(pki.dir, 'scepclient-wrong'), ['-challenge', 'not-the-challenge', '-cn', 'intruder']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.output, /failInfo: badRequest/);

    const enrolled = await scepclient(dir, ['-challenge', invite.challenge, '-cn', 'scepclient-device', '-organization', 'Aspen Tests']);
    assert.equal(enrolled.code, 0, enrolled.output);
    const certFile = join(dir, 'client.pem');
    const first = new X509Certificate(readFileSync(certFile));
    assert.ok(first.checkIssued(new X509Certificate(server.aspen.deviceCa!.certPem)));
    const recorded = (await api('GET', '/v1/identities')).identities.find((i: Json) => i.serial === first.serialNumber);
    assert.equal(recorded.invite_id, invite.id);
    const reuse = await scepclient(join(pki.dir, 'scepclient-again'), ['-challenge', invite.challenge, '-cn', 'second-device']);
    assert.equal(reuse.code, 1, 'the invite was single-use');

    const renewed = await scepclient(dir, ['-certificate', certFile, '-cn', 'scepclient-device', '-organization', 'Aspen Tests']);
    assert.equal(renewed.code, 0, renewed.output);
    const second = new X509Certificate(readFileSync(certFile));
    assert.notEqual(second.serialNumber, first.serialNumber);
    const renewal = (await api('GET', '/v1/identities')).identities.find((i: Json) => i.serial === second.serialNumber);
    assert.deepEqual([renewal.renewal_of, renewal.invite_id], [first.serialNumber, invite.id]);

    await api('POST', `/v1/identities/${second.serialNumber}/revoke`);
    const refused = await scepclient(dir, ['-certificate', certFile, '-cn', 'scepclient-device']);
    assert.equal(refused.code, 1);
    assert.match(refused.output, /RenewalReq \(17\) request failed, failInfo: badCertID/);
  });
});
