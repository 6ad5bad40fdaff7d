// Accounts, roles, tokens, console sessions, the login limit and the audit log, over real HTTP on
// the backend of this pass (SQLite, then PostgreSQL): what each role may do on representative
// routes, tokens shown once and revocable, Basic with an account (and NanoMDM's Basic with the
// key), 429 after 10 failed logins counted in the database across two instances, and the audit
// entries every change leaves, refused ones included, with their filters and paging.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CSRF_HEADER, SESSION_COOKIE } from '../../src/service/access.ts';
import { aspen as runAspen } from '../cli/run-cli.ts';
import { startAspen, TEST_BACKEND, type TestServer } from '../helpers/aspen-server.ts';
import { enroll } from '../helpers/device.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { snapshotStorage } from '../helpers/snapshot.ts';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON
const KEY = 'accounts-test-api-key-0123456789';
const PASSWORD = 'correct horse battery staple';

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

async function api(server: TestServer, method: string, path: string, authorization: string | Record<string, string>, body?: unknown): Promise<{ status: number; json: Json; headers: Headers }> {
  const headers: Record<string, string> = typeof authorization === 'string' ? { authorization } : { ...authorization };
  if (body !== undefined && typeof body !== 'string') headers['content-type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Json), headers: res.headers };
}

const queue = (requestType: string, extra: Json = {}) => ({ targets: ['PHONE-1'], command: { RequestType: requestType, ...extra }, push: false });

const rawPlist = (requestType: string, uuid: string) =>
  `<?xml version="1.0"?><plist version="1.0"><dict><key>CommandUUID</key><string>${uuid}</string><key>Command</key><dict><key>RequestType</key><string>${requestType}</string></dict></dict></plist>`;

/** A database both instances of a test use: the same SQLite file (one data directory), or one PostgreSQL database. */
async function sharedDatabase(): Promise<{ env: Record<string, string>; database: TestDatabase | undefined }> {
  if (TEST_BACKEND !== 'postgres') return { env: {}, database: undefined };
  const database = await createTestDatabase();
  return { env: { DATABASE_URL: database.url }, database };
}

describe('accounts, roles and the audit log', () => {
  let server: TestServer;
  const as = { viewer: '', operator: '', admin: '' };

  before(async () => {
    server = await startAspen({ API_KEY: KEY });
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      await server.aspen.accounts.add(`${role}-ann`, role, PASSWORD);
      as[role] = basic(`${role}-ann`, PASSWORD);
    }
    await enroll(server, 'PHONE-1', { ProductName: 'iPhone14,2', OSVersion: '18.1' });
  });
  after(() => server?.close());

  it('lets a viewer read everything and change nothing, with a 403 naming what it lacks', async () => {
    assert.equal((await api(server, 'GET', '/v1/enrollments', as.viewer)).status, 200);
    assert.equal((await api(server, 'GET', '/v1/webhooks', as.viewer)).status, 200);
    const before = await snapshotStorage(server.aspen.storage);
    const refused = await api(server, 'POST', '/v1/commands', as.viewer, queue('DeviceInformation', { Queries: ['SerialNumber'] }));
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error.code, 'forbidden');
    assert.deepEqual(refused.json.error.details, { permission: 'commands.queue', role: 'viewer', required_role: 'operator' });
    assert.match(refused.json.error.message, /viewer role may not/);
    assert.equal((await api(server, 'POST', '/v1/push/PHONE-1', as.viewer)).status, 403);
    assert.equal((await api(server, 'DELETE', '/v1/enrollments/PHONE-1/queue', as.viewer)).status, 403);
    assert.equal((await api(server, 'GET', '/v1/audit', as.viewer)).status, 403, 'the audit log is for admins');
    assert.equal(await snapshotStorage(server.aspen.storage), before, 'a refused change changes nothing (but is audited: see below)');
  });

  it('lets an operator queue and push, but not destructive commands, webhooks, the push certificate or accounts', async () => {
    const queued = await api(server, 'POST', '/v1/commands', as.operator, queue('DeviceInformation', { Queries: ['SerialNumber'] }));
    assert.equal(queued.status, 201, JSON.stringify(queued.json));
    const installs = await api(server, 'PUT', '/v1/enqueue/PHONE-1?nopush=1', as.operator, rawPlist('ProfileList', 'op-raw-1'));
    assert.equal(installs.status, 200, JSON.stringify(installs.json));
    for (const [requestType, extra] of [['EraseDevice', {}], ['DeviceLock', {}], ['ClearPasscode', { UnlockToken: 'AAAA' }]] as const) {
      const erase = await api(server, 'POST', '/v1/commands', as.operator, queue(requestType, extra));
      assert.equal(erase.status, 403, requestType);
      assert.equal(erase.json.error.details.permission, 'commands.destructive');
    }
    assert.equal((await api(server, 'PUT', '/v1/enqueue/PHONE-1', as.operator, rawPlist('EraseDevice', 'op-raw-2'))).status, 403, 'a raw plist is read for its RequestType too');
    assert.equal((await api(server, 'POST', '/v1/commands', as.operator, { targets: ['PHONE-1'], plist: rawPlist('EraseDevice', 'op-raw-3') })).status, 403);
    assert.equal((await api(server, 'PUT', '/v1/enqueue/PHONE-1', as.operator, 'not a plist')).status, 403, 'a body that cannot be read takes the destructive permission');
    assert.equal((await api(server, 'POST', '/v1/webhooks', as.operator, { url: 'https://hooks.example.com/x' })).status, 403);
    assert.equal((await api(server, 'PUT', '/v1/pushcert', as.operator, 'pem')).status, 403);
    assert.equal((await api(server, 'POST', '/v1/accounts', as.operator, { name: 'mallory', role: 'admin', password: PASSWORD })).status, 403);
    assert.equal((await api(server, 'DELETE', '/v1/enrollments/PHONE-1', as.operator)).status, 403);
    const history = await api(server, 'GET', '/v1/enrollments/PHONE-1/queue', as.operator);
    assert.deepEqual(
      history.json.commands.map((c: Json) => c.request_type),
      ['DeviceInformation', 'ProfileList'],
      'nothing destructive was queued',
    );
  });

  it('lets an admin do everything', async () => {
    const erase = await api(server, 'POST', '/v1/commands', as.admin, queue('EraseDevice'));
    assert.equal(erase.status, 201, JSON.stringify(erase.json));
    const added = await api(server, 'POST', '/v1/accounts', as.admin, { name: 'Zed', role: 'viewer', password: PASSWORD });
    assert.equal(added.status, 201);
    assert.equal(added.json.name, 'zed');
    assert.equal((await api(server, 'POST', '/v1/accounts', as.admin, { name: 'zed', role: 'viewer', password: PASSWORD })).status, 409);
    assert.equal((await api(server, 'POST', '/v1/accounts', as.admin, { name: 'yan', role: 'viewer', password: 'short' })).status, 400);
    assert.equal((await api(server, 'PATCH', '/v1/accounts/zed', as.admin, { role: 'operator' })).json.role, 'operator');
    assert.equal((await api(server, 'DELETE', '/v1/accounts/zed', as.admin)).status, 200);
    assert.equal((await api(server, 'GET', '/v1/enrollments', basic('zed', PASSWORD))).status, 401, 'a removed account cannot log in');
    assert.equal((await api(server, 'GET', '/v1/audit', as.admin)).status, 200);
  });

  it('takes NanoMDM-style Basic (any name, the API key as password) and the key as Bearer as the bootstrap admin; refuses a wrong password', async () => {
    assert.equal((await api(server, 'GET', '/v1/enrollments', basic('nanomdm', KEY))).status, 200);
    assert.equal((await api(server, 'GET', '/v1/enrollments', `Bearer ${KEY}`)).status, 200);
    const wrong = await api(server, 'GET', '/v1/enrollments', basic('admin-ann', 'not the password'));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, 'unauthorized');
    assert.equal((await api(server, 'GET', '/v1/enrollments', {})).status, 401);
  });

  it('makes tokens with the account’s role, shown once, listed without their value, and revocable', async () => {
    const made = await api(server, 'POST', '/v1/tokens', as.operator, { name: 'ci' });
    assert.equal(made.status, 201);
    assert.match(made.json.token, /^aspen_/);
    assert.equal(made.json.account, 'operator-ann');
    const bearer = `Bearer ${made.json.token}`;
    assert.equal((await api(server, 'POST', '/v1/commands', bearer, queue('DeviceInformation', { Queries: ['OSVersion'] }))).status, 201, 'an operator token queues');
    assert.equal((await api(server, 'POST', '/v1/commands', bearer, queue('EraseDevice'))).status, 403, 'but has no more than the operator role');

    const listed = await api(server, 'GET', '/v1/tokens', bearer);
    assert.deepEqual(listed.json.tokens.map((t: Json) => t.id), [made.json.id]);
    assert.equal(JSON.stringify(listed.json).includes(made.json.token), false, 'the value is never shown again');
    assert.ok(listed.json.tokens[0].last_used_at, 'its use is recorded');
    assert.deepEqual((await api(server, 'GET', '/v1/tokens', as.viewer)).json.tokens, [], "a viewer sees only its own");
    assert.equal((await api(server, 'DELETE', `/v1/tokens/${made.json.id}`, as.viewer)).status, 404, "nor may it revoke someone else's");
    assert.equal((await api(server, 'POST', '/v1/tokens', as.operator, { account: 'admin-ann' })).status, 403, 'only an admin makes tokens for others');
    assert.equal((await api(server, 'POST', '/v1/tokens', `Bearer ${KEY}`, {})).status, 400, 'the API key must name the account');
    const forViewer = await api(server, 'POST', '/v1/tokens', `Bearer ${KEY}`, { account: 'viewer-ann' });
    assert.equal(forViewer.status, 201);
    assert.equal((await api(server, 'POST', '/v1/push/PHONE-1', `Bearer ${forViewer.json.token}`)).status, 403);

    assert.equal((await api(server, 'DELETE', `/v1/tokens/${made.json.id}`, bearer)).status, 200);
    assert.equal((await api(server, 'GET', '/v1/enrollments', bearer)).status, 401, 'a revoked token stops working at once');
    assert.equal((await api(server, 'GET', '/v1/enrollments', 'Bearer aspen_made-up')).status, 401);
  });

  it('serves console sessions from the database: cookie, CSRF token for changes, logout', async () => {
    const login = await server.aspen.access.login('Operator-Ann', PASSWORD, '192.0.2.50');
    assert.ok(login.ok);
    assert.equal(login.session.principal.role, 'operator');
    const cookie = { cookie: `${SESSION_COOKIE}=${login.sessionId}` };
    assert.equal((await api(server, 'GET', '/v1/enrollments', cookie)).status, 200);
    const noCsrf = await api(server, 'POST', '/v1/push/PHONE-1', cookie);
    assert.equal(noCsrf.status, 403, 'a change without the CSRF token is refused');
    assert.match(noCsrf.json.error.message, /CSRF/);
    assert.equal((await api(server, 'POST', '/v1/push/PHONE-1', { ...cookie, [CSRF_HEADER]: 'wrong' })).status, 403);
    const pushed = await api(server, 'POST', '/v1/push/PHONE-1', { ...cookie, [CSRF_HEADER]: login.session.csrfToken });
    assert.notEqual(pushed.status, 403, JSON.stringify(pushed.json));
    // Another instance would find it too: it is the database's, not this process's.
    assert.equal((await server.aspen.access.session(login.sessionId))?.principal.actor, 'operator-ann');
    await server.aspen.access.logout(login.sessionId);
    assert.equal(await server.aspen.access.session(login.sessionId), null);
    assert.equal((await api(server, 'GET', '/v1/enrollments', cookie)).status, 401);
    assert.deepEqual(await server.aspen.access.login('operator-ann', 'wrong password', '192.0.2.50'), { ok: false, reason: 'invalid' });
    const logins = (await api(server, 'GET', '/v1/audit?action=session.login&limit=1', as.admin)).json.entries;
    assert.deepEqual([logins[0].actor, logins[0].status, logins[0].outcome, logins[0].client_address], ['operator-ann', 401, 'refused', '192.0.2.50'], 'a failed console login is audited');
    const logouts = (await api(server, 'GET', '/v1/audit?action=session.logout&actor=operator-ann', as.admin)).json.entries;
    assert.equal(logouts.length, 1);
  });

  it('lets in-process code (the console) call the API as a principal through app.inject, and refuses that header from the network', async () => {
    const login = await server.aspen.access.login('viewer-ann', PASSWORD, '192.0.2.51');
    assert.ok(login.ok);
    const headers = server.aspen.access.injectHeaders(login.session.principal);
    const refused = await server.aspen.app.inject({ method: 'POST', url: '/v1/push/PHONE-1', headers });
    assert.equal(refused.statusCode, 403, 'the principal’s role holds for injected requests');
    const read = await server.aspen.app.inject({ method: 'GET', url: '/v1/enrollments', headers });
    assert.equal(read.statusCode, 200);
    assert.equal((await api(server, 'GET', '/v1/enrollments', headers)).status, 200, 'the signed header works from this process');
    const forged = { 'x-aspen-principal': `${Buffer.from(JSON.stringify({ actor: 'x', accountId: null, role: 'admin', via: 'session' })).toString('base64url')}.forged` };
    assert.equal((await api(server, 'GET', '/v1/enrollments', forged)).status, 401);
  });

  it('audits every change, refused ones too, with who, what, targets and outcome; not reads; filtered and paged', async () => {
    const uuid = 'audit-cmd-1';
    const queued = await api(server, 'POST', '/v1/commands', as.operator, { ...queue('DeviceInformation', { Queries: ['SerialNumber'] }), command_uuid: uuid });
    assert.equal(queued.status, 201);
    const log = async (query: string) => (await api(server, 'GET', `/v1/audit${query}`, as.admin)).json;
    const [entry] = (await log(`?target=${uuid}`)).entries;
    assert.equal(entry.actor, 'operator-ann');
    assert.equal(entry.via, 'basic');
    assert.equal(entry.action, 'command.queue');
    assert.equal(entry.method, 'POST');
    assert.equal(entry.path, '/v1/commands');
    assert.equal(entry.status, 201);
    assert.equal(entry.outcome, 'ok');
    assert.deepEqual(entry.targets, [{ kind: 'enrollment', id: 'PHONE-1' }, { kind: 'command', id: uuid }]);
    assert.deepEqual(entry.details, { request_type: 'DeviceInformation' });

    const refusals = (await log('?actor=viewer-ann&action=command.queue')).entries;
    assert.ok(refusals.length >= 1);
    assert.deepEqual([refusals.at(-1).status, refusals.at(-1).outcome], [403, 'refused']);
    const badRequest = await api(server, 'POST', '/v1/commands', as.operator, { targets: ['PHONE-1'], command: { RequestType: 'NoSuchThing' } });
    assert.equal(badRequest.status, 400);
    assert.equal((await log('?limit=1')).entries[0].status, 400, 'a failed change is logged with its outcome');

    const countBefore = (await log('?limit=1000')).entries.length;
    await api(server, 'GET', '/v1/enrollments', as.operator);
    await api(server, 'GET', '/v1/commands', as.operator);
    await api(server, 'POST', '/v1/push/PHONE-1', {}); // unauthenticated: not anyone's change
    assert.equal((await log('?limit=1000')).entries.length, countBefore, 'reads and unauthenticated requests are not logged');

    const page1 = await log('?action=command.queue&limit=2');
    assert.equal(page1.entries.length, 2);
    const page2 = await log(`?action=command.queue&limit=2&cursor=${page1.next_cursor}`);
    assert.ok(page2.entries[0].seq < page1.entries[1].seq, 'the next page continues after the first');
    const at = entry.at as string;
    assert.ok((await log(`?since=${encodeURIComponent(at)}&target=${uuid}`)).entries.length === 1);
    assert.equal((await log(`?until=${encodeURIComponent(at)}&target=${uuid}`)).entries.length, 0, 'until is exclusive');
    assert.equal((await api(server, 'GET', '/v1/audit?since=yesterday', as.admin)).status, 400);
    assert.equal((await api(server, 'GET', '/v1/audit?cursor=nonsense', as.admin)).status, 400);
  });

  it('keeps the first 1,000 targets of a large fan-out and the command it made, saying how many there were', async () => {
    const targets = ['PHONE-1', ...Array.from({ length: 1_500 }, (_, i) => `NOBODY-${i}`)];
    const queued = await api(server, 'POST', '/v1/commands', as.operator, { targets, command: { RequestType: 'ProfileList' }, command_uuid: 'audit-fan-out', push: false });
    assert.equal(queued.status, 201);
    const [entry] = (await api(server, 'GET', '/v1/audit?target=audit-fan-out', as.admin)).json.entries;
    assert.equal(entry.targets.length, 1_000);
    assert.deepEqual(entry.targets[0], { kind: 'enrollment', id: 'PHONE-1' });
    assert.deepEqual(entry.targets.at(-1), { kind: 'command', id: 'audit-fan-out' });
    assert.equal(entry.details.targets_total, 1_502);
  });
});

describe('the login limit', () => {
  it('answers 429 after 10 failed logins within a minute for one account, counted in the database across two instances', async (t) => {
    const shared = await sharedDatabase();
    const first = await startAspen({ API_KEY: KEY, ...shared.env });
    t.after(async () => {
      await first.close();
      await shared.database?.drop();
    });
    const second = await startAspen({ API_KEY: KEY, ...shared.env }, first.dataDir);
    t.after(() => second.close());
    await first.aspen.accounts.add('gus', 'operator', PASSWORD);
    for (let n = 0; n < 10; n++) {
      const res = await api(n % 2 === 0 ? first : second, 'GET', '/v1/enrollments', basic('gus', `wrong-${n}`));
      assert.equal(res.status, 401, `failure ${n + 1}`);
    }
    for (const server of [first, second]) {
      const limited = await api(server, 'GET', '/v1/enrollments', basic('gus', PASSWORD));
      assert.equal(limited.status, 429, 'even the right password, on either instance');
      assert.equal(limited.json.error.code, 'too_many_requests');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    }
    assert.deepEqual(await second.aspen.access.login('gus', PASSWORD, '192.0.2.99'), { ok: false, reason: 'rate-limited' }, 'the console login is limited too');
    assert.equal((await api(first, 'GET', '/v1/enrollments', `Bearer ${KEY}`)).status, 200, 'the API key is no login: not limited');
  });

  it('limits one address across account names, for the console login', async (t) => {
    const server = await startAspen({ API_KEY: KEY });
    t.after(() => server.close());
    await server.aspen.accounts.add('hal', 'viewer', PASSWORD);
    for (let n = 0; n < 10; n++) assert.deepEqual(await server.aspen.access.login(`nobody-${n}`, 'x', '198.51.100.7'), { ok: false, reason: 'invalid' });
    assert.deepEqual(await server.aspen.access.login('hal', PASSWORD, '198.51.100.7'), { ok: false, reason: 'rate-limited' });
    assert.ok((await server.aspen.access.login('hal', PASSWORD, '198.51.100.8')).ok, 'from another address the account is fine');
  });
});

describe('aspen users and tokens on the server’s database', () => {
  it('adds an account with --password-stdin that then logs in over HTTP; a CLI token works as Bearer', async (t) => {
    const shared = await sharedDatabase();
    const server = await startAspen({ API_KEY: KEY, ...shared.env });
    t.after(async () => {
      await server.close();
      await shared.database?.drop();
    });
    const env = { DATA_DIR: server.dataDir, API_KEY: KEY, ...shared.env };
    const added = await runAspen(['users', 'add', 'Ivy', '--role', 'operator', '--password-stdin'], { env, input: `${PASSWORD}\n` });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /added ivy \(operator\)/);
    const again = await runAspen(['users', 'add', 'ivy', '--role', 'admin', '--password-stdin'], { env, input: PASSWORD });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists/);
    assert.equal((await runAspen(['users', 'add', 'jo', '--role', 'root', '--password-stdin'], { env, input: PASSWORD })).code, 2);

    assert.equal((await api(server, 'POST', '/v1/commands', basic('ivy', PASSWORD), queue('DeviceInformation', { Queries: ['SerialNumber'] }))).status, 422, 'logged in as an operator (no such target here)');
    const listed = await runAspen(['users', 'list', '--json'], { env });
    assert.deepEqual(JSON.parse(listed.stdout).map((a: Json) => [a.name, a.role]), [['ivy', 'operator']]);

    const token = await runAspen(['tokens', 'create', 'ivy', '--name', 'script'], { env });
    assert.equal(token.code, 0, token.stderr);
    const value = token.stdout.trim();
    assert.equal((await api(server, 'GET', '/v1/enrollments', `Bearer ${value}`)).status, 200);
    const id = JSON.parse((await runAspen(['tokens', 'list', '--json'], { env })).stdout)[0].id as string;
    assert.equal((await runAspen(['tokens', 'revoke', id], { env })).code, 0);
    assert.equal((await api(server, 'GET', '/v1/enrollments', `Bearer ${value}`)).status, 401);

    const passwd = await runAspen(['users', 'passwd', 'ivy', '--password-stdin'], { env, input: 'another good password' });
    assert.equal(passwd.code, 0, passwd.stderr);
    assert.equal((await api(server, 'GET', '/v1/enrollments', basic('ivy', 'another good password'))).status, 200);
    assert.equal((await runAspen(['users', 'remove', 'ivy'], { env })).code, 0);
    assert.equal((await api(server, 'GET', '/v1/enrollments', basic('ivy', 'another good password'))).status, 401);

    const audit = await runAspen(['audit', '--json', '--actor', (await api(server, 'GET', '/v1/audit?limit=1', `Bearer ${KEY}`)).json.entries[0].actor], { server: { url: server.url, apiKey: KEY } });
    assert.equal(audit.code, 0, audit.stderr);
    const actions = JSON.parse(audit.stdout).entries.map((e: Json) => [e.action, e.via]);
    assert.deepEqual(actions, [['account.remove', 'cli'], ['account.change', 'cli'], ['token.revoke', 'cli'], ['token.create', 'cli'], ['account.create', 'cli']], 'the CLI’s changes are audited');
  });
});
