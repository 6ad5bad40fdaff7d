// /docs: the admin API for people, from the same declarations as /openapi.json. Every route with
// its parameters, its request and response bodies field by field, and a worked example; the
// device and operations endpoints; and every RequestType's keys and platforms from the command
// schema. Plain HTML, no external assets.
import { commandRegistry, describeCommand, VALUE_FORMS, type CommandDescription } from '../../protocol/commands/index.ts';
import { isRawBody, jsonSchema, type ApiRoute, type RawBody } from './api-route.ts';
import { parameters, requestBody, routeExample, routeKey, type Json } from './openapi.ts';

/** Endpoints outside the admin API: for devices, and for operators and their monitoring. */
export const OTHER_ENDPOINTS: readonly { method: string; path: string; auth: string; does: string }[] = [
  { method: 'PUT', path: '/mdm', auth: 'device identity', does: 'check-ins (Content-Type application/x-apple-aspen-mdm-checkin) and command reports (application/x-apple-aspen-mdm): the ServerURL of the enrollment profile' },
  { method: 'PUT', path: '/checkin', auth: 'device identity', does: 'check-ins, for profiles that set a separate CheckInURL' },
  { method: 'GET', path: '/mdm/enroll', auth: 'none (ENROLLMENT_OPEN=true)', does: 'the open enrollment profile (.mobileconfig), with the static challenge; 403 unless ENROLLMENT_OPEN, 409 without a push certificate, 503 without PUBLIC_URL' },
  { method: 'GET', path: '/enroll/{token}', auth: "the invite's token", does: "an invite's enrollment profile (downloading uses nothing); 404 for a link that is unknown, expired, used up or revoked" },
  { method: 'GET', path: '/scep', auth: 'the challenge, or the identity being renewed', does: 'SCEP (RFC 8894): operation=GetCACert, GetCACaps, PKIOperation (message in the query)' },
  { method: 'POST', path: '/scep', auth: 'the challenge, or the identity being renewed', does: 'SCEP PKIOperation with the message as the body' },
  { method: 'GET', path: '/ddm/assets/{name}', auth: 'device identity: TLS client or forwarded certificate, bound to an enrollment', does: 'a data asset (PUT /v1/ddm/assets/{name}), for a device whose declarations name it' },
  { method: 'GET', path: '/healthz', auth: 'none', does: 'liveness: the process answers' },
  { method: 'GET', path: '/readyz', auth: 'none', does: 'readiness: the database takes a write and a push certificate is loaded and valid (503 with each check otherwise)' },
  { method: 'GET', path: '/metrics', auth: 'none, or the API key with METRICS_REQUIRE_API_KEY=true', does: 'Prometheus metrics' },
  { method: 'GET', path: '/version', auth: 'none', does: 'the running version' },
  { method: 'GET', path: '/openapi.json', auth: 'none', does: 'this API as an OpenAPI 3.1 document' },
  { method: 'GET', path: '/docs', auth: 'none', does: 'this page' },
  { method: 'GET', path: '/', auth: 'none', does: 'points here' },
];

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const code = (s: string) => `<code>${escape(s)}</code>`;
const pre = (s: string) => `<pre>${escape(s)}</pre>`;
const anchor = (route: ApiRoute) => routeKey(route).replace(/[^A-Za-z0-9]+/g, '-');

interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  description?: string;
}

/** A JSON Schema object flattened to one row per field, nested fields as `a.b`, items as `a[]`. */
function fields(schema: Json, path = '', required = true): FieldRow[] {
  const rows: FieldRow[] = [];
  if (path !== '') {
    const description = [schema.description, schema.default !== undefined && `default: ${JSON.stringify(schema.default)}`].filter((d): d is string => typeof d === 'string').join('; ');
    rows.push({ path, type: typeOf(schema), required, ...(description ? { description } : {}) });
  }
  const object = nonNull(schema);
  const properties = object.properties as Record<string, Json> | undefined;
  const requiredKeys = (object.required as string[] | undefined) ?? [];
  for (const [name, child] of Object.entries(properties ?? {})) rows.push(...fields(child, path === '' ? name : `${path}.${name}`, requiredKeys.includes(name)));
  // A record (`{<id>: {...}}`): one row for its values, then theirs.
  const values = object.additionalProperties;
  if (properties === undefined && typeof values === 'object' && values !== null && Object.keys(values).length > 0) {
    rows.push(...fields(values as Json, path === '' ? '<key>' : `${path}.<key>`, false));
  }
  // An array's items have no row of their own (the array's type names them), only their fields.
  const items = object.items as Json | undefined;
  if (items !== undefined) rows.push(...fields(items, `${path}[]`).slice(1));
  return rows;
}

/** A nullable schema (`anyOf: [X, {type: null}]`) seen as X. */
function nonNull(schema: Json): Json {
  const options = schema.anyOf as Json[] | undefined;
  const real = options?.filter((o) => o.type !== 'null');
  return real?.length === 1 ? real[0]! : schema;
}

function typeOf(schema: Json): string {
  if (typeof schema.$ref === 'string') return schema.$ref === '#/components/schemas/Command' ? 'Command (see Commands)' : schema.$ref;
  const options = schema.anyOf as Json[] | undefined;
  if (options) return options.map(typeOf).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (schema.type === 'array') return `array of ${typeOf((schema.items as Json | undefined) ?? {})}`;
  if (schema.type === 'object') return schema.properties ? 'object' : 'object (keys as below)';
  if (typeof schema.type === 'string') return schema.type + (typeof schema.format === 'string' ? ` (${schema.format})` : '');
  return 'any';
}

function fieldTable(rows: FieldRow[]): string {
  if (rows.length === 0) return '';
  const body = rows
    .map((r) => `<tr><td>${code(r.path)}${r.required ? ' <b>*</b>' : ''}</td><td>${escape(r.type)}</td><td>${escape(r.description ?? '')}</td></tr>`)
    .join('');
  return `<table class="fields"><tr><th>field (* required)</th><th>type</th><th></th></tr>${body}</table>`;
}

function routeSection(route: ApiRoute): string {
  const example = routeExample(route);
  const params = [...parameters(route.params, 'path'), ...parameters(route.query, 'query')];
  const paramTable = params.length === 0 ? '' : `<h4>Parameters</h4>${fieldTable(params.map((p) => ({ path: `${String(p.name)} (${String(p.in)})`, type: typeOf(p.schema as Json), required: p.required === true, ...(typeof p.description === 'string' ? { description: p.description } : {}) })))}`;
  const body = requestBody(route);
  const textBody = isRawBody(route.body) && !route.body.json;
  const bodyPart = body === undefined ? '' : `<h4>Request body (${escape(body.type)})</h4>${textBody ? '' : fieldTable(fields(body.schema))}`;
  const requestExample = example
    ? `<h4>Example</h4>${pre(`${route.method} ${example.path}${textBody ? `\n\n${(route.body as RawBody).raw}` : example.body === undefined ? '' : `\n\n${JSON.stringify(example.body, null, 2)}`}`)}` +
      `${pre(`${example.status}${example.response === undefined ? '' : `\n\n${JSON.stringify(example.response, null, 2)}`}`)}`
    : '';
  const responses = Object.entries(route.responses)
    .map(([status, spec]) => {
      const ok = Number(status) < 300 && spec.schema !== undefined;
      return `<li><b>${status}</b> ${escape(spec.description)}${ok ? fieldTable(fields(jsonSchema(spec.schema!, 'output'))) : ''}</li>`;
    })
    .join('');
  return `<section id="${anchor(route)}"><h3>${code(`${route.method} ${route.path}`)}</h3><p>${escape(route.summary)}</p>${
    route.description ? `<p>${escape(route.description)}</p>` : ''
  }${paramTable}${bodyPart}<h4>Responses</h4><ul>${responses}<li><b>401</b> no valid API key</li><li>errors: ${code(errorShape(route))}</li></ul>${requestExample}</section>`;
}

/** The shape of the route's error bodies: its own when its error responses declare one (KMFDDM's). */
function errorShape(route: ApiRoute): string {
  const own = Object.entries(route.responses).find(([status, spec]) => Number(status) >= 400 && spec.schema !== undefined)?.[1].schema;
  if (own === undefined) return '{"error": {"code", "message", "details"?}}';
  const properties = (jsonSchema(own, 'output').properties ?? {}) as Record<string, Json>;
  return `{${Object.entries(properties).map(([name, s]) => `"${name}": ${typeOf(s)}`).join(', ')}}`;
}

function commandSection(d: CommandDescription): string {
  const platforms = d.platforms.map((p) => `<tr><td>${p.platform}</td><td>${escape(p.versions)}</td><td>${escape(p.conditions.join('; '))}</td></tr>`).join('');
  const keys = d.keys
    .map((k) => {
      const details = [
        k.allowed && `one of: ${k.allowed.join(', ')}`,
        k.default !== undefined && `default: ${JSON.stringify(k.default)}`,
        k.availability && `on: ${k.availability}`,
      ].filter((x): x is string => typeof x === 'string');
      return `<tr><td style="padding-left:${0.4 + k.depth * 1.2}em">${code(k.label)}${k.required ? ' <b>*</b>' : ''}</td><td>${escape(k.type)}</td><td>${escape(details.join('; '))}</td></tr>`;
    })
    .join('');
  return `<details id="command-${escape(d.requestType)}"><summary>${d.current ? code(d.requestType) : `<s>${code(d.requestType)}</s> (removed)`} ${escape(d.title)}</summary>${
    d.notes.map((n) => `<p>${escape(n)}</p>`).join('')
  }<table class="fields"><tr><th>platform</th><th>OS</th><th>runs</th></tr>${platforms}</table>${
    keys === '' ? '<p>No keys.</p>' : `<table class="fields"><tr><th>key (* required)</th><th>type</th><th></th></tr>${keys}</table>`
  }</details>`;
}

export function docsPage(routes: ApiRoute[], version: string): string {
  const index = routes.map((r) => `<tr><td>${code(r.method)}</td><td><a href="#${anchor(r)}">${code(r.path)}</a></td><td>${escape(r.summary)}</td></tr>`).join('');
  const others = OTHER_ENDPOINTS.map((e) => `<tr><td>${code(e.method)}</td><td>${code(e.path)}</td><td>${escape(e.auth)}</td><td>${escape(e.does)}</td></tr>`).join('');
  const commands = commandRegistry.all().map((d) => commandSection(describeCommand(d))).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Aspen admin API ${escape(version)}</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:80em}td{vertical-align:top;padding:.3em .5em;border-bottom:1px solid #ddd}
code{background:#f4f4f4;padding:0 .2em}pre{background:#f7f7f7;padding:.6em;overflow:auto;max-height:30em}p{margin:.3em 0;color:#444}
section{border-top:2px solid #ccc;margin-top:1.5em}table.fields{font-size:14px;margin:.3em 0}details{margin:.3em 0}th{text-align:left}</style></head><body>
<h1>Aspen admin API <small>${escape(version)}</small></h1>
<p>Machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Every <code>/v1</code> route needs a credential:
<code>Authorization: Bearer &lt;API key or account token&gt;</code>, HTTP Basic with an account's name and password, or HTTP Basic
with any user name and the API key as password; each route names the permission it needs (viewer, operator, admin). JSON in and out, snake_case;
times are ISO 8601 UTC. Lists are paged: pass <code>next_cursor</code> back as <code>cursor</code> until it is null.</p>
<h2>Admin API</h2><table>${index}</table>
${routes.map(routeSection).join('\n')}
<h2 id="other-endpoints">Device and operations endpoints</h2><table><tr><th>method</th><th>path</th><th>authentication</th><th>does</th></tr>${others}</table>
<h2 id="commands">Commands</h2><p>Every RequestType <code>POST /v1/commands</code> accepts, with its keys and where it runs, from Apple's schema
(<code>src/protocol/schema/commands.json</code>, MIT, Apple Inc.). ${escape(VALUE_FORMS)}. The same is <code>aspen help &lt;RequestType&gt;</code>.</p>
${commands}</body></html>`;
}
