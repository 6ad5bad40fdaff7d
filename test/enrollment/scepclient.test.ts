// Debian's `scepclient` (micromdm's scep 2.1, package `scep`) enrolling against the SCEP server
// over real HTTP on 127.0.0.1. It is an independent implementation that sends what many deployed
// clients send: SHA-1 and single DES, whatever GetCACaps says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { issueDeviceCertificate } from '../../src/identity/device-ca.ts';
import { fingerprintOf, startScepRig, STATIC_CHALLENGE, type ScepRig } from '../helpers/scep-rig.ts';
import { ScepTestClient } from '../helpers/scep-test-client.ts';

const SCEPCLIENT = '/usr/bin/scepclient';
const skip = existsSync(SCEPCLIENT) ? false : `${SCEPCLIENT} is not installed (Debian package "scep")`;

let rig: ScepRig;

before(async () => {
  rig = await startScepRig();
});
after(async () => {
  const statuses = rig.server.statuses;
  await rig.close();
  assert.deepEqual(statuses.filter((s) => s >= 500), []);
});

interface Run {
  code: number;
  output: string;
}

/**
 * Runs scepclient asynchronously: the server answering it lives in this process. It keeps its
 * key, CSR and certificate in `dir` (the key's folder), and sends a RenewalReq when the
 * certificate file already exists.
 */
function scepclient(dir: string, args: string[]): Promise<Run> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    execFile(SCEPCLIENT, ['-private-key', join(dir, 'key.pem'), '-server-url', rig.server.url, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

function text(path: string): string {
  return rig.pki.openssl(['x509', '-in', path, '-noout', '-text']).toString();
}

test('enrolls with the right challenge and gets a client certificate from the device CA', { skip }, async () => {
  const dir = join(rig.pki.dir, 'scepclient-ok');
  const run = await scepclient(dir, ['-challenge', STATIC_CHALLENGE, '-cn', 'scepclient-device', '-organization', 'Aspen Tests']);
  assert.equal(run.code, 0, run.output);
  const issued = join(dir, 'client.pem');

  const details = text(issued);
  assert.match(details, /Issuer: CN ?= ?Aspen Device CA/);
  assert.match(details, /Subject: C ?= ?US, O ?= ?Aspen Tests, OU ?= ?MDM, CN ?= ?scepclient-device/);
  assert.match(details, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
  assert.match(details, /Public-Key: \(2048 bit\)/);
  rig.pki.openssl(['verify', '-CAfile', rig.caCertPath, '-purpose', 'sslclient', issued]);
  const certificate = new X509Certificate(readFileSync(issued));
  assert.equal((Date.parse(certificate.validTo) - Date.parse(certificate.validFrom)) / 86_400_000, 365);
  assert.ok(certificate.publicKey.equals(createPublicKey(readFileSync(join(dir, 'key.pem')))));

  // What scepclient sent: SHA-1 signatures and DES-CBC content, answered in kind.
  const request = rig.server.messages.at(-1)!;
  const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(request).content });
  assert.equal(signed.signerInfos[0]!.digestAlgorithm.algorithmId, '1.3.14.3.2.26');
  const client = new ScepTestClient(rig.pki, rig.caCertPath, rig.server.url);
  const envelope = Buffer.from(signed.encapContentInfo.eContent!.getValue());
  assert.equal(client.envelopeCipher(envelope), 'des-cbc');

  const outcome = rig.server.outcomes.at(-1)!;
  assert.equal(outcome.result, 'issued');
  assert.equal(outcome.result === 'issued' && outcome.certificate.fingerprint, fingerprintOf(certificate));
});

test('a wrong challenge is refused: scepclient reports FAILURE badRequest and writes no certificate', { skip }, async () => {
  const dir = join(rig.pki.dir, 'scepclient-wrong');
  const run = await scepclient(dir, ['-challenge', 'wrong', '-cn', 'intruder']);
  assert.equal(run.code, 1);
  assert.match(run.output, /PKCSReq \(19\) request failed, failInfo: badRequest \(2\)/);
  assert.equal(existsSync(join(dir, 'client.pem')), false);
  const outcome = rig.server.outcomes.at(-1)!;
  assert.equal(outcome.result === 'failed' && outcome.failInfo, 'badRequest');
});

test('renews: a second run with the issued certificate sends a RenewalReq and gets a new certificate', { skip }, async () => {
  const dir = join(rig.pki.dir, 'scepclient-renew');
  assert.equal((await scepclient(dir, ['-challenge', STATIC_CHALLENGE, '-cn', 'renewing-device'])).code, 0);
  const issued = join(dir, 'client.pem');
  const first = new X509Certificate(readFileSync(issued));

  // No challenge this time: the current identity signs the renewal.
  const run = await scepclient(dir, ['-certificate', issued, '-cn', 'renewing-device']);
  assert.equal(run.code, 0, run.output);
  const second = new X509Certificate(readFileSync(issued));
  assert.notEqual(second.serialNumber, first.serialNumber);
  assert.equal(second.subject, first.subject);
  rig.pki.openssl(['verify', '-CAfile', rig.caCertPath, '-purpose', 'sslclient', issued]);

  const outcome = rig.server.outcomes.at(-1)!;
  assert.equal(outcome.result, 'issued');
  if (outcome.result !== 'issued') return;
  assert.equal(outcome.messageType, 'RenewalReq');
  assert.equal(outcome.renewed?.fingerprint, fingerprintOf(first));
  assert.equal(outcome.certificate.fingerprint, fingerprintOf(second));
});

test('a renewal signed by a certificate Aspen does not hold as current is refused with badCertId', { skip }, async () => {
  const dir = join(rig.pki.dir, 'scepclient-stranger');
  // A certificate from the right CA, but never recorded as an identity (or since revoked).
  const key = rig.pki.newKey('stranger', 'rsa');
  mkdirSync(dir);
  rig.pki.openssl(['pkey', '-in', key, '-traditional', '-out', join(dir, 'key.pem')]); // scepclient reads PKCS#1
  const { certPem } = issueDeviceCertificate(rig.deviceCa, { commonName: 'stranger', publicKey: createPublicKey(readFileSync(key)) });
  const cert = rig.pki.write('stranger.pem', certPem);
  const run = await scepclient(dir, ['-certificate', cert, '-cn', 'stranger']);
  assert.equal(run.code, 1);
  assert.match(run.output, /RenewalReq \(17\) request failed, failInfo: badCertID \(4\)/);
  assert.equal(readFileSync(cert, 'utf8'), certPem);
});
