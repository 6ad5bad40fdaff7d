// The admin API (v1). Every route here requires the API key.
import type { FastifyInstance } from 'fastify';
import { PlistError } from '../../protocol/plist.ts';
import type { CommandQueue, CommandView } from '../../service/command-queue.ts';
import { DuplicateCommandError } from '../../storage/storage.ts';
import { keyMatches, presentedKey } from './auth.ts';
import { codeForStatus, sendApiError } from './errors.ts';

export interface AdminRoutesOptions {
  apiKey: string;
  commands: CommandQueue;
}

export async function adminRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { commands } = opts;

  app.addHook('onRequest', async (request, reply) => {
    if (!keyMatches(presentedKey(request.headers.authorization), opts.apiKey)) {
      reply.header('www-authenticate', 'Basic realm="aspen", Bearer');
      return sendApiError(reply, 'unauthorized', 'a valid API key is required (Bearer token or Basic password)');
    }
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'admin request failed');
      return sendApiError(reply, 'internal', 'internal server error');
    }
    return sendApiError(reply, codeForStatus(status), err.message);
  });

  // NanoMDM-compatible: the body is a raw command plist, whatever content type the tool sends.
  app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    raw.put<{ Params: { ids: string } }>('/v1/enqueue/:ids', async (request, reply) => {
      const ids = request.params.ids.split(',').filter((id) => id !== '');
      if (ids.length === 0) return sendApiError(reply, 'bad_request', 'no enrollment ids in the path');
      if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
        return sendApiError(reply, 'bad_request', 'the body must be a command plist');
      }
      let result;
      try {
        result = await commands.enqueueRaw(request.body, ids);
      } catch (err) {
        if (err instanceof PlistError) return sendApiError(reply, 'bad_request', err.message);
        if (err instanceof DuplicateCommandError) return sendApiError(reply, 'conflict', err.message);
        throw err;
      }
      const status: Record<string, { queued: boolean; command_error?: string }> = {};
      for (const [id, outcome] of result.outcomes) {
        status[id] = outcome === 'queued' ? { queued: true } : { queued: false, command_error: 'unknown enrollment' };
      }
      const anyQueued = [...result.outcomes.values()].includes('queued');
      return reply.code(anyQueued ? 200 : 404).send({
        command_uuid: result.command.uuid,
        request_type: result.command.requestType,
        status,
        // Push arrives with its own module; until then queueing never pushes.
        no_push: true,
        push_error: 'push is not configured',
      });
    });
  });

  app.get<{ Params: { uuid: string } }>('/v1/commands/:uuid', async (request, reply) => {
    const view = await commands.view(request.params.uuid);
    if (view === undefined) return sendApiError(reply, 'not_found', `no command ${request.params.uuid}`);
    return commandJson(view);
  });
}

function commandJson(view: CommandView) {
  return {
    command_uuid: view.commandUuid,
    request_type: view.requestType,
    created_at: view.createdAt,
    command: view.command,
    targets: view.targets.map((t) => ({
      enrollment_id: t.enrollmentId,
      state: t.state,
      queued_at: t.queuedAt,
      updated_at: t.updatedAt,
      notnow_count: t.notNowCount,
      result: t.result,
      error_chain: t.errorChain,
    })),
  };
}
