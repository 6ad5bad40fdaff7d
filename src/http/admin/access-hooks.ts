// Authentication, permissions and the audit log around the admin API, at one place: hooks on the
// scope that holds its routes. onRequest finds the principal (401, or 429 while logins are
// limited); preHandler checks the route's permission from route-permissions.ts (403), after the
// body is parsed since a command's RequestType decides; onSend writes the audit entry of every
// change, refused ones included, before the answer leaves, so a client that got its answer finds
// the entry.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CSRF_HEADER, sessionIdFromCookie, type Access, type Principal } from '../../service/access.ts';
import type { AuditLog } from '../../service/audit-log.ts';
import { PERMISSIONS } from '../../service/permissions.ts';
import type { AuditTarget } from '../../storage/audit.ts';
import { sendApiError } from './errors.ts';
import { ROUTE_ACCESS, type RouteAccess } from './route-permissions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking, once the admin API authenticated the request. */
    principal?: Principal;
    /** The answer as the route sent it, before serialization: what the audit entry names. */
    answerObject?: unknown;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The table, keyed as Fastify names routes (`GET /v1/enrollments/:id`). */
const BY_ROUTE = new Map(Object.entries(ROUTE_ACCESS).map(([key, entry]) => [key.replace(/\{(\w+)\}/g, ':$1'), entry]));

function routeAccess(request: FastifyRequest): RouteAccess | undefined {
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  return BY_ROUTE.get(`${method} ${request.routeOptions.url ?? ''}`);
}

export function accessHooks(api: FastifyInstance, deps: { access: Access; audit: AuditLog }): void {
  api.addHook('onRequest', async (request, reply) => {
    const outcome = await deps.access.identify(request.headers, request.ip);
    if ('refused' in outcome) {
      if (outcome.refused === 'rate-limited') {
        reply.header('retry-after', String(Math.max(1, Math.ceil((outcome.retryAt.getTime() - Date.now()) / 1000))));
        return sendApiError(reply, 'too_many_requests', 'too many failed logins for this account or address; try again later');
      }
      reply.header('www-authenticate', 'Basic realm="aspen", Bearer');
      return sendApiError(reply, 'unauthorized', 'a valid API key, token, or account name and password is required (Bearer token or Basic)');
    }
    // A session cookie rides along with any request the browser makes: a change needs the
    // session's CSRF token too.
    if (outcome.via === 'session' && request.headers.authorization === undefined && !SAFE_METHODS.has(request.method)) {
      const csrf = request.headers[CSRF_HEADER];
      if (!deps.access.csrfMatches(sessionIdFromCookie(request.headers.cookie) ?? '', typeof csrf === 'string' ? csrf : undefined)) {
        return sendApiError(reply, 'forbidden', `a change made with a console session needs the session's CSRF token in ${CSRF_HEADER}`);
      }
    }
    request.principal = outcome;
  });

  api.addHook('preHandler', async (request, reply) => {
    const entry = routeAccess(request);
    const principal = request.principal;
    if (entry === undefined || principal === undefined) return;
    const permission = typeof entry.permission === 'function' ? entry.permission(request.body) : entry.permission;
    if (!deps.access.can(principal, permission)) {
      return sendApiError(reply, 'forbidden', `the ${principal.role} role may not do this: it takes ${permission}, which needs ${PERMISSIONS[permission]}`, {
        permission,
        role: principal.role,
        required_role: PERMISSIONS[permission],
      });
    }
  });

  // The audit entry names what the answer created; read from the object, not by parsing the
  // serialized body again (a fan-out's answer has 100,000 targets).
  api.addHook('preSerialization', async (request, _reply, payload) => {
    request.answerObject = payload;
    return payload;
  });

  api.addHook('onSend', async (request, reply, payload) => {
    const entry = routeAccess(request);
    const principal = request.principal;
    if (entry?.action === undefined || principal === undefined) return payload;
    try {
      await deps.audit.record(principal, {
        action: entry.action,
        method: request.method,
        path: request.url.split('?')[0]!,
        status: reply.statusCode,
        targets: targetsOf(entry, request, reply.statusCode, payload),
        details: entry.details?.(request.body) ?? null,
        clientAddress: request.ip,
      });
    } catch (err) {
      // The change is done: failing its answer now would only hide that it was.
      request.log.error({ err, action: entry.action }, 'could not write the audit entry');
    }
    return payload;
  });
}

function targetsOf(entry: RouteAccess, request: FastifyRequest, status: number, payload: unknown): AuditTarget[] {
  const targets: AuditTarget[] = [];
  const params = (request.params ?? {}) as Record<string, string>;
  for (const [name, kind] of Object.entries(entry.params ?? {})) {
    const value = params[name];
    if (value === undefined) continue;
    for (const id of name === 'ids' ? value.split(',') : [value]) if (id !== '') targets.push({ kind, id });
  }
  targets.push(...(entry.body?.(request.body) ?? []));
  if (status >= 200 && status < 300) {
    const answer = request.answerObject !== undefined ? asRecord(request.answerObject) : typeof payload === 'string' ? parseJson(payload) : undefined;
    if (entry.created !== undefined && typeof answer?.id === 'string') targets.push({ kind: entry.created, id: answer.id });
    if (typeof answer?.command_uuid === 'string') targets.push({ kind: 'command', id: answer.command_uuid });
  }
  return targets;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return asRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** The principal the hooks found; routes behind them always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new Error('a route behind the access hooks ran without a principal');
  return request.principal;
}
