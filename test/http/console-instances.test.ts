// The console's live stream with two Aspen instances on one PostgreSQL database: a console open on
// one instance sees a device check in at the other (the stream reads the database, not this
// process), and the session made at one instance is served by the other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAspen, TEST_BACKEND, type TestServer } from '../helpers/aspen-server.ts';
import { ConsoleClient } from '../helpers/console-client.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { SimulatedDevice } from '../helpers/simulated-device.ts';

const skip = TEST_BACKEND === 'postgres' ? false : 'several instances share a PostgreSQL database: this runs in the PostgreSQL pass';

describe('console live stream across instances', { skip }, () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    database = await createTestDatabase();
    a = await startAspen({ DATABASE_URL: database.url });
    // The same data directory: the second instance is the same installation.
    b = await startAspen({ DATABASE_URL: database.url }, a.dataDir);
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await database?.drop();
  });

  it('shows a check-in handled by another instance', async () => {
    const admin = await ConsoleClient.loggedIn(a, 'ada', 'admin');
    // The session lives in the database: instance b knows it.
    const page = await fetch(`${b.url}/ui`, { headers: { cookie: admin.cookieHeader() }, redirect: 'manual' });
    assert.equal(page.status, 200);

    const controller = new AbortController();
    const response = await fetch(`${a.url}/ui/live`, { headers: { cookie: admin.cookieHeader() }, signal: controller.signal });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('retry:')) text += decoder.decode((await reader.read()).value);

    const device = new SimulatedDevice(b, 'INSTANCE-B-UDID', { SerialNumber: 'F17INSTB' });
    await device.enroll();
    while (!text.includes('"id":"INSTANCE-B-UDID"')) {
      const chunk = await reader.read();
      assert.ok(!chunk.done, 'the stream ended');
      text += decoder.decode(chunk.value);
    }
    assert.match(text, /"serial_number":"F17INSTB"/);
    controller.abort();
  });
});
