// Device identity end to end: every device request is proven by a certificate from the trusted
// device CA, bound to one enrollment; forgeries are refused (never 401) and change nothing.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { encodePlist, type PlistDict } from '../../src/protocol/plist.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { CHECKIN, command, enqueue, fixture, put, REPORT, TOPIC, tokenUpdate, type DeviceResponse } from '../helpers/device.ts';
import { MdmSigner, signerOfValidSignature } from '../helpers/mdm-signer.ts';
import { OpensslPki, opensslDate, type Issued } from '../helpers/openssl-pki.ts';

const DAY = 86_400_000;

describe('device identity', () => {
  let pki: OpensslPki;
  let ca: Issued;
  let certs: Record<'a' | 'b' | 'fresh' | 'fresh2' | 'rogue' | 'expired' | 'serverAuthOnly' | 'namesDevice', Issued>;
  let server: TestServer;

  const signer = (cert: Issued, keyOf: Issued = cert) => new MdmSigner(cert.pem, readFileSync(keyOf.key, 'utf8'));
  const send = (path: string, message: PlistDict, contentType: string, headers: Record<string, string>) =>
    put(server.url + path, encodePlist(message), contentType, headers);
  /** A request signed like a device: SHA-1, no signed attributes, by openssl (an independent implementation). */
  const signed = (message: PlistDict, cert: Issued, contentType = CHECKIN, options: { md?: 'sha1' | 'sha256'; noattr?: boolean } = {}) => {
    const body = encodePlist(message);
    const signature = pki.sign(Buffer.from(body), cert, { md: options.md ?? 'sha1', noattr: options.noattr ?? true });
    return put(server.url + '/mdm', body, contentType, { 'mdm-signature': signature });
  };
  const enrollWith = async (udid: string, cert: Issued) => {
    assert.equal((await signed({ MessageType: 'Authenticate', UDID: udid, Topic: TOPIC }, cert)).status, 200);
    assert.equal((await signed(tokenUpdate({ UDID: udid }), cert)).status, 200);
  };
  const snapshot = () => snapshotStorage(server.aspen.storage);
  const assertRefused = (res: DeviceResponse, reason: RegExp) => {
    assert.equal(res.status, 403, res.text());
    assert.match(res.text(), reason);
  };

  before(async () => {
    pki = new OpensslPki();
    ca = pki.rootCa('Device CA');
    const rogueCa = pki.rootCa('Device CA'); // same name, different key
    certs = {
      a: pki.issue('device-a', ca),
      b: pki.issue('device-b', ca, { keyType: 'ec' }),
      fresh: pki.issue('fresh', ca),
      fresh2: pki.issue('fresh-2', ca),
      rogue: pki.issue('device-a', rogueCa),
      expired: pki.issue('expired', ca, { startDate: opensslDate(new Date(Date.now() - 30 * DAY)), endDate: opensslDate(new Date(Date.now() - DAY)) }),
      serverAuthOnly: pki.issue('server-auth', ca, { extensions: ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=serverAuth'] }),
      namesDevice: pki.issue('UDID-NAMED', ca),
    };
    server = await startAspen({ DEVICE_CA: ca.cert });
    await enrollWith('UDID-A', certs.a);
    await enrollWith('UDID-B', certs.b);
  });
  after(async () => {
    await server.close();
    pki.cleanup();
  });

  describe('Mdm-Signature', () => {
    it('accepts SHA-1 and SHA-256 signatures, with and without signed attributes, RSA and EC', async () => {
      for (const [cert, udid] of [[certs.a, 'UDID-A'], [certs.b, 'UDID-B']] as const) {
        for (const md of ['sha1', 'sha256'] as const) {
          for (const noattr of [true, false]) {
            const res = await signed({ Status: 'Idle', UDID: udid }, cert, REPORT, { md, noattr });
            assert.equal(res.status, 200, `${udid} ${md} noattr=${noattr}: ${res.text()}`);
          }
        }
      }
    });

    it('accepts the signer certificate bound at Authenticate for the whole command loop', async () => {
      await enqueue(server, ['UDID-A'], command('id-cmd-1', 'ProfileList'));
      assert.equal((await signed({ Status: 'Idle', UDID: 'UDID-A' }, certs.a, REPORT)).plist().CommandUUID, 'id-cmd-1');
      const done = await signed({ Status: 'Acknowledged', UDID: 'UDID-A', CommandUUID: 'id-cmd-1' }, certs.a, REPORT);
      assert.equal(done.status, 200);
      assert.equal(done.body.length, 0);
    });

    it("verifies a real device's signature, refusing it only because its CA is not trusted here", async () => {
      const header = fixture('nanomdm/cryptoutil-mdm-signature/mdmSignatureHeader2.b64').toString().trim();
      const body = fixture('nanomdm/cryptoutil-mdm-signature/mdmSignatureBody2.plist');
      assert.doesNotThrow(() => signerOfValidSignature(header, body), 'the BER, SHA-1, attribute-less signature itself is valid');
      const before = await snapshot();
      assertRefused(await put(server.url + '/mdm', body, REPORT, { 'mdm-signature': header }), /unknown-ca/);
      assert.equal(await snapshot(), before);
    });

    const forgeries: [string, () => Promise<DeviceResponse>, RegExp][] = [
      ['no identity at all', () => send('/mdm', { Status: 'Idle', UDID: 'UDID-A' }, REPORT, {}), /no device identity/],
      ['a garbage header', () => send('/mdm', { Status: 'Idle', UDID: 'UDID-A' }, REPORT, { 'mdm-signature': 'bm90IGNtcw==' }), /malformed/],
      ['a certificate from an unknown CA with the same name', () => signed({ Status: 'Idle', UDID: 'UDID-A' }, certs.rogue, REPORT), /unknown-ca/],
      ['an expired certificate', () => signed({ Status: 'Idle', UDID: 'UDID-A' }, certs.expired, REPORT), /expired/],
      ['a certificate without clientAuth', () => signed({ Status: 'Idle', UDID: 'UDID-A' }, certs.serverAuthOnly, REPORT), /not-client-auth/],
      [
        'a tampered body',
        () => {
          const signature = pki.sign(Buffer.from(encodePlist({ Status: 'Idle', UDID: 'UDID-A' })), certs.a, { md: 'sha1', noattr: true });
          const other = { Status: 'Acknowledged', UDID: 'UDID-A', CommandUUID: 'id-cmd-1' };
          return send('/mdm', other, REPORT, { 'mdm-signature': signature });
        },
        /bad-signature/,
      ],
      [
        "a signature by a different key than the certificate's",
        () => {
          const body = encodePlist({ Status: 'Idle', UDID: 'UDID-A' });
          return put(server.url + '/mdm', body, REPORT, { 'mdm-signature': signer(certs.a, certs.fresh).sign(body) });
        },
        /bad-signature/,
      ],
      ["another device's bound certificate claiming this UDID", () => signed({ Status: 'Idle', UDID: 'UDID-A' }, certs.b, REPORT), /bound to another enrollment/],
      [
        'a new Authenticate trying to take over a bound UDID',
        () => signed({ MessageType: 'Authenticate', UDID: 'UDID-A', Topic: TOPIC }, certs.fresh),
        /not bound to this enrollment/,
      ],
      [
        "another device's bound certificate sending an Authenticate for this UDID",
        () => signed({ MessageType: 'Authenticate', UDID: 'UDID-A', Topic: TOPIC }, certs.b),
        /bound to another enrollment/,
      ],
      [
        'a fresh certificate sending a TokenUpdate for a bound UDID',
        () => signed(tokenUpdate({ UDID: 'UDID-A' }, { PushMagic: 'HIJACKED' }), certs.fresh),
        /not bound to this enrollment/,
      ],
      [
        "a user channel speaking with another device's certificate",
        () => signed(tokenUpdate({ UDID: 'UDID-A', UserID: 'USER-X', UserLongName: 'x', UserShortName: 'x' }), certs.b),
        /bound to another enrollment/,
      ],
    ];
    for (const [name, attempt, reason] of forgeries) {
      it(`refuses ${name} with a 403 (never 401) and changes nothing`, async () => {
        await enqueue(server, ['UDID-A'], command(`forgery-${name}`, 'ProfileList'));
        const before = await snapshot();
        assertRefused(await attempt(), reason);
        assert.equal(await snapshot(), before);
        const a = await server.aspen.storage.getEnrollment('UDID-A');
        assert.equal(a?.pushMagic, 'PUSH-MAGIC-1');
        await server.aspen.storage.cancelPending('UDID-A', null, new Date().toISOString());
      });
    }

    it('binds nothing for a new certificate whose Authenticate is refused as bad input', async () => {
      const before = await snapshot();
      const res = await signed({ MessageType: 'Authenticate', UDID: 'UDID-NEW-BAD', UserID: 'USER-X', Topic: TOPIC }, certs.fresh2);
      assert.equal(res.status, 400, res.text());
      assert.equal(await snapshot(), before);
    });

    it("lets a user channel speak with its device's certificate", async () => {
      const res = await signed(tokenUpdate({ UDID: 'UDID-A', UserID: 'USER-A', UserLongName: 'A', UserShortName: 'a' }), certs.a);
      assert.equal(res.status, 200);
      assert.equal((await signed({ Status: 'Idle', UDID: 'UDID-A', UserID: 'USER-A', UserLongName: 'A', UserShortName: 'a' }, certs.a, REPORT)).status, 200);
    });
  });

  describe('re-enrollment and renewal', () => {
    it('re-binds on Authenticate after the device checked out', async () => {
      await enrollWith('UDID-LEAVER', certs.fresh);
      assert.equal((await signed({ MessageType: 'CheckOut', UDID: 'UDID-LEAVER' }, certs.fresh)).status, 200);
      await enrollWith('UDID-LEAVER', certs.fresh2);
      const bindings = await server.aspen.storage.listIdentityBindings('UDID-LEAVER');
      assert.equal(bindings.length, 2);
    });

    it('shows the bound certificates, and lets an admin unbind them for a device that lost its identity', async () => {
      const lost = pki.issue('lost-identity', ca);
      const replacement = pki.issue('after-loss', ca);
      await enrollWith('UDID-LOST', lost);
      const admin = (method: string, path: string) =>
        fetch(server.url + path, { method, headers: { authorization: `Bearer ${server.apiKey}` } }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
      const detail = await admin('GET', '/v1/enrollments/UDID-LOST');
      const identities = detail.json.identities as { fingerprint: string; subject: string }[];
      assert.equal(identities.length, 1);
      assert.equal(identities[0]!.fingerprint, new MdmSigner(lost.pem, readFileSync(lost.key, 'utf8')).fingerprint);
      assert.match(identities[0]!.subject, /lost-identity/);

      assertRefused(await signed({ MessageType: 'Authenticate', UDID: 'UDID-LOST', Topic: TOPIC }, replacement), /not bound/);
      assert.deepEqual((await admin('DELETE', '/v1/enrollments/UDID-LOST/identities')).json, { unbound: 1 });
      await enrollWith('UDID-LOST', replacement);
      assertRefused(await signed({ Status: 'Idle', UDID: 'UDID-LOST' }, pki.issue('latecomer', ca), REPORT), /not bound/);
      assert.equal((await admin('DELETE', '/v1/enrollments/NOBODY/identities')).status, 404);
    });

    it('accepts a certificate naming the device only when IDENTITY_TRUST_COMMON_NAME is on', async (t) => {
      const named = pki.issue('UDID-NAMED', ca);
      await enrollWith('UDID-NAMED', pki.issue('first-identity', ca));
      assertRefused(await signed({ Status: 'Idle', UDID: 'UDID-NAMED' }, named, REPORT), /not bound/);
      // A body cannot make a certificate "name" a device: the serial number comes from storage.
      const claimer = pki.issue('claimer', ca);
      assertRefused(await signed({ MessageType: 'Authenticate', UDID: 'UDID-A', SerialNumber: 'claimer', Topic: TOPIC }, claimer), /not bound/);

      const trusting = await startAspen({ DEVICE_CA: ca.cert, IDENTITY_TRUST_COMMON_NAME: 'true' });
      t.after(() => trusting.close());
      const sendTo = (message: PlistDict, cert: Issued, type = CHECKIN) => {
        const body = encodePlist(message);
        return put(trusting.url + '/mdm', body, type, { 'mdm-signature': pki.sign(Buffer.from(body), cert, { md: 'sha256', noattr: true }) });
      };
      assert.equal((await sendTo({ MessageType: 'Authenticate', UDID: 'UDID-NAMED', Topic: TOPIC }, pki.issue('other-first', ca))).status, 200);
      assert.equal((await sendTo({ Status: 'Idle', UDID: 'UDID-NAMED' }, named, REPORT)).status, 200, 'renewed with a certificate naming it');
      const spoof = await sendTo({ MessageType: 'Authenticate', UDID: 'UDID-NAMED2', SerialNumber: 'fresh', Topic: TOPIC }, pki.issue('first-2', ca));
      assert.equal(spoof.status, 200);
      const spoofer = pki.issue('spoofer', ca);
      assertRefused(await sendTo({ Status: 'Idle', UDID: 'UDID-NAMED2', SerialNumber: 'spoofer' }, spoofer, REPORT), /not bound/);
    });

    it('accepts a new certificate at Authenticate once the device was handed a new MDM profile, keeping its queue', async () => {
      const original = pki.issue('replaced-original', ca);
      const replacement = pki.issue('replaced-new', ca);
      const intruder = pki.issue('intruder', ca);
      await enrollWith('UDID-RENEW', original);
      assertRefused(await signed({ MessageType: 'Authenticate', UDID: 'UDID-RENEW', Topic: TOPIC }, replacement), /not bound/);

      // An ordinary profile (Wi-Fi) does not open the window.
      const wifi = encodePlist({ PayloadContent: [{ PayloadType: 'com.apple.wifi.managed' }], PayloadType: 'Configuration' });
      await enqueue(server, ['UDID-RENEW'], command('wifi-profile', 'InstallProfile', { Payload: Buffer.from(wifi) }));
      assert.equal((await signed({ Status: 'Idle', UDID: 'UDID-RENEW' }, original, REPORT)).plist().CommandUUID, 'wifi-profile');
      assertRefused(await signed({ MessageType: 'Authenticate', UDID: 'UDID-RENEW', Topic: TOPIC }, intruder), /not bound/);
      await signed({ Status: 'Acknowledged', UDID: 'UDID-RENEW', CommandUUID: 'wifi-profile' }, original, REPORT);

      const mdm = encodePlist({ PayloadContent: [{ PayloadType: 'com.apple.mdm', ServerURL: 'https://mdm.example/mdm' }], PayloadType: 'Configuration' });
      await enqueue(server, ['UDID-RENEW'], command('replace-profile', 'InstallProfile', { Payload: Buffer.from(mdm) }));
      await enqueue(server, ['UDID-RENEW'], command('after-renewal', 'ProfileList'));
      assert.equal((await signed({ Status: 'Idle', UDID: 'UDID-RENEW' }, original, REPORT)).plist().CommandUUID, 'replace-profile');
      await enrollWith('UDID-RENEW', replacement);
      assert.equal((await server.aspen.storage.getEnrollment('UDID-RENEW'))?.identityRenewalUntil, null, 'the window closes once used');
      assertRefused(await signed({ MessageType: 'Authenticate', UDID: 'UDID-RENEW', Topic: TOPIC }, intruder), /not bound/);
      // The queue survived the renewal: the command is still there, and so is the unanswered install.
      const next = await signed({ Status: 'Idle', UDID: 'UDID-RENEW' }, replacement, REPORT);
      assert.equal(next.plist().CommandUUID, 'replace-profile');
      assert.equal((await signed({ Status: 'Acknowledged', UDID: 'UDID-RENEW', CommandUUID: 'replace-profile' }, replacement, REPORT)).plist().CommandUUID, 'after-renewal');
    });
  });

  describe('forwarded by a proxy', () => {
    it('takes the client certificate from the configured header, RFC 9440 or nginx form', async (t) => {
      const proxied = await startAspen({ DEVICE_CA: ca.cert, DEVICE_CERT_HEADER: 'X-Client-Cert' });
      t.after(() => proxied.close());
      const rfc9440 = `:${certs.a.der.toString('base64')}:`;
      const nginx = encodeURIComponent(certs.a.pem);
      const auth = encodePlist({ MessageType: 'Authenticate', UDID: 'PROXIED', Topic: TOPIC });
      assert.equal((await put(proxied.url + '/mdm', auth, CHECKIN, { 'x-client-cert': rfc9440 })).status, 200);
      const idle = encodePlist({ Status: 'Idle', UDID: 'PROXIED' });
      assert.equal((await put(proxied.url + '/mdm', idle, REPORT, { 'x-client-cert': nginx })).status, 200);
      const rogue = await put(proxied.url + '/mdm', idle, REPORT, { 'x-client-cert': `:${certs.rogue.der.toString('base64')}:` });
      assert.equal(rogue.status, 403);
      assert.equal((await put(proxied.url + '/mdm', idle, REPORT, { 'x-client-cert': 'garbage' })).status, 403);
      assert.equal((await put(proxied.url + '/mdm', idle, REPORT, {})).status, 403);
    });

    it('refuses a malformed certificate DER with a 403 and changes nothing', async (t) => {
      const proxied = await startAspen({ DEVICE_CA: ca.cert, DEVICE_CERT_HEADER: 'X-Client-Cert' });
      t.after(() => proxied.close());
      const good = certs.fresh.der;
      assert.equal(good[1], 0x82, 'the test certificate has a two-byte length');
      const malformed: Record<string, Buffer> = {
        truncated: good.subarray(0, good.length - 1),
        'cut in the middle': good.subarray(0, 300),
        'wrong outer tag': Buffer.concat([Buffer.from([0x31]), good.subarray(1)]),
        'huge length': Buffer.concat([Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]), good.subarray(4)]),
      };
      const auth = encodePlist({ MessageType: 'Authenticate', UDID: 'MALFORMED', Topic: TOPIC });
      const before = await snapshotStorage(proxied.aspen.storage);
      for (const [what, der] of Object.entries(malformed)) {
        const res = await put(proxied.url + '/mdm', auth, CHECKIN, { 'x-client-cert': `:${der.toString('base64')}:` });
        assert.equal(res.status, 403, what);
        assert.match(res.text(), /malformed/, what);
      }
      assert.equal(await snapshotStorage(proxied.aspen.storage), before);
    });
  });

  describe('mTLS', () => {
    it('serves HTTPS and takes the identity from the TLS client certificate', async (t) => {
      const serverCert = pki.issue('127.0.0.1', ca, { extensions: ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'] });
      const tls = await startAspen({ DEVICE_CA: ca.cert, TLS_CERT: serverCert.cert, TLS_KEY: serverCert.key });
      t.after(() => tls.close());
      assert.match(tls.url, /^https:/);
      const tlsPut = (body: string, contentType: string, client?: Issued) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request(
            `${tls.url}/mdm`,
            {
              method: 'PUT',
              ca: ca.pem,
              headers: { 'content-type': contentType },
              ...(client ? { cert: client.pem, key: readFileSync(client.key) } : {}),
            },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => (text += d.toString()));
              res.on('end', () => resolve({ status: res.statusCode!, body: text }));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      const auth = encodePlist({ MessageType: 'Authenticate', UDID: 'MTLS-1', Topic: TOPIC });
      assert.equal((await tlsPut(auth, CHECKIN, certs.a)).status, 200);
      assert.equal((await tlsPut(encodePlist(tokenUpdate({ UDID: 'MTLS-1' })), CHECKIN, certs.a)).status, 200);
      const idle = encodePlist({ Status: 'Idle', UDID: 'MTLS-1' });
      assert.equal((await tlsPut(idle, REPORT, certs.a)).status, 200);
      assert.equal((await tlsPut(idle, REPORT)).status, 403, 'no client certificate');
      assert.equal((await tlsPut(idle, REPORT, certs.rogue)).status, 403, 'a client certificate from another CA');
      assert.equal((await tlsPut(idle, REPORT, certs.b)).status, 403, "another device's certificate");
    });
  });
});
