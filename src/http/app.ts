// Assembles the HTTP server from its parts. No listening here: main.ts and the tests do that.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CommandQueue } from '../service/command-queue.ts';
import type { EnrollmentDirectory } from '../service/enrollment-directory.ts';
import type { PushGateway } from '../service/push-gateway.ts';
import type { MdmService } from '../service/mdm-service.ts';
import { adminRoutes } from './admin/admin-routes.ts';
import { deviceRoutes } from './device-routes.ts';

export interface AppDeps {
  service: MdmService;
  commands: CommandQueue;
  directory: EnrollmentDirectory;
  push: PushGateway | null;
  apiKey: string;
  bodyLimit: number;
  logger: Logger;
  version: string;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Device requests get one summary line each (device-routes.ts); Fastify's two generic lines
    // per request would only repeat it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit,
  });
  await app.register(deviceRoutes, { service: deps.service });
  await app.register(adminRoutes, {
    apiKey: deps.apiKey,
    version: deps.version,
    commands: deps.commands,
    directory: deps.directory,
    push: deps.push,
  });
  app.get('/version', async () => ({ version: deps.version }));
  return app;
}
