// Endpoints for operators: liveness, readiness and Prometheus metrics.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Metrics } from '../observability/metrics.ts';
import type { MaintenanceStore } from '../storage/storage.ts';
import { keyMatches, presentedKey } from './admin/auth.ts';
import { sendApiError } from './admin/errors.ts';

export interface PushCertificateState {
  topic: string;
  notAfter: Date;
}

export interface OperationsRoutesOptions {
  storage: Pick<MaintenanceStore, 'heartbeat'>;
  metrics: Metrics;
  /** The push certificate in use, or null when none is configured. */
  pushCertificate: () => Promise<PushCertificateState | null>;
  /** Set when /metrics needs the API key. */
  metricsApiKey: string | null;
  now?: () => Date;
}

type Checks = Record<string, { ok: boolean; detail: string }>;

export async function operationsRoutes(app: FastifyInstance, opts: OperationsRoutesOptions): Promise<void> {
  const now = opts.now ?? (() => new Date());
  opts.metrics.watchPushCertificate(opts.pushCertificate, now);

  /** The database takes a write, and a push certificate is loaded and not expired (without one,
   *  queued commands never reach devices). */
  async function readiness(log: FastifyBaseLogger): Promise<{ ready: boolean; checks: Checks }> {
    const checks: Checks = {};
    try {
      await opts.storage.heartbeat(now().toISOString());
      checks.database = { ok: true, detail: 'writable' };
    } catch (err) {
      log.error({ err }, 'readiness: database write failed');
      checks.database = { ok: false, detail: `write failed: ${(err as Error).message}` };
    }
    const cert = await opts.pushCertificate();
    if (cert === null) checks.push_certificate = { ok: false, detail: 'no push certificate configured (set APNS_CERT and APNS_KEY, or upload one: aspen pushcert upload)' };
    else if (cert.notAfter <= now()) checks.push_certificate = { ok: false, detail: `expired ${cert.notAfter.toISOString()}` };
    else checks.push_certificate = { ok: true, detail: `topic ${cert.topic}, expires ${cert.notAfter.toISOString()}` };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  // Liveness: the process answers. Nothing else is checked, so a slow disk does not get it killed.
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const { ready, checks } = await readiness(request.log);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  // The start-up line an operator reads: ready, or what is still missing (what /readyz would say).
  app.addHook('onListen', async () => {
    const { ready, checks } = await readiness(app.log);
    const missing = Object.entries(checks).filter(([, c]) => !c.ok);
    if (ready) app.log.info({ checks }, 'ready');
    else app.log.warn({ checks }, `not ready (GET /readyz answers 503): ${missing.map(([name, c]) => `${name}: ${c.detail}`).join('; ')}`);
  });

  app.get('/metrics', async (request, reply) => {
    if (opts.metricsApiKey !== null && !keyMatches(presentedKey(request.headers.authorization), opts.metricsApiKey)) {
      return sendApiError(reply, 'unauthorized', 'a valid API key is required for /metrics');
    }
    return reply.type(opts.metrics.contentType).send(await opts.metrics.render());
  });
}
