// Starts a real Aspen on 127.0.0.1 (random port) with a real SQLite file in a temp directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createAspen, type Aspen } from '../../src/server.ts';

export interface TestServer {
  url: string;
  apiKey: string;
  dataDir: string;
  aspen: Aspen;
  /** Stops the server and starts a new one on the same data directory (and database). */
  restart(): Promise<TestServer>;
  close(): Promise<void>;
}

export async function startAspen(env: Record<string, string> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'aspen-test-'));
  const config = loadConfig({ DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...env });
  const aspen = await createAspen(config);
  const address = await aspen.app.listen({ host: config.host, port: 0 });
  let closed = false;
  const stop = async () => {
    if (closed) return;
    closed = true;
    await aspen.close();
  };
  return {
    url: address,
    apiKey: aspen.apiKey,
    dataDir: dir,
    aspen,
    async restart() {
      await stop();
      return startAspen(env, dir);
    },
    async close() {
      await stop();
      if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
