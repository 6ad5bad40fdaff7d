// The admin API key: API_KEY when set; otherwise one generated on first start and kept in the
// data directory (mode 0600), so a fresh install is protected without any set-up.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const API_KEY_FILE = 'api-key';

export function resolveApiKey(configured: string | undefined, dataDir: string): { key: string; generatedAt?: string } {
  if (configured !== undefined) return { key: configured };
  const path = join(dataDir, API_KEY_FILE);
  if (existsSync(path)) return { key: readFileSync(path, 'utf8').trim() };
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created the file meanwhile, rather than overwriting its key.
  writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, generatedAt: path };
}
