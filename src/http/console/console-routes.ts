// The web console under /ui: server-rendered pages and plain forms (every flow works without
// JavaScript; /ui/assets/console.js only enhances). Reads of the fleet's own summary and search come
// from storage.fleet; everything else, and every change, goes through the admin API in process as
// the logged-in principal (api.ts), so the API's validation, permissions and audit log apply.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clearedSessionCookie, sessionCookie, type Access } from '../../service/access.ts';
import type { FleetStore } from '../../storage/fleet.ts';
import { apiCaller, query, type ApiAnswer, type ApiCall } from './api.ts';
import { commandFromForm, definitionOf, isDestructive } from './command-form.ts';
import { html, type Html } from './html.ts';
import { notice, page, securityHeaders, sendPage, type Viewer } from './layout.ts';
import { LiveFeed } from './live.ts';
import { accountsPage, auditPage, deliveriesPage, invitesPage, loginPage, webhooksPage } from './pages/admin.ts';
import { apiProblems, commandPage, commandsPage, confirmPage, sendPage as sendCommandPage, sentPage, type Targets } from './pages/commands.ts';
import { devicePage, devicesPage, filterFrom, filterQuery, PAGE_SIZE, searchOf } from './pages/devices.ts';
import { overviewPage } from './pages/overview.ts';
import { field, fields, isSecure, loginCsrf, loginFormMatches, parseForm, presentedCsrf, viewerOf, type FormBody } from './session.ts';

export interface ConsoleOptions {
  access: Access;
  fleet: FleetStore;
  /** The root app, which the console's API calls are injected into. */
  root: () => FastifyInstance;
  /** How often the live feed reads the database for check-ins. */
  livePollMs?: number;
}

const ASSETS: Record<string, { type: string; body: Buffer }> = {
  'console.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./assets/console.css', import.meta.url)) },
  'console.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./assets/console.js', import.meta.url)) },
};

/** The most devices a filter may send one command to: the API's own limit on targets. */
const MAX_TARGETS = 100_000;

type Session = Viewer & { sessionId: string };

declare module 'fastify' {
  interface FastifyRequest {
    consoleViewer?: Session;
  }
}

export async function consoleRoutes(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const { access, fleet } = opts;
  const api: ApiCall = apiCaller(opts.root, access);
  const live = new LiveFeed(fleet, opts.livePollMs ?? 1000, (err) => app.log.error({ err }, 'console live feed: reading check-ins failed'));
  /** Open event streams: ended before the server closes, which otherwise waits for them. */
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
    await live.close();
  });

  // Forms are all the console takes: any other body (JSON included) is a 415, never half-read.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, parseForm(body as string)));
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'console page failed');
    return sendPage(reply, page('Something went wrong', notice('error', status === 500 ? 'The server failed to answer this page; it is logged.' : err.message), request.consoleViewer ?? null), status);
  });

  const PUBLIC = new Set(['/ui/login']);
  app.addHook('preHandler', async (request, reply) => {
    const path = request.url.split('?')[0]!.replace(/\/$/, '') || '/ui';
    if (path.startsWith('/ui/assets/')) return;
    if (PUBLIC.has(path)) {
      if (request.method === 'POST' && !loginFormMatches(request)) return refuseCsrf(reply, null);
      return;
    }
    const viewer = await viewerOf(access, request);
    if (viewer === null) {
      if (request.method === 'GET' && path !== '/ui/live') return reply.redirect('/ui/login', 303);
      return sendPage(reply, page('Logged out', notice('error', html`Your session ended. <a href="/ui/login">Log in again</a>.`), null), 401);
    }
    request.consoleViewer = viewer;
    if (request.method === 'POST' && !access.csrfMatches(viewer.sessionId, presentedCsrf(request))) return refuseCsrf(reply, viewer);
  });

  const viewer = (request: FastifyRequest): Session => request.consoleViewer!;

  app.get('/ui/assets/:name', async (request, reply) => {
    const asset = ASSETS[(request.params as { name: string }).name];
    if (asset === undefined) return reply.code(404).type('text/plain').send('no such asset');
    return securityHeaders(reply).header('cache-control', 'public, max-age=300').type(asset.type).send(asset.body);
  });

  app.get('/ui/login', async (request, reply) => {
    if ((await viewerOf(access, request)) !== null) return reply.redirect('/ui', 303);
    return sendPage(reply, loginPage(loginCsrf(request, reply), null));
  });

  app.post('/ui/login', async (request, reply) => {
    const body = request.body as FormBody;
    const name = field(body, 'name');
    const result = await access.login(name, field(body, 'password'), request.ip);
    if (!result.ok) {
      const limited = result.reason === 'rate-limited';
      const problem = limited ? 'Too many failed logins: wait a minute and try again.' : 'That account name and password do not match.';
      return sendPage(reply, loginPage(loginCsrf(request, reply), problem, name), limited ? 429 : 401);
    }
    reply.header('set-cookie', sessionCookie(result.sessionId, result.session, { secure: isSecure(request) }));
    return reply.redirect('/ui', 303);
  });

  app.post('/ui/logout', async (request, reply) => {
    await access.logout(viewer(request).sessionId);
    reply.header('set-cookie', clearedSessionCookie({ secure: isSecure(request) }));
    return reply.redirect('/ui/login', 303);
  });

  app.get('/ui', async (request, reply) => {
    const v = viewer(request);
    const [summary, pushCert, renewals, failing] = await Promise.all([
      fleet.summary(new Date().toISOString()),
      api(v, 'GET', '/v1/pushcert'),
      api<{ renewals: Record<string, unknown>[] }>(v, 'GET', '/v1/identity-renewals'),
      api<{ commands: Record<string, unknown>[] }>(v, 'GET', '/v1/commands?state=error&limit=10'),
    ]);
    return sendPage(
      reply,
      overviewPage(v, {
        summary,
        pushCert: pushCert.ok ? (pushCert.body as { topic?: string; not_after?: string }) : null,
        expiring: renewals.ok ? renewals.body.renewals : [],
        failing: failing.ok ? failing.body.commands : [],
        now: Date.now(),
      }),
    );
  });

  app.get('/ui/devices', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const filter = filterFrom(q);
    const search = searchOf(filter, Date.now());
    const cursor = typeof q.cursor === 'string' && q.cursor !== '' ? q.cursor : undefined;
    const rows = search === null ? null : await fleet.devices(search, { after: cursor, limit: PAGE_SIZE + 1 });
    const next = rows !== null && rows.length > PAGE_SIZE ? rows[PAGE_SIZE - 1]!.id : null;
    return sendPage(reply, devicesPage(viewer(request), filter, rows && rows.slice(0, PAGE_SIZE), next), search === null ? 400 : 200);
  });

  const devicePath = (id: string) => `/v1/enrollments/${encodeURIComponent(id)}`;

  async function showDevice(request: FastifyRequest, reply: FastifyReply, id: string, message: Html | null, status = 200) {
    const v = viewer(request);
    const cursor = (request.query as Record<string, unknown>).cursor;
    const [device, queue, history, declarations] = await Promise.all([
      api(v, 'GET', devicePath(id)),
      api<{ commands: Record<string, unknown>[] }>(v, 'GET', `${devicePath(id)}/queue`),
      api<{ commands: Record<string, unknown>[]; next_cursor: string | null }>(v, 'GET', `${devicePath(id)}/commands${query({ limit: 20, cursor: typeof cursor === 'string' ? cursor : undefined })}`),
      api(v, 'GET', `${devicePath(id)}/declarations`),
    ]);
    if (!device.ok) return apiFailure(reply, v, device);
    const view = {
      device: device.body,
      queue: queue.ok ? queue.body.commands : [],
      history: history.ok ? history.body.commands : [],
      historyNext: history.ok ? history.body.next_cursor : null,
      declarations: declarations.ok ? declarations.body : null,
    };
    return sendPage(reply, devicePage(v, view, message), status);
  }

  app.get('/ui/devices/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const done = (request.query as Record<string, unknown>).done;
    return showDevice(request, reply, id, done === 'cancelled' ? notice('ok', 'Command cancelled.') : null);
  });

  app.post('/ui/devices/:id/queue/:uuid/cancel', async (request, reply) => {
    const { id, uuid } = request.params as { id: string; uuid: string };
    const answer = await api(viewer(request), 'DELETE', `${devicePath(id)}/queue/${encodeURIComponent(uuid)}`);
    if (!answer.ok) return showDevice(request, reply, id, notice('error', `Not cancelled: ${answer.error?.message ?? answer.status}`), answer.status);
    return reply.redirect(`/ui/devices/${encodeURIComponent(id)}?done=cancelled`, 303);
  });

  /** Who a send form names: checked devices, or a filter of the devices page. */
  function targetsOf(source: Record<string, unknown>): Targets {
    if (source.scope === 'filter') {
      const filter = filterFrom(source);
      const text = Object.entries(filter).filter(([, v]) => v !== '').map(([k, v]) => `${k} = ${v}`).join(', ');
      return { kind: 'filter', query: filterQuery(filter), description: text === '' ? 'no filter (all devices)' : text };
    }
    const target = source.target;
    return { kind: 'ids', ids: [...new Set(Array.isArray(target) ? (target as string[]) : typeof target === 'string' ? [target] : [])] };
  }

  async function resolveTargets(targets: Targets): Promise<string[] | null> {
    if (targets.kind === 'ids') return targets.ids;
    const search = searchOf(filterFrom(Object.fromEntries(new URLSearchParams(targets.query))), Date.now());
    if (search === null) return null;
    const ids: string[] = [];
    for (let after: string | undefined; ids.length <= MAX_TARGETS; ) {
      const page = await fleet.devices(search, { after, limit: 1000 });
      ids.push(...page.map((e) => e.id));
      if (page.length < 1000) break;
      after = page.at(-1)!.id;
    }
    return ids;
  }

  app.get('/ui/send', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const requestType = typeof q.request_type === 'string' ? q.request_type : '';
    const definition = definitionOf(requestType);
    const problem = requestType !== '' && definition === undefined ? notice('error', `Aspen knows no RequestType ${requestType}.`) : null;
    return sendPage(reply, sendCommandPage(viewer(request), targetsOf(q), definition, undefined, problem), problem ? 400 : 200);
  });

  app.post('/ui/send', async (request, reply) => {
    const v = viewer(request);
    const body = request.body as FormBody;
    const targets = targetsOf(body);
    const definition = definitionOf(field(body, 'request_type'));
    const again = (problem: Html, status: number) => sendPage(reply, sendCommandPage(v, targets, definition, body, problem), status);
    if (definition === undefined) return again(notice('error', 'Choose a RequestType.'), 400);
    const built = commandFromForm(definition, body);
    if (!built.ok) return again(apiProblems({ message: 'refused', details: built.errors }), 400);
    const ids = await resolveTargets(targets);
    if (ids === null || ids.length === 0) return again(notice('error', 'No device matches: nothing was sent.'), 400);
    if (ids.length > MAX_TARGETS) return again(notice('error', `More than ${MAX_TARGETS} devices match: narrow the filter.`), 400);
    // A destructive command goes out only once the admin confirmed the very number it reaches.
    if (isDestructive(definition.requestType) && field(body, 'confirm') !== String(ids.length)) {
      return sendPage(reply, confirmPage(v, targets, definition.requestType, ids.length, body));
    }
    const answer = await api(v, 'POST', '/v1/commands', { targets: ids, command: built.command, push: fields(body, 'push').length > 0 });
    if (!answer.ok) return again(answer.status === 403 ? notice('error', `Refused: ${answer.error?.message ?? 'your role may not send this command'}`) : apiProblems(answer.error), answer.status);
    return sendPage(reply, sentPage(v, answer.body), 201);
  });

  app.get('/ui/commands', async (request, reply) => {
    const v = viewer(request);
    const q = request.query as Record<string, unknown>;
    const filter = { request_type: typeof q.request_type === 'string' ? q.request_type : '', state: typeof q.state === 'string' ? q.state : '' };
    const answer = await api<{ commands: Record<string, unknown>[]; next_cursor: string | null }>(
      v,
      'GET',
      `/v1/commands${query({ ...filter, cursor: typeof q.cursor === 'string' ? q.cursor : undefined, limit: 50 })}`,
    );
    return sendPage(reply, commandsPage(v, filter, answer.ok ? answer.body.commands : [], answer.ok ? answer.body.next_cursor : null, answer.ok ? null : (answer.error?.message ?? 'failed')), answer.ok ? 200 : answer.status);
  });

  app.get('/ui/commands/:uuid', async (request, reply) => {
    const v = viewer(request);
    const { uuid } = request.params as { uuid: string };
    const cursor = (request.query as Record<string, unknown>).cursor;
    const answer = await api<Record<string, unknown> & { next_cursor?: string | null }>(v, 'GET', `/v1/commands/${encodeURIComponent(uuid)}${query({ cursor: typeof cursor === 'string' ? cursor : undefined })}`);
    if (!answer.ok) return apiFailure(reply, v, answer);
    return sendPage(reply, commandPage(v, answer.body, answer.body.next_cursor ?? null));
  });

  async function showInvites(request: FastifyRequest, reply: FastifyReply, created: Record<string, unknown> | null, problem: string | null, status: number) {
    const v = viewer(request);
    const cursor = (request.query as Record<string, unknown>).cursor;
    const answer = await api<{ invites: Record<string, unknown>[]; next_cursor: string | null }>(v, 'GET', `/v1/enrollment-invites${query({ cursor: typeof cursor === 'string' ? cursor : undefined })}`);
    if (!answer.ok) return apiFailure(reply, v, answer);
    return sendPage(reply, invitesPage(v, answer.body.invites, answer.body.next_cursor, created, problem), status);
  }

  app.get('/ui/enrollment', async (request, reply) => showInvites(request, reply, null, null, 200));

  app.post('/ui/enrollment', async (request, reply) => {
    const body = request.body as FormBody;
    const days = Number(field(body, 'days') || '7');
    const invite = {
      ...(field(body, 'label') ? { label: field(body, 'label') } : {}),
      max_uses: Number(field(body, 'max_uses') || '1'),
      expires_at: Number.isFinite(days) ? new Date(Date.now() + days * 86_400_000).toISOString() : field(body, 'days'),
    };
    const answer = await api(viewer(request), 'POST', '/v1/enrollment-invites', invite);
    if (!answer.ok) return showInvites(request, reply, null, `Not created: ${answer.error?.message ?? answer.status}`, answer.status);
    return showInvites(request, reply, answer.body, null, 201);
  });

  app.post('/ui/enrollment/:id/revoke', async (request, reply) => {
    const { id } = request.params as { id: string };
    const answer = await api(viewer(request), 'DELETE', `/v1/enrollment-invites/${encodeURIComponent(id)}`);
    if (!answer.ok) return showInvites(request, reply, null, `Not revoked: ${answer.error?.message ?? answer.status}`, answer.status);
    return reply.redirect('/ui/enrollment', 303);
  });

  app.get('/ui/webhooks', async (request, reply) => {
    const v = viewer(request);
    const answer = await api<{ webhooks: Record<string, unknown>[] }>(v, 'GET', '/v1/webhooks');
    if (!answer.ok) return apiFailure(reply, v, answer);
    return sendPage(reply, webhooksPage(v, answer.body.webhooks));
  });

  app.get('/ui/webhooks/:id', async (request, reply) => {
    const v = viewer(request);
    const { id } = request.params as { id: string };
    const cursor = (request.query as Record<string, unknown>).cursor;
    const answer = await api<{ deliveries: Record<string, unknown>[]; next_cursor: string | null }>(v, 'GET', `/v1/webhooks/${encodeURIComponent(id)}/deliveries${query({ cursor: typeof cursor === 'string' ? cursor : undefined })}`);
    if (!answer.ok) return apiFailure(reply, v, answer);
    return sendPage(reply, deliveriesPage(v, id, answer.body.deliveries, answer.body.next_cursor));
  });

  async function showAccounts(request: FastifyRequest, reply: FastifyReply, message: Html | null, status: number) {
    const v = viewer(request);
    const answer = await api<{ accounts: Record<string, unknown>[] }>(v, 'GET', '/v1/accounts');
    if (!answer.ok) return apiFailure(reply, v, answer);
    return sendPage(reply, accountsPage(v, answer.body.accounts, message), status);
  }

  /** Accounts are changed through the API like everything else; its refusal is shown above the list. */
  async function changeAccount(request: FastifyRequest, reply: FastifyReply, method: 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, done: string) {
    const answer = await api(viewer(request), method, path, body);
    if (!answer.ok) return showAccounts(request, reply, notice('error', `Refused: ${answer.error?.message ?? answer.status}`), answer.status);
    return showAccounts(request, reply, notice('ok', done), method === 'POST' ? 201 : 200);
  }

  app.get('/ui/accounts', async (request, reply) => showAccounts(request, reply, null, 200));

  app.post('/ui/accounts', async (request, reply) => {
    const body = request.body as FormBody;
    const name = field(body, 'name');
    return changeAccount(request, reply, 'POST', '/v1/accounts', { name, role: field(body, 'role'), password: field(body, 'password') }, `Account ${name} added.`);
  });

  app.post('/ui/accounts/:name/role', async (request, reply) => {
    const { name } = request.params as { name: string };
    const role = field(request.body as FormBody, 'role');
    return changeAccount(request, reply, 'PATCH', `/v1/accounts/${encodeURIComponent(name)}`, { role }, `${name} is now ${role}.`);
  });

  app.post('/ui/accounts/:name/remove', async (request, reply) => {
    const { name } = request.params as { name: string };
    return changeAccount(request, reply, 'DELETE', `/v1/accounts/${encodeURIComponent(name)}`, undefined, `Account ${name} removed.`);
  });

  app.get('/ui/audit', async (request, reply) => {
    const v = viewer(request);
    const q = request.query as Record<string, unknown>;
    const filter = Object.fromEntries(['actor', 'action', 'target'].map((k) => [k, typeof q[k] === 'string' ? (q[k] as string) : '']));
    const answer = await api<{ entries: Record<string, unknown>[]; next_cursor: string | null }>(v, 'GET', `/v1/audit${query({ ...filter, cursor: typeof q.cursor === 'string' ? q.cursor : undefined, limit: 50 })}`);
    if (!answer.ok && answer.status === 403) return apiFailure(reply, v, answer);
    return sendPage(reply, auditPage(v, filter, answer.ok ? answer.body.entries : [], answer.ok ? answer.body.next_cursor : null, answer.ok ? null : (answer.error?.message ?? 'failed')), answer.ok ? 200 : answer.status);
  });

  app.get('/ui/live', async (request, reply) => {
    securityHeaders(reply);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    const unsubscribe = live.subscribe((event) => res.write(`event: seen\nid: ${event.last_seen_at}\ndata: ${JSON.stringify(event)}\n\n`));
    const end = () => {
      streams.delete(end);
      unsubscribe();
      res.end();
    };
    streams.add(end);
    request.raw.on('close', end);
  });
}

function refuseCsrf(reply: FastifyReply, viewer: Viewer | null): FastifyReply {
  return sendPage(reply, page('Refused', notice('error', html`This form's security token is missing or wrong, so nothing was changed. <a href="/ui">Reload the page</a> and try again.`), viewer), 403);
}

function apiFailure(reply: FastifyReply, viewer: Viewer, answer: ApiAnswer): FastifyReply {
  const message = answer.status === 403 ? `Your role (${viewer.principal.role}) may not see this.` : (answer.error?.message ?? `the API answered ${answer.status}`);
  return sendPage(reply, page(answer.status === 404 ? 'Not found' : 'Refused', notice('error', message), viewer), answer.status);
}
