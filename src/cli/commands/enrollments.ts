// `aspen enrollments` (list, optionally every page) and `aspen show` (one enrollment and its queue).
import { segment } from '../api-client.ts';
import { expectPositionals, stringOption } from '../args.ts';
import type { EnrollmentDetail, EnrollmentSummary, QueueJson } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { enrollmentFilter, enrollmentPages, FILTER_OPTIONS, FILTER_USAGE } from '../enrollment-filter.ts';
import { print, printJson, warn } from '../output.ts';
import { keyValues, orDash, shortTime, table } from '../table.ts';
import { queueTable } from './queue.ts';

export const enrollments: CliCommand = {
  name: 'enrollments',
  usage: [`enrollments ${FILTER_USAGE} [--limit N] [--cursor C] [--all]`],
  summary: 'list enrollments (--all follows every page)',
  options: { ...REMOTE_OPTIONS, ...FILTER_OPTIONS, limit: 'string', cursor: 'string', all: 'boolean' },
  async run(args) {
    expectPositionals(args, []);
    const filter = enrollmentFilter(args);
    const api = connect(args);
    const all: EnrollmentSummary[] = [];
    let next: string | null = null;
    const pages = enrollmentPages(api, filter, { limit: stringOption(args, 'limit'), cursor: stringOption(args, 'cursor'), onePage: !args.values.all });
    for await (const page of pages) {
      all.push(...page.enrollments);
      next = page.next_cursor;
    }
    if (args.values.json) return printJson({ enrollments: all, next_cursor: next });
    print(all.length === 0 ? 'no enrollments' : enrollmentTable(all));
    if (next !== null) warn(`more enrollments: --all, or --cursor ${next}`);
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
    ['name', e.device_name ?? undefined],
    ['model', e.model ?? undefined],
    ['supervised', e.supervised === null ? undefined : yesNo(e.supervised)],
    ['shared iPad', e.multi_user ? 'yes' : undefined],
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
    ['inventory', e.inventory_updated_at === null ? undefined : `${Object.keys(e.inventory ?? {}).length} values, ${shortTime(e.inventory_updated_at)} (--json shows them)`],
  ]);
}

export const forget: CliCommand = {
  name: 'forget',
  usage: ['forget <id>'],
  summary: 'delete an enrollment (a device with its user channels) with its queue, results and certificates',
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const answer = await connect(args).delete<{ deleted: true }>(`/v1/enrollments/${segment(id)}`);
    if (args.values.json) return printJson(answer);
    print(`forgot ${id}`);
  },
};
