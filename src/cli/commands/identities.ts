// `aspen identities list|release|revoke|renewals`: the identities Aspen issued and the certificates
// bound to a device; letting a device re-enroll with a new one (its profile was removed without a
// CheckOut, or it lost its identity); revoking an issued one; and the renewal report.
import { segment, type ApiClient } from '../api-client.ts';
import { expectPositionals, stringOption, type ParsedArgs } from '../args.ts';
import type { EnrollmentDetail, IssuedIdentityJson, RenewalReport, UnbindResponse } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { UsageError } from '../errors.ts';
import { print, printJson, warn } from '../output.ts';
import { collectPages } from '../pages.ts';
import { orDash, shortTime, table } from '../table.ts';

const DAY_MS = 86_400_000;

export const identitiesList: CliCommand = {
  name: 'identities list',
  usage: [
    'identities list [--within-days N | --expiring-before ISO] [--device ID] [--revoked | --active] [--limit N] [--cursor C] [--all]',
    'identities list <id>',
  ],
  summary: "the identities Aspen issued through SCEP, soonest expiry first; with <id>, the certificates bound to that enrollment's device",
  options: { ...REMOTE_OPTIONS, 'within-days': 'string', 'expiring-before': 'string', device: 'string', revoked: 'boolean', active: 'boolean', limit: 'string', cursor: 'string', all: 'boolean' },
  async run(args) {
    if (args.positionals.length === 0) return listIssued(connect(args), args);
    const [id] = expectPositionals(args, ['<id>']);
    const filters = ['within-days', 'expiring-before', 'device', 'revoked', 'active', 'limit', 'cursor', 'all'].filter((name) => args.values[name] !== undefined);
    if (filters.length > 0) throw new UsageError(`--${filters[0]} lists issued identities: leave out <id>`);
    const { device_id, identities } = await connect(args).get<EnrollmentDetail>(`/v1/enrollments/${segment(id)}`);
    if (args.values.json) return printJson({ enrollment_id: id, device_id, identities });
    if (identities.length === 0) return print(`no certificate is bound to ${device_id}: the next trusted certificate it presents will be`);
    print(
      table(
        ['FINGERPRINT (SHA-256)', 'SUBJECT', 'NOT AFTER', 'BOUND'],
        identities.map((i) => [i.fingerprint, i.subject.replaceAll('\n', ', '), shortTime(i.not_after), shortTime(i.bound_at)]),
      ),
    );
  },
};

export const identitiesRelease: CliCommand = {
  name: 'identities release',
  usage: ['identities release <id>'],
  summary: "forget the device's bound certificates, so that its next Authenticate binds the one it presents",
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const res = await connect(args).delete<UnbindResponse>(`/v1/enrollments/${segment(id)}/identities`);
    if (args.values.json) return printJson(res);
    print(`released ${res.unbound} certificate${res.unbound === 1 ? '' : 's'} of ${id}: re-enroll the device now, its next trusted certificate is bound`);
  },
};

async function listIssued(api: ApiClient, args: ParsedArgs): Promise<void> {
  const within = stringOption(args, 'within-days');
  const before = stringOption(args, 'expiring-before');
  if (within !== undefined && before !== undefined) throw new UsageError('give --within-days or --expiring-before, not both');
  if (within !== undefined && !(Number(within) >= 0)) throw new UsageError(`--within-days ${within}: expected a number of days`);
  if (before !== undefined && Number.isNaN(Date.parse(before))) throw new UsageError(`--expiring-before ${before}: expected an ISO 8601 time`);
  if (args.values.revoked && args.values.active) throw new UsageError('give --revoked or --active, not both');
  const expiringBefore = within !== undefined ? new Date(Date.now() + Number(within) * DAY_MS).toISOString() : before && new Date(before).toISOString();
  const revoked = args.values.revoked ? '1' : args.values.active ? '0' : undefined;
  const { items, next } = await collectPages<'identities', IssuedIdentityJson>(
    api,
    '/v1/identities',
    'identities',
    { expiring_before: expiringBefore, device_id: stringOption(args, 'device'), revoked },
    { limit: stringOption(args, 'limit'), cursor: stringOption(args, 'cursor'), all: args.values.all === true },
  );
  if (args.values.json) return printJson({ identities: items, next_cursor: next });
  print(
    items.length === 0
      ? 'no identities issued (that match)'
      : table(
          ['SERIAL', 'DEVICE', 'NOT AFTER', 'STATE', 'INVITE', 'SUBJECT'],
          items.map((i) => [i.serial, orDash(i.device_id), shortTime(i.not_after), identityState(i), orDash(i.invite_id), i.subject.replaceAll('\n', ', ')]),
        ),
  );
  if (next !== null) warn(`more identities: --all, or --cursor ${next}`);
}

function identityState(i: IssuedIdentityJson, now = Date.now()): string {
  if (i.revoked_at !== null) return 'revoked';
  if (Date.parse(i.not_after) <= now) return 'expired';
  return i.renewal_of === null ? 'issued' : 'renewed';
}

export const identitiesRevoke: CliCommand = {
  name: 'identities revoke',
  usage: ['identities revoke <serial>'],
  summary: 'revoke an identity Aspen issued: the device holding it is refused from now on and cannot renew it',
  options: REMOTE_OPTIONS,
  async run(args) {
    const [serial] = expectPositionals(args, ['<serial>']);
    const revoked = await connect(args).post<IssuedIdentityJson>(`/v1/identities/${segment(serial)}/revoke`);
    if (args.values.json) return printJson(revoked);
    const who = revoked.device_id === null ? 'no device has spoken with it' : `${revoked.device_id} is refused from now on`;
    print(`revoked ${revoked.serial}: ${who} (other instances within IDENTITY_CACHE_SECONDS)`);
  },
};

export const identitiesRenewals: CliCommand = {
  name: 'identities renewals',
  usage: ['identities renewals [--within-days N] [--stuck]'],
  summary: 'devices whose identity expires soon (default: within the renewal lead time) and where each renewal stands; --stuck: only those queued and not done',
  options: { ...REMOTE_OPTIONS, 'within-days': 'string', stuck: 'boolean' },
  async run(args) {
    expectPositionals(args, []);
    const within = stringOption(args, 'within-days');
    if (within !== undefined && !(Number(within) >= 0)) throw new UsageError(`--within-days ${within}: expected a number of days`);
    const report = await connect(args).get<RenewalReport>('/v1/identity-renewals', { within_days: within, stuck: args.values.stuck ? '1' : undefined });
    if (args.values.json) return printJson(report);
    if (report.renewals.length === 0) return print(args.values.stuck ? 'no renewal is stuck' : 'no identity expires within that time');
    print(
      table(
        ['DEVICE', 'SERIAL', 'NOT AFTER', 'RENEWAL', 'STUCK'],
        report.renewals.map((r) => [r.device_id, r.identity.serial, shortTime(r.identity.not_after), r.state, r.stuck ? 'yes' : 'no']),
      ),
    );
  },
};
