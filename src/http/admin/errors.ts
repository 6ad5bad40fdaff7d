// The one shape every admin API error has: {"error": {"code", "message", "details"?}}.
import type { FastifyReply } from 'fastify';

export type ApiErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'internal';

const STATUS: Record<ApiErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
};

/** `details` carries structured context, e.g. every validation problem with its key path. */
export function sendApiError(reply: FastifyReply, code: ApiErrorCode, message: string, details?: unknown): FastifyReply {
  return reply.code(STATUS[code]).send({ error: { code, message, ...(details === undefined ? {} : { details }) } });
}

export function codeForStatus(status: number): ApiErrorCode {
  const found = (Object.entries(STATUS) as [ApiErrorCode, number][]).find(([, s]) => s === status);
  return found ? found[0] : status >= 500 ? 'internal' : 'bad_request';
}
