// Who a console request is from: the session cookie, looked up in the database (any instance
// serves it). Every POST must carry the session's CSRF token (form field `_csrf`, or the
// x-csrf-token header from a script); the login form, which has no session yet, carries a token
// matching a cookie of its own (double submit), so a cross-site form cannot log anyone in either.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_HEADER, loginCsrfCookie, loginCsrfMatches, secret, sessionIdFromCookie, type Access } from '../../service/access.ts';
import type { Viewer } from './layout.ts';

export type FormBody = Record<string, string | string[]>;

/** A form field's single value ('' when absent; the first when sent twice). */
export function field(body: FormBody | undefined, name: string): string {
  const value = body?.[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** Every value sent under a name (checkbox lists). */
export function fields(body: FormBody | undefined, name: string): string[] {
  const value = body?.[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function parseForm(text: string): FormBody {
  const out: FormBody = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const had = out[key];
    out[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}

export function isSecure(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/** The viewer of a request with a live session, or null. */
export async function viewerOf(access: Access, request: FastifyRequest): Promise<(Viewer & { sessionId: string }) | null> {
  const sessionId = sessionIdFromCookie(request.headers.cookie);
  if (sessionId === undefined) return null;
  const session = await access.session(sessionId);
  return session && { principal: session.principal, csrfToken: session.csrfToken, sessionId };
}

/** The CSRF token a request presents: the form field, or the header scripts send. */
export function presentedCsrf(request: FastifyRequest): string | undefined {
  const header = request.headers[CSRF_HEADER];
  if (typeof header === 'string') return header;
  const body = request.body as FormBody | undefined;
  const value = body && typeof body === 'object' ? field(body, '_csrf') : '';
  return value === '' ? undefined : value;
}

/** The login form's token: a fresh one with each form, in a cookie (SameSite=Strict, HttpOnly) the form must match. */
export function loginCsrf(request: FastifyRequest, reply: FastifyReply): string {
  const token = secret();
  reply.header('set-cookie', loginCsrfCookie(token, { secure: isSecure(request) }));
  return token;
}

export function loginFormMatches(request: FastifyRequest): boolean {
  return loginCsrfMatches(request.headers.cookie, presentedCsrf(request));
}
