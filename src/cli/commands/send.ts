// `aspen send` (queue a command to enrollments) and `aspen result` (what each target answered).
import { segment } from '../api-client.ts';
import { stringOption, expectPositionals } from '../args.ts';
import type { CommandJson, SubmitResponse } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { commandFromFile, commandFromFlags, type CommandPayload } from '../command-input.ts';
import { connect } from '../connection.ts';
import { ApiError, UsageError } from '../errors.ts';
import { print, printJson, warn } from '../output.ts';
import { prettyJson, shortTime, table } from '../table.ts';

export const send: CliCommand = {
  name: 'send',
  usage: ['send <id...> <RequestType> [--Key value ...] [--uuid U] [--no-push]', 'send <id...> --file cmd.json|cmd.plist [--uuid U] [--no-push]'],
  summary: 'queue a command; --Key values are typed by the command schema (arrays: a,b,c)',
  options: { ...REMOTE_OPTIONS, file: 'string', uuid: 'string', 'no-push': 'boolean' },
  acceptExtra: true,
  async run(args) {
    const file = stringOption(args, 'file');
    const targets = file === undefined ? args.positionals.slice(0, -1) : args.positionals;
    if (targets.length === 0) throw new UsageError(file === undefined ? 'expected <id...> <RequestType>' : 'expected <id...>');
    let payload: CommandPayload;
    if (file === undefined) payload = { command: await commandFromFlags(args.positionals.at(-1)!, args.extra) };
    else if (args.extra.length > 0) throw new UsageError(`--${args.extra[0]![0]}: command keys come from the file with --file`);
    else payload = commandFromFile(file);
    const uuid = stringOption(args, 'uuid');
    const body = { targets, ...payload, ...(uuid === undefined ? {} : { command_uuid: uuid }), push: !args.values['no-push'] };

    let res: SubmitResponse;
    try {
      res = await connect(args).post<SubmitResponse>('/v1/commands', body);
    } catch (err) {
      // 422: no target could take it; its details are the per-target outcomes, which say why.
      if (err instanceof ApiError && err.status === 422 && !args.values.json && isTargets(err.details)) print(targetTable(err.details));
      throw err;
    }
    if (args.values.json) return printJson(res);
    print(`${res.command_uuid}  ${res.request_type}`);
    print(targetTable(res.targets));
    if (res.push_error !== undefined) warn(`not pushed: ${res.push_error}`);
  },
};

function targetTable(targets: SubmitResponse['targets']): string {
  return table(
    ['TARGET', 'OUTCOME', 'PUSH'],
    Object.entries(targets).map(([id, t]) => [
      id,
      t.status === 'not_allowed' ? `not allowed: ${t.reason}` : t.status.replace('_', ' '),
      t.push === undefined ? '-' : [t.push.status, t.push.reason].filter(Boolean).join(': '),
    ]),
  );
}

function isTargets(details: unknown): details is SubmitResponse['targets'] {
  return typeof details === 'object' && details !== null && Object.values(details).every((t) => typeof (t as { status?: unknown }).status === 'string');
}

export const result: CliCommand = {
  name: 'result',
  usage: ['result <uuid>'],
  summary: "a command's state and result on each target",
  options: REMOTE_OPTIONS,
  async run(args) {
    const [uuid] = expectPositionals(args, ['<uuid>']);
    const res = await connect(args).get<CommandJson>(`/v1/commands/${segment(uuid)}`);
    if (args.values.json) return printJson(res);
    print(`${res.command_uuid}  ${res.request_type}  created ${shortTime(res.created_at)}`);
    for (const t of res.targets) {
      print('');
      const notNow = t.notnow_count > 0 ? `  notnow ×${t.notnow_count}` : '';
      print(`${t.enrollment_id}  ${t.state}  queued ${shortTime(t.queued_at)}  updated ${shortTime(t.updated_at)}${notNow}`);
      // The result is the whole device report, ErrorChain included.
      if (t.result !== null) print(prettyJson(t.result, '  '));
    }
  },
};
