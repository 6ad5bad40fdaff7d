// `aspen pushcert show|upload` against a real server, and what the server then pushes with.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateApnsTestCertificates, type ApnsTestCertificates } from '../helpers/apns-certs.ts';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { aspen, json, tempDir } from './run-cli.ts';

describe('aspen pushcert', () => {
  let certs: ApnsTestCertificates;
  let otherTopic: ApnsTestCertificates;
  let server: TestServer;
  before(async () => {
    certs = await generateApnsTestCertificates();
    otherTopic = await generateApnsTestCertificates();
    server = await startAspen({ API_KEY: 'cli-pushcert-key-0123456789' });
  });
  after(() => server?.close());

  it('says when there is none, uploads PEM files, and shows the topic and expiry', async (t) => {
    const none = await aspen(['pushcert', 'show'], { server });
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'aspen: no push certificate is loaded\n');

    const dir = tempDir(t);
    writeFileSync(join(dir, 'push.crt'), certs.push.certPem);
    writeFileSync(join(dir, 'push.key'), certs.push.keyPem);
    const upload = await aspen(['pushcert', 'upload', join(dir, 'push.crt'), join(dir, 'push.key')], { server });
    assert.equal(upload.code, 0, upload.stderr);
    assert.match(upload.stdout, new RegExp(`^topic\\s+${certs.push.topic.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(upload.stdout, /^expires\s+\d{4}-\d\d-\d\d \d\d:\d\d \(in [12] days?\)$/m);

    const shown = json(await aspen(['pushcert', 'show', '--json'], { server }));
    assert.equal(shown.topic, certs.push.topic);
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200, 'the server uses it at once');
  });

  it('takes a .p12 bundle and an encrypted key with their passphrases from the environment', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'push.p12'), certs.push.p12);
    const p12 = await aspen(['pushcert', 'upload', join(dir, 'push.p12')], { server, env: { APNS_P12_PASSPHRASE: certs.push.p12Passphrase } });
    assert.equal(p12.code, 0, p12.stderr);

    const encrypted = createPrivateKey(certs.push.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'sesame' }).toString();
    writeFileSync(join(dir, 'both.pem'), `${certs.push.certPem}\n${encrypted}`);
    const noPassphrase = await aspen(['pushcert', 'upload', join(dir, 'both.pem')], { server });
    assert.equal(noPassphrase.code, 1);
    assert.match(noPassphrase.stderr, /give its passphrase/);
    const withPassphrase = await aspen(['pushcert', 'upload', join(dir, 'both.pem')], { server, env: { APNS_KEY_PASSPHRASE: 'sesame' } });
    assert.equal(withPassphrase.code, 0, withPassphrase.stderr);
  });

  it('names a wrong key before sending anything, and asks for --force to change the topic', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'mixed.pem'), `${certs.push.certPem}\n${certs.untrustedPush.keyPem}`);
    const mixed = await aspen(['pushcert', 'upload', join(dir, 'mixed.pem')], { server });
    assert.equal(mixed.code, 1);
    assert.equal(mixed.stderr, 'aspen: the private key does not belong to the push certificate\n');

    writeFileSync(join(dir, 'other.pem'), `${otherTopic.push.certPem}\n${otherTopic.push.keyPem}`);
    const other = await aspen(['pushcert', 'upload', join(dir, 'other.pem')], { server });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /differs from the current .*; to replace it anyway: aspen pushcert upload \.\.\. --force\n$/);
    assert.equal(json(await aspen(['pushcert', 'show', '--json'], { server })).topic, certs.push.topic, 'unchanged');
  });
});
