// Admin API routes are declared once, with zod schemas for their inputs and outputs: the same
// declaration validates requests and generates the OpenAPI document (openapi.ts), so the two
// cannot drift apart.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../protocol/json-depth.ts';
import { sendApiError } from './errors.ts';

/** Where the OpenAPI document (openapi.ts) keeps the schema of a `Command` dictionary: one of the
 *  per-RequestType schemas. Here, so that declaring a route does not load the document's code. */
export const COMMAND_SCHEMA_REF = '#/components/schemas/Command';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** A response without a body (204, 304). */
  empty?: boolean;
  /** A body the handler sends as bytes of this media type (a document stored as it came), not
   *  serialized by a schema. */
  raw?: string;
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
  /** A JSON body schema, or `raw` for a body taken as bytes whatever its content type (`raw` is its
   *  example; `contentType` the type it documents). */
  body?: B | RawBody;
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

export interface RawBody {
  raw: string;
  contentType?: string;
  /** The bytes are JSON of this shape, which the handler reads itself whatever the Content-Type
   *  (clients that send none, or a form type): documented as the body's schema. */
  json?: z.ZodType;
}

export function isRawBody(body: ApiRoute['body']): body is RawBody {
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
  // Unknown query parameters are refused, never ignored: a misspelt filter would otherwise select
  // everything (and a script then acts on the wrong devices).
  const query = route.query instanceof z.ZodObject ? route.query.strict() : (route.query ?? z.object({}).strict());
  app.route({
    method: route.method,
    url: route.path.replace(/\{(\w+)\}/g, ':$1'),
    schema: { response: responseSchemas(route) },
    preSerialization: onlyDocumented(route),
    handler: async (request, reply) => {
      const params = parsePart(route.params, request.params, 'path');
      const parsedQuery = parsePart(query, request.query, 'query');
      const body = isRawBody(route.body) ? request.body : parseJsonBody(route.body, request.body);
      const failed = [params, parsedQuery, body].find((p): p is InputError => p instanceof InputError);
      if (failed) return sendApiError(reply, 'bad_request', failed.message);
      return route.handler({ params, query: parsedQuery, body } as never, reply, request);
    },
  });
}

/** A zod schema as JSON Schema (2020-12, as OpenAPI 3.1 has it), for the document and for serializing. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/**
 * 2xx bodies are serialized by their documented schemas (Fastify's fast-json-stringify): a field
 * the schema does not declare is never written, so a push magic or a token added to a record can
 * never leak through a view, and a missing required field is a server error.
 */
function responseSchemas(route: ApiRoute): Record<number, unknown> {
  const schemas: Record<number, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    if (Number(status) < 200 || Number(status) >= 300 || spec.empty || spec.raw !== undefined) continue;
    if (spec.schema === undefined) throw new Error(`${route.method} ${route.path}: the ${status} response has no schema`);
    schemas[Number(status)] = jsonSchema(spec.schema, 'output');
  }
  return schemas;
}

/** A 2xx status the route does not document would go out unserialized by any schema: refuse it. */
function onlyDocumented(route: ApiRoute) {
  return async (_request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    if (reply.statusCode >= 200 && reply.statusCode < 300 && route.responses[reply.statusCode] === undefined) {
      throw new Error(`${route.method} ${route.path}: answered an undocumented ${reply.statusCode}`);
    }
    return payload;
  };
}

class InputError {
  constructor(readonly message: string) {}
}

/** A JSON body nested deeper than any real one is refused before anything walks it. */
function parseJsonBody(schema: z.ZodType | undefined, value: unknown): unknown {
  if (nestsDeeperThan(value)) return new InputError(`body: nested deeper than ${MAX_JSON_DEPTH} levels`);
  return parsePart(schema, value, 'body');
}

function parsePart(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (schema === undefined) return value;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
  return new InputError(issues.join('; '));
}
