import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { checkListen, CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config.ts';
import { createDeviceCa } from '../src/identity/index.ts';
import { UnusableSetups, type UnusableSetup } from './helpers/unusable-setups.ts';

describe('configuration', () => {
  it('has enrollment off by default, and its settings', () => {
    assert.deepEqual(loadConfig({}).enrollment, {
      publicUrl: undefined,
      open: false,
      staticChallenge: undefined,
      profileSigner: undefined,
      trustCaDer: undefined,
      organization: undefined,
      signMessage: true,
      accessRights: 8191,
      identityValidityDays: 365,
      renewBeforeDays: 30,
    });
    const e = loadConfig({
      PUBLIC_URL: 'https://mdm.example.com/aspen/',
      ENROLLMENT_OPEN: 'true',
      ENROLLMENT_CHALLENGE: 'a-challenge-of-16+',
      SIGN_MESSAGE: 'false',
      ACCESS_RIGHTS: '17',
      IDENTITY_VALIDITY_DAYS: '90',
      IDENTITY_RENEW_BEFORE_DAYS: '0',
    }).enrollment;
    assert.equal(e.publicUrl, 'https://mdm.example.com/aspen', 'without the trailing slash');
    assert.deepEqual([e.open, e.staticChallenge, e.signMessage, e.accessRights, e.identityValidityDays, e.renewBeforeDays], [true, 'a-challenge-of-16+', false, 17, 90, 0]);
    assert.equal(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:9000' }).enrollment.publicUrl, 'http://127.0.0.1:9000', 'http is accepted (with a warning at start)');
  });

  it('refuses open enrollment without PUBLIC_URL or a static challenge, naming what is missing', () => {
    assert.throws(() => loadConfig({ ENROLLMENT_OPEN: 'true', ENROLLMENT_CHALLENGE: 'a-challenge-of-16+' }), /^ConfigError: PUBLIC_URL: needed with ENROLLMENT_OPEN=true/);
    assert.throws(() => loadConfig({ ENROLLMENT_OPEN: 'true', PUBLIC_URL: 'https://mdm.example.com' }), /^ConfigError: ENROLLMENT_CHALLENGE: needed with ENROLLMENT_OPEN=true/);
  });

  it('reads the profile signer and trust CA, and refuses a signing key of another certificate', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'aspen-config-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const a = createDeviceCa(new Date(), 'ec');
    const b = createDeviceCa(new Date(), 'ec');
    writeFileSync(join(dir, 'a.pem'), a.certPem);
    writeFileSync(join(dir, 'a.key'), a.keyPem);
    writeFileSync(join(dir, 'b.key'), b.keyPem);
    writeFileSync(join(dir, 'a.der'), new X509Certificate(a.certPem).raw);
    const e = loadConfig({ PROFILE_SIGNING_CERT: join(dir, 'a.pem'), PROFILE_SIGNING_KEY: join(dir, 'a.key'), PROFILE_TRUST_CA: join(dir, 'a.pem') }).enrollment;
    assert.deepEqual(e.profileSigner, { certPem: a.certPem, keyPem: a.keyPem });
    assert.deepEqual(Buffer.from(e.trustCaDer!), new X509Certificate(a.certPem).raw);
    assert.deepEqual(Buffer.from(loadConfig({ PROFILE_TRUST_CA: join(dir, 'a.der') }).enrollment.trustCaDer!), new X509Certificate(a.certPem).raw, 'DER too');
    assert.throws(() => loadConfig({ PROFILE_SIGNING_CERT: join(dir, 'a.pem'), PROFILE_SIGNING_KEY: join(dir, 'b.key') }), /^ConfigError: PROFILE_SIGNING_CERT: .*does not belong/);
    assert.throws(() => loadConfig({ PROFILE_TRUST_CA: join(dir, 'a.key') }), /^ConfigError: PROFILE_TRUST_CA: .* holds no certificate/);
    assert.throws(() => loadConfig({ PROFILE_SIGNING_CERT: join(dir, 'a.pem') }), /^ConfigError: PROFILE_SIGNING_KEY: needed with PROFILE_SIGNING_CERT$/);
    assert.throws(() => loadConfig({ PROFILE_SIGNING_CERT: '/nonexistent/a.pem', PROFILE_SIGNING_KEY: join(dir, 'a.key') }), /^ConfigError: PROFILE_SIGNING_CERT: no file at/);
  });

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
    ['PUBLIC_URL', 'mdm.example.com'],
    ['PUBLIC_URL', 'ftp://mdm.example.com'],
    ['PUBLIC_URL', 'https://mdm.example.com/?x=1'],
    ['ENROLLMENT_OPEN', 'maybe'],
    ['ENROLLMENT_CHALLENGE', 'short'],
    ['PROFILE_TRUST_CA', '/nonexistent/ca.pem'],
    ['SIGN_MESSAGE', 'sometimes'],
    ['ACCESS_RIGHTS', '0'],
    ['ACCESS_RIGHTS', '2'],
    ['ACCESS_RIGHTS', '9000'],
    ['ACCESS_RIGHTS', 'all'],
    ['IDENTITY_VALIDITY_DAYS', '0'],
    ['IDENTITY_RENEW_BEFORE_DAYS', '-1'],
    ['IDENTITY_RENEW_BEFORE_DAYS', '365'],
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
