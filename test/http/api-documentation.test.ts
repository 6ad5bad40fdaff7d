// The published API description is true: every documented route is called for real and its 2xx
// body checked against the schema /openapi.json publishes for it (so an undeclared field fails);
// every route's worked example fits its schemas; /docs shows them all, the device and operations
// endpoints and every RequestType; and bodies are serialized by their schemas, so an undeclared
// field never leaves the server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import Fastify from 'fastify';
import { z } from 'zod';
import { defineRoute, registerRoutes } from '../../src/http/admin/api-route.ts';
import { lazySchemaCompilers } from '../../src/http/lazy-schema-compilers.ts';
import { OTHER_ENDPOINTS } from '../../src/http/admin/docs-page.ts';
import { ROUTE_EXAMPLES } from '../../src/http/admin/examples.ts';
import { commandRegistry } from '../../src/protocol/commands/index.ts';
import { freePort, startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { checkin, enroll, report, tokenUpdate } from '../helpers/device.ts';
import { startPushRig, type PushRig } from '../helpers/push-rig.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- the test reads arbitrary JSON
const KEY = 'api-documentation-key-0123456789';

/** JSON Pointer into the OpenAPI document. */
const pointer = (...parts: string[]) => `openapi#/${parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

describe('the published API description', () => {
  let rig: PushRig;
  let server: TestServer;
  let doc: Json;
  let ajv: Ajv2020;
  const validators = new Map<string, ValidateFunction>();

  /** A validator for the schema at `ref` in the published document ($refs inside it resolve there too). */
  function schemaAt(ref: string): ValidateFunction {
    let validate = validators.get(ref);
    if (validate === undefined) {
      validate = ajv.compile({ $ref: ref });
      validators.set(ref, validate);
    }
    return validate;
  }

  function assertFits(ref: string, value: unknown, what: string): void {
    const validate = schemaAt(ref);
    assert.ok(validate(value), `${what} does not fit ${ref}: ${JSON.stringify(validate.errors?.slice(0, 3))}\n${JSON.stringify(value).slice(0, 500)}`);
  }

  before(async () => {
    rig = await startPushRig();
    const port = await freePort();
    server = await startAspen({ API_KEY: KEY, ...rig.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Json;
    ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats.default(ajv);
    ajv.addSchema(doc, 'openapi');

    await enroll(server, 'IPHONE-1', { ProductName: 'iPhone14,2', OSVersion: '18.1', SerialNumber: 'SERIAL-1', DeviceName: 'Phone' });
    await checkin(server, tokenUpdate({ UDID: 'IPHONE-1' }, { Topic: rig.certs.push.topic }));
    await enroll(server, 'MAC-1', { ProductName: 'Mac14,7', OSVersion: '15.1' });
    await checkin(server, tokenUpdate({ UDID: 'MAC-1', UserID: 'USER-GUID', UserShortName: 'ann', UserLongName: 'Ann' }, { Topic: rig.certs.push.topic }));
  });
  after(async () => {
    await server?.close();
    await rig?.close();
  });

  it('answers every documented route with a 2xx body that fits its published schema', async () => {
    const called = new Set<string>();
    async function call(method: string, template: string, path: string, body?: { json: unknown } | { raw: string }): Promise<Json> {
      const headers: Record<string, string> = { authorization: `Bearer ${KEY}` };
      if (body && 'json' in body) headers['content-type'] = 'application/json';
      const res = await fetch(server.url + path, { method, headers, ...(body ? { body: 'json' in body ? JSON.stringify(body.json) : body.raw } : {}) });
      const text = await res.text();
      assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${text}`);
      const operation = doc.paths[template]?.[method.toLowerCase()];
      assert.ok(operation, `${method} ${template} is documented`);
      called.add(`${method} ${template}`);
      if (res.status === 204) {
        assert.ok(operation.responses[204] && operation.responses[204].content === undefined, `${method} ${template} documents its bodiless 204`);
        assert.equal(text, '');
        return {};
      }
      const json = JSON.parse(text) as Json;
      assert.ok(operation.responses[res.status]?.content, `${method} ${template} documents its ${res.status}`);
      assertFits(pointer('paths', template, method.toLowerCase(), 'responses', String(res.status), 'content', 'application/json', 'schema'), json, `${method} ${path}`);
      return json;
    }

    const submitted = await call('POST', '/v1/commands', '/v1/commands', {
      json: { targets: ['IPHONE-1', 'MAC-1', 'MAC-1:USER-GUID', 'NOBODY'], command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber', 'OSVersion'] }, command_uuid: 'doc-1' },
    });
    assert.equal(submitted.targets['IPHONE-1'].push.status, 'pushed', 'the push outcome is part of the checked body');
    // The device answers, with data and a date in its result, so results are checked as they come back.
    await report(server, { Status: 'Idle', UDID: 'IPHONE-1' });
    await report(server, {
      Status: 'Acknowledged',
      UDID: 'IPHONE-1',
      CommandUUID: 'doc-1',
      QueryResponses: { SerialNumber: 'SERIAL-1', OSVersion: '18.1', PushToken: Buffer.from('0123', 'hex'), LastCloudBackupDate: new Date('2025-06-01T10:00:00Z') },
    });
    await report(server, { Status: 'Error', UDID: 'MAC-1', CommandUUID: 'doc-1', ErrorChain: [{ ErrorCode: 12021, ErrorDomain: 'MCMDMErrorDomain', LocalizedDescription: 'x' }] });

    const raw = '<?xml version="1.0"?><plist version="1.0"><dict><key>CommandUUID</key><string>doc-2</string><key>Command</key><dict><key>RequestType</key><string>ProfileList</string></dict></dict></plist>';
    await call('PUT', '/v1/enqueue/{ids}', '/v1/enqueue/IPHONE-1,MAC-1,NOBODY?nopush=1', { raw });
    await call('POST', '/v1/commands', '/v1/commands', { json: { targets: ['IPHONE-1'], command: { RequestType: 'SecurityInfo' }, command_uuid: 'doc-3', push: false } });

    const view = await call('GET', '/v1/commands/{uuid}', '/v1/commands/doc-1?limit=2');
    assert.ok(view.next_cursor !== null, 'a first page');
    await call('GET', '/v1/commands/{uuid}', `/v1/commands/doc-1?cursor=${view.next_cursor}`);
    const list = await call('GET', '/v1/enrollments', '/v1/enrollments?limit=2');
    await call('GET', '/v1/enrollments', `/v1/enrollments?cursor=${list.next_cursor}`);
    const detail = await call('GET', '/v1/enrollments/{id}', '/v1/enrollments/IPHONE-1');
    assert.equal(detail.identities.length, 1);
    await call('GET', '/v1/enrollments/{id}', `/v1/enrollments/${encodeURIComponent('MAC-1:USER-GUID')}`);
    const history = await call('GET', '/v1/enrollments/{id}/commands', '/v1/enrollments/IPHONE-1/commands');
    assert.equal(history.commands.find((c: Json) => c.command_uuid === 'doc-1').result.QueryResponses.PushToken, 'ASM=');
    await call('GET', '/v1/enrollments/{id}/queue', '/v1/enrollments/IPHONE-1/queue');
    await call('DELETE', '/v1/enrollments/{id}/queue/{uuid}', '/v1/enrollments/IPHONE-1/queue/doc-2');
    await call('DELETE', '/v1/enrollments/{id}/queue', '/v1/enrollments/IPHONE-1/queue');
    await call('GET', '/v1/pushcert', '/v1/pushcert');
    await call('PUT', '/v1/pushcert', '/v1/pushcert', { raw: `${rig.certs.push.certPem}\n${rig.certs.push.keyPem}` });
    await call('GET', '/v1/push/{ids}', '/v1/push/IPHONE-1,NOBODY');
    await call('POST', '/v1/push/{ids}', '/v1/push/IPHONE-1,MAC-1');
    await call('DELETE', '/v1/enrollments/{id}/identities', '/v1/enrollments/MAC-1/identities');
    const commands = await call('GET', '/v1/commands', '/v1/commands?limit=1');
    await call('GET', '/v1/commands', `/v1/commands?cursor=${commands.next_cursor}&request_type=ProfileList`);
    await call('DELETE', '/v1/enrollments/{id}', `/v1/enrollments/${encodeURIComponent('MAC-1:USER-GUID')}`);

    const created = await call('POST', '/v1/enrollment-invites', '/v1/enrollment-invites', { json: { label: 'doc', max_uses: 2, assign: { sets: ['s'] } } });
    await call('POST', '/v1/enrollment-invites', '/v1/enrollment-invites', { json: {} });
    const invites = await call('GET', '/v1/enrollment-invites', '/v1/enrollment-invites?limit=1');
    await call('GET', '/v1/enrollment-invites', `/v1/enrollment-invites?state=live&cursor=${invites.next_cursor}`);
    await call('DELETE', '/v1/enrollment-invites/{id}', `/v1/enrollment-invites/${created.id}`);
    // An identity as SCEP records one (the SCEP exchange itself is tested in enrollment.test.ts).
    const now = Date.now();
    const issued = await server.aspen.storage.issuance.issueWithStaticChallenge({
      serial: 'ABCDEF0123',
      fingerprint: 'f'.repeat(64),
      subject: 'CN=doc',
      notBefore: new Date(now).toISOString(),
      notAfter: new Date(now + 86_400_000).toISOString(),
      issuedAt: new Date(now).toISOString(),
      anchor: 'a'.repeat(64),
    });
    const identities = await call('GET', '/v1/identities', '/v1/identities?revoked=0&limit=1');
    assert.equal(identities.identities[0].serial, issued.serial);
    await call('GET', '/v1/identity-renewals', '/v1/identity-renewals');
    await call('POST', '/v1/identities/{serial}/revoke', `/v1/identities/${issued.serial.toLowerCase()}/revoke`);
    // Declarative Device Management: KMFDDM's routes and Aspen's own.
    const passcode = { Type: 'com.apple.configuration.passcode.settings', Identifier: 'com.example.passcode', Payload: { MinimumLength: 6 } };
    await call('PUT', '/v1/declarations', '/v1/declarations?nonotify=1', { json: passcode });
    await call('PUT', '/v1/declarations', '/v1/declarations', { json: { ...passcode, Identifier: 'com.example.doomed' } });
    await call('GET', '/v1/declarations', '/v1/declarations');
    await call('GET', '/v1/declarations/{id}', '/v1/declarations/com.example.passcode');
    await call('POST', '/v1/declarations/{id}/touch', '/v1/declarations/com.example.passcode/touch');
    await call('DELETE', '/v1/declarations/{id}', '/v1/declarations/com.example.doomed');
    await call('PUT', '/v1/set-declarations/{set}', '/v1/set-declarations/phones?declaration=com.example.passcode');
    await call('GET', '/v1/set-declarations/{set}', '/v1/set-declarations/phones');
    await call('GET', '/v1/sets', '/v1/sets');
    await call('GET', '/v1/declaration-sets/{id}', '/v1/declaration-sets/com.example.passcode');
    await call('PUT', '/v1/enrollment-sets/{id}', '/v1/enrollment-sets/IPHONE-1?set=phones');
    await call('GET', '/v1/enrollment-sets/{id}', '/v1/enrollment-sets/IPHONE-1');
    await call('PUT', '/v1/ddm/global-sets/{set}', '/v1/ddm/global-sets/phones');
    await call('GET', '/v1/ddm/global-sets', '/v1/ddm/global-sets');
    await call('DELETE', '/v1/ddm/global-sets/{set}', '/v1/ddm/global-sets/phones');
    const ddm = (Endpoint: string, data?: unknown) =>
      checkin(server, { MessageType: 'DeclarativeManagement', UDID: 'IPHONE-1', Endpoint, ...(data ? { Data: Buffer.from(JSON.stringify(data)) } : {}) });
    const items = JSON.parse((await ddm('declaration-items')).text());
    const token = items.Declarations.Configurations[0].ServerToken;
    const statusReport = {
      StatusItems: {
        management: { declarations: { configurations: [{ identifier: 'com.example.passcode', active: false, valid: 'invalid', 'server-token': token, reasons: [{ code: 'Error.ConfigurationCannotBeApplied' }] }] } },
        device: { 'operating-system': { version: '18.1' } },
      },
      Errors: [{ StatusItem: 'device.battery-health', Reasons: [{ Code: 'Error.NotSupported' }] }],
    };
    assert.equal((await ddm('status', statusReport)).status, 200);
    const effective = await call('GET', '/v1/enrollments/{id}/declarations', '/v1/enrollments/IPHONE-1/declarations');
    assert.equal(effective.declarations.find((d: Json) => d.identifier === 'com.example.passcode').state, 'failed', 'a state is part of the checked body');
    await call('GET', '/v1/declarations/{id}/enrollments', '/v1/declarations/com.example.passcode/enrollments');
    await call('GET', '/v1/declaration-status/{ids}', '/v1/declaration-status/IPHONE-1,MAC-1');
    const errors = await call('GET', '/v1/status-errors/{ids}', '/v1/status-errors/IPHONE-1');
    assert.equal(errors['IPHONE-1'].length, 2);
    await call('GET', '/v1/status-values/{ids}', '/v1/status-values/IPHONE-1?prefix=.StatusItems.device.%25');
    await call('GET', '/v1/status-report/{id}', '/v1/status-report/IPHONE-1?index=0');
    await call('POST', '/v1/notify', '/v1/notify?id=IPHONE-1&set=phones');
    await call('DELETE', '/v1/set-declarations/{set}', '/v1/set-declarations/phones?declaration=com.example.passcode');
    await call('DELETE', '/v1/enrollment-sets/{id}', '/v1/enrollment-sets/IPHONE-1?set=phones');
    await call('PUT', '/v1/enrollment-sets/{id}', '/v1/enrollment-sets/MAC-1?set=macs');
    await call('DELETE', '/v1/enrollment-sets-all/{id}', '/v1/enrollment-sets-all/MAC-1');
    await call('PUT', '/v1/enrollment-sets/{id}', '/v1/enrollment-sets/MAC-1?set=macs');
    await call('DELETE', '/v1/enrollment-sets-all/sets/{id}', '/v1/enrollment-sets-all/sets/MAC-1');
    await call('PUT', '/v1/ddm/assets/{name}', '/v1/ddm/assets/sshd_config', { raw: 'PermitRootLogin no\n' });
    await call('GET', '/v1/ddm/assets', '/v1/ddm/assets');
    await call('DELETE', '/v1/ddm/assets/{name}', '/v1/ddm/assets/sshd_config');

    // Webhooks, against a receiver of their own (an endpoint's delivery log is read once it has one).
    const receiver = await startWebhookReceiver();
    try {
      const hook = await call('POST', '/v1/webhooks', '/v1/webhooks', { json: { url: receiver.url, format: 'standard', topics: ['mdm.Connect'] } });
      await call('GET', '/v1/webhooks', '/v1/webhooks');
      await call('GET', '/v1/webhooks/{id}', `/v1/webhooks/${hook.id}`);
      await call('PATCH', '/v1/webhooks/{id}', `/v1/webhooks/${hook.id}`, { json: { topics: null } });
      const tested = await call('POST', '/v1/webhooks/{id}/test', `/v1/webhooks/${hook.id}/test`);
      assert.equal(tested.status, 204, 'the receiver answered the test');
      // The report's event (and its delivery) is written with the report, before the answer.
      await report(server, { Status: 'Idle', UDID: 'IPHONE-1' });
      const log = await call('GET', '/v1/webhooks/{id}/deliveries', `/v1/webhooks/${hook.id}/deliveries`);
      assert.equal(log.deliveries.length, 1, 'a delivery is part of the checked body');
      await call('POST', '/v1/webhooks/{id}/replay', `/v1/webhooks/${hook.id}/replay`, { json: { since: '2000-01-01T00:00:00Z' } });
      await call('DELETE', '/v1/webhooks/{id}', `/v1/webhooks/${hook.id}`);
    } finally {
      await receiver.close();
    }

    // Accounts, their tokens, and the audit log the changes above wrote.
    await call('POST', '/v1/accounts', '/v1/accounts', { json: { name: 'Ann', role: 'operator', password: 'correct horse battery staple' } });
    await call('GET', '/v1/accounts', '/v1/accounts');
    await call('PATCH', '/v1/accounts/{name}', '/v1/accounts/ann', { json: { role: 'admin' } });
    const minted = await call('POST', '/v1/tokens', '/v1/tokens', { json: { name: 'doc', account: 'ann' } });
    await call('GET', '/v1/tokens', '/v1/tokens?account=ann');
    await call('DELETE', '/v1/tokens/{id}', `/v1/tokens/${minted.id}`);
    await call('DELETE', '/v1/accounts/{name}', '/v1/accounts/ann');
    const audit = await call('GET', '/v1/audit', '/v1/audit?limit=2');
    assert.equal(audit.entries[0].action, 'account.remove', 'an entry is part of the checked body');
    await call('GET', '/v1/audit', `/v1/audit?cursor=${audit.next_cursor}&action=command.queue&since=2000-01-01T00:00:00Z`);

    const documented = Object.entries(doc.paths as Json).flatMap(([path, operations]) => Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`));
    assert.deepEqual([...called].sort(), documented.sort(), 'every documented route was called');
  });

  it('has a worked example for every route that fits its schemas, in /openapi.json too', () => {
    for (const [path, operations] of Object.entries(doc.paths as Json)) {
      for (const [method, operation] of Object.entries(operations as Json)) {
        const key = `${method.toUpperCase()} ${path}`;
        const example = ROUTE_EXAMPLES[key];
        assert.ok(example, `${key} has an example`);
        const template = new RegExp(`^${path.replace(/\{\w+\}/g, '[^/?]+')}(\\?|$)`);
        assert.match(example.path, template, `${key}: the example's path is one of this route`);
        if (example.response === undefined) {
          assert.equal(operation.responses[example.status].content, undefined, `${key}: an example without a body is of a bodiless response`);
        } else {
          assertFits(pointer('paths', path, method, 'responses', String(example.status), 'content', 'application/json', 'schema'), example.response, `${key} example response`);
          assert.deepEqual(operation.responses[example.status].content['application/json'].example, example.response);
        }
        const body = operation.requestBody?.content['application/json'];
        if (body) {
          assert.ok(example.body !== undefined, `${key}: the example shows its body`);
          assertFits(pointer('paths', path, method, 'requestBody', 'content', 'application/json', 'schema'), example.body, `${key} example body`);
        }
      }
    }
    assert.equal(Object.keys(ROUTE_EXAMPLES).length, Object.values(doc.paths as Json).reduce((n: number, ops) => n + Object.keys(ops).length, 0), 'no example for a route that does not exist');
  });

  it('links the command of POST /v1/commands to the per-RequestType schemas', () => {
    const command = doc.paths['/v1/commands'].post.requestBody.content['application/json'].schema.properties.command;
    assert.equal(command.$ref, '#/components/schemas/Command');
    const one = doc.components.schemas.Command;
    assert.equal(one.oneOf.length, commandRegistry.all().length);
    assert.equal(one.discriminator.mapping.DeviceInformation, '#/components/schemas/Command.DeviceInformation');
    const body = pointer('paths', '/v1/commands', 'post', 'requestBody', 'content', 'application/json', 'schema');
    assertFits(body, { targets: ['X'], command: { RequestType: 'DeviceLock', Message: 'Call IT', PIN: '123456' } }, 'a valid command');
    assert.equal(schemaAt(body)({ targets: ['X'], command: { RequestType: 'DeviceLock', Colour: 'red' } }), false, 'an unknown key fails the published schema');
    assert.equal(schemaAt(body)({ targets: ['X'], command: { RequestType: 'InstallProfile' } }), false, 'a missing required key fails it too');
  });

  it('shows every route, its example, the device and operations endpoints and every RequestType at /docs', async () => {
    const page = await (await fetch(`${server.url}/docs`)).text();
    for (const [key, example] of Object.entries(ROUTE_EXAMPLES)) {
      assert.ok(page.includes(`<code>${key.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)}</code>`), `${key} has a section`);
      if (example.response !== undefined) assert.ok(page.includes(JSON.stringify(example.response, null, 2).split('\n')[1]!.replace(/"/g, '&#34;')), `${key} shows its example response`);
    }
    assert.match(page, /<h4>Request body \(application\/json\)<\/h4><table class="fields"><tr><th>field \(\* required\)<\/th><th>type<\/th><th><\/th><\/tr><tr><td><code>targets<\/code> <b>\*<\/b><\/td><td>array of string<\/td>/);
    const invite = await fetch(`${server.url}/v1/enrollment-invites`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{}' });
    const { token } = (await invite.json()) as Json;
    for (const endpoint of OTHER_ENDPOINTS) {
      assert.ok(page.includes(`<td><code>${endpoint.method}</code></td><td><code>${endpoint.path}</code></td>`), `${endpoint.method} ${endpoint.path} listed`);
      // Listed means served: a device endpoint refuses an empty body, but does not 404.
      const path = endpoint.path.replace('{token}', encodeURIComponent(token));
      const res = await fetch(server.url + path, { method: endpoint.method, redirect: 'manual', ...(endpoint.method === 'PUT' ? { body: '' } : {}) });
      assert.notEqual(res.status, 404, `${endpoint.method} ${endpoint.path} exists`);
    }
    for (const definition of commandRegistry.all()) assert.ok(page.includes(`<details id="command-${definition.requestType}">`), definition.requestType);
    assert.match(page, /<td[^>]*><code>Queries<\/code> <b>\*<\/b><\/td><td>array of string<\/td><td>one of: UDID, /);
  });

  it('points GET / to the documentation', async () => {
    const browser = await fetch(`${server.url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.get('location'), '/docs');
    const client = (await (await fetch(`${server.url}/`)).json()) as Json;
    assert.deepEqual({ docs: client.docs, openapi: client.openapi }, { docs: '/docs', openapi: '/openapi.json' });
  });
});

describe('responses serialized by their documented schemas', () => {
  const record = z.object({ id: z.string(), state: z.string() });
  /** The answers to `requests` GETs of one documented route, served with Aspen's compilers (each
   *  serializer compiled on its route's first answer). */
  async function serve(handler: () => Promise<unknown>, status = 200, requests = 1) {
    const app = Fastify({ schemaController: lazySchemaCompilers });
    app.setErrorHandler(async (_err, _request, reply) => reply.code(500).send({ error: { code: 'internal', message: 'internal server error' } }));
    registerRoutes(app, [
      defineRoute({
        method: 'GET',
        path: '/thing',
        tag: 'test',
        summary: 'a thing',
        responses: { 200: { description: 'the thing', schema: record } },
        handler: async (_input, reply) => reply.code(status).send(await handler()),
      }),
    ]);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const answers: { status: number; text: string }[] = [];
    try {
      for (let i = 0; i < requests; i++) {
        const res = await fetch(`${url}/thing`);
        answers.push({ status: res.status, text: await res.text() });
      }
    } finally {
      await app.close();
    }
    return answers;
  }

  it('never writes a field the schema does not declare', async () => {
    const [res] = await serve(async () => ({ id: 'A', state: 'enrolled', pushMagic: 'SECRET-MAGIC', token: 'SECRET-TOKEN' }));
    assert.equal(res!.status, 200);
    assert.deepEqual(JSON.parse(res!.text), { id: 'A', state: 'enrolled' });
    assert.doesNotMatch(res!.text, /SECRET/);
  });

  it('answers 500, not an undocumented body, when a required field is missing or the status is undocumented', async () => {
    assert.equal((await serve(async () => ({ id: 'A' })))[0]!.status, 500);
    const [undocumented] = await serve(async () => ({ id: 'A', state: 'x', secret: 'SECRET' }), 202);
    assert.equal(undocumented!.status, 500);
    assert.doesNotMatch(undocumented!.text, /SECRET/);
  });

  it('serializes every answer after the first with the same compiled schema', async () => {
    let calls = 0;
    const answers = await serve(async () => ({ id: String(++calls), state: 'enrolled', token: 'SECRET-TOKEN' }), 200, 3);
    assert.deepEqual(
      answers.map((a) => a.text),
      ['1', '2', '3'].map((id) => JSON.stringify({ id, state: 'enrolled' })),
    );
  });

  it('refuses to start a route that asks Fastify to validate its body: Aspen validates with zod', async () => {
    const app = Fastify({ schemaController: lazySchemaCompilers });
    app.post('/thing', { schema: { body: { type: 'object' } } }, async () => ({}));
    await assert.rejects(async () => app.ready(), /Fastify schema validation is not set up: Aspen validates requests with zod/);
    await app.close();
  });
});
