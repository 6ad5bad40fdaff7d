// The enrollments a command goes to, from exactly one source: ids on the command line, a file of
// ids (`--targets-file FILE`, or `-` for stdin: one id a line, `#` comments), or a filter
// (`--all`, `--platform macOS`, ... as `aspen enrollments` takes them) that pages through every
// enrollment the server has.
import { readFileSync } from 'node:fs';
import type { ApiClient } from './api-client.ts';
import { stringOption, type OptionSpec, type ParsedArgs } from './args.ts';
import { enrollmentFilter, enrollmentPages, FILTER_OPTIONS, type EnrollmentFilter } from './enrollment-filter.ts';
import { CliError, UsageError } from './errors.ts';

export const TARGET_OPTIONS = { ...FILTER_OPTIONS, 'targets-file': 'string', all: 'boolean' } as const satisfies OptionSpec;

/** POST /v1/commands takes at most this many targets in one command. */
const MAX_TARGETS = 100_000;

/** Where the targets come from, checked before anything is read or sent. */
export interface TargetSelection {
  resolve(api: ApiClient): Promise<string[]>;
}

/**
 * The one source the options name, or a usage error. `ids` are the positional ids (`-` alone means
 * stdin); `expected` is how the command's usage words the missing targets.
 */
export function targetSelection(args: ParsedArgs, ids: readonly string[], expected: string): TargetSelection {
  const file = stringOption(args, 'targets-file');
  const filter = enrollmentFilter(args);
  const byFilter = filter.given || args.values.all === true;
  const sources = [ids.length > 0 && 'ids', file !== undefined && '--targets-file', byFilter && 'a filter'].filter(Boolean);
  if (sources.length === 0) throw new UsageError(`expected ${expected} (or -, --targets-file FILE, or a filter such as --all or --platform)`);
  if (sources.length > 1) throw new UsageError(`targets come from one source, not ${sources.join(' and ')}`);
  if (ids.length > 1 && ids.includes('-')) throw new UsageError('- (ids on stdin) stands alone');

  let read: (api: ApiClient) => Promise<string[]>;
  if (file !== undefined) read = async () => idsFrom(readText(file), file);
  else if (ids[0] === '-') read = async () => idsFrom(readText(0), 'stdin');
  else if (!byFilter) read = async () => [...ids];
  else read = (api) => filtered(api, filter);
  return {
    async resolve(api) {
      const targets = await read(api);
      if (targets.length > MAX_TARGETS) throw new CliError(`${targets.length} targets; one command takes at most ${MAX_TARGETS}: narrow the selection`);
      return targets;
    },
  };
}

/** Every enrollment the filter selects. Without `--state`, checked-out ones are left out: they no
 *  longer poll, so a command queued to them would wait forever. */
async function filtered(api: ApiClient, filter: EnrollmentFilter): Promise<string[]> {
  const targets: string[] = [];
  for await (const page of enrollmentPages(api, filter, { limit: '1000' })) {
    for (const e of page.enrollments) if (filter.query.state !== undefined || e.state !== 'checked-out') targets.push(e.id);
  }
  if (targets.length === 0) throw new CliError('no enrollment matches the filter');
  return targets;
}

function readText(source: string | 0): string {
  try {
    return readFileSync(source, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${source === 0 ? 'stdin' : source}: ${(err as Error).message}`);
  }
}

/** One id a line; blank lines and lines starting with `#` are skipped, duplicates kept once. */
function idsFrom(text: string, source: string): string[] {
  const ids = [...new Set(text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')))];
  if (ids.length === 0) throw new CliError(`no enrollment ids in ${source}`);
  return ids;
}
