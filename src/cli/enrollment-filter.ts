// Selecting enrollments by filter, for `aspen enrollments` and for the targets of `aspen send`: the
// filters GET /v1/enrollments takes. Values are checked before anything is sent, in the API's one
// spelling (`checked-out`), with a suggestion for a near miss.
import { CHANNELS, ENROLLMENT_TYPES } from '../protocol/enrollment-id.ts';
import { PLATFORMS } from '../protocol/commands/platform.ts';
import { didYouMean } from '../protocol/suggest.ts';
import { ENROLLMENT_STATES } from '../storage/storage.ts';
import type { ApiClient, Query } from './api-client.ts';
import { stringOption, type OptionSpec, type ParsedArgs } from './args.ts';
import type { EnrollmentPage } from './api-types.ts';
import { UsageError } from './errors.ts';

export const FILTER_OPTIONS = {
  type: 'string',
  channel: 'string',
  state: 'string',
  device: 'string',
  platform: 'string',
  serial: 'string',
  topic: 'string',
  'seen-before': 'string',
  'seen-after': 'string',
} as const satisfies OptionSpec;

export const FILTER_USAGE = `[--platform ${PLATFORMS.join('|')}] [--type T] [--channel device|user] [--state S] [--device ID] [--serial SN] [--topic T] [--seen-before ISO] [--seen-after ISO]`;

export interface EnrollmentFilter {
  /** The query GET /v1/enrollments filters on. */
  query: Query;
}

/** The filter the options describe; `given` is false when no filter option was used. */
export function enrollmentFilter(args: ParsedArgs): EnrollmentFilter & { given: boolean } {
  const query = {
    type: choice(args, 'type', ENROLLMENT_TYPES),
    channel: choice(args, 'channel', CHANNELS),
    state: choice(args, 'state', ENROLLMENT_STATES),
    device_id: stringOption(args, 'device'),
    platform: choice(args, 'platform', PLATFORMS),
    serial_number: stringOption(args, 'serial'),
    topic: stringOption(args, 'topic'),
    last_seen_before: stringOption(args, 'seen-before'),
    last_seen_after: stringOption(args, 'seen-after'),
  };
  return { query, given: Object.values(query).some((v) => v !== undefined) };
}

/** A --name value that must be one of `values`, exactly as the API spells it. */
export function choice<const T extends string>(args: ParsedArgs, name: string, values: readonly T[]): T | undefined {
  const value = stringOption(args, name);
  if (value === undefined || (values as readonly string[]).includes(value)) return value as T | undefined;
  const hint = didYouMean(value, values, (v) => v);
  throw new UsageError(`--${name} ${value}: expected one of ${values.join(', ')}${hint && ` (${hint})`}`);
}

/** The API's pages from `cursor` on (every page, unless `onePage`). */
export async function* enrollmentPages(
  api: ApiClient,
  filter: EnrollmentFilter,
  options: { limit?: string; cursor?: string; onePage?: boolean } = {},
): AsyncGenerator<EnrollmentPage> {
  let cursor = options.cursor;
  for (;;) {
    const page = await api.get<EnrollmentPage>('/v1/enrollments', { ...filter.query, limit: options.limit, cursor });
    yield page;
    if (options.onePage || page.next_cursor === null) return;
    cursor = page.next_cursor;
  }
}
