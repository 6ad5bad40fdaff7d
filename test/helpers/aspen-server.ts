// Starts a real Aspen on 127.0.0.1 (random port) with a real database: a SQLite file in a temp
// directory, or, when test/run.ts runs the HTTP suites on PostgreSQL (ASPEN_TEST_BACKEND), a
// database of its own on the test cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createAspen, type Aspen } from '../../src/server.ts';
import { seedDeviceCa } from './cached-device-ca.ts';
import { createTestDatabase, type TestDatabase } from './postgres.ts';
import { TestDevices } from './test-devices.ts';

export interface TestServer {
  url: string;
  apiKey: string;
  dataDir: string;
  aspen: Aspen;
  /** Headers that prove a device's identity for `body` (an Mdm-Signature by that device's own
   *  certificate from the server's device CA), as an enrolled device with SignMessage sends. */
  deviceHeaders(body: Uint8Array | string): Record<string, string>;
  /** Stops the server and starts a new one on the same data directory and database, with `env`
   *  added to what it started with. */
  restart(env?: Record<string, string>): Promise<TestServer>;
  close(): Promise<void>;
}

interface Placement {
  dataDir: string;
  /** Whether close() removes the data directory (only one this helper made). */
  ownsDir: boolean;
  /** The PostgreSQL database, when the suite runs on PostgreSQL. */
  database: TestDatabase | undefined;
  /** A restarted server meets the same devices, holding the same certificates. */
  devices?: TestDevices;
}

/** The backend the HTTP suites run on in this pass of `npm test`. */
export const TEST_BACKEND: 'sqlite' | 'postgres' = process.env.ASPEN_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

export async function startAspen(env: Record<string, string> = {}, dataDir?: string): Promise<TestServer> {
  const database = TEST_BACKEND === 'postgres' && env.DATABASE_URL === undefined ? await createTestDatabase() : undefined;
  const place = dataDir ? { dataDir, ownsDir: false } : { dataDir: mkdtempSync(join(tmpdir(), 'aspen-test-')), ownsDir: true };
  // A directory the caller brings is left as it is (a test of a fresh install generates its CA).
  if (place.ownsDir && env.DEVICE_CA === undefined) seedDeviceCa(place.dataDir);
  return start(env, { ...place, database });
}

async function start(env: Record<string, string>, place: Placement): Promise<TestServer> {
  const config = loadConfig({
    DATA_DIR: place.dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ...(place.database ? { DATABASE_URL: place.database.url } : {}),
    ...env,
  });
  const aspen = await createAspen(config);
  const address = await aspen.app.listen({ host: config.host, port: config.port });
  // The CA is in the database, so a restarted server has the same one.
  const devices = place.devices ?? new TestDevices(() => aspen.deviceCa);
  let closed = false;
  const stop = async () => {
    if (closed) return;
    closed = true;
    await aspen.close();
  };
  return {
    url: address,
    apiKey: aspen.apiKey,
    dataDir: place.dataDir,
    aspen,
    deviceHeaders: (body) => devices.headersFor(body),
    async restart(more = {}) {
      await stop();
      return start({ ...env, ...more }, { ...place, devices });
    },
    async close() {
      await stop();
      await place.database?.drop();
      if (place.ownsDir) rmSync(place.dataDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on right now, for a server that must know its own URL before it starts
 *  (PUBLIC_URL): `startAspen({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` })`. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
