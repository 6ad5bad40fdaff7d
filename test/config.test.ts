import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { checkListen, CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config.ts';
import { UnusableSetups, type UnusableSetup } from './helpers/unusable-setups.ts';

describe('configuration', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({});
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.port, 9000);
    assert.deepEqual(c.database, { kind: 'sqlite', path: resolve('data/aspen.db'), synchronous: 'FULL' });
    assert.equal(c.apiKey, undefined);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.userAuthenticate, 'decline');
    assert.equal(c.returnToService, null);
  });

  it('documents every variable in .env.example, whose values are the defaults', () => {
    const example = parseEnv(readFileSync(new URL('../.env.example', import.meta.url), 'utf8'));
    assert.deepEqual(Object.keys(example).sort(), [...CONFIG_VARIABLES].sort());
    assert.deepEqual(loadConfig(example), loadConfig({}));
  });

  it('accepts a SQLite path or sqlite: URL in DATABASE_URL', () => {
    const path = (url: string) => {
      const { database } = loadConfig({ DATABASE_URL: url });
      return database.kind === 'sqlite' ? database.path : database.url;
    };
    assert.equal(path('/var/lib/aspen/a.db'), '/var/lib/aspen/a.db');
    assert.equal(path('sqlite:///var/lib/aspen/b.db'), '/var/lib/aspen/b.db');
    assert.equal(path('sqlite:rel/c.db'), resolve('rel/c.db'));
    for (const url of ['postgres://aspen@db/aspen', 'postgresql://aspen:pw@db:5433/aspen?sslmode=require']) {
      assert.deepEqual(loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '25' }).database, { kind: 'postgres', url, poolSize: 25 });
    }
  });

  for (const [variable, value] of [
    ['PORT', 'ninety'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['SQLITE_SYNCHRONOUS', 'OFF'],
    ['API_KEY', 'short'],
    ['DATABASE_URL', 'mysql://db/aspen'],
    ['USER_AUTHENTICATE', 'maybe'],
    ['RETURN_TO_SERVICE_WIFI_PROFILE', '/nonexistent/wifi.mobileconfig'],
  ] as const) {
    it(`refuses ${variable}=${value} with a message naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${variable}:`) && !err.message.includes('\n'),
      );
    });
  }
});

describe('configurations the server could not start with', () => {
  const unusable = new UnusableSetups();
  let setups: UnusableSetup[];
  before(async () => {
    setups = await unusable.setups();
  });
  after(() => unusable.cleanup());

  it('are refused with one line naming the variable: by loadConfig, or for HOST:PORT by checkListen', async () => {
    for (const setup of setups) {
      const refusal = (err: unknown) =>
        err instanceof ConfigError && err.message.startsWith(`${setup.variable}: `) && setup.says.test(err.message) && !err.message.includes('\n');
      if (setup.variable === 'PORT') await assert.rejects(checkListen(loadConfig(setup.env)), refusal, setup.name);
      else assert.throws(() => loadConfig(setup.env), refusal, setup.name);
    }
  });

  it('keeps the TLS paths for a reload, and refuses a file that is no certificate', () => {
    const tls = setups.find((s) => s.variable === 'TLS_KEY')!.env;
    assert.throws(() => loadConfig({ TLS_CERT: tls.TLS_KEY!, TLS_KEY: tls.TLS_KEY! }), (err: unknown) => err instanceof ConfigError && /^TLS_CERT: .* holds no PEM certificate$/.test(err.message));
  });
});
