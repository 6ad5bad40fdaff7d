// The console acts through the admin API, in process (app.inject) and as the logged-in principal
// (Access.injectHeaders): the API's own validation, permission checks and audit log apply to
// everything the console does, so the two can never disagree.
import type { FastifyInstance } from 'fastify';
import { CSRF_HEADER, SESSION_COOKIE, type Access, type Principal } from '../../service/access.ts';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  ok: boolean;
  body: T;
  /** The API's error, when it refused: `{code, message, details}`. */
  error: { code: string; message: string; details?: unknown } | null;
  headers: Record<string, string | string[] | number | undefined>;
  raw: Buffer;
}

/** The console session a call is made for. */
export interface Caller {
  principal: Principal;
  sessionId: string;
  csrfToken: string;
}

export type ApiCall = <T = Record<string, unknown>>(
  caller: Caller,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
) => Promise<ApiAnswer<T>>;

export function apiCaller(app: () => FastifyInstance, access: Access): ApiCall {
  return async (caller, method, url, body) => {
    const response = await app().inject({
      method,
      url,
      headers: {
        ...access.injectHeaders(caller.principal),
        // The API asks a session's changes for its CSRF token, as it would of a script in the page.
        cookie: `${SESSION_COOKIE}=${encodeURIComponent(caller.sessionId)}`,
        [CSRF_HEADER]: caller.csrfToken,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    const raw = response.rawPayload;
    const json = (response.headers['content-type'] ?? '').toString().includes('json') && raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    const ok = response.statusCode < 400;
    const error = ok ? null : ((json.error as ApiAnswer['error']) ?? { code: String(response.statusCode), message: raw.toString('utf8').slice(0, 200) });
    return { status: response.statusCode, ok, body: json as never, error, headers: response.headers, raw };
  };
}

/** A query string from the values that are set. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
