// Reads the V8 CPU profiles that `--profile` makes Aspen write (node --cpu-prof) and names where
// the server's time went during the timed phases (start-up and set-up are left out): by function
// (self time) and by file, as shares of the samples in which the server was not idle.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TIMED_WINDOWS_FILE, type TimedWindow } from './server-process.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>; thread 0 is the main thread (the
 *  others are tsx's module loader). */
const MAIN_THREAD_PROFILE = /\.\d+\.0\.\d+\.cpuprofile$/;
/** V8's pseudo-nodes for time the server spent waiting. (program) and (garbage collector) are work;
 *  note that time blocked inside a native call (an fsync in a SQLite commit) is sampled as the
 *  JavaScript function that made it, so the profile shows wall time, not only CPU. */
const NOT_BUSY = new Set(['(idle)', '(root)']);

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Share {
  name: string;
  share: number;
}

export interface ProfileSummary {
  server: string;
  busySamples: number;
  functions: Share[];
  files: Share[];
}

export function summarizeProfiles(root: string, top = 15): ProfileSummary[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => MAIN_THREAD_PROFILE.test(f))
    .map((f) => summarize(join(root, f), top));
}

function summarize(path: string, top: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const windowsPath = join(dirname(path), TIMED_WINDOWS_FILE);
  const windows = existsSync(windowsPath) ? (JSON.parse(readFileSync(windowsPath, 'utf8')) as TimedWindow[]) : [];
  const inTimedPhase = (t: number) => windows.length === 0 || windows.some((w) => t >= w.start && t <= w.end);

  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map(profile.nodes.flatMap((n) => (n.children ?? []).map((child) => [child, n.id] as const)));
  // tsx's transpiled code has no useful line numbers, so an anonymous function is named by the
  // nearest Aspen function (src/) that called it, e.g. the storage method behind a transaction.
  const nameOf = (id: number): string => {
    const frame = nodes.get(id)!.callFrame;
    if (frame.functionName !== '') return frame.functionName;
    for (let up = parents.get(id); up !== undefined; up = parents.get(up)) {
      const caller = nodes.get(up)!.callFrame;
      if (caller.functionName !== '' && caller.url.includes('/src/')) return `(anonymous, in ${caller.functionName})`;
    }
    return '(anonymous)';
  };
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busy = 0;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const frame = nodes.get(id)!.callFrame;
    if (!inTimedPhase(t) || NOT_BUSY.has(frame.functionName)) return;
    busy += 1;
    const file = shortUrl(frame.url);
    const key = `${file}: ${nameOf(id)}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + 1);
    byFile.set(file, (byFile.get(file) ?? 0) + 1);
  });
  const ranked = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, hits]) => ({ name, share: hits / busy }));
  return { server: relative(REPO, path), busySamples: busy, functions: ranked(byFunction), files: ranked(byFile) };
}

/** Repository-relative paths (dependencies show as node_modules/...); node: internals as they are. */
function shortUrl(url: string): string {
  if (url === '') return '(native)';
  if (!url.startsWith('file://')) return url;
  return relative(REPO, fileURLToPath(url));
}

export function formatSummary(summary: ProfileSummary): string {
  const pct = (s: number) => `${(s * 100).toFixed(1).padStart(5)}%`;
  return [
    `${summary.server}: ${summary.busySamples} busy samples in the timed phases (shares below are of these)`,
    '  self time by function:',
    ...summary.functions.map((f) => `    ${pct(f.share)}  ${f.name}`),
    '  self time by file:',
    ...summary.files.map((f) => `    ${pct(f.share)}  ${f.name}`),
  ].join('\n');
}
