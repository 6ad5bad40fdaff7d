// Admin routes for built-in enrollment: invites (one-time links to an enrollment profile), the
// identities Aspen issued through SCEP, revoking one, and the renewal report.
import { z } from 'zod';
import { EnrollmentUnavailableError } from '../../service/enrollment-profiles.ts';
import { InviteRequestError, MAX_INVITE_DAYS, type Invites } from '../../service/invites.ts';
import type { IssuedIdentities } from '../../service/issued-identities.ts';
import { INVITE_STATES } from '../../storage/issuance.ts';
import { defineRoute, type ApiRoute } from './api-route.ts';
import {
  createdInviteJson,
  createdInviteSchema,
  inviteJson,
  inviteSchema,
  issuedIdentityJson,
  issuedIdentitySchema,
  renewalJson,
  renewalSchema,
} from './enrollment-views.ts';
import { sendApiError } from './errors.ts';
import { cursorParam, flagParam, limitParam, nextCursor } from './query-params.ts';

export interface IssuanceRoutesDeps {
  invites: Invites;
  identities: IssuedIdentities;
}

const isoTime = z.iso.datetime({ offset: true }).transform((t) => new Date(t));
/** Two-part positions ("<time>|<id>") travel as one opaque cursor string. */
const pairCursor = cursorParam('string').transform((value, ctx) => {
  if (value === undefined) return undefined;
  const [time, id] = value.split('|');
  if (time !== undefined && id !== undefined) return [time, id] as const;
  ctx.addIssue({ code: 'custom', message: 'not a cursor from this API' });
  return z.NEVER;
});
/** Serials as X509Certificate and this API spell them: uppercase hex (colons and case forgiven). */
const serialParam = z.object({
  serial: z
    .string()
    .transform((s) => s.replaceAll(':', '').toUpperCase())
    .pipe(z.string().regex(/^[0-9A-F]{1,64}$/, 'a certificate serial number in hex')),
});

export function issuanceRoutes({ invites, identities }: IssuanceRoutesDeps): ApiRoute[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/enrollment-invites',
      tag: 'enrollment',
      summary: 'Create an invite: a link to an enrollment profile with a challenge of its own',
      description:
        'Opening `url` on a device downloads its profile (downloading uses nothing); each identity issued through SCEP with the ' +
        "invite's challenge uses one of `max_uses`. The token and challenge are shown only in this answer. Needs PUBLIC_URL.",
      body: z
        .object({
          label: z.string().min(1).max(200).optional().describe('for you: who or what the invite is for'),
          expires_at: isoTime.optional().describe(`default: in 7 days; at most ${MAX_INVITE_DAYS} days away`),
          max_uses: z.number().int().min(1).max(100_000).default(1),
          assign: z
            .object({ sets: z.array(z.string().min(1)).max(100).optional(), tags: z.array(z.string().min(1)).max(100).optional() })
            .strict()
            .optional()
            .describe('kept with the invite for Declarative Device Management'),
        })
        .strict(),
      responses: {
        201: { description: 'created', schema: createdInviteSchema },
        400: { description: 'a bad field, or an expiry in the past or too far away' },
        409: { description: 'PUBLIC_URL is not set' },
      },
      handler: async ({ body }, reply) => {
        try {
          const created = await invites.create({
            ...(body.label !== undefined && { label: body.label }),
            ...(body.expires_at !== undefined && { expiresAt: body.expires_at }),
            maxUses: body.max_uses,
            ...(body.assign !== undefined && { assign: body.assign }),
          });
          return reply.code(201).send(createdInviteJson(created));
        } catch (err) {
          if (err instanceof InviteRequestError) return sendApiError(reply, 'bad_request', `body.${err.message}`);
          if (err instanceof EnrollmentUnavailableError) return sendApiError(reply, 'conflict', err.message);
          throw err;
        }
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/enrollment-invites',
      tag: 'enrollment',
      summary: 'List invites, newest first',
      query: z.object({ state: z.enum(INVITE_STATES).optional(), cursor: pairCursor, limit: limitParam }),
      responses: {
        200: { description: 'a page of invites', schema: z.object({ invites: z.array(inviteSchema), next_cursor: z.string().nullable() }) },
        400: { description: 'a bad filter or cursor' },
      },
      handler: async ({ query }) => {
        const before = query.cursor && { createdAt: query.cursor[0], id: query.cursor[1] };
        const page = await invites.list(query.state, { ...(before && { before }), limit: query.limit });
        return { invites: page.map((i) => inviteJson(i)), next_cursor: nextCursor(page, query.limit, (last) => `${last.createdAt}|${last.id}`) };
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/enrollment-invites/{id}',
      tag: 'enrollment',
      summary: 'Revoke an invite: its link and challenge stop working',
      description: 'Identities already issued through it stay valid (revoke those with POST /v1/identities/{serial}/revoke).',
      params: z.object({ id: z.string().min(1) }),
      responses: { 200: { description: 'the revoked invite', schema: inviteSchema }, 404: { description: 'no such invite' } },
      handler: async ({ params }, reply) => {
        const revoked = await invites.revoke(params.id);
        if (revoked === undefined || revoked.renews !== null) return sendApiError(reply, 'not_found', `no invite ${params.id}`);
        return inviteJson(revoked);
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/identities',
      tag: 'identities',
      summary: 'Identities Aspen issued through SCEP, soonest expiry first',
      query: z.object({
        expiring_before: isoTime.optional(),
        device_id: z.string().optional(),
        revoked: z
          .enum(['0', '1', 'true', 'false'])
          .optional()
          .transform((v) => (v === undefined ? undefined : v === '1' || v === 'true'))
          .describe('1: only revoked ones; 0: only those not revoked'),
        cursor: pairCursor,
        limit: limitParam,
      }),
      responses: {
        200: { description: 'a page of identities', schema: z.object({ identities: z.array(issuedIdentitySchema), next_cursor: z.string().nullable() }) },
        400: { description: 'a bad filter or cursor' },
      },
      handler: async ({ query }) => {
        const after = query.cursor && { notAfter: query.cursor[0], serial: query.cursor[1] };
        const page = await identities.list(
          {
            ...(query.expiring_before && { expiringBefore: query.expiring_before.toISOString() }),
            ...(query.device_id !== undefined && { deviceId: query.device_id }),
            ...(query.revoked !== undefined && { revoked: query.revoked }),
          },
          { ...(after && { after }), limit: query.limit },
        );
        return { identities: page.map(issuedIdentityJson), next_cursor: nextCursor(page, query.limit, (last) => `${last.notAfter}|${last.serial}`) };
      },
    }),

    defineRoute({
      method: 'POST',
      path: '/v1/identities/{serial}/revoke',
      tag: 'identities',
      summary: 'Revoke an identity: the device holding it is refused from now on',
      description:
        'Refused at once by this instance, and by the others once their cached binding runs out (IDENTITY_CACHE_SECONDS). ' +
        'The device can no longer renew it either; to manage it again, give it a new invite.',
      params: serialParam,
      responses: { 200: { description: 'the revoked identity', schema: issuedIdentitySchema }, 400: { description: 'not a serial number' }, 404: { description: 'no such identity' } },
      handler: async ({ params }, reply) => {
        const revoked = await identities.revoke(params.serial);
        if (revoked === undefined) return sendApiError(reply, 'not_found', `no identity with serial ${params.serial}`);
        return issuedIdentityJson(revoked);
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/identity-renewals',
      tag: 'identities',
      summary: 'Devices whose identity expires soon, and where each renewal stands',
      description:
        "Each enrolled device whose current Aspen-issued identity expires within `within_days` (default IDENTITY_RENEW_BEFORE_DAYS), " +
        'expired ones included. `stuck`: the renewal was queued and is not done; `stuck=1` lists only those.',
      query: z.object({ within_days: z.coerce.number().min(0).max(3650).optional(), stuck: flagParam }),
      responses: { 200: { description: 'the report', schema: z.object({ renewals: z.array(renewalSchema) }) }, 400: { description: 'a bad parameter' } },
      handler: async ({ query }) => {
        const all = await identities.renewals(query.within_days);
        return { renewals: all.filter((r) => !query.stuck || r.stuck).map(renewalJson) };
      },
    }),
  ];
}
