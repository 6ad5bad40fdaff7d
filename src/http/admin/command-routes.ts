// Admin routes for commands: JSON commands for every MDM command, NanoMDM-compatible raw enqueue,
// and reading a command's per-enrollment results.
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { releaseHeapSoon } from '../../heap-release.ts';
import { COMMAND_UUID_RULE } from '../../protocol/command-envelope.ts';
import { PlistError } from '../../protocol/plist.ts';
import type { CommandQueue, TargetOutcome } from '../../service/command-queue.ts';
import type { EnrollmentPushResult, PushGateway } from '../../service/push-gateway.ts';
import { DuplicateCommandError, TARGET_STATES } from '../../storage/storage.ts';
import { COMMAND_SCHEMA_REF, defineRoute, type ApiRoute } from './api-route.ts';
import { sendApiError } from './errors.ts';
import { nanoPushStatus } from './push-routes.ts';
import { cursorParam, flagParam, limitParam, nextCursor } from './query-params.ts';
import { commandJson, commandSchema, commandSummary, commandSummarySchema } from './views.ts';

export interface CommandRoutesDeps {
  commands: CommandQueue;
  push: PushGateway;
}

const pushResultSchema = z.object({ status: z.enum(['pushed', 'failed', 'skipped']), reason: z.string().optional(), apns_id: z.string().optional() });

const submitBody = z
  .object({
    targets: z.array(z.string().min(1)).min(1).max(100_000).describe('enrollment ids'),
    command: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({
        description: 'the Command dictionary as JSON, e.g. {"RequestType": "DeviceInformation", "Queries": ["SerialNumber"]}; data as base64, dates as ISO 8601',
        // The document links the per-RequestType schemas, which validation applies (validate.ts).
        $ref: COMMAND_SCHEMA_REF,
      }),
    plist: z.string().optional().describe('alternatively, a whole command plist ({CommandUUID?, Command})'),
    command_uuid: z
      .string()
      .max(COMMAND_UUID_RULE.maxLength)
      .regex(COMMAND_UUID_RULE.pattern, `must be ${COMMAND_UUID_RULE.description}`)
      .optional()
      .describe(`chosen by the client (${COMMAND_UUID_RULE.description}, as a CommandUUID in a plist); a duplicate is refused with 409`),
    push: z.boolean().default(true),
  })
  .strict();

export const submitResponse = z.object({
  command_uuid: z.string(),
  request_type: z.string(),
  targets: z.record(
    z.string(),
    z.object({
      status: z.enum(['queued', 'unknown_enrollment', 'not_allowed']),
      reason: z.string().optional(),
      push: pushResultSchema.optional(),
    }),
  ),
  push_error: z.string().optional(),
});

const enqueueResponse = z.object({
  command_uuid: z.string(),
  request_type: z.string(),
  status: z.record(z.string(), z.object({ queued: z.boolean(), command_error: z.string().optional(), push_result: z.string().optional(), push_error: z.string().optional() })),
  no_push: z.boolean().optional(),
  push_error: z.string().optional(),
});

/** Targets from which a command request's garbage is given back at once (heap-release.ts): about 2 KB
 *  is allocated per target, so 50 MB and up, against one collection of 20-35 ms. */
export const LARGE_FAN_OUT = 25_000;

const PUSH_NOT_CONFIGURED = 'push is not configured (no push certificate)';

export function commandRoutes({ commands, push }: CommandRoutesDeps): ApiRoute[] {
  /** Pushes the ids that were queued, if asked and possible. */
  async function pushQueued(ids: string[], wanted: boolean): Promise<{ results?: Map<string, EnrollmentPushResult>; error?: string }> {
    if (!wanted || ids.length === 0) return {};
    if (!(await push.configured())) return { error: PUSH_NOT_CONFIGURED };
    return { results: await push.push(ids) };
  }

  return [
    defineRoute({
      method: 'POST',
      path: '/v1/commands',
      tag: 'commands',
      summary: 'Queue a command (JSON or plist) to enrollments',
      description:
        'Validates the command against the schema of its RequestType and each target against the platforms and channels ' +
        'the command supports, queues it to every target that may run it, and pushes those unless push is false.',
      body: submitBody,
      responses: {
        201: { description: 'queued to at least one target; per-target outcomes', schema: submitResponse },
        400: { description: 'the command or request is invalid (details lists each problem with its key path)' },
        409: { description: 'command_uuid already exists' },
        422: { description: 'no target could take the command (details has the per-target outcomes)' },
      },
      handler: async ({ body }, reply) => {
        // However it ends (queued, refused, the client gone), such a request leaves megabytes of garbage.
        if (body.targets.length >= LARGE_FAN_OUT) reply.raw.once('close', releaseHeapSoon);
        let result;
        try {
          result = await commands.submit({ targets: body.targets, command: body.command, plist: body.plist, commandUuid: body.command_uuid });
        } catch (err) {
          if (err instanceof DuplicateCommandError) return sendApiError(reply, 'conflict', err.message);
          // What the schema check lets through but the device could not read (a <date> that is
          // no date under a schema-free key), or a CommandUUID outside the rule.
          if (err instanceof PlistError) return refusePlist(reply, err);
          throw err;
        }
        if (!result.ok) {
          const message = result.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
          return sendApiError(reply, 'bad_request', message, result.errors);
        }
        // One pass and no per-target copies: with 100,000 targets each intermediate array is
        // megabytes of garbage held to the end of the request (bench figure 11). No prototype, so
        // that an enrollment id such as "__proto__" is a key like any other.
        const targets: Record<string, ReturnType<typeof outcomeJson>> = Object.create(null);
        const queued: string[] = [];
        for (const [id, outcome] of result.targets) {
          targets[id] = outcomeJson(outcome);
          if (outcome.status === 'queued') queued.push(id);
        }
        if (queued.length === 0) return sendApiError(reply, 'unprocessable', 'no target could take this command', targets);
        const pushed = await pushQueued(queued, body.push);
        for (const [id, r] of pushed.results ?? []) {
          targets[id] = { ...targets[id]!, push: { status: r.status, ...(r.reason ? { reason: r.reason } : {}), ...(r.apnsId ? { apns_id: r.apnsId } : {}) } };
        }
        return reply.code(201).send({
          command_uuid: result.command.uuid,
          request_type: result.command.requestType,
          targets,
          ...(pushed.error ? { push_error: pushed.error } : {}),
        });
      },
    }),

    defineRoute({
      method: 'PUT',
      path: '/v1/enqueue/{ids}',
      tag: 'commands',
      summary: 'Queue a raw command plist (NanoMDM-compatible)',
      description:
        'The body is a command plist; a missing CommandUUID is generated. Only the envelope is checked (CommandUUID, ' +
        'Command.RequestType), so commands newer than the schema pass. Pushes the queued ids unless nopush=1.',
      params: z.object({ ids: z.string().min(1).describe('comma-separated enrollment ids') }),
      query: z.object({ nopush: flagParam }),
      body: { raw: '<?xml version="1.0"?><plist version="1.0"><dict><key>Command</key><dict><key>RequestType</key><string>ProfileList</string></dict></dict></plist>' },
      responses: {
        200: { description: 'queued to at least one id; per-id outcomes', schema: enqueueResponse },
        400: { description: 'not a command plist' },
        404: { description: 'none of the ids is a known enrollment (details: the per-id status)' },
        409: { description: 'CommandUUID already exists' },
      },
      handler: async ({ params, query, body }, reply) => {
        const ids = params.ids.split(',').filter((id) => id !== '');
        if (ids.length === 0) return sendApiError(reply, 'bad_request', 'no enrollment ids in the path');
        if (!Buffer.isBuffer(body) || body.length === 0) return sendApiError(reply, 'bad_request', 'the body must be a command plist');
        let result;
        try {
          result = await commands.enqueueRaw(body, ids);
        } catch (err) {
          if (err instanceof PlistError) return refusePlist(reply, err);
          if (err instanceof DuplicateCommandError) return sendApiError(reply, 'conflict', err.message);
          throw err;
        }
        const queued = [...result.outcomes].filter(([, o]) => o === 'queued').map(([id]) => id);
        const pushed = await pushQueued(queued, !query.nopush);
        const pushStatus = pushed.results ? nanoPushStatus(pushed.results) : {};
        const status: z.infer<typeof enqueueResponse>['status'] = {};
        for (const [id, outcome] of result.outcomes) {
          status[id] = outcome === 'queued' ? { queued: true, ...pushStatus[id] } : { queued: false, command_error: 'unknown enrollment' };
        }
        if (queued.length === 0) return sendApiError(reply, 'not_found', 'none of the ids is a known enrollment; nothing was queued', status);
        return {
          command_uuid: result.command.uuid,
          request_type: result.command.requestType,
          status,
          ...(query.nopush ? { no_push: true } : {}),
          ...(pushed.error ? { push_error: pushed.error } : {}),
        };
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/commands',
      tag: 'commands',
      summary: 'Recent commands, newest first, with how many targets are in each state',
      description:
        'Filter by request_type, by state (commands with at least one target in it), by target (an enrollment id) and ' +
        'since (created at or after). Pass next_cursor back as cursor for the next page; it is null on the last page.',
      query: z.object({
        request_type: z.string().optional(),
        state: z.enum(TARGET_STATES).optional(),
        target: z.string().optional().describe('an enrollment id'),
        since: z.iso.datetime({ offset: true }).transform((t) => new Date(t).toISOString()).optional(),
        cursor: cursorParam('string'),
        limit: limitParam,
      }),
      responses: {
        200: { description: 'a page of commands', schema: z.object({ commands: z.array(commandSummarySchema), next_cursor: z.string().nullable() }) },
        400: { description: 'a bad filter or cursor' },
      },
      handler: async ({ query }, reply) => {
        const before = query.cursor === undefined ? undefined : listPosition(query.cursor);
        if (before === null) return sendApiError(reply, 'bad_request', 'query.cursor: not a cursor from this API');
        const page = await commands.list(
          { requestType: query.request_type, state: query.state, target: query.target, since: query.since },
          { before, limit: query.limit },
        );
        return { commands: page.map(commandSummary), next_cursor: nextCursor(page, query.limit, (last) => `${last.createdAt} ${last.uuid}`) };
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/commands/{uuid}',
      tag: 'commands',
      summary: "A command and each target's state and result",
      description: 'Targets are ordered by enrollment id and paged: pass next_cursor back as cursor; it is null on the last page.',
      params: z.object({ uuid: z.string().min(1) }),
      query: z.object({ cursor: cursorParam('string'), limit: limitParam }),
      responses: {
        200: { description: 'the command', schema: commandSchema.extend({ next_cursor: z.string().nullable() }) },
        400: { description: 'a bad cursor' },
        404: { description: 'no such command' },
      },
      handler: async ({ params, query }, reply) => {
        const view = await commands.view(params.uuid, { after: query.cursor, limit: query.limit });
        if (view === undefined) return sendApiError(reply, 'not_found', `no command ${params.uuid}`);
        return { ...commandJson(view), next_cursor: nextCursor(view.targets, query.limit, (last) => last.enrollmentId) };
      },
    }),
  ];
}

/** A 400 for a command plist, with its key path in `details` as schema problems have it. */
function refusePlist(reply: FastifyReply, err: PlistError): FastifyReply {
  return sendApiError(reply, 'bad_request', err.message, err.keyPath === undefined ? undefined : [{ path: err.keyPath, message: err.reason }]);
}

type OutcomeJson = { readonly status: TargetOutcome['status']; readonly reason?: string; readonly push?: z.infer<typeof pushResultSchema> };
/** Shared by every target with that outcome (never changed: a push result makes a new one). */
const OUTCOME_JSON = { queued: { status: 'queued' }, unknown_enrollment: { status: 'unknown_enrollment' } } as const satisfies Record<string, OutcomeJson>;

function outcomeJson(o: TargetOutcome): OutcomeJson {
  return o.status === 'not_allowed' ? { status: o.status, reason: o.reason } : OUTCOME_JSON[o.status];
}

/** A command listing's cursor holds the last command's creation time and uuid; null when it does not. */
function listPosition(position: string): { createdAt: string; uuid: string } | null {
  const space = position.indexOf(' ');
  return space === -1 ? null : { createdAt: position.slice(0, space), uuid: position.slice(space + 1) };
}
