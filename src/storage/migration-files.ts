// Each backend has its own numbered SQL migrations in migrations/<backend>/, applied in order at
// start, each in its own transaction, and recorded in schema_migrations.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function migrationsDir(backend: 'sqlite' | 'postgres'): string {
  // The same relative path from src/storage/ and from the compiled dist/storage/.
  return fileURLToPath(new URL(`../../migrations/${backend}/`, import.meta.url));
}

export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((name) => {
      const match = /^(\d+)_/.exec(name);
      if (!match) throw new Error(`migration file ${name} does not start with a number`);
      return { version: Number(match[1]), name, sql: readFileSync(join(dir, name), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version) throw new Error(`two migrations numbered ${m.version}`);
  });
  return migrations;
}
