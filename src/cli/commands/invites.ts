// `aspen invite create|list|revoke`: enrollment invites, one-time links to an enrollment profile
// whose SCEP challenge is the invite's own. The link (and the challenge) are shown once, at creation.
import { segment } from '../api-client.ts';
import { expectPositionals, stringOption, type ParsedArgs } from '../args.ts';
import type { CreatedInviteJson, InviteJson } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { choice } from '../enrollment-filter.ts';
import { UsageError } from '../errors.ts';
import { print, printJson, warn } from '../output.ts';
import { collectPages } from '../pages.ts';
import { keyValues, orDash, shortTime, table } from '../table.ts';
import { INVITE_STATES } from '../../storage/issuance.ts';

const DAY_MS = 86_400_000;

export const INVITE_OPTIONS = { label: 'string', days: 'string', expires: 'string', 'max-uses': 'string', sets: 'string', tags: 'string' } as const;
export const INVITE_USAGE = '[--label L] [--days N | --expires ISO] [--max-uses N] [--sets a,b] [--tags x,y]';

/** The POST /v1/enrollment-invites body from the command line. */
export function inviteRequest(args: ParsedArgs): Record<string, unknown> {
  const days = stringOption(args, 'days');
  const expires = stringOption(args, 'expires');
  if (days !== undefined && expires !== undefined) throw new UsageError('give --days or --expires, not both');
  if (days !== undefined && !(Number(days) > 0)) throw new UsageError(`--days ${days}: expected a positive number`);
  if (expires !== undefined && Number.isNaN(Date.parse(expires))) throw new UsageError(`--expires ${expires}: expected an ISO 8601 time, e.g. 2025-07-01T12:00:00Z`);
  const maxUses = stringOption(args, 'max-uses');
  if (maxUses !== undefined && !/^[1-9]\d*$/.test(maxUses)) throw new UsageError(`--max-uses ${maxUses}: expected a positive integer`);
  const list = (name: string) => stringOption(args, name)?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const sets = list('sets');
  const tags = list('tags');
  const expiresAt = days !== undefined ? new Date(Date.now() + Number(days) * DAY_MS).toISOString() : expires && new Date(expires).toISOString();
  return {
    ...(stringOption(args, 'label') !== undefined && { label: stringOption(args, 'label') }),
    ...(expiresAt !== undefined && { expires_at: expiresAt }),
    ...(maxUses !== undefined && { max_uses: Number(maxUses) }),
    ...((sets !== undefined || tags !== undefined) && { assign: { ...(sets && { sets }), ...(tags && { tags }) } }),
  };
}

export function createdInviteFacts(invite: CreatedInviteJson): string {
  return keyValues([
    ['url', invite.url],
    ['id', invite.id],
    ['label', invite.label ?? undefined],
    ['uses', `${invite.max_uses} (each identity issued with its challenge uses one; downloading uses nothing)`],
    ['expires', shortTime(invite.expires_at)],
    ['assigns', invite.assign ? `sets: ${orDash(invite.assign.sets.join(', '))}; tags: ${orDash(invite.assign.tags.join(', '))}` : undefined],
  ]);
}

export const inviteCreate: CliCommand = {
  name: 'invite create',
  usage: [`invite create ${INVITE_USAGE}`],
  summary: 'create an enrollment invite (default: one use, 7 days) and print its link, shown only now',
  options: { ...REMOTE_OPTIONS, ...INVITE_OPTIONS },
  async run(args) {
    expectPositionals(args, []);
    const created = await connect(args).post<CreatedInviteJson>('/v1/enrollment-invites', inviteRequest(args));
    if (args.values.json) return printJson(created);
    print(createdInviteFacts(created));
  },
};

export const inviteList: CliCommand = {
  name: 'invite list',
  usage: ['invite list [--state live|used|expired|revoked] [--limit N] [--cursor C] [--all]'],
  summary: 'list enrollment invites, newest first, with their uses and state (their links are not shown again)',
  options: { ...REMOTE_OPTIONS, state: 'string', limit: 'string', cursor: 'string', all: 'boolean' },
  async run(args) {
    expectPositionals(args, []);
    const state = choice(args, 'state', INVITE_STATES);
    const { items, next } = await collectPages<'invites', InviteJson>(connect(args), '/v1/enrollment-invites', 'invites', { state }, {
      limit: stringOption(args, 'limit'),
      cursor: stringOption(args, 'cursor'),
      all: args.values.all === true,
    });
    if (args.values.json) return printJson({ invites: items, next_cursor: next });
    print(
      items.length === 0
        ? 'no invites'
        : table(
            ['ID', 'LABEL', 'STATE', 'USED', 'EXPIRES'],
            items.map((i) => [i.id, orDash(i.label), i.state, `${i.uses}/${i.max_uses}`, shortTime(i.expires_at)]),
          ),
    );
    if (next !== null) warn(`more invites: --all, or --cursor ${next}`);
  },
};

export const inviteRevoke: CliCommand = {
  name: 'invite revoke',
  usage: ['invite revoke <id>'],
  summary: "revoke an invite: its link and challenge stop working (identities issued through it stay valid)",
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const revoked = await connect(args).delete<InviteJson>(`/v1/enrollment-invites/${segment(id)}`);
    if (args.values.json) return printJson(revoked);
    print(`revoked invite ${revoked.id}${revoked.label ? ` (${revoked.label})` : ''}: used ${revoked.uses} of ${revoked.max_uses}`);
  },
};
