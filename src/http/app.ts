// Assembles the HTTP server from its parts. No listening here: main.ts and the tests do that.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Webhooks } from '../events/webhooks.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { CommandQueue } from '../service/command-queue.ts';
import type { DataAssets } from '../service/data-assets.ts';
import type { DeclarationAdmin } from '../service/declaration-admin.ts';
import type { DeclarationReads } from '../service/declaration-reads.ts';
import type { EnrollmentDirectory } from '../service/enrollment-directory.ts';
import type { IssuedIdentities } from '../service/issued-identities.ts';
import type { PushService } from '../service/push-service.ts';
import type { MdmService } from '../service/mdm-service.ts';
import type { AdminRoutesOptions } from './admin/admin-routes.ts';
import { adminRoutes } from './admin/admin-routes.ts';
import { consoleRoutes } from './console/console-routes.ts';
import type { FleetStore } from '../storage/fleet.ts';
import { apiErrorHandler, sendApiError } from './admin/errors.ts';
import { clientError, frameworkError, MAX_PATH_PARAMETER_LENGTH, MAX_REQUEST_HEAD_BYTES, refuseWhileClosing } from './framework-errors.ts';
import { deviceRoutes } from './device-routes.ts';
import { enrollmentRoutes, type EnrollmentRoutesOptions } from './enrollment-routes.ts';
import { lazySchemaCompilers } from './lazy-schema-compilers.ts';
import { operationsRoutes, type OperationsRoutesOptions } from './operations-routes.ts';

export interface AppDeps {
  service: MdmService;
  commands: CommandQueue;
  directory: EnrollmentDirectory;
  push: PushService;
  webhooks: Webhooks;
  enrollment: EnrollmentRoutesOptions;
  identities: IssuedIdentities;
  declarations: { admin: DeclarationAdmin; reads: DeclarationReads; assets: DataAssets };
  metrics: Metrics;
  operations: Omit<OperationsRoutesOptions, 'metrics'>;
  /** What the web console reads directly (its summary and device search); the rest it asks the API. */
  console: { fleet: FleetStore };
  /** Who may call the admin API, and its audit log. */
  access: AdminRoutesOptions['access'];
  /** Serve HTTPS, asking (not requiring) each client for a certificate: device-auth decides. */
  tls: { certPem: string; keyPem: string } | null;
  deviceCertHeader: string | undefined;
  bodyLimit: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  logger: Logger;
  version: string;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const https = deps.tls && {
    cert: deps.tls.certPem,
    key: deps.tls.keyPem,
    requestCert: true,
    rejectUnauthorized: false,
    maxHeaderSize: MAX_REQUEST_HEAD_BYTES,
  };
  // The https variant of Fastify's instance type differs only in its raw server type.
  const app = Fastify({
    ...(https ? { https } : { http: { maxHeaderSize: MAX_REQUEST_HEAD_BYTES } }),
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Device requests get one summary line each (device-routes.ts); Fastify's two generic lines
    // per request would only repeat it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit,
    requestTimeout: deps.requestTimeoutMs,
    // A ServerURL written with a trailing slash must still reach /mdm: anything else a device
    // gets back (a 404, or worse) stops its management.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_PARAMETER_LENGTH },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
    return503OnClosing: false,
    schemaController: lazySchemaCompilers,
  }) as unknown as FastifyInstance;
  app.server.headersTimeout = deps.headersTimeoutMs;
  app.setErrorHandler(apiErrorHandler);
  refuseWhileClosing(app);
  await app.register(deviceRoutes, { service: deps.service, assets: deps.declarations.assets, metrics: deps.metrics, deviceCertHeader: deps.deviceCertHeader, bodyLimit: deps.bodyLimit });
  await app.register(operationsRoutes, { ...deps.operations, metrics: deps.metrics });
  await app.register(enrollmentRoutes, deps.enrollment);
  await app.register(adminRoutes, {
    access: deps.access,
    version: deps.version,
    commands: deps.commands,
    directory: deps.directory,
    push: deps.push,
    webhooks: deps.webhooks,
    issuance: { invites: deps.enrollment.invites, identities: deps.identities },
    declarations: deps.declarations,
  });
  await app.register(consoleRoutes, { access: deps.access.access, fleet: deps.console.fleet, root: () => app });
  app.get('/version', async () => ({ version: deps.version }));
  // Unknown paths are a plain 404 for everyone: behind the admin API's key check they would be a
  // 401, and a device that gets a 401 removes its MDM profile.
  app.setNotFoundHandler(async (request, reply) => sendApiError(reply, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  return app;
}
