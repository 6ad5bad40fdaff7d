// An RSA device CA for test servers, generated once and kept in the temp directory, so that each
// test server does not spend a second generating a 3072-bit key. startAspen puts it in the data
// directory as the legacy files, which the server takes over as its own CA at first start: the
// same path an upgraded install takes (a fresh install generates one instead: tested on its own).
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeviceCa, DEVICE_CA_CERT_FILE, DEVICE_CA_KEY_FILE } from '../../src/identity/index.ts';

const CACHE = join(tmpdir(), `aspen-test-device-ca-${process.getuid?.() ?? 'user'}.json`);
const YEAR_MS = 365 * 24 * 3600 * 1000;

let cached: { certPem: string; keyPem: string } | undefined;

export function cachedRsaDeviceCa(): { certPem: string; keyPem: string } {
  if (cached !== undefined) return cached;
  if (existsSync(CACHE)) {
    const stored = JSON.parse(readFileSync(CACHE, 'utf8')) as { certPem: string; keyPem: string };
    if (Date.parse(new X509Certificate(stored.certPem).validTo) - Date.now() > YEAR_MS) return (cached = stored);
  }
  cached = createDeviceCa(new Date(), 'rsa');
  // Written under another name and renamed, so a test process starting meanwhile never reads half of it.
  const temporary = `${CACHE}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, JSON.stringify(cached), { mode: 0o600 });
  renameSync(temporary, CACHE);
  return cached;
}

/** Puts the cached CA in `dataDir` as the files a data directory from before kept. */
export function seedDeviceCa(dataDir: string): void {
  const ca = cachedRsaDeviceCa();
  writeFileSync(join(dataDir, DEVICE_CA_CERT_FILE), ca.certPem);
  writeFileSync(join(dataDir, DEVICE_CA_KEY_FILE), ca.keyPem, { mode: 0o600 });
}
