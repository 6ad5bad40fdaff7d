// `npm start` runs this first: it rebuilds dist/ only when there is none or a source is newer than
// the last build, so a start after `npm ci` (whose `prepare` builds) costs no compile, and a
// changed source is never run stale. `npm run build` writes the stamp this compares against.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.build-stamp';
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest modification time under `path` (a file or a directory tree), in ms. */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : -Infinity;
if (Math.max(...INPUTS.map(newest)) > built) {
  console.error(existsSync(STAMP) ? 'aspen: sources changed since the last build; rebuilding dist/' : 'aspen: no build yet; building dist/');
  execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
}
