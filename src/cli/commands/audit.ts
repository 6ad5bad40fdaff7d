// `aspen audit`: the audit log (GET /v1/audit), newest first.
import { expectPositionals, stringOption } from '../args.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { print, printJson, warn } from '../output.ts';
import { collectPages } from '../pages.ts';
import { shortTime, table } from '../table.ts';

interface AuditEntryJson {
  seq: number;
  at: string;
  actor: string;
  via: string;
  action: string;
  status: number;
  outcome: string;
  targets: { kind: string; id: string }[];
}

export const audit: CliCommand = {
  name: 'audit',
  usage: ['audit [--actor NAME] [--action A] [--target ID] [--since ISO] [--until ISO] [--limit N] [--cursor C] [--all]'],
  summary: 'the audit log of changes, newest first: who, what, when, targets, outcome (--all follows every page)',
  options: { ...REMOTE_OPTIONS, actor: 'string', action: 'string', target: 'string', since: 'string', until: 'string', limit: 'string', cursor: 'string', all: 'boolean' },
  async run(args) {
    expectPositionals(args, []);
    const filter = Object.fromEntries(['actor', 'action', 'target', 'since', 'until'].map((name) => [name, stringOption(args, name)]));
    const { items, next } = await collectPages<'entries', AuditEntryJson>(connect(args), '/v1/audit', 'entries', filter, {
      limit: stringOption(args, 'limit'),
      cursor: stringOption(args, 'cursor'),
      all: args.values.all === true,
    });
    if (args.values.json) return printJson({ entries: items, next_cursor: next });
    print(
      items.length === 0
        ? 'no entries'
        : table(
            ['WHEN', 'ACTOR', 'VIA', 'ACTION', 'STATUS', 'TARGETS'],
            items.map((e) => [shortTime(e.at), e.actor, e.via, e.action, `${e.status} ${e.outcome}`, e.targets.map((t) => `${t.kind} ${t.id}`).join(', ')]),
          ),
    );
    if (next !== null && !args.values.all) warn(`more entries: --all, or --cursor ${next}`);
  },
};
