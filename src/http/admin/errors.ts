// The one shape every admin and operations error has: {"error": {"code", "message", "details"?}}.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export type ApiErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'request_timeout'
  | 'conflict'
  | 'payload_too_large'
  | 'uri_too_long'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'too_many_requests'
  | 'header_fields_too_large'
  | 'internal'
  | 'service_unavailable';

const STATUS: Record<ApiErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  unprocessable: 422,
  too_many_requests: 429,
  header_fields_too_large: 431,
  internal: 500,
  service_unavailable: 503,
};

export function apiErrorBody(code: ApiErrorCode, message: string, details?: unknown): { error: { code: ApiErrorCode; message: string; details?: unknown } } {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** `details` carries structured context, e.g. every validation problem with its key path. */
export function sendApiError(reply: FastifyReply, code: ApiErrorCode, message: string, details?: unknown): FastifyReply {
  return reply.code(STATUS[code]).send(apiErrorBody(code, message, details));
}

export function codeForStatus(status: number): ApiErrorCode {
  const found = (Object.entries(STATUS) as [ApiErrorCode, number][]).find(([, s]) => s === status);
  return found ? found[0] : status >= 500 ? 'internal' : 'bad_request';
}

/** A whole HTTP/1.1 response in the envelope, for the few errors answered before any route runs. */
export function rawApiErrorResponse(code: ApiErrorCode, message: string): string {
  const status = STATUS[code];
  const body = JSON.stringify(apiErrorBody(code, message));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** The error handler of the admin API and the operations endpoints: 4xx keep their message, and a
 *  failure inside the server is logged and answered without its details. */
export async function apiErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'request failed');
    return sendApiError(reply, 'internal', 'internal server error');
  }
  return sendApiError(reply, codeForStatus(status), error.message);
}
