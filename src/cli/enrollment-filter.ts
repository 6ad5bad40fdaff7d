// Selecting enrollments by filter, for `aspen enrollments` and for the targets of `aspen send`: the
// filters GET /v1/enrollments takes, plus --platform, matched here on each page's `platform`.
// Values are checked before anything is sent, in the API's one spelling (`checked-out`), with a
// suggestion for a near miss.
import { CHANNELS, ENROLLMENT_TYPES } from '../protocol/enrollment-id.ts';
import { PLATFORMS, type Platform } from '../protocol/commands/platform.ts';
import { didYouMean } from '../protocol/suggest.ts';
import { ENROLLMENT_STATES } from '../storage/storage.ts';
import type { ApiClient, Query } from './api-client.ts';
import { stringOption, type OptionSpec, type ParsedArgs } from './args.ts';
import type { EnrollmentPage, EnrollmentSummary } from './api-types.ts';
import { UsageError } from './errors.ts';

export const FILTER_OPTIONS = {
  type: 'string',
  channel: 'string',
  state: 'string',
  device: 'string',
  platform: 'string',
  'seen-before': 'string',
  'seen-after': 'string',
} as const satisfies OptionSpec;

export const FILTER_USAGE = `[--platform ${PLATFORMS.join('|')}] [--type T] [--channel device|user] [--state S] [--device ID] [--seen-before ISO] [--seen-after ISO]`;

export interface EnrollmentFilter {
  /** What the API filters on. */
  query: Query;
  /** What the CLI filters on, page by page. */
  platform?: Platform;
}

/** The filter the options describe; `given` is false when no filter option was used. */
export function enrollmentFilter(args: ParsedArgs): EnrollmentFilter & { given: boolean } {
  const query = {
    type: choice(args, 'type', ENROLLMENT_TYPES),
    channel: choice(args, 'channel', CHANNELS),
    state: choice(args, 'state', ENROLLMENT_STATES),
    device_id: stringOption(args, 'device'),
    last_seen_before: stringOption(args, 'seen-before'),
    last_seen_after: stringOption(args, 'seen-after'),
  };
  const platform = choice(args, 'platform', PLATFORMS);
  const given = platform !== undefined || Object.values(query).some((v) => v !== undefined);
  return { query, ...(platform ? { platform } : {}), given };
}

/** A --name value that must be one of `values`, exactly as the API spells it. */
export function choice<const T extends string>(args: ParsedArgs, name: string, values: readonly T[]): T | undefined {
  const value = stringOption(args, name);
  if (value === undefined || (values as readonly string[]).includes(value)) return value as T | undefined;
  const hint = didYouMean(value, values, (v) => v);
  throw new UsageError(`--${name} ${value}: expected one of ${values.join(', ')}${hint && ` (${hint})`}`);
}

function matchesFilter(e: EnrollmentSummary, filter: EnrollmentFilter): boolean {
  return filter.platform === undefined || e.platform === filter.platform;
}

/** The API's pages from `cursor` on (every page, unless `onePage`), each narrowed by the CLI's own filters. */
export async function* enrollmentPages(
  api: ApiClient,
  filter: EnrollmentFilter,
  options: { limit?: string; cursor?: string; onePage?: boolean } = {},
): AsyncGenerator<EnrollmentPage> {
  let cursor = options.cursor;
  for (;;) {
    const page = await api.get<EnrollmentPage>('/v1/enrollments', { ...filter.query, limit: options.limit, cursor });
    yield { enrollments: page.enrollments.filter((e) => matchesFilter(e, filter)), next_cursor: page.next_cursor };
    if (options.onePage || page.next_cursor === null) return;
    cursor = page.next_cursor;
  }
}
