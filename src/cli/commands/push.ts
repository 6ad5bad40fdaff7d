// `aspen push`: wake enrollments through APNs so they check in now.
import { segment } from '../api-client.ts';
import type { PushResponse } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { CliError, UsageError } from '../errors.ts';
import { print, printJson, warn } from '../output.ts';
import { table } from '../table.ts';

export const push: CliCommand = {
  name: 'push',
  usage: ['push <id...>'],
  summary: 'send an APNs push to enrollments (fails if none was pushed)',
  options: REMOTE_OPTIONS,
  async run(args) {
    if (args.positionals.length === 0) throw new UsageError('expected <id...>');
    const res = await connect(args).post<PushResponse>(`/v1/push/${args.positionals.map(segment).join(',')}`);
    if (args.values.json) printJson(res);
    else {
      print(
        table(
          ['ID', 'PUSH'],
          Object.entries(res.status).map(([id, s]) => [id, s.push_error === undefined ? `pushed ${s.push_result ?? ''}`.trim() : `failed: ${s.push_error}`]),
        ),
      );
      if (res.push_error !== undefined) warn(`push: ${res.push_error}`);
    }
    if (!Object.values(res.status).some((s) => s.push_error === undefined)) throw new CliError('no enrollment was pushed');
  },
};
