// Aspen's own DDM routes, beyond KMFDDM's: declarations' state per enrollment and per declaration,
// sets assigned to every enrollment, and the data assets Aspen hosts for devices.
import { z } from 'zod';
import { kmfddmChangeStatus, kmfddmShouldNotify, type DeclarationState, type DeclarationStatus, type StatusReason } from '../../ddm/index.ts';
import { ASSET_PATH, assetNameProblem, type DataAssets } from '../../service/data-assets.ts';
import type { DeclarationAdmin } from '../../service/declaration-admin.ts';
import { DECLARATION_STATE_NAMES, type DeclarationEnrollmentsView, type DeclarationReads, type EnrollmentDeclarationsView } from '../../service/declaration-reads.ts';
import type { DataAssetInfo } from '../../storage/declarations.ts';
import { defineRoute, type ApiRoute } from './api-route.ts';
import { sendApiError } from './errors.ts';
import { cursorParam, limitParam, nextCursor } from './query-params.ts';

export interface DeclarationRoutesDeps {
  admin: DeclarationAdmin;
  reads: DeclarationReads;
  assets: DataAssets;
}

const timestamp = z.string().describe('ISO 8601 UTC');
const reasonSchema = z.object({ code: z.string(), description: z.string().optional(), details: z.record(z.string(), z.unknown()).optional() });
const reportedSchema = z.object({
  kind: z.string().describe('the manifest list it was reported in: activations, configurations, assets, management'),
  identifier: z.string(),
  server_token: z.string(),
  active: z.boolean(),
  valid: z.enum(['valid', 'invalid', 'unknown']),
  reasons: z.array(reasonSchema),
});
const stateSchema = z.enum(DECLARATION_STATE_NAMES);

export const enrollmentDeclarationsSchema = z.object({
  enrollment_id: z.string(),
  sets: z.array(z.string()).describe('assigned to this enrollment'),
  global_sets: z.array(z.string()).describe('assigned to every enrollment'),
  declarations_token: z.string().describe('of the effective set as it is now'),
  served: z.object({ token: z.string(), changed_at: timestamp }).nullable().describe('the token the device was last served or sent, and since when'),
  last_status_report_at: timestamp.nullable(),
  declarations: z.array(
    z.object({
      identifier: z.string(),
      type: z.string(),
      kind: z.string(),
      server_token: z.string(),
      generated: z.boolean().describe('made by Aspen: an activation for a configuration none activates, or the status subscriptions'),
      state: stateSchema.describe('pending: not reported yet; out-of-date: reported under an older token; failed: invalid or an Error reason; active; inactive: not applied (an Info reason)'),
      reported: reportedSchema.nullable(),
    }),
  ),
  unassigned: z.array(reportedSchema).describe('reported by the device but no longer assigned: it drops them at its next sync'),
  status_values: z.record(z.string(), z.object({ value: z.unknown(), reported_at: timestamp })).describe('the latest value of each status item'),
  client_capabilities: z
    .object({ supported_versions: z.array(z.string()), status_items: z.array(z.string()), declaration_types: z.record(z.string(), z.array(z.string())) })
    .nullable(),
  reference_issues: z.array(z.object({ identifier: z.string(), path: z.string(), message: z.string() })).describe('references that name nothing in the set: the device would fail them'),
});

export const declarationEnrollmentsSchema = z.object({
  declaration: z.object({ identifier: z.string(), type: z.string(), server_token: z.string(), touches: z.number().int(), created_at: timestamp, updated_at: timestamp, payload: z.record(z.string(), z.unknown()) }),
  sets: z.array(z.string()),
  counts: z.record(z.string(), z.number().int()).describe('enrollments it is assigned to, by state'),
  enrollments: z.array(z.object({ enrollment_id: z.string(), state: stateSchema, reported: reportedSchema.nullable() })),
  next_cursor: z.string().nullable(),
});

export const assetSchema = z.object({
  name: z.string(),
  content_type: z.string(),
  sha256: z.string().describe('hex: Reference.Hash-SHA-256'),
  size: z.number().int().describe('bytes: Reference.Size'),
  updated_at: timestamp,
  path: z.string().describe(`where devices fetch it: its DataURL is https://<this server>${ASSET_PATH}<name>`),
});

function reported(s: DeclarationStatus): z.infer<typeof reportedSchema> {
  return { kind: s.kind, identifier: s.identifier, server_token: s.serverToken, active: s.active, valid: s.valid, reasons: s.reasons.map(reason) };
}

function reason(r: StatusReason): z.infer<typeof reasonSchema> {
  return { code: r.code, ...(r.description === undefined ? {} : { description: r.description }), ...(r.details === undefined ? {} : { details: r.details }) };
}

function declarationState(s: DeclarationState): z.infer<typeof enrollmentDeclarationsSchema>['declarations'][number] {
  const d = s.declaration;
  return { identifier: d.identifier, type: d.type, kind: d.kind, server_token: d.serverToken, generated: d.generated, state: s.state, reported: s.reported ? reported(s.reported) : null };
}

function enrollmentJson(v: EnrollmentDeclarationsView): z.infer<typeof enrollmentDeclarationsSchema> {
  const caps = v.clientCapabilities;
  return {
    enrollment_id: v.enrollmentId,
    sets: v.sets,
    global_sets: v.globalSets,
    declarations_token: v.declarationsToken,
    served: v.served && { token: v.served.token, changed_at: v.served.changedAt },
    last_status_report_at: v.lastStatusReportAt,
    declarations: v.declarations.map(declarationState),
    unassigned: v.unassigned.map(reported),
    status_values: Object.fromEntries(Object.entries(v.statusValues).map(([item, r]) => [item, { value: r.value, reported_at: r.reportedAt }])),
    client_capabilities: caps && { supported_versions: caps.supportedVersions, status_items: caps.statusItems, declaration_types: caps.declarationTypes },
    reference_issues: v.referenceIssues,
  };
}

function declarationJson(v: DeclarationEnrollmentsView, limit: number): z.infer<typeof declarationEnrollmentsSchema> {
  const d = v.declaration;
  return {
    declaration: { identifier: d.identifier, type: d.type, server_token: d.serverToken, touches: d.touches, created_at: d.createdAt, updated_at: d.updatedAt, payload: d.payload },
    sets: v.sets,
    counts: v.counts,
    enrollments: v.enrollments.map((e) => ({ enrollment_id: e.enrollmentId, state: e.state, reported: e.reported ? reported(e.reported) : null })),
    next_cursor: nextCursor(v.enrollments, limit, (last) => last.enrollmentId),
  };
}

function assetJson(a: DataAssetInfo): z.infer<typeof assetSchema> {
  return { name: a.name, content_type: a.contentType, sha256: a.sha256, size: a.size, updated_at: a.updatedAt, path: `${ASSET_PATH}${a.name}` };
}

const setParam = z.object({ set: z.string().min(1).describe('set name') });
const assetParam = z.object({ name: z.string().min(1).describe('asset name: letters, digits, ".", "_", "-"') });
const nonotify = z.union([z.string(), z.array(z.string())]).optional().describe('any value but "", 0, false, no or off: change without notifying');

export function declarationRoutes({ admin, reads, assets }: DeclarationRoutesDeps): ApiRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/enrollments/{id}/declarations',
      tag: 'declarations',
      summary: "An enrollment's effective declarations with their state, and its reported status",
      description:
        'The effective set is what its sets and the sets of every enrollment assign, plus the activations and status subscriptions Aspen generates. ' +
        "Each declaration's state comes from the device's last declaration status.",
      params: z.object({ id: z.string().min(1).describe('enrollment id') }),
      responses: { 200: { description: 'the effective set and the status', schema: enrollmentDeclarationsSchema }, 404: { description: 'no such enrollment' } },
      handler: async ({ params }, reply) => {
        const view = await reads.enrollment(params.id);
        if (view === undefined) return sendApiError(reply, 'not_found', `no enrollment ${params.id}`);
        return enrollmentJson(view);
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/declarations/{id}/enrollments',
      tag: 'declarations',
      summary: 'Which enrollments have a declaration in which state, with counts',
      description: 'Enrollments it is assigned to (through their sets or a set of every enrollment), not checked out, by id; counts cover all of them, the list one page.',
      params: z.object({ id: z.string().min(1).describe('declaration identifier') }),
      query: z.object({ state: stateSchema.optional().describe('only enrollments in this state'), cursor: cursorParam('string'), limit: limitParam }),
      responses: { 200: { description: 'counts and a page of enrollments', schema: declarationEnrollmentsSchema }, 400: { description: 'a bad state or cursor' }, 404: { description: 'no such declaration' } },
      handler: async ({ params, query }, reply) => {
        const view = await reads.declaration(params.id, { state: query.state, after: query.cursor, limit: query.limit });
        if (view === undefined) return sendApiError(reply, 'not_found', `no declaration ${params.id}`);
        return declarationJson(view, query.limit);
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/ddm/global-sets',
      tag: 'declarations',
      summary: 'The sets assigned to every enrollment',
      responses: { 200: { description: 'set names', schema: z.array(z.string()) } },
      handler: async () => admin.globalSets(),
    }),

    ...(['PUT', 'DELETE'] as const).map((method) => {
      const assign = method === 'PUT';
      return defineRoute({
        method,
        path: '/v1/ddm/global-sets/{set}',
        tag: 'declarations',
        summary: assign ? 'Assign a set to every enrollment, present and future' : 'Stop assigning a set to every enrollment',
        params: setParam,
        query: z.object({ nonotify }),
        responses: {
          204: { description: `${assign ? 'assigned' : 'unassigned'} (every enrollment is notified unless nonotify)`, empty: true },
          304: { description: assign ? 'it was already' : 'it was not assigned', empty: true },
        },
        handler: async ({ params, query }, reply) => {
          const notify = kmfddmShouldNotify(query.nonotify);
          const changed = assign ? await admin.assignGlobal(params.set, notify) : await admin.unassignGlobal(params.set, notify);
          return reply.code(kmfddmChangeStatus(changed)).send();
        },
      });
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/ddm/assets',
      tag: 'declarations',
      summary: 'The data assets Aspen hosts for devices',
      responses: { 200: { description: 'assets, by name', schema: z.object({ assets: z.array(assetSchema) }) } },
      handler: async () => ({ assets: (await assets.list()).map(assetJson) }),
    }),

    defineRoute({
      method: 'PUT',
      path: '/v1/ddm/assets/{name}',
      tag: 'declarations',
      summary: 'Upload a data asset (the body, as it is; its Content-Type is served with it)',
      description:
        `Devices fetch it at ${ASSET_PATH}<name>, authenticated by their MDM identity, when an asset declaration in their effective set names that URL ` +
        '(Reference.DataURL, with Authentication.Type MDM). Put sha256 and size into the declaration: a device fetches the asset again only when the declaration changes.',
      params: assetParam,
      body: { raw: '<the file>', contentType: 'application/octet-stream' },
      responses: { 200: { description: 'stored (changed: whether it differs from what was stored)', schema: assetSchema.extend({ changed: z.boolean() }) }, 400: { description: 'a bad name or an empty body' } },
      handler: async ({ params, body }, reply, request) => {
        const problem = assetNameProblem(params.name);
        if (problem) return sendApiError(reply, 'bad_request', `name: ${problem}`);
        if (!Buffer.isBuffer(body) || body.length === 0) return sendApiError(reply, 'bad_request', 'the body is the asset: it must not be empty');
        const contentType = request.headers['content-type'] ?? 'application/octet-stream';
        const stored = await assets.put(params.name, contentType, body);
        return { ...assetJson(stored.asset), changed: stored.change !== 'unchanged' };
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/ddm/assets/{name}',
      tag: 'declarations',
      summary: 'Delete a data asset (devices then get 404 for it)',
      params: assetParam,
      responses: { 200: { description: 'deleted', schema: z.object({ deleted: z.literal(true) }) }, 404: { description: 'no such asset' } },
      handler: async ({ params }, reply) => {
        if (!(await assets.delete(params.name))) return sendApiError(reply, 'not_found', `no asset ${params.name}`);
        return { deleted: true as const };
      },
    }),
  ];
}
