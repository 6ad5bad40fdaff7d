// Everything a test needs to let Aspen push for real: test certificates, an APNs stand-in that
// trusts them, the certificate files on disk, and the environment that points Aspen at them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApnsTestCertificates, type ApnsTestCertificates } from './apns-certs.ts';
import { startApnsStandin, type ApnsStandin, type RecordedRequest, type StandinBehaviour } from './apns-standin.ts';

export interface PushRig {
  certs: ApnsTestCertificates;
  standin: ApnsStandin;
  /** Where push.crt, push.key, push.p12 and ca.crt are. */
  dir: string;
  /** APNS_URL, APNS_CA, APNS_CERT and APNS_KEY for an Aspen that pushes to the stand-in. */
  env: Record<string, string>;
  /** Another stand-in with the same certificates (e.g. a sandbox gateway); closed with the rig. */
  startStandin(behaviour?: StandinBehaviour): Promise<ApnsStandin>;
  requestsFor(token: Uint8Array): RecordedRequest[];
  /** Resolves with the first push the stand-in receives for `token`. */
  pushedTo(token: Uint8Array): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export async function startPushRig(behaviour?: StandinBehaviour, certs?: ApnsTestCertificates): Promise<PushRig> {
  const pki = certs ?? (await generateApnsTestCertificates());
  const extra: ApnsStandin[] = [];
  const startStandin = async (b?: StandinBehaviour) =>
    startApnsStandin({ caCertPem: pki.ca.certPem, serverCertPem: pki.server.certPem, serverKeyPem: pki.server.keyPem, ...(b ? { behaviour: b } : {}) });
  const standin = await startStandin(behaviour);
  const dir = mkdtempSync(join(tmpdir(), 'aspen-push-'));
  for (const [name, content] of [['push.crt', pki.push.certPem], ['push.key', pki.push.keyPem], ['ca.crt', pki.ca.certPem], ['push.p12', pki.push.p12]] as const) {
    writeFileSync(join(dir, name), content);
  }
  return {
    certs: pki,
    standin,
    dir,
    env: { APNS_URL: standin.url, APNS_CA: join(dir, 'ca.crt'), APNS_CERT: join(dir, 'push.crt'), APNS_KEY: join(dir, 'push.key') },
    async startStandin(b) {
      const s = await startStandin(b);
      extra.push(s);
      return s;
    },
    requestsFor: (token) => standin.requests.filter((r) => r.path === devicePath(token)),
    pushedTo: (token) => standin.waitFor((r) => r.path === devicePath(token)),
    async close() {
      for (const s of [standin, ...extra]) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const devicePath = (token: Uint8Array) => `/3/device/${Buffer.from(token).toString('hex')}`;
