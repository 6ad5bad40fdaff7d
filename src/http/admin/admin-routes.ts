// The admin API (v1): every route here requires a principal (the API key, an account's token or
// password, a console session) holding the route's permission (access-hooks.ts), except the API's
// own description (/openapi.json, /docs), which holds nothing secret.
import type { FastifyInstance } from 'fastify';
import type { CommandQueue } from '../../service/command-queue.ts';
import type { DataAssets } from '../../service/data-assets.ts';
import type { DeclarationAdmin } from '../../service/declaration-admin.ts';
import type { DeclarationReads } from '../../service/declaration-reads.ts';
import type { EnrollmentDirectory } from '../../service/enrollment-directory.ts';
import type { Webhooks } from '../../events/webhooks.ts';
import type { PushService } from '../../service/push-service.ts';
import { registerRoutes, type ApiRoute } from './api-route.ts';
import type { Access } from '../../service/access.ts';
import type { Accounts } from '../../service/accounts.ts';
import type { AuditLog } from '../../service/audit-log.ts';
import { accessHooks } from './access-hooks.ts';
import { accountRoutes } from './account-routes.ts';
import { commandRoutes } from './command-routes.ts';
import { declarationRoutes } from './declaration-routes.ts';
import { enrollmentRoutes } from './enrollment-routes.ts';
import { apiErrorHandler } from './errors.ts';
import { kmfddmRoutes } from './kmfddm-routes.ts';
import { issuanceRoutes, type IssuanceRoutesDeps } from './issuance-routes.ts';
import { pushRoutes } from './push-routes.ts';
import { unlisted } from './route-permissions.ts';
import { webhookRoutes } from './webhook-routes.ts';

export interface AdminRoutesOptions {
  access: { access: Access; accounts: Accounts; audit: AuditLog };
  version: string;
  commands: CommandQueue;
  directory: EnrollmentDirectory;
  push: PushService;
  webhooks: Webhooks;
  issuance: IssuanceRoutesDeps;
  declarations: { admin: DeclarationAdmin; reads: DeclarationReads; assets: DataAssets };
}

export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const routes: ApiRoute[] = [
    ...commandRoutes({ commands: opts.commands, push: opts.push }),
    ...enrollmentRoutes({ directory: opts.directory, commands: opts.commands }),
    ...pushRoutes(opts.push),
    ...webhookRoutes(opts.webhooks),
    ...issuanceRoutes(opts.issuance),
    ...kmfddmRoutes(opts.declarations),
    ...declarationRoutes(opts.declarations),
    ...accountRoutes(opts.access),
  ];
  const missing = unlisted(routes);
  if (missing.length > 0) throw new Error(`admin routes without a permission in route-permissions.ts: ${missing.join(', ')}`);

  // Both descriptions are made on first request, not at start: together with their code they are
  // about a megabyte held for a page most servers rarely serve. Each is made once.
  let document: Promise<unknown> | undefined;
  let docs: Promise<string> | undefined;
  app.get('/openapi.json', async () => (document ??= import('./openapi.ts').then((m) => m.openApiDocument(routes, opts.version))));
  app.get('/docs', async (_request, reply) => {
    docs ??= import('./docs-page.ts').then((m) => m.docsPage(routes, opts.version));
    return reply.type('text/html; charset=utf-8').send(await docs);
  });
  // Someone who opens the server's address finds the documentation: browsers are sent there,
  // anything else gets the links.
  app.get('/', async (request, reply) => {
    if ((request.headers.accept ?? '').includes('text/html')) return reply.redirect('/docs');
    return { name: 'Aspen MDM server', version: opts.version, docs: '/docs', openapi: '/openapi.json' };
  });

  await app.register(async (api) => {
    accessHooks(api, opts.access);
    api.setErrorHandler(apiErrorHandler);
    registerRoutes(api, routes);
  }, { prefix: '' });
}
