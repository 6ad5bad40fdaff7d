// `aspen send` (queue a command to enrollments) and `aspen result` (what each target answered).
import { segment } from '../api-client.ts';
import { stringOption, expectPositionals } from '../args.ts';
import type { CommandPage, SubmitResponse } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { commandFromFile, commandFromFlags, type CommandPayload } from '../command-input.ts';
import { connect } from '../connection.ts';
import { FILTER_USAGE } from '../enrollment-filter.ts';
import { ApiError, UsageError } from '../errors.ts';
import { print, printJson, warn } from '../output.ts';
import { prettyJson, shortTime, table } from '../table.ts';
import { targetSelection, TARGET_OPTIONS } from '../targets.ts';

export const send: CliCommand = {
  name: 'send',
  usage: [
    'send <id...> <RequestType> [--Key value|@file ...] [--uuid U] [--no-push]',
    'send <id...> --file cmd.json|cmd.plist [--uuid U] [--no-push]',
    'send - <RequestType> ...                ids from stdin, one a line (or --targets-file FILE)',
    `send <RequestType> --all ${FILTER_USAGE} ...`,
  ],
  summary:
    'queue a command. --Key values are typed by its schema (aspen help <RequestType>): arrays a,b,c; dictionaries JSON or ' +
    '@file (plist or JSON); data @file. A filter selects from every enrollment, checked-out ones only with --state',
  options: { ...REMOTE_OPTIONS, ...TARGET_OPTIONS, file: 'string', uuid: 'string', 'no-push': 'boolean' },
  acceptExtra: true,
  async run(args) {
    const file = stringOption(args, 'file');
    if (file === undefined && args.positionals.length === 0) throw new UsageError('expected <id...> <RequestType>');
    const ids = file === undefined ? args.positionals.slice(0, -1) : args.positionals;
    const selection = targetSelection(args, ids, file === undefined ? '<id...> <RequestType>' : '<id...>');
    let payload: CommandPayload;
    if (file === undefined) payload = { command: await commandFromFlags(args.positionals.at(-1)!, args.extra) };
    else if (args.extra.length > 0) throw new UsageError(`--${args.extra[0]![0]}: command keys come from the file with --file`);
    else payload = commandFromFile(file);
    const api = connect(args);
    const targets = await selection.resolve(api);
    const uuid = stringOption(args, 'uuid');
    const body = { targets, ...payload, ...(uuid === undefined ? {} : { command_uuid: uuid }), push: !args.values['no-push'] };

    let res: SubmitResponse;
    try {
      res = await api.post<SubmitResponse>('/v1/commands', body);
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

/** Outcomes as the API spells them (`queued`, `unknown_enrollment`, `not_allowed`), so what a script greps is what it reads. */
function targetTable(targets: SubmitResponse['targets']): string {
  return table(
    ['TARGET', 'OUTCOME', 'PUSH'],
    Object.entries(targets).map(([id, t]) => [
      id,
      t.reason === undefined ? t.status : `${t.status}: ${t.reason}`,
      t.push === undefined ? '-' : [t.push.status, t.push.reason].filter(Boolean).join(': '),
    ]),
  );
}

function isTargets(details: unknown): details is SubmitResponse['targets'] {
  return typeof details === 'object' && details !== null && Object.values(details).every((t) => typeof (t as { status?: unknown }).status === 'string');
}

/** Targets per request while paging through a command's results. */
const RESULT_PAGE = '1000';

export const result: CliCommand = {
  name: 'result',
  usage: ['result <uuid>'],
  summary: "a command's state and result on every target (all pages)",
  options: REMOTE_OPTIONS,
  async run(args) {
    const [uuid] = expectPositionals(args, ['<uuid>']);
    const api = connect(args);
    const path = `/v1/commands/${segment(uuid)}`;
    let page = await api.get<CommandPage>(path, { limit: RESULT_PAGE });
    if (args.values.json) {
      // One document, as if the API had answered with every target at once.
      const targets = [...page.targets];
      while (page.next_cursor !== null) {
        page = await api.get<CommandPage>(path, { limit: RESULT_PAGE, cursor: page.next_cursor });
        targets.push(...page.targets);
      }
      return printJson({ ...page, targets, next_cursor: null });
    }
    print(`${page.command_uuid}  ${page.request_type}  created ${shortTime(page.created_at)}`);
    // Printed page by page: a command to 100,000 devices need not be held in memory to be read.
    for (;;) {
      for (const t of page.targets) {
        print('');
        const notNow = t.notnow_count > 0 ? `  notnow ×${t.notnow_count}` : '';
        print(`${t.enrollment_id}  ${t.state}  queued ${shortTime(t.queued_at)}  updated ${shortTime(t.updated_at)}${notNow}`);
        // The result is the whole device report, ErrorChain included.
        if (t.result !== null) print(prettyJson(t.result, '  '));
      }
      if (page.next_cursor === null) return;
      page = await api.get<CommandPage>(path, { limit: RESULT_PAGE, cursor: page.next_cursor });
    }
  },
};
