// Errors Fastify or Node produce before a route's own error handler could: a malformed request
// line or headers, a head larger than the server takes, a path parameter past the router's limit,
// a bad percent-escape, a request that arrives while the server shuts down, and any error thrown
// outside the device and admin scopes. Each is answered in Aspen's shape: the JSON error envelope,
// or, on the device endpoints, the short text/plain refusal devices get from every other check.
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { codeForStatus, rawApiErrorResponse, sendApiError } from './admin/errors.ts';

/**
 * The longest path parameter (an id list such as `/v1/push/{ids}`): 1,000 ids of 60 characters,
 * or 1,000 user-channel ids of 40 with their ":" percent-encoded, fit. Longer gets 414.
 */
export const MAX_PATH_PARAMETER_LENGTH = 64 * 1024;
/** Request line plus headers: room for the longest path parameter and ordinary headers. */
export const MAX_REQUEST_HEAD_BYTES = 96 * 1024;

const LONG_LISTS = 'long id lists belong in the body of POST /v1/commands ("targets")';

export function isDevicePath(url: string): boolean {
  return /^\/(?:mdm|checkin)(?:[/?]|$)/.test(url);
}

/** Fastify's `frameworkErrors` option: errors found while routing (no route has run yet). */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isDevicePath(request.url)) {
    reply.code(error.statusCode ?? 400).type('text/plain; charset=utf-8').send(`${error.message}\n`);
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    sendApiError(reply, 'uri_too_long', `a path parameter is longer than ${MAX_PATH_PARAMETER_LENGTH} characters; ${LONG_LISTS}`);
  } else {
    sendApiError(reply, codeForStatus(error.statusCode ?? 400), error.message);
  }
}

/** Fastify's `clientErrorHandler`: Node could not read the request at all, so no route is known. */
export function clientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  this.log.debug({ err: error }, 'unreadable HTTP request');
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.end(rawApiErrorResponse('request_timeout', 'the request did not arrive in time'));
  } else if (error.code === 'HPE_HEADER_OVERFLOW') {
    // Node cannot tell an overlong request line from overlong headers here.
    socket.end(rawApiErrorResponse('header_fields_too_large', `the request line and headers exceed ${MAX_REQUEST_HEAD_BYTES} bytes; ${LONG_LISTS}`));
  } else {
    socket.end(rawApiErrorResponse('bad_request', 'malformed HTTP request'));
  }
}

/**
 * Once the server is closing, requests still arriving on kept-alive connections get a 503 (and
 * `Connection: close`) instead of starting work the shutdown would cut short; requests already in
 * flight finish. Fastify's own 503 for this is in its shape, so it is turned off (`return503OnClosing`).
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    if (isDevicePath(request.url)) return reply.code(503).type('text/plain; charset=utf-8').send('server is shutting down\n');
    return sendApiError(reply, 'service_unavailable', 'the server is shutting down');
  });
}
