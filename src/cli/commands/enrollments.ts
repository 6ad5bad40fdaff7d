// `aspen enrollments` (list, optionally every page) and `aspen show` (one enrollment and its queue).
import { segment } from '../api-client.ts';
import { expectPositionals, stringOption } from '../args.ts';
import type { EnrollmentDetail, EnrollmentPage, EnrollmentSummary, QueueJson } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { print, printJson, warn } from '../output.ts';
import { keyValues, orDash, shortTime, table } from '../table.ts';
import { queueTable } from './queue.ts';

export const enrollments: CliCommand = {
  name: 'enrollments',
  usage: ['enrollments [--type T] [--channel device|user] [--state S] [--device ID] [--seen-before ISO] [--seen-after ISO] [--limit N] [--cursor C] [--all]'],
  summary: 'list enrollments (--all follows every page)',
  options: {
    ...REMOTE_OPTIONS,
    type: 'string',
    channel: 'string',
    state: 'string',
    device: 'string',
    'seen-before': 'string',
    'seen-after': 'string',
    limit: 'string',
    cursor: 'string',
    all: 'boolean',
  },
  async run(args) {
    expectPositionals(args, []);
    const api = connect(args);
    const query = {
      type: stringOption(args, 'type'),
      channel: stringOption(args, 'channel'),
      state: stringOption(args, 'state'),
      device_id: stringOption(args, 'device'),
      last_seen_before: stringOption(args, 'seen-before'),
      last_seen_after: stringOption(args, 'seen-after'),
      limit: stringOption(args, 'limit'),
    };
    let page = await api.get<EnrollmentPage>('/v1/enrollments', { ...query, cursor: stringOption(args, 'cursor') });
    const all = [...page.enrollments];
    while (args.values.all && page.next_cursor !== null) {
      page = await api.get<EnrollmentPage>('/v1/enrollments', { ...query, cursor: page.next_cursor });
      all.push(...page.enrollments);
    }
    if (args.values.json) return printJson({ enrollments: all, next_cursor: page.next_cursor });
    print(all.length === 0 ? 'no enrollments' : enrollmentTable(all));
    if (page.next_cursor !== null) warn(`more enrollments: --all, or --cursor ${page.next_cursor}`);
  },
};

function enrollmentTable(list: EnrollmentSummary[]): string {
  return table(
    ['ID', 'TYPE', 'STATE', 'PLATFORM', 'OS', 'SERIAL', 'USER', 'LAST SEEN'],
    list.map((e) => [
      e.id,
      e.type,
      e.state,
      orDash(e.platform),
      orDash(e.os_version),
      orDash(e.serial_number),
      orDash(e.user?.short_name),
      shortTime(e.last_seen_at),
    ]),
  );
}

export const show: CliCommand = {
  name: 'show',
  usage: ['show <id>'],
  summary: 'one enrollment: facts, channels, timestamps and its pending queue',
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const api = connect(args);
    const [enrollment, queue] = await Promise.all([
      api.get<EnrollmentDetail>(`/v1/enrollments/${segment(id)}`),
      api.get<QueueJson>(`/v1/enrollments/${segment(id)}/queue`),
    ]);
    if (args.values.json) return printJson({ enrollment, queue });
    print(enrollmentFacts(enrollment));
    print('');
    print(queue.commands.length === 0 ? 'queue: empty' : `queue (${queue.commands.length} pending):\n${queueTable(queue)}`);
  },
};

/** Facts worth a glance from the Authenticate message; the rest is in --json. */
const SHOWN_FACTS = ['DeviceName', 'ProductName', 'Model', 'BuildVersion', 'IMEI', 'MEID'];

function enrollmentFacts(e: EnrollmentDetail): string {
  const facts = SHOWN_FACTS.map((name) => [name, e.facts?.[name]] as const).filter(([, v]) => typeof v === 'string');
  const user = e.user ? [e.user.short_name, e.user.long_name && `(${e.user.long_name})`, e.user.id && `[${e.user.id}]`].filter(Boolean).join(' ') : undefined;
  const yesNo = (b: boolean) => (b ? 'yes' : 'no');
  return keyValues([
    ['id', e.id],
    ['device', e.device_id === e.id ? undefined : e.device_id],
    ['channel', e.channel],
    ['type', e.type],
    ['state', e.state],
    ['user', user],
    ['platform', orDash(e.platform)],
    ['os version', orDash(e.os_version)],
    ['serial number', orDash(e.serial_number)],
    ...facts.map(([name, value]) => [name, value as string] as const),
    ['topic', orDash(e.topic)],
    ['awaiting config', yesNo(e.awaiting_configuration)],
    ['unlock token', yesNo(e.has_unlock_token)],
    ['bootstrap token', yesNo(e.has_bootstrap_token)],
    ['user channels', e.channel === 'device' ? orDash(e.user_channels.join(', ')) : undefined],
    ['first seen', shortTime(e.first_seen_at)],
    ['last seen', `${shortTime(e.last_seen_at)} (${e.last_status})`],
    ['authenticated', shortTime(e.authenticated_at)],
    ['token updated', shortTime(e.token_updated_at)],
    ['checked out', e.checked_out_at === null ? undefined : shortTime(e.checked_out_at)],
  ]);
}
