// `aspen queue`: an enrollment's pending commands; --cancel one or --clear them all.
import { segment } from '../api-client.ts';
import { expectPositionals, stringOption } from '../args.ts';
import type { CancelResponse, QueueJson } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { UsageError } from '../errors.ts';
import { print, printJson } from '../output.ts';
import { shortTime, table } from '../table.ts';

export const queue: CliCommand = {
  name: 'queue',
  usage: ['queue <id>', 'queue <id> --cancel <uuid>', 'queue <id> --clear'],
  summary: 'pending commands of an enrollment, in the order the device gets them; cancel one or all',
  options: { ...REMOTE_OPTIONS, cancel: 'string', clear: 'boolean' },
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const cancel = stringOption(args, 'cancel');
    if (cancel !== undefined && args.values.clear) throw new UsageError('--cancel and --clear exclude each other');
    const api = connect(args);
    const path = `/v1/enrollments/${segment(id)}/queue`;
    if (cancel !== undefined || args.values.clear) {
      const res = await api.delete<CancelResponse>(cancel === undefined ? path : `${path}/${segment(cancel)}`);
      if (args.values.json) return printJson(res);
      return print(`cancelled ${res.cancelled} command${res.cancelled === 1 ? '' : 's'}`);
    }
    const res = await api.get<QueueJson>(path);
    if (args.values.json) return printJson(res);
    print(res.commands.length === 0 ? `nothing queued for ${id}` : queueTable(res));
  },
};

export function queueTable(q: QueueJson): string {
  return table(
    ['COMMAND UUID', 'REQUEST TYPE', 'STATE', 'QUEUED', 'NOTNOW'],
    q.commands.map((c) => [c.command_uuid, c.request_type, c.state, shortTime(c.queued_at), String(c.notnow_count)]),
  );
}
