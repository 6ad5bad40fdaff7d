// `aspen commands`: recent commands, newest first, with how many targets are in each state.
import { stringOption, expectPositionals } from '../args.ts';
import type { CommandList } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { print, printJson, warn } from '../output.ts';
import { shortTime, table } from '../table.ts';

export const commands: CliCommand = {
  name: 'commands',
  usage: ['commands [--type RequestType] [--state S] [--target ID] [--since ISO] [--limit N] [--cursor C] [--all]'],
  summary: 'recent commands, newest first, with their targets counted by state (--all follows every page)',
  options: { ...REMOTE_OPTIONS, type: 'string', state: 'string', target: 'string', since: 'string', limit: 'string', cursor: 'string', all: 'boolean' },
  async run(args) {
    expectPositionals(args, []);
    const api = connect(args);
    const query = {
      request_type: stringOption(args, 'type'),
      state: stringOption(args, 'state'),
      target: stringOption(args, 'target'),
      since: stringOption(args, 'since'),
      limit: stringOption(args, 'limit'),
    };
    const all: CommandList['commands'] = [];
    let cursor = stringOption(args, 'cursor');
    let page: CommandList;
    do {
      page = await api.get<CommandList>('/v1/commands', { ...query, cursor });
      all.push(...page.commands);
      cursor = page.next_cursor ?? undefined;
    } while (args.values.all && cursor !== undefined);
    if (args.values.json) return printJson({ commands: all, next_cursor: page.next_cursor });
    print(
      all.length === 0
        ? 'no commands'
        : table(
            ['COMMAND', 'REQUEST TYPE', 'CREATED', 'TARGETS'],
            all.map((c) => [
              c.command_uuid,
              c.request_type,
              shortTime(c.created_at),
              Object.entries(c.targets)
                .filter(([, n]) => n > 0)
                .map(([state, n]) => `${n} ${state}`)
                .join(', '),
            ]),
          ),
    );
    if (page.next_cursor !== null && !args.values.all) warn(`more commands: --all, or --cursor ${page.next_cursor}`);
  },
};
