// `aspen identities list|release`: a device whose profile was removed without a CheckOut comes
// back with a new certificate, which is refused until the admin releases the old one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deviceCaFromPem, issueDeviceCertificate } from '../../src/identity/index.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, enroll, TOPIC } from '../helpers/device.ts';
import { MdmSigner } from '../helpers/mdm-signer.ts';
import { aspen, json, TIME } from './run-cli.ts';

describe('aspen identities', () => {
  let server: TestServer;
  before(async () => {
    server = await startAspen({ API_KEY: 'cli-identities-key-0123456789' });
    await enroll(server, 'WIPED-1', { ProductName: 'iPhone14,2' });
  });
  after(() => server?.close());

  /** The same device after a wipe: a new identity from the same CA. */
  function reinstalledDevice(): MdmSigner {
    const ca = deviceCaFromPem(server.aspen.deviceCa!.certPem, server.aspen.deviceCa!.keyPem);
    const { certPem, keyPem } = issueDeviceCertificate(ca, { commonName: 'Aspen test device, reinstalled' });
    return new MdmSigner(certPem, keyPem!);
  }

  it('lists the certificate bound to the device', async () => {
    const run = await aspen(['identities', 'list', 'WIPED-1'], { server });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^FINGERPRINT \(SHA-256\)\s+SUBJECT\s+NOT AFTER\s+BOUND$/);
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, new RegExp(`^[0-9a-f]{64}\\s+.*CN=Aspen test device\\s+${TIME}\\s+${TIME}$`));
    const raw = json(await aspen(['identities', 'list', 'WIPED-1', '--json'], { server }));
    assert.equal(raw.identities.length, 1);

    const nobody = await aspen(['identities', 'list', 'NOBODY'], { server });
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr, 'aspen: no enrollment NOBODY\n');
  });

  it('releases the old identity so that the device can enroll with its new one', async () => {
    const device = reinstalledDevice();
    const authenticate = () => checkin({ url: server.url, deviceHeaders: (body) => ({ 'mdm-signature': device.sign(body) }) }, { MessageType: 'Authenticate', UDID: 'WIPED-1', Topic: TOPIC });
    assert.equal((await authenticate()).status, 403, 'a new certificate cannot take an enrolled device');

    const released = await aspen(['identities', 'release', 'WIPED-1'], { server });
    assert.equal(released.code, 0, released.stderr);
    assert.match(released.stdout, /^released 1 certificate of WIPED-1: /);

    assert.equal((await authenticate()).status, 200, 'the next Authenticate binds the certificate it presents');
    const listed = json(await aspen(['identities', 'list', 'WIPED-1', '--json'], { server }));
    assert.deepEqual(listed.identities.map((i: { fingerprint: string }) => i.fingerprint), [device.fingerprint]);
  });
});
