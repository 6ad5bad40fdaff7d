// Which push certificate the service uses across restarts: uploaded, configured, renewed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Metrics } from '../../src/observability/metrics.ts';
import { createApnsPusher } from '../../src/push/apns-pusher.ts';
import { loadPushCertificate, type PushCertificate } from '../../src/push/push-certificate.ts';
import { JobRunner } from '../../src/service/job-runner.ts';
import { PushService } from '../../src/service/push-service.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { generateApnsTestCertificates } from '../helpers/apns-certs.ts';

const YEAR = 365 * 86_400_000;

describe('push certificate precedence', () => {
  let certificate: PushCertificate;
  let storage: Storage;
  const services: PushService[] = [];
  const serviceWith = async (configured: PushCertificate | null) => {
    const service = new PushService(
      storage,
      (cert) => createApnsPusher({ certificate: cert, url: 'https://127.0.0.1:9' }),
      new Metrics(() => storage.stats()),
      pino({ level: 'silent' }),
      new JobRunner(storage, pino({ level: 'silent' })),
      60_000,
    );
    services.push(service);
    await service.start(configured);
    return service;
  };

  before(async () => {
    const certs = await generateApnsTestCertificates();
    certificate = loadPushCertificate({ certPem: certs.push.certPem, keyPem: certs.push.keyPem });
    storage = await openStorage({ kind: 'sqlite', path: ':memory:', synchronous: 'FULL' });
  });
  after(async () => {
    for (const s of services) await s.close();
    await storage.close();
  });

  it('uses the configured certificate while none was uploaded', async () => {
    const service = await serviceWith(certificate);
    assert.equal((await service.current())?.topic, certificate.topic);
    assert.equal(await storage.getPushCertificate(), undefined);
  });

  it('prefers the uploaded one, unless the configured one renews it (same topic, later expiry)', async () => {
    const uploader = await serviceWith(null);
    await uploader.upload(certificate, false);
    const older = { ...certificate, notAfter: new Date(certificate.notAfter.getTime() - YEAR) };
    assert.equal((await (await serviceWith(older)).current())?.notAfter.getTime(), certificate.notAfter.getTime());

    const renewed = { ...certificate, notAfter: new Date(certificate.notAfter.getTime() + YEAR) };
    assert.equal((await (await serviceWith(renewed)).current())?.notAfter.getTime(), renewed.notAfter.getTime());
    assert.equal((await storage.getPushCertificate())?.notAfter, renewed.notAfter.toISOString(), 'and stored for the next start');

    const otherTopic = { ...renewed, topic: 'com.apple.mgmt.External.other', notAfter: new Date(renewed.notAfter.getTime() + YEAR) };
    assert.equal((await (await serviceWith(otherTopic)).current())?.topic, certificate.topic, 'never a silent topic change');
  });
});
