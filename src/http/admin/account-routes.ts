// Admin routes for accounts, API tokens and the audit log. Who may call them is in
// route-permissions.ts like every route's; a token is the caller's own unless an admin names
// another account.
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../../service/access.ts';
import { AccountError, type Accounts } from '../../service/accounts.ts';
import type { AuditLog } from '../../service/audit-log.ts';
import { roleHolds } from '../../service/permissions.ts';
import { ROLES, type Account, type ApiToken } from '../../storage/accounts.ts';
import type { AuditEntry } from '../../storage/audit.ts';
import { principalOf } from './access-hooks.ts';
import { defineRoute, type ApiRoute } from './api-route.ts';
import { sendApiError } from './errors.ts';
import { cursorParam, limitParam, nextCursor } from './query-params.ts';

export interface AccountRoutesDeps {
  accounts: Accounts;
  audit: AuditLog;
}

const timestamp = z.string().describe('ISO 8601 UTC');
const role = z.enum(ROLES);

const accountSchema = z.object({ id: z.string(), name: z.string(), role, created_at: timestamp, updated_at: timestamp, password_changed_at: timestamp });
const tokenSchema = z.object({
  id: z.string(),
  account: z.string().describe("the account whose role it has"),
  name: z.string().nullable(),
  created_at: timestamp,
  created_by: z.string(),
  expires_at: timestamp.nullable(),
  last_used_at: timestamp.nullable().describe('to the minute'),
});
const auditSchema = z.object({
  seq: z.number().int(),
  at: timestamp,
  actor: z.string().describe('an account name, api-key, or the OS user for via cli'),
  via: z.string().describe('api-key, token, basic, session, cli'),
  account_id: z.string().nullable(),
  credential: z.string().nullable().describe("the API token's id, for via token"),
  action: z.string(),
  method: z.string().nullable(),
  path: z.string().nullable(),
  status: z.number().int(),
  outcome: z.enum(['ok', 'refused', 'error']),
  targets: z.array(z.object({ kind: z.string(), id: z.string() })),
  details: z.record(z.string(), z.unknown()).nullable(),
  client_address: z.string().nullable(),
});

const accountJson = (a: Account) => ({ id: a.id, name: a.name, role: a.role, created_at: a.createdAt, updated_at: a.updatedAt, password_changed_at: a.passwordChangedAt });
const tokenJson = (t: ApiToken) => ({
  id: t.id,
  account: t.accountName,
  name: t.name,
  created_at: t.createdAt,
  created_by: t.createdBy,
  expires_at: t.expiresAt,
  last_used_at: t.lastUsedAt,
});
const auditJson = (e: AuditEntry) => ({
  seq: e.seq,
  at: e.at,
  actor: e.actor,
  via: e.via,
  account_id: e.accountId,
  credential: e.credential,
  action: e.action,
  method: e.method,
  path: e.path,
  status: e.status,
  outcome: e.outcome,
  targets: e.targets,
  details: e.details,
  client_address: e.clientAddress,
});

function refuse(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof AccountError) return sendApiError(reply, err.kind, err.message);
  throw err;
}

const isAdmin = (p: Principal) => roleHolds(p.role, 'accounts.manage');
const isoTime = z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString());

export function accountRoutes({ accounts, audit }: AccountRoutesDeps): ApiRoute[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/tokens',
      tag: 'accounts',
      summary: 'Create an API token with an account’s role (the token is shown this once)',
      description: 'The token is the caller’s own; an admin may name another account (the bootstrap API key must name one).',
      body: z
        .object({
          name: z.string().max(200).optional().describe('what it is for'),
          account: z.string().optional().describe('whose token it is (admins only; default: the caller)'),
          expires_at: isoTime.optional().describe('when it stops working (default: never)'),
        })
        .strict(),
      responses: {
        201: { description: 'created; `token` is shown this once', schema: tokenSchema.extend({ token: z.string().describe('send as Authorization: Bearer <token>') }) },
        400: { description: 'a bad body, or no account named with the API key' },
        403: { description: 'naming another account without the admin role' },
        404: { description: 'no such account' },
      },
      handler: async ({ body }, reply, request) => {
        const principal = principalOf(request);
        const named = body.account;
        if (named === undefined && principal.accountId === null) return sendApiError(reply, 'bad_request', 'body.account: the API key has no account of its own; name the account the token is for');
        try {
          const account = await accounts.byName(named ?? principal.actor);
          if (account.id !== principal.accountId && !isAdmin(principal)) return sendApiError(reply, 'forbidden', 'only an admin makes tokens for another account');
          if (body.expires_at !== undefined && Date.parse(body.expires_at) <= Date.now()) return sendApiError(reply, 'bad_request', 'body.expires_at: is in the past');
          const created = await accounts.createToken(account, { name: body.name ?? null, expiresAt: body.expires_at === undefined ? null : new Date(body.expires_at), createdBy: principal.actor });
          return reply.code(201).send({ ...tokenJson(created.token), token: created.value });
        } catch (err) {
          return refuse(reply, err);
        }
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/tokens',
      tag: 'accounts',
      summary: 'API tokens, newest first: the caller’s own (an admin’s: everyone’s, or one account’s)',
      query: z.object({ account: z.string().optional().describe('only this account’s (admins)') }),
      responses: { 200: { description: 'the tokens (never their values)', schema: z.object({ tokens: z.array(tokenSchema) }) }, 404: { description: 'no such account' } },
      handler: async ({ query }, reply, request) => {
        const principal = principalOf(request);
        try {
          const accountId = isAdmin(principal) ? (query.account === undefined ? undefined : (await accounts.byName(query.account)).id) : principal.accountId!;
          return { tokens: (await accounts.listTokens(accountId)).map(tokenJson) };
        } catch (err) {
          return refuse(reply, err);
        }
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/tokens/{id}',
      tag: 'accounts',
      summary: 'Revoke an API token: it stops working at once',
      params: z.object({ id: z.string().min(1) }),
      responses: { 200: { description: 'the revoked token', schema: tokenSchema }, 404: { description: 'no such token (of the caller’s, unless an admin)' } },
      handler: async ({ params }, reply, request) => {
        const principal = principalOf(request);
        const token = await accounts.tokenById(params.id);
        // Someone else's token is as unknown to a non-admin as one that does not exist.
        if (token === undefined || (token.accountId !== principal.accountId && !isAdmin(principal))) return sendApiError(reply, 'not_found', `no token ${params.id}`);
        const revoked = await accounts.revokeToken(params.id);
        if (revoked === undefined) return sendApiError(reply, 'not_found', `no token ${params.id}`);
        return tokenJson(revoked);
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/accounts',
      tag: 'accounts',
      summary: 'Admin accounts and their roles',
      responses: { 200: { description: 'every account, by name', schema: z.object({ accounts: z.array(accountSchema) }) } },
      handler: async () => ({ accounts: (await accounts.list()).map(accountJson) }),
    }),

    defineRoute({
      method: 'POST',
      path: '/v1/accounts',
      tag: 'accounts',
      summary: 'Add an account',
      body: z.object({ name: z.string(), role, password: z.string() }).strict(),
      responses: {
        201: { description: 'the account', schema: accountSchema },
        400: { description: 'a bad name or a password too short or long' },
        409: { description: 'the name is taken' },
      },
      handler: async ({ body }, reply) => {
        try {
          return reply.code(201).send(accountJson(await accounts.add(body.name, body.role, body.password)));
        } catch (err) {
          return refuse(reply, err);
        }
      },
    }),

    defineRoute({
      method: 'PATCH',
      path: '/v1/accounts/{name}',
      tag: 'accounts',
      summary: 'Change an account’s role or password (a new password ends its console sessions)',
      params: z.object({ name: z.string().min(1) }),
      body: z.object({ role: role.optional(), password: z.string().optional() }).strict(),
      responses: { 200: { description: 'the account', schema: accountSchema }, 400: { description: 'a bad password' }, 404: { description: 'no such account' } },
      handler: async ({ params, body }, reply) => {
        try {
          return accountJson(await accounts.change(params.name, body));
        } catch (err) {
          return refuse(reply, err);
        }
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/accounts/{name}',
      tag: 'accounts',
      summary: 'Remove an account with its tokens and sessions',
      params: z.object({ name: z.string().min(1) }),
      responses: { 200: { description: 'the removed account', schema: accountSchema }, 404: { description: 'no such account' } },
      handler: async ({ params }, reply) => {
        try {
          return accountJson(await accounts.remove(params.name));
        } catch (err) {
          return refuse(reply, err);
        }
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/audit',
      tag: 'accounts',
      summary: 'The audit log, newest first: every change anyone made or tried through the API or console',
      description: 'Reads are not logged. Refused changes (4xx) are, with their status.',
      query: z.object({
        actor: z.string().optional(),
        action: z.string().optional().describe('e.g. command.queue, webhook.create'),
        target: z.string().optional().describe('an enrollment id, command UUID, webhook id, …'),
        since: isoTime.optional(),
        until: isoTime.optional(),
        cursor: cursorParam('number'),
        limit: limitParam,
      }),
      responses: { 200: { description: 'a page of entries', schema: z.object({ entries: z.array(auditSchema), next_cursor: z.string().nullable() }) }, 400: { description: 'a bad filter or cursor' } },
      handler: async ({ query }) => {
        const { cursor, limit, ...filter } = query;
        const page = await audit.list(filter, { ...(cursor !== undefined && { before: cursor }), limit });
        return { entries: page.map(auditJson), next_cursor: nextCursor(page, limit, (last) => last.seq) };
      },
    }),
  ];
}
