// The OpenAPI 3.1 document of the admin API, generated from the route declarations, their worked
// examples (examples.ts) and the command schemas; docs-page.ts presents it at /docs.
import { z } from 'zod';
import { commandRegistry, toJsonSchema } from '../../protocol/commands/index.ts';
import { isRawBody, jsonSchema, type ApiResponseSpec, type ApiRoute } from './api-route.ts';
import { ROUTE_EXAMPLES, type RouteExample } from './examples.ts';

export type Json = { [key: string]: unknown };

const commandSchemaName = (requestType: string) => `Command.${requestType}`;

const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

export function routeKey(route: Pick<ApiRoute, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

export function routeExample(route: ApiRoute): RouteExample | undefined {
  return ROUTE_EXAMPLES[routeKey(route)];
}

export function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!(schema instanceof z.ZodObject)) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
  }));
}

/** The media type of a route's body and its schema (`raw` bodies are text of that type). */
export function requestBody(route: ApiRoute): { type: string; schema: Json } | undefined {
  if (isRawBody(route.body)) {
    const { contentType, json } = route.body;
    return json ? { type: contentType ?? 'application/json', schema: jsonSchema(json, 'input') } : { type: contentType ?? 'application/xml', schema: { type: 'string' } };
  }
  return route.body ? { type: 'application/json', schema: jsonSchema(route.body, 'input') } : undefined;
}

function operation(route: ApiRoute): Json {
  const example = routeExample(route);
  const responses: Json = {};
  const documented: Record<string, ApiResponseSpec> = { ...route.responses, 401: { description: 'no valid API key' } };
  for (const [status, spec] of Object.entries(documented)) {
    const error = Number(status) >= 400;
    const schema = spec.schema ? jsonSchema(spec.schema, 'output') : spec.raw !== undefined ? {} : error ? ERROR_SCHEMA : undefined;
    const shown = example?.status === Number(status) ? { example: example.response } : {};
    const content = spec.empty ? undefined : schema && { [spec.raw ?? 'application/json']: { schema, ...shown } };
    responses[status] = { description: spec.description, ...(content ? { content } : {}) };
  }
  const body = requestBody(route);
  const bodyExample = isRawBody(route.body) && !route.body.json ? route.body.raw : example?.body;
  return {
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    ...(body ? { requestBody: { required: true, content: { [body.type]: { schema: body.schema, ...(bodyExample === undefined ? {} : { example: bodyExample }) } } } } : {}),
    responses,
  };
}

/** `Command`: one schema per RequestType, told apart by RequestType. */
function commandSchemas(): Record<string, Json> {
  const definitions = commandRegistry.all();
  const schemas: Record<string, Json> = Object.fromEntries(definitions.map((d) => [commandSchemaName(d.requestType), toJsonSchema(d.requestType)!]));
  schemas.Command = {
    description: 'A Command dictionary as JSON (data as base64, dates as ISO 8601): the schema of its RequestType.',
    oneOf: definitions.map((d) => ({ $ref: `#/components/schemas/${commandSchemaName(d.requestType)}` })),
    discriminator: {
      propertyName: 'RequestType',
      mapping: Object.fromEntries(definitions.map((d) => [d.requestType, `#/components/schemas/${commandSchemaName(d.requestType)}`])),
    },
  };
  return schemas;
}

export function openApiDocument(routes: ApiRoute[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Aspen admin API',
      version,
      description:
        'Queue MDM commands as JSON, read enrollments, queues and results. Authenticate with ' +
        '`Authorization: Bearer <API key or account token>`, HTTP Basic with an account name and password, ' +
        'or HTTP Basic with any user name and the API key as password; a role without the permission a route needs gets 403. ' +
        'The `command` object of POST /v1/commands is `#/components/schemas/Command`: the schema of its RequestType. ' +
        'A readable version with examples is at /docs.',
    },
    security: [{ bearer: [] }, { basic: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } },
      schemas: { Error: ERROR_SCHEMA, ...commandSchemas() },
    },
  };
}
