// `aspen audit`: the audit log (GET /v1/audit), newest first.
import { expectPositionals, stringOption } from '../args.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { print, printJson, warn } from '../output.ts';
import { shortTime, table } from '../table.ts';

interface AuditPage {
  entries: { seq: number; at: string; actor: string; via: string; action: string; status: number; outcome: string; targets: { kind: string; id: string }[] }[];
  next_cursor: string | null;
}

export const audit: CliCommand = {
  name: 'audit',
  usage: ['audit [--actor NAME] [--action A] [--target ID] [--since ISO] [--until ISO] [--limit N] [--cursor C] [--all]'],
  summary: 'the audit log of changes, newest first: who, what, when, targets, outcome (--all follows every page)',
  options: { ...REMOTE_OPTIONS, actor: 'string', action: 'string', target: 'string', since: 'string', until: 'string', limit: 'string', cursor: 'string', all: 'boolean' },
  async run(args) {
    expectPositionals(args, []);
    const api = connect(args);
    const query = {
      actor: stringOption(args, 'actor'),
      action: stringOption(args, 'action'),
      target: stringOption(args, 'target'),
      since: stringOption(args, 'since'),
      until: stringOption(args, 'until'),
      limit: stringOption(args, 'limit'),
    };
    const all: AuditPage['entries'] = [];
    let cursor = stringOption(args, 'cursor');
    let page: AuditPage;
    do {
      page = await api.get<AuditPage>('/v1/audit', { ...query, cursor });
      all.push(...page.entries);
      cursor = page.next_cursor ?? undefined;
    } while (args.values.all && cursor !== undefined);
    if (args.values.json) return printJson({ entries: all, next_cursor: page.next_cursor });
    print(
      all.length === 0
        ? 'no entries'
        : table(
            ['WHEN', 'ACTOR', 'VIA', 'ACTION', 'STATUS', 'TARGETS'],
            all.map((e) => [shortTime(e.at), e.actor, e.via, e.action, `${e.status} ${e.outcome}`, e.targets.map((t) => `${t.kind} ${t.id}`).join(', ')]),
          ),
    );
    if (page.next_cursor !== null && !args.values.all) warn(`more entries: --all, or --cursor ${page.next_cursor}`);
  },
};
