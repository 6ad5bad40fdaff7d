// Admin API routes are declared once, with zod schemas for their inputs and outputs: the same
// declaration validates requests and generates the OpenAPI document (openapi.ts), so the two
// cannot drift apart.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sendApiError } from './errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiResponseSpec {
  description: string;
  schema?: z.ZodType;
}

export interface ApiRoute<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: HttpMethod;
  /** OpenAPI form: `/v1/enrollments/{id}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  /** A JSON body schema, or `raw` for a body taken as bytes whatever its content type. */
  body?: B | { raw: string };
  responses: Record<number, ApiResponseSpec>;
  handler: (
    input: { params: z.infer<P>; query: z.infer<Q>; body: B extends z.ZodType ? z.infer<B> : Buffer },
    reply: FastifyReply,
    request: FastifyRequest,
  ) => Promise<unknown>;
}

/** Identity function that lets TypeScript infer a route's schema types. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(route: ApiRoute<P, Q, B>): ApiRoute {
  return route as unknown as ApiRoute;
}

export function isRawBody(body: ApiRoute['body']): body is { raw: string } {
  return body !== undefined && 'raw' in body;
}

/** Registers routes on an (encapsulated) Fastify instance. Each kind of body gets its own scope,
 *  since content-type parsers belong to a scope, not to a route. */
export function registerRoutes(app: FastifyInstance, routes: ApiRoute[]): void {
  const json = routes.filter((r) => r.body !== undefined && !isRawBody(r.body));
  const raw = routes.filter((r) => isRawBody(r.body));
  const bodiless = routes.filter((r) => r.body === undefined);
  for (const route of json) register(app, route);
  // Bodies are taken as bytes whatever content type the client sends: raw routes read them, and
  // routes that take no body ignore them (a DELETE sent with `Content-Type: application/json` and
  // nothing after it is not an error).
  for (const [group, readsBody] of [[raw, true], [bodiless, false]] as const) {
    if (group.length === 0) continue;
    app.register(async (child) => {
      child.removeAllContentTypeParsers();
      child.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, readsBody ? body : undefined));
      for (const route of group) register(child, route);
    });
  }
}

function register(app: FastifyInstance, route: ApiRoute): void {
  app.route({
    method: route.method,
    url: route.path.replace(/\{(\w+)\}/g, ':$1'),
    handler: async (request, reply) => {
      const params = parsePart(route.params, request.params, 'path');
      const query = parsePart(route.query, request.query, 'query');
      const body = isRawBody(route.body) ? request.body : parsePart(route.body, request.body, 'body');
      const failed = [params, query, body].find((p): p is InputError => p instanceof InputError);
      if (failed) return sendApiError(reply, 'bad_request', failed.message);
      return route.handler({ params, query, body } as never, reply, request);
    },
  });
}

class InputError {
  constructor(readonly message: string) {}
}

function parsePart(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (schema === undefined) return value;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
  return new InputError(issues.join('; '));
}
