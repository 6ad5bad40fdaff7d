// KMFDDM's admin API at its own paths, with its status codes (204 a change, 304 none) and shapes,
// so its scripts and mdmdirector-style tools work against Aspen: docs/ddm-kmfddm-compat.md is the
// route-by-route specification, including where Aspen answers a client's mistake with a 4xx where
// KMFDDM has a 500. Errors here are KMFDDM's `{"error": "..."}`. Query parameters are read
// leniently, as KMFDDM's Go handlers do (a repeated one counts once, its first value).
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  kmfddmChangeStatus,
  kmfddmEnrollmentIds,
  kmfddmInvalidDeclaration,
  kmfddmNotifyTargets,
  kmfddmShouldNotify,
  kmfddmStatusReportHeaders,
  kmfddmStatusReportQuery,
  type QueryValue,
} from '../../ddm/index.ts';
import type { DeclarationAdmin } from '../../service/declaration-admin.ts';
import type { DeclarationReads } from '../../service/declaration-reads.ts';
import { defineRoute, type ApiResponseSpec, type ApiRoute } from './api-route.ts';

export interface KmfddmRoutesDeps {
  admin: DeclarationAdmin;
  reads: DeclarationReads;
}

const TAG = 'declarations (KMFDDM-compatible)';

export const kmfddmErrorSchema = z.object({ error: z.string() });
const invalidDeclarationSchema = kmfddmErrorSchema.extend({ errors: z.array(z.object({ path: z.string(), message: z.string() })).describe('every problem, with its key path') });
const payload = z.record(z.string(), z.unknown());
export const declarationBodySchema = z.object({
  Type: z.string().describe('e.g. com.apple.configuration.passcode.settings'),
  Identifier: z.string(),
  Payload: payload.describe("validated against Apple's schema for the Type"),
  ServerToken: z.string().optional().describe('ignored: the server derives tokens from content'),
});
export const declarationDocumentSchema = z.object({ Identifier: z.string(), Type: z.string(), ServerToken: z.string(), Payload: payload });
const names = z.array(z.string());
const reasons = z.array(z.record(z.string(), z.unknown()));
export const kmfddmDeclarationStatusSchema = z.object({
  identifier: z.string(),
  active: z.boolean(),
  valid: z.string(),
  'server-token': z.string(),
  current: z.boolean().describe('the reported token is the one served now'),
  status_received: z.string(),
  status_id: z.string().optional(),
  reasons: reasons.optional(),
});
export const kmfddmStatusErrorSchema = z.object({ path: z.string(), error: z.unknown(), timestamp: z.string(), status_id: z.string().optional() });
export const kmfddmStatusValueSchema = z.object({ path: z.string(), value: z.string(), timestamp: z.string(), status_id: z.string().optional() });

/** A query parameter as Fastify hands it over: absent, once, or repeated. */
const queryValue = z.union([z.string(), z.array(z.string())]).optional();
const nonotify = queryValue.describe('any value but "", 0, false, no or off: change without notifying the enrollments');
const notifyQuery = z.object({ nonotify });
const changed = { 204: { description: 'changed (the affected enrollments are notified unless nonotify)', empty: true }, 304: { description: 'nothing changed', empty: true } };
const idParam = (description: string) => z.object({ id: z.string().describe(description) });
const setParam = z.object({ set: z.string().describe('set name') });
const idsParam = z.object({ ids: z.string().describe('enrollment ids, comma-separated') });

function kmfddmError(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).send({ error });
}

function firstOf(value: QueryValue): string | undefined {
  const first = typeof value === 'string' ? value : value?.[0];
  return first === '' ? undefined : first;
}

function change(reply: FastifyReply, didChange: boolean): FastifyReply {
  return reply.code(kmfddmChangeStatus(didChange)).send();
}

export function kmfddmRoutes({ admin, reads }: KmfddmRoutesDeps): ApiRoute[] {
  /** PUT or DELETE of one association (a set's declaration, an enrollment's set) whose member a
   *  required query parameter names; `apply` says whether it changed anything. */
  const association = (o: {
    method: 'PUT' | 'DELETE';
    path: string;
    summary: string;
    owner: 'set' | 'id';
    member: 'declaration' | 'set';
    apply: (owner: string, member: string, notify: boolean) => Promise<boolean | 'unknown-declaration'>;
  }): ApiRoute =>
    defineRoute({
      method: o.method,
      path: o.path,
      tag: TAG,
      summary: o.summary,
      params: z.object({ [o.owner]: z.string().describe(o.owner === 'set' ? 'set name' : 'enrollment id') }),
      query: z.object({ [o.member]: queryValue.describe(`the ${o.member === 'set' ? 'set name' : 'declaration identifier'} (required)`), nonotify }),
      responses: {
        ...changed,
        400: { description: `no ${o.member} parameter (KMFDDM: 500)`, schema: kmfddmErrorSchema },
        ...(o.method === 'PUT' && o.member === 'declaration' ? { 404: { description: 'no such declaration (KMFDDM: 500)', schema: kmfddmErrorSchema } } : {}),
      } as Record<number, ApiResponseSpec>,
      handler: async ({ params, query }, reply) => {
        const member = firstOf(query[o.member] as QueryValue);
        if (member === undefined) return kmfddmError(reply, 400, `missing ${o.member} parameter`);
        const outcome = await o.apply(params[o.owner]!, member, kmfddmShouldNotify(query.nonotify as QueryValue));
        if (outcome === 'unknown-declaration') return kmfddmError(reply, 404, 'declaration not found');
        return change(reply, outcome);
      },
    });

  return [
    defineRoute({
      method: 'GET',
      path: '/v1/declarations',
      tag: TAG,
      summary: 'Identifiers of all declarations',
      responses: { 200: { description: 'identifiers, sorted', schema: names } },
      handler: async () => admin.list(),
    }),

    defineRoute({
      method: 'PUT',
      path: '/v1/declarations',
      tag: TAG,
      summary: 'Store a declaration (new or changed)',
      description:
        'The body is one declaration as JSON, read as JSON whatever the Content-Type (KMFDDM scripts send none). It is validated ' +
        "against Apple's schema for its Type; a refused one changes nothing. Identical content (same token) answers 304. A change " +
        'notifies the enrollments whose sets hold it unless nonotify.',
      query: notifyQuery,
      body: {
        raw: '{"Type": "com.apple.configuration.passcode.settings", "Identifier": "com.example.passcode", "Payload": {"MinimumLength": 6}}',
        contentType: 'application/json',
        json: declarationBodySchema,
      },
      responses: { ...changed, 400: { description: 'not JSON, or not a valid declaration (every problem with its key path)', schema: invalidDeclarationSchema } },
      handler: async ({ query, body }, reply) => {
        const result = await admin.put(Buffer.isBuffer(body) ? body : Buffer.alloc(0), kmfddmShouldNotify(query.nonotify));
        if (!result.ok) return reply.code(400).send(kmfddmInvalidDeclaration(result.errors));
        return change(reply, result.changed);
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/declarations/{id}',
      tag: TAG,
      summary: 'A declaration, as a device gets it',
      params: idParam('declaration identifier'),
      responses: { 200: { description: 'the declaration with its ServerToken', schema: declarationDocumentSchema }, 404: { description: 'no such declaration', schema: kmfddmErrorSchema } },
      handler: async ({ params }, reply) => (await admin.get(params.id)) ?? kmfddmError(reply, 404, 'declaration not found'),
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/declarations/{id}',
      tag: TAG,
      summary: 'Delete a declaration no set holds',
      params: idParam('declaration identifier'),
      responses: { 204: { description: 'deleted', empty: true }, 304: { description: 'there was no such declaration', empty: true }, 409: { description: 'a set still holds it (KMFDDM: 500)', schema: kmfddmErrorSchema } },
      handler: async ({ params }, reply) => {
        const deleted = await admin.delete(params.id);
        if (deleted.outcome === 'in-sets') return kmfddmError(reply, 409, `declaration is referenced by ${deleted.sets.length} set(s): ${deleted.sets.join(', ')}`);
        return change(reply, deleted.outcome === 'deleted');
      },
    }),

    defineRoute({
      method: 'POST',
      path: '/v1/declarations/{id}/touch',
      tag: TAG,
      summary: 'Give a declaration a new ServerToken, so devices fetch and apply it again',
      params: idParam('declaration identifier'),
      query: notifyQuery,
      responses: { 204: { description: 'touched (notified unless nonotify)', empty: true }, 404: { description: 'no such declaration', schema: kmfddmErrorSchema } },
      handler: async ({ params, query }, reply) => {
        if (!(await admin.touch(params.id, kmfddmShouldNotify(query.nonotify)))) return kmfddmError(reply, 404, 'declaration not found');
        return reply.code(204).send();
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/sets',
      tag: TAG,
      summary: 'Names of the sets that hold declarations',
      responses: { 200: { description: 'set names, sorted', schema: names } },
      handler: async () => admin.sets(),
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/set-declarations/{set}',
      tag: TAG,
      summary: 'The declarations a set holds',
      params: setParam,
      responses: { 200: { description: 'declaration identifiers', schema: names } },
      handler: async ({ params }) => admin.setDeclarations(params.set),
    }),

    association({
      method: 'PUT',
      path: '/v1/set-declarations/{set}',
      summary: 'Add a declaration to a set',
      owner: 'set',
      member: 'declaration',
      apply: async (set, declaration, notify) => {
        const added = await admin.addToSet(set, declaration, notify);
        return added === 'unknown-declaration' ? added : added === 'added';
      },
    }),
    association({ method: 'DELETE', path: '/v1/set-declarations/{set}', summary: 'Remove a declaration from a set', owner: 'set', member: 'declaration', apply: (set, d, notify) => admin.removeFromSet(set, d, notify) }),

    defineRoute({
      method: 'GET',
      path: '/v1/enrollment-sets/{id}',
      tag: TAG,
      summary: 'The sets assigned to an enrollment id',
      description: 'Any id is accepted, also one that has not enrolled yet. Sets assigned to every enrollment are not listed (see GET /v1/ddm/global-sets).',
      params: idParam('enrollment id'),
      responses: { 200: { description: 'set names', schema: names } },
      handler: async ({ params }) => admin.enrollmentSets(params.id),
    }),

    association({ method: 'PUT', path: '/v1/enrollment-sets/{id}', summary: 'Assign a set to an enrollment id (also before it enrolls)', owner: 'id', member: 'set', apply: (id, set, notify) => admin.assign(id, set, notify) }),
    association({ method: 'DELETE', path: '/v1/enrollment-sets/{id}', summary: 'Unassign a set from an enrollment id', owner: 'id', member: 'set', apply: (id, set, notify) => admin.unassign(id, set, notify) }),

    // KMFDDM's server registers the second path, its documentation and scripts the first.
    ...['/v1/enrollment-sets-all/{id}', '/v1/enrollment-sets-all/sets/{id}'].map((path) =>
      defineRoute({
        method: 'DELETE',
        path,
        tag: TAG,
        summary: 'Unassign every set of an enrollment id',
        params: idParam('enrollment id'),
        query: notifyQuery,
        responses: { 204: { description: 'removed some (notified unless nonotify)', empty: true }, 304: { description: 'it had none', empty: true } },
        handler: async ({ params, query }, reply) => change(reply, await admin.unassignAll(params.id, kmfddmShouldNotify(query.nonotify))),
      }),
    ),

    defineRoute({
      method: 'GET',
      path: '/v1/declaration-sets/{id}',
      tag: TAG,
      summary: 'The sets that hold a declaration',
      params: idParam('declaration identifier'),
      responses: { 200: { description: 'set names', schema: names } },
      handler: async ({ params }) => admin.declarationSets(params.id),
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/declaration-status/{ids}',
      tag: TAG,
      summary: 'What each device last reported of its declarations',
      description: 'Keyed by enrollment id (ids without a report are left out); current: the reported token is the one served now. Declarations the device still reports but is no longer assigned are listed too (never current).',
      params: idsParam,
      responses: { 200: { description: 'per enrollment, per declaration', schema: z.record(z.string(), z.array(kmfddmDeclarationStatusSchema)) } },
      handler: async ({ params }) => reads.kmfddmDeclarationStatus(kmfddmEnrollmentIds(params.ids)),
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/status-errors/{ids}',
      tag: TAG,
      summary: 'Errors the status reports carried, oldest first',
      description: "Each report's Errors (path .Errors) and each declaration it reported neither active nor valid (path .StatusItems.management.declarations.<list>). A bounded history: the newest 100 per enrollment.",
      params: idsParam,
      responses: { 200: { description: 'per enrollment', schema: z.record(z.string(), z.array(kmfddmStatusErrorSchema)) } },
      handler: async ({ params }) => reads.kmfddmStatusErrors(kmfddmEnrollmentIds(params.ids)),
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/status-values/{ids}',
      tag: TAG,
      summary: 'The latest value of every reported status item leaf',
      params: idsParam,
      query: z.object({ prefix: queryValue.describe('SQL LIKE pattern on the path: % any run, _ one character, \\ escapes; e.g. .StatusItems.device.%') }),
      responses: { 200: { description: 'per enrollment', schema: z.record(z.string(), z.array(kmfddmStatusValueSchema)) } },
      handler: async ({ params, query }) => reads.kmfddmStatusValues(kmfddmEnrollmentIds(params.ids), firstOf(query.prefix)),
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/status-report/{id}',
      tag: TAG,
      summary: 'A status report exactly as the device sent it',
      description: 'index 0 (the default) is the newest, 1 the one before (the newest 20 are kept); status_id selects by report id. Headers: Last-Modified, X-Status-Report-Index, X-Status-Report-ID.',
      params: idParam('enrollment id'),
      query: z.object({ index: queryValue.describe('non-negative integer'), status_id: queryValue }),
      responses: {
        200: { description: 'the report', raw: 'application/json' },
        400: { description: 'index is not a non-negative integer', schema: kmfddmErrorSchema },
        404: { description: 'no such report', schema: kmfddmErrorSchema },
      },
      handler: async ({ params, query }, reply) => {
        const which = kmfddmStatusReportQuery(query);
        if (!which.ok) return kmfddmError(reply, 400, which.error);
        const stored = await reads.statusReport(params.id, which.statusId !== undefined ? { statusId: which.statusId } : { index: which.index });
        if (stored === undefined) return kmfddmError(reply, 404, 'status report not found');
        reply.headers(kmfddmStatusReportHeaders({ receivedAt: new Date(stored.receivedAt), index: stored.index, statusId: stored.statusId }));
        return reply.code(200).type('application/json').send(Buffer.from(stored.raw));
      },
    }),

    defineRoute({
      method: 'POST',
      path: '/v1/notify',
      tag: TAG,
      summary: 'Sync the enrollments named: through a declaration, a set, or by id',
      description: 'Queues one DeclarativeManagement command per enrollment (none if one is pending) and pushes. Each parameter is repeatable; at least one is required.',
      query: z.object({ declaration: queryValue, set: queryValue, id: queryValue }),
      responses: { 204: { description: 'notified', empty: true }, 400: { description: 'no parameter given (KMFDDM: 500)', schema: kmfddmErrorSchema } },
      handler: async ({ query }, reply) => {
        const targets = kmfddmNotifyTargets(query);
        if (!targets.ok) return kmfddmError(reply, 400, targets.error);
        await admin.notify(targets.targets);
        return reply.code(204).send();
      },
    }),
  ];
}
