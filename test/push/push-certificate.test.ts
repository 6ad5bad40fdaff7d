import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import {
  PushCertificateError,
  loadPushCertificate,
  loadPushCertificateFromPkcs12,
} from '../../src/push/push-certificate.ts';
import { generateApnsTestCertificates, type ApnsTestCertificates } from '../helpers/apns-certs.ts';

const fixture = (path: string): Promise<string> => readFile(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const MICROMDM = 'micromdm/pkg/crypto/testdata';

describe('push certificate', () => {
  let certs: ApnsTestCertificates;
  before(async () => {
    certs = await generateApnsTestCertificates();
  });

  it('loads a PEM certificate and key, reading the topic and expiry', () => {
    const loaded = loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.push.keyPem });
    assert.equal(loaded.topic, certs.push.topic);
    // The generator makes certificates valid for 2 days.
    const daysLeft = (loaded.notAfter.getTime() - Date.now()) / 86_400_000;
    assert.ok(daysLeft > 1.9 && daysLeft <= 2, `notAfter ${loaded.notAfter.toISOString()}`);
    assert.match(loaded.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(loaded.certPem.trim(), certs.push.certPem.trim());
  });

  it('reloads what it returned (the value the core stores)', () => {
    const loaded = loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.push.keyPem });
    const stored = JSON.parse(JSON.stringify({ certPem: loaded.certPem, keyPem: loaded.keyPem })) as {
      certPem: string;
      keyPem: string;
    };
    assert.deepEqual(loadPushCertificate(stored), loaded);
  });

  it('loads an encrypted key with its passphrase and explains a missing one', () => {
    const encryptedKeyPem = createPrivateKey(certs.push.keyPem)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'sesame' })
      .toString();
    assert.match(encryptedKeyPem, /ENCRYPTED PRIVATE KEY/);
    const loaded = loadPushCertificate({ certPem: certs.push.certPem, keyPem: encryptedKeyPem, passphrase: 'sesame' });
    assert.equal(loaded.keyPem, loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.push.keyPem }).keyPem);
    assert.throws(
      () => loadPushCertificate({ certPem: certs.push.certPem, keyPem: encryptedKeyPem }),
      (error: Error) => error instanceof PushCertificateError && /give its passphrase/.test(error.message),
    );
    assert.throws(
      () => loadPushCertificate({ certPem: certs.push.certPem, keyPem: encryptedKeyPem, passphrase: 'wrong' }),
      PushCertificateError,
    );
  });

  for (const variant of ['p12', 'p12Keychain'] as const) {
    it(`loads a PKCS#12 bundle (${variant}) to the same certificate as the PEM files`, () => {
      const fromPem = loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.push.keyPem });
      // The bundle also carries the CA certificate; the leaf must be picked by its key.
      assert.deepEqual(loadPushCertificateFromPkcs12(certs.push[variant], certs.push.p12Passphrase), fromPem);
    });
  }

  it('refuses a PKCS#12 bundle with the wrong passphrase', () => {
    assert.throws(
      () => loadPushCertificateFromPkcs12(certs.push.p12Keychain, 'not-it'),
      (error: Error) => error instanceof PushCertificateError && /wrong passphrase/.test(error.message),
    );
  });

  it('refuses a key that does not belong to the certificate', () => {
    assert.throws(
      () => loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.untrustedPush.keyPem }),
      (error: Error) => error instanceof PushCertificateError && /does not belong/.test(error.message),
    );
  });

  it('refuses a certificate without a UID (micromdm fixture)', async () => {
    const certPem = await fixture(`${MICROMDM}/mock_push_cert_no_uid.pem`);
    assert.throws(
      () => loadPushCertificate({ certPem, keyPem: certs.push.keyPem }),
      (error: Error) => error instanceof PushCertificateError && /no UID/.test(error.message),
    );
  });

  it('refuses a UID that is not an MDM topic (micromdm fixture)', async () => {
    const certPem = await fixture(`${MICROMDM}/mock_push_cert_wrong_uid_prefix.pem`);
    assert.throws(
      () => loadPushCertificate({ certPem, keyPem: certs.push.keyPem }),
      (error: Error) =>
        error instanceof PushCertificateError &&
        error.message.includes('"wrong.prefix.18a16429-886b-41f1-9c30-2bd04ae4fc37" does not start with "com.apple.mgmt."'),
    );
  });

  // Without their keys, the loader's key check is as far as these get: it runs after the topic
  // has been read and accepted, so a key error is the sign that the subject passed.
  it("accepts the topic of Apple's real (expired) push certificate and of micromdm's mock", async () => {
    for (const path of ['nanomdm/test/e2e/testdata/push.pem', `${MICROMDM}/mock_push_cert.pem`]) {
      const certPem = await fixture(path);
      assert.throws(
        () => loadPushCertificate({ certPem, keyPem: certs.push.keyPem }),
        (error: Error) => error instanceof PushCertificateError && /does not belong/.test(error.message),
        path,
      );
    }
  });

  it('refuses text that is not a certificate', () => {
    assert.throws(() => loadPushCertificate({ certPem: 'not a certificate', keyPem: certs.push.keyPem }), PushCertificateError);
  });
});
