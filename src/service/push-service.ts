// Waking enrollments through APNs: which channels may be pushed, with which certificate, and what
// came of it. The push certificate lives in the database once uploaded (so it survives restarts,
// and every instance sharing the database uses it); one from the configuration is used while the
// database has none.
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { ApnsPusher, PushOutcome, PushTarget } from '../push/apns-pusher.ts';
import type { PushCertificate } from '../push/push-certificate.ts';
import { pushFailed } from '../events/drafts.ts';
import { deviceIdOf } from '../protocol/enrollment-id.ts';
import type { ClaimedJob, PushResultRecord, PushStore, StoredPushCertificate } from '../storage/storage.ts';
import type { JobRunner } from './job-runner.ts';
import type { EnrollmentPushResult, PushGateway } from './push-gateway.ts';

export type PusherFactory = (certificate: PushCertificate) => ApnsPusher;

/** An upload that would replace the current certificate with a worse one: allowed with `force`. */
export class NeedsForceError extends Error {
  override readonly name: string = 'NeedsForceError';
}

export class TopicChangeError extends NeedsForceError {
  override readonly name = 'TopicChangeError';
  constructor(
    readonly current: string,
    readonly proposed: string,
  ) {
    super(
      `the certificate's topic ${proposed} differs from the current ${current}; every enrolled device ` +
        'listens on the current topic and would stop getting pushes (force to replace it anyway)',
    );
  }
}

/** An upload no device could be pushed with: expired, or not valid yet. Never taken, forced or not. */
export class CertificateNotInForceError extends Error {
  override readonly name = 'CertificateNotInForceError';
}

const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How often pushing looks for a certificate another instance uploaded: the longest an instance
 *  pushes with the one it replaced. Reads (GET /v1/pushcert, /readyz) always look. */
const CERTIFICATE_REFRESH_MS = 5000;
export const REPUSH_JOB = 'repush';

export class PushService implements PushGateway {
  private certificate: PushCertificate | null = null;
  /** When the loaded certificate was stored (null: from the configuration, not stored). */
  private certificateUpdatedAt: string | null = null;
  private refreshedAt = 0;
  private pusher: ApnsPusher | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly storage: PushStore,
    private readonly createPusher: PusherFactory,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly jobs: JobRunner,
    /** How long after a session that left NotNow-deferred commands to push again. */
    private readonly repushDelayMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Loads the stored certificate, or else the configured one, and starts the expiry watch. A
   *  configured certificate for the same topic that expires later than the stored one is a
   *  renewal done by replacing the files: it is stored and used. */
  async start(configured: PushCertificate | null): Promise<void> {
    const stored = await this.storage.getPushCertificate();
    let certificate: PushCertificate | null = stored ? fromStored(stored) : configured;
    let updatedAt = stored?.updatedAt ?? null;
    if (stored && configured && certificate) {
      if (configured.topic !== stored.topic) {
        this.log.warn({ stored: stored.topic, configured: configured.topic }, 'push: using the uploaded certificate; the configured one has another topic');
      } else if (configured.notAfter > certificate.notAfter) {
        updatedAt = await this.save(configured);
        certificate = configured;
        this.log.info({ topic: configured.topic }, 'push: the configured certificate renews the stored one');
      }
    }
    if (certificate) this.use(certificate, updatedAt);
    else this.log.warn('push: no push certificate (set APNS_CERT/APNS_KEY or PUT /v1/pushcert); queued commands wait until devices poll by themselves');
    this.expiryTimer = setInterval(() => this.warnIfExpiring(), DAY_MS);
    this.expiryTimer.unref();
  }

  async configured(): Promise<boolean> {
    await this.refresh();
    return this.pusher !== null;
  }

  /** The certificate in use (after looking for one another instance stored): topic and expiry, or null. */
  async current(): Promise<{ topic: string; notAfter: Date } | null> {
    await this.refresh(true);
    return this.certificate && { topic: this.certificate.topic, notAfter: this.certificate.notAfter };
  }

  /** Switches to the stored certificate when another instance uploaded a newer one. Pushing
   *  looks at most every CERTIFICATE_REFRESH_MS; `always` looks now. */
  private async refresh(always = false): Promise<void> {
    const at = performance.now();
    if (!always && at - this.refreshedAt < CERTIFICATE_REFRESH_MS) return;
    this.refreshedAt = at;
    let stored: StoredPushCertificate | undefined;
    try {
      stored = await this.storage.getPushCertificate();
    } catch (err) {
      // The database is unreachable: keep pushing with the certificate already loaded.
      this.log.warn({ err }, 'push: could not look for a newer push certificate');
      return;
    }
    if (stored === undefined || stored.updatedAt === this.certificateUpdatedAt) return;
    const previous = this.pusher;
    this.use(fromStored(stored), stored.updatedAt);
    await previous?.close();
  }

  /** Stores and switches to a new certificate. One that is expired or not valid yet is refused:
   *  swapping it in would stop every push. A different topic, or an earlier expiry than the
   *  current certificate's, needs `force`: the first silently cuts off every enrolled device, the
   *  second brings the day all pushes stop closer. */
  async upload(certificate: PushCertificate, force: boolean): Promise<void> {
    const now = this.now();
    const notBefore = new Date(new X509Certificate(certificate.certPem).validFrom);
    if (now < notBefore) throw new CertificateNotInForceError(`the push certificate is not valid before ${notBefore.toISOString()}`);
    if (now >= certificate.notAfter) throw new CertificateNotInForceError(`the push certificate expired at ${certificate.notAfter.toISOString()}`);
    await this.refresh(true); // the current one may have been uploaded through another instance
    const current = this.certificate;
    if (current !== null && !force) {
      if (current.topic !== certificate.topic) throw new TopicChangeError(current.topic, certificate.topic);
      if (certificate.notAfter < current.notAfter) {
        throw new NeedsForceError(
          `the certificate expires at ${certificate.notAfter.toISOString()}, before the current one (${current.notAfter.toISOString()}); ` +
            'force to replace it anyway',
        );
      }
    }
    const updatedAt = await this.save(certificate);
    const previous = this.pusher;
    this.use(certificate, updatedAt);
    await previous?.close();
  }

  async push(enrollmentIds: string[]): Promise<Map<string, EnrollmentPushResult>> {
    await this.refresh();
    const results = new Map<string, EnrollmentPushResult>();
    const skip = (id: string, reason: string, label: string) => {
      results.set(id, { status: 'skipped', reason });
      this.metrics.push('skipped', label);
    };
    const pusher = this.pusher;
    const topic = this.certificate?.topic;
    if (pusher === null || topic === undefined) {
      for (const id of enrollmentIds) skip(id, 'push is not configured', 'not_configured');
      return results;
    }

    const records = await this.storage.getPushTargets([...new Set(enrollmentIds)]);
    const targets: PushTarget[] = [];
    for (const id of new Set(enrollmentIds)) {
      const r = records.get(id);
      if (r === undefined) skip(id, 'unknown enrollment', 'unknown_enrollment');
      // Never before the first TokenUpdate, nor after CheckOut.
      else if (r.state !== 'enrolled' || r.pushToken === null || r.pushMagic === null) skip(id, `not enrolled (${r.state})`, 'not_enrolled');
      else if (r.pushTokenInvalid) skip(id, 'push token rejected by APNs; waiting for a new TokenUpdate', 'token_invalid');
      else if (r.topic !== topic) skip(id, `enrolled on topic ${r.topic}, not the certificate's ${topic}`, 'topic_mismatch');
      else targets.push({ id, token: r.pushToken, pushMagic: r.pushMagic, sandbox: r.sandbox });
    }
    if (targets.length === 0) return results;

    const outcomes = await this.pushWithSandboxFallback(pusher, targets);
    const pushResults: PushResultRecord[] = outcomes.map(({ outcome: o, target }) => ({
      id: o.id,
      pushToken: target.token,
      result: o.ok ? `pushed ${o.apnsId ?? ''}`.trim() : failureReason(o),
      tokenInvalid: o.tokenInvalid,
      sandbox: target.sandbox === true,
    }));
    const at = this.now().toISOString();
    const failures = outcomes.filter(({ outcome: o }) => !o.ok).map(({ outcome: o }) => pushFailed(o.id, deviceIdOf(o.id), failureReason(o), at));
    await this.storage.recordPushResults(pushResults, at, failures);
    for (const { outcome: o } of outcomes) {
      if (o.ok) {
        results.set(o.id, { status: 'pushed', ...(o.apnsId ? { apnsId: o.apnsId } : {}) });
        this.metrics.push('pushed', 'ok');
      } else {
        results.set(o.id, { status: 'failed', reason: failureReason(o) });
        this.metrics.push('failed', o.reason ?? (o.status ? `http_${o.status}` : 'no_response'));
      }
    }
    return results;
  }

  /**
   * The server cannot tell which APNs environment a device registered with (its profile's
   * UseDevelopmentAPNS), so production is tried first; production answers BadDeviceToken for a
   * development token, and then the sandbox is tried once. What worked is remembered per channel.
   */
  private async pushWithSandboxFallback(pusher: ApnsPusher, targets: PushTarget[]): Promise<{ outcome: PushOutcome; target: PushTarget }[]> {
    const first = (await pusher.push(targets)).map((outcome, i) => ({ outcome, target: targets[i]! }));
    const retry = first.filter(({ outcome, target }) => !target.sandbox && outcome.reason === 'BadDeviceToken');
    if (retry.length === 0) return first;
    const sandboxTargets = retry.map(({ target }) => ({ ...target, sandbox: true }));
    const second = new Map((await pusher.push(sandboxTargets)).map((outcome, i) => [outcome.id, { outcome, target: sandboxTargets[i]! }]));
    return first.map((entry) => second.get(entry.outcome.id) ?? entry);
  }

  /** Pushes a channel once after the re-push delay (repeated requests meanwhile coalesce). The
   *  re-push is a job in the database: it survives a restart and runs on one instance. */
  async scheduleRepush(enrollmentId: string): Promise<void> {
    if (!(await this.configured())) return;
    await this.jobs.schedule(`${REPUSH_JOB}:${enrollmentId}`, REPUSH_JOB, new Date(this.now().getTime() + this.repushDelayMs), { enrollmentId });
  }

  /** The re-push job. */
  readonly repushJob = async (job: ClaimedJob): Promise<null> => {
    const { enrollmentId } = job.payload as { enrollmentId: string };
    await this.push([enrollmentId]);
    return null;
  };

  async close(): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    await this.pusher?.close();
    this.pusher = null;
  }

  private async save(certificate: PushCertificate): Promise<string> {
    const updatedAt = this.now().toISOString();
    await this.storage.savePushCertificate({
      certPem: certificate.certPem,
      keyPem: certificate.keyPem,
      topic: certificate.topic,
      notAfter: certificate.notAfter.toISOString(),
      updatedAt,
    });
    return updatedAt;
  }

  private use(certificate: PushCertificate, updatedAt: string | null): void {
    this.certificate = certificate;
    this.certificateUpdatedAt = updatedAt;
    this.pusher = this.createPusher(certificate);
    this.log.info({ topic: certificate.topic, notAfter: certificate.notAfter.toISOString() }, 'push: certificate loaded');
    this.warnIfExpiring();
  }
  private warnIfExpiring(): void {
    if (this.certificate === null) return;
    const days = (this.certificate.notAfter.getTime() - this.now().getTime()) / DAY_MS;
    const fields = { topic: this.certificate.topic, notAfter: this.certificate.notAfter.toISOString() };
    if (days <= 0) this.log.error(fields, 'push: the push certificate has EXPIRED; devices cannot be woken until it is renewed');
    else if (days <= EXPIRY_WARNING_DAYS) this.log.warn({ ...fields, daysLeft: Math.floor(days) }, 'push: the push certificate expires soon; renew it (same topic)');
  }
}

function fromStored(stored: StoredPushCertificate): PushCertificate {
  return { certPem: stored.certPem, keyPem: stored.keyPem, topic: stored.topic, notAfter: new Date(stored.notAfter) };
}

function failureReason(o: PushOutcome): string {
  return o.reason ?? o.error ?? (o.status ? `HTTP ${o.status}` : 'no response');
}
