// The OpenAPI 3.1 document of the admin API, generated from the route declarations and the
// command schemas, and a plain HTML page that presents it at /docs (no external assets).
import { z } from 'zod';
import { commandRegistry, toJsonSchema } from '../../protocol/commands/index.ts';
import { isRawBody, type ApiResponseSpec, type ApiRoute } from './api-route.ts';

type Json = { [key: string]: unknown };

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

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
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

function operation(route: ApiRoute): Json {
  const responses: Json = {};
  const documented: Record<string, ApiResponseSpec> = { ...route.responses, 401: { description: 'no valid API key' } };
  for (const [status, spec] of Object.entries(documented)) {
    const error = Number(status) >= 400;
    const schema = spec.schema ? jsonSchema(spec.schema, 'output') : error ? ERROR_SCHEMA : undefined;
    responses[status] = { description: spec.description, ...(schema ? { content: { 'application/json': { schema } } } : {}) };
  }
  let requestBody: Json | undefined;
  if (isRawBody(route.body)) {
    requestBody = { required: true, content: { 'application/xml': { schema: { type: 'string' }, example: route.body.raw } } };
  } else if (route.body) {
    requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } };
  }
  return {
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

export function openApiDocument(routes: ApiRoute[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  const commandSchemas = Object.fromEntries(
    commandRegistry.all().map((d) => [`Command.${d.requestType}`, toJsonSchema(d.requestType)!]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Aspen admin API',
      version,
      description:
        'Queue MDM commands as JSON, read enrollments, queues and results. Authenticate with ' +
        '`Authorization: Bearer <API key>` or HTTP Basic with any user name and the key as password. ' +
        'The `command` object of POST /v1/commands follows the per-command schemas under components.schemas.',
    },
    security: [{ bearer: [] }, { basic: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } },
      schemas: { Error: ERROR_SCHEMA, ...commandSchemas },
    },
  };
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A readable, dependency-free rendering of the document for people. */
export function docsPage(routes: ApiRoute[], version: string): string {
  const rows = routes
    .map((r) => {
      const params = [...parameters(r.params, 'path'), ...parameters(r.query, 'query')]
        .map((p) => `<code>${escape(String(p.name))}</code> (${String(p.in)})`)
        .join(', ');
      const statuses = Object.entries(r.responses)
        .map(([s, spec]) => `<b>${s}</b> ${escape(spec.description)}`)
        .join('<br>');
      return `<tr><td><code>${r.method}</code></td><td><code>${escape(r.path)}</code></td><td>${escape(r.summary)}${
        r.description ? `<p>${escape(r.description)}</p>` : ''
      }${params ? `<p>Parameters: ${params}</p>` : ''}</td><td>${statuses}</td></tr>`;
    })
    .join('\n');
  const commands = commandRegistry
    .all()
    .map((d) => `<code${d.current ? '' : ' style="text-decoration:line-through"'}>${escape(d.requestType)}</code>`)
    .join(' ');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Aspen admin API ${escape(version)}</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:80em}td{vertical-align:top;padding:.4em;border-bottom:1px solid #ddd}
code{background:#f4f4f4;padding:0 .2em}p{margin:.3em 0;color:#444}</style></head><body>
<h1>Aspen admin API <small>${escape(version)}</small></h1>
<p>Machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with
<code>Authorization: Bearer &lt;API key&gt;</code> or HTTP Basic with the key as password.</p>
<table><tr><th>Method</th><th>Path</th><th>What it does</th><th>Responses</th></tr>
${rows}</table>
<h2>Commands</h2><p>Every RequestType <code>POST /v1/commands</code> accepts (struck through: removed from Apple's current schema):</p>
<p>${commands}</p></body></html>`;
}
