// `aspen ddm ...`: Declarative Device Management from the command line. Declarations, sets and
// assignments go through the KMFDDM-compatible routes (so a change says whether it changed
// anything); the reads use Aspen's own (state per declaration and per enrollment).
import { readFileSync } from 'node:fs';
import { segment, type ApiClient } from '../api-client.ts';
import { expectPositionals, stringOption, type ParsedArgs } from '../args.ts';
import type { AssetJson, DeclarationEnrollments, EnrollmentDeclarations, StatusErrorsJson, StatusValuesJson } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { ApiError, CliError, UsageError } from '../errors.ts';
import { print, printJson } from '../output.ts';
import { keyValues, orDash, prettyJson, shortTime, table } from '../table.ts';

const CHANGE_OPTIONS = { ...REMOTE_OPTIONS, 'no-notify': 'boolean' } as const;

/** KMFDDM's nonotify: change without queueing a sync for the enrollments it affects. */
function notifyQuery(args: ParsedArgs): { nonotify?: string } {
  return args.values['no-notify'] ? { nonotify: '1' } : {};
}

function notified(args: ParsedArgs): string {
  return args.values['no-notify'] ? 'not notified (--no-notify)' : 'affected enrollments notified';
}

/** A file's bytes, or stdin's for `-`. */
function readInput(path: string): Buffer {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (err) {
    throw new CliError(`cannot read ${path === '-' ? 'stdin' : path}: ${(err as Error).message}`);
  }
}

/** Prints the outcome of a change, or the API JSON of it with --json. */
function changed(args: ParsedArgs, didChange: boolean, yes: string, no: string): void {
  if (args.values.json) printJson({ changed: didChange });
  else print(didChange ? yes : no);
}

const reasonCodes = (reasons: readonly { code: string }[] | undefined) => (reasons ?? []).map((r) => r.code).join(', ');

async function allPages(api: ApiClient, identifier: string, state: string | undefined): Promise<DeclarationEnrollments> {
  let page = await api.get<DeclarationEnrollments>(`/v1/declarations/${segment(identifier)}/enrollments`, { state, limit: '1000' });
  const enrollments = [...page.enrollments];
  while (page.next_cursor !== null) {
    page = await api.get<DeclarationEnrollments>(`/v1/declarations/${segment(identifier)}/enrollments`, { state, limit: '1000', cursor: page.next_cursor });
    enrollments.push(...page.enrollments);
  }
  return { ...page, enrollments, next_cursor: null };
}

export const ddmDeclarations: CliCommand = {
  name: 'ddm declarations',
  usage: ['ddm declarations'],
  summary: 'the identifiers of all declarations',
  options: REMOTE_OPTIONS,
  async run(args) {
    expectPositionals(args, []);
    const ids = await connect(args).get<string[]>('/v1/declarations');
    if (args.values.json) printJson(ids);
    else if (ids.length > 0) print(ids.join('\n'));
  },
};

export const ddmShow: CliCommand = {
  name: 'ddm show',
  usage: ['ddm show <declaration> [--state pending|out-of-date|failed|active|inactive]'],
  summary: 'a declaration, its sets, and which enrollments have it in which state',
  options: { ...REMOTE_OPTIONS, state: 'string' },
  async run(args) {
    const [identifier] = expectPositionals(args, ['<declaration>']);
    const view = await allPages(connect(args), identifier, stringOption(args, 'state'));
    if (args.values.json) return printJson(view);
    const d = view.declaration;
    print(
      keyValues([
        ['identifier', d.identifier],
        ['type', d.type],
        ['server token', `${d.server_token}${d.touches > 0 ? ` (touched ${d.touches}×)` : ''}`],
        ['updated', shortTime(d.updated_at)],
        ['sets', orDash(view.sets.join(', '))],
        ['enrollments', Object.entries(view.counts).map(([state, n]) => `${n} ${state}`).join(', ')],
      ]),
    );
    print(`payload\n${prettyJson(d.payload, '  ')}`);
    if (view.enrollments.length > 0) {
      print(`\n${table(['ENROLLMENT', 'STATE', 'REASONS'], view.enrollments.map((e) => [e.enrollment_id, e.state, orDash(reasonCodes(e.reported?.reasons))]))}`);
    }
  },
};

export const ddmPut: CliCommand = {
  name: 'ddm put',
  usage: ['ddm put <declaration.json|-> [--no-notify]'],
  summary: "store a declaration (validated against Apple's schema for its type); devices with it are notified",
  options: CHANGE_OPTIONS,
  async run(args) {
    const [file] = expectPositionals(args, ['<declaration.json|->']);
    const body = readInput(file);
    let identifier = file;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { Identifier?: unknown };
      if (typeof parsed.Identifier === 'string') identifier = parsed.Identifier;
    } catch {
      // The server says what is wrong with it.
    }
    let didChange: boolean;
    try {
      didChange = await connect(args).change('PUT', '/v1/declarations', notifyQuery(args), { type: 'application/json', data: body });
    } catch (err) {
      const problems = err instanceof ApiError && Array.isArray(err.details) ? (err.details as { path: string; message: string }[]) : undefined;
      if (problems === undefined) throw err;
      throw new CliError(`${identifier}: invalid declaration\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    }
    changed(args, didChange, `${identifier}: stored; ${notified(args)}`, `${identifier}: unchanged (the same content is stored)`);
  },
};

export const ddmDelete: CliCommand = {
  name: 'ddm delete',
  usage: ['ddm delete <declaration>'],
  summary: 'delete a declaration (refused while a set holds it)',
  options: REMOTE_OPTIONS,
  async run(args) {
    const [identifier] = expectPositionals(args, ['<declaration>']);
    changed(args, await connect(args).change('DELETE', `/v1/declarations/${segment(identifier)}`), `${identifier}: deleted`, `${identifier}: no such declaration, nothing deleted`);
  },
};

export const ddmTouch: CliCommand = {
  name: 'ddm touch',
  usage: ['ddm touch <declaration> [--no-notify]'],
  summary: 'give a declaration a new token, so devices fetch and apply it again',
  options: CHANGE_OPTIONS,
  async run(args) {
    const [identifier] = expectPositionals(args, ['<declaration>']);
    await connect(args).change('POST', `/v1/declarations/${segment(identifier)}/touch`, notifyQuery(args));
    changed(args, true, `${identifier}: touched; ${notified(args)}`, '');
  },
};

export const ddmSets: CliCommand = {
  name: 'ddm sets',
  usage: ['ddm sets'],
  summary: 'the sets, their declarations, and which are assigned to every enrollment',
  options: REMOTE_OPTIONS,
  async run(args) {
    expectPositionals(args, []);
    const api = connect(args);
    const [sets, global] = await Promise.all([api.get<string[]>('/v1/sets'), api.get<string[]>('/v1/ddm/global-sets')]);
    const rows = await Promise.all([...new Set([...sets, ...global])].sort().map(async (set) => ({ set, declarations: await api.get<string[]>(`/v1/set-declarations/${segment(set)}`), global: global.includes(set) })));
    if (args.values.json) return printJson(rows);
    if (rows.length === 0) return print('no sets');
    print(table(['SET', 'EVERY ENROLLMENT', 'DECLARATIONS'], rows.map((r) => [r.set, r.global ? 'yes' : '-', orDash(r.declarations.join(', '))])));
  },
};

export const ddmSet: CliCommand = {
  name: 'ddm set',
  usage: ['ddm set <set>', 'ddm set <set> --add <declaration> | --remove <declaration> [--no-notify]'],
  summary: "a set's declarations; add one to it or remove one (its enrollments are notified)",
  options: { ...CHANGE_OPTIONS, add: 'string', remove: 'string' },
  async run(args) {
    const [set] = expectPositionals(args, ['<set>']);
    const api = connect(args);
    const add = stringOption(args, 'add');
    const remove = stringOption(args, 'remove');
    if (add !== undefined && remove !== undefined) throw new UsageError('give --add or --remove, not both');
    if (add === undefined && remove === undefined) {
      const ids = await api.get<string[]>(`/v1/set-declarations/${segment(set)}`);
      if (args.values.json) return printJson(ids);
      return print(ids.length === 0 ? `set ${set} holds no declaration` : ids.join('\n'));
    }
    const declaration = (add ?? remove)!;
    const didChange = await api.change(add !== undefined ? 'PUT' : 'DELETE', `/v1/set-declarations/${segment(set)}`, { declaration, ...notifyQuery(args) });
    if (add !== undefined) changed(args, didChange, `${declaration} added to ${set}; ${notified(args)}`, `${declaration} is in ${set} already`);
    else changed(args, didChange, `${declaration} removed from ${set}; ${notified(args)}`, `${declaration} was not in ${set}`);
  },
};

/** `ddm assign` and `ddm unassign`: one enrollment's set, or with --all a set of every enrollment. */
function assignment(assign: boolean): CliCommand {
  const verb = assign ? 'assign' : 'unassign';
  return {
    name: `ddm ${verb}`,
    usage: assign
      ? ['ddm assign <enrollment> <set> [--no-notify]', 'ddm assign --all <set> [--no-notify]']
      : ['ddm unassign <enrollment> <set> [--no-notify]', 'ddm unassign <enrollment> --every-set [--no-notify]', 'ddm unassign --all <set> [--no-notify]'],
    summary: assign ? 'assign a set to an enrollment (also before it enrolls), or to every enrollment' : 'take a set (or every set) from an enrollment, or a set from every enrollment',
    options: { ...CHANGE_OPTIONS, all: 'boolean', ...(assign ? {} : { 'every-set': 'boolean' }) },
    async run(args) {
      const api = connect(args);
      const method = assign ? 'PUT' : 'DELETE';
      if (args.values.all) {
        const [set] = expectPositionals(args, ['<set>']);
        const didChange = await api.change(method, `/v1/ddm/global-sets/${segment(set)}`, notifyQuery(args));
        return changed(args, didChange, `${set} ${assign ? 'assigned to' : 'taken from'} every enrollment; ${notified(args)}`, `${set} ${assign ? 'is assigned to every enrollment already' : 'was not assigned to every enrollment'}`);
      }
      if (args.values['every-set']) {
        const [id] = expectPositionals(args, ['<enrollment>']);
        const didChange = await api.change('DELETE', `/v1/enrollment-sets-all/${segment(id)}`, notifyQuery(args));
        return changed(args, didChange, `every set taken from ${id}; ${notified(args)}`, `${id} had no set`);
      }
      const [id, set] = expectPositionals(args, ['<enrollment>', '<set>']);
      const didChange = await api.change(method, `/v1/enrollment-sets/${segment(id)}`, { set, ...notifyQuery(args) });
      changed(args, didChange, `${set} ${assign ? 'assigned to' : 'taken from'} ${id}; ${notified(args)}`, `${set} ${assign ? 'is assigned to' : 'was not assigned to'} ${id} already`);
    },
  };
}

export const ddmAssign = assignment(true);
export const ddmUnassign = assignment(false);

export const ddmStatus: CliCommand = {
  name: 'ddm status',
  usage: ['ddm status <enrollment>'],
  summary: "an enrollment's declarations with their state, its last status report and status values",
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<enrollment>']);
    const view = await connect(args).get<EnrollmentDeclarations>(`/v1/enrollments/${segment(id)}/declarations`);
    if (args.values.json) return printJson(view);
    const synced = view.served?.token === view.declarations_token;
    print(
      keyValues([
        ['enrollment', view.enrollment_id],
        ['sets', orDash(view.sets.join(', '))],
        ['every enrollment', view.global_sets.length > 0 ? view.global_sets.join(', ') : undefined],
        ['token', `${view.declarations_token}${view.served === null ? ' (never served)' : synced ? '' : ` (the device was last given ${view.served.token})`}`],
        ['last report', shortTime(view.last_status_report_at)],
      ]),
    );
    if (view.declarations.length > 0) {
      const rows = view.declarations.map((d) => [`${d.identifier}${d.generated ? ' *' : ''}`, d.kind, d.state, orDash(reasonCodes(d.reported?.reasons))]);
      print(`\n${table(['DECLARATION (* generated)', 'KIND', 'STATE', 'REASONS'], rows)}`);
    }
    for (const u of view.unassigned) print(`still reported, no longer assigned: ${u.identifier}`);
    for (const issue of view.reference_issues) print(`warning: ${issue.identifier} ${issue.path} ${issue.message}`);
    const values = Object.entries(view.status_values);
    if (values.length > 0) print(`\n${table(['STATUS ITEM', 'VALUE', 'REPORTED'], values.map(([item, v]) => [item, JSON.stringify(v.value), shortTime(v.reported_at)]))}`);
  },
};

export const ddmReport: CliCommand = {
  name: 'ddm report',
  usage: ['ddm report <enrollment> [--index N | --status-id ID]'],
  summary: 'a status report as the device sent it (the newest, or --index 1 the one before, ...)',
  options: { ...REMOTE_OPTIONS, index: 'string', 'status-id': 'string' },
  async run(args) {
    const [id] = expectPositionals(args, ['<enrollment>']);
    const res = await connect(args).raw(`/v1/status-report/${segment(id)}`, { index: stringOption(args, 'index'), status_id: stringOption(args, 'status-id') });
    if (args.values.json) return print(res.text);
    print(`# report ${String(res.headers['x-status-report-index'])} (${String(res.headers['x-status-report-id'] ?? '')}), received ${String(res.headers['last-modified'])}`);
    print(prettyJson(JSON.parse(res.text)));
  },
};

export const ddmErrors: CliCommand = {
  name: 'ddm errors',
  usage: ['ddm errors <enrollment...>'],
  summary: 'the errors their status reports carried, oldest first',
  options: REMOTE_OPTIONS,
  async run(args) {
    if (args.positionals.length === 0) throw new UsageError('expected <enrollment...>');
    const res = await connect(args).get<StatusErrorsJson>(`/v1/status-errors/${args.positionals.map(segment).join(',')}`);
    if (args.values.json) return printJson(res);
    const rows = Object.entries(res).flatMap(([id, errors]) => errors.map((e) => [id, shortTime(e.timestamp), e.path, JSON.stringify(e.error)]));
    print(rows.length === 0 ? 'no errors reported' : table(['ENROLLMENT', 'TIME', 'PATH', 'ERROR'], rows));
  },
};

export const ddmValues: CliCommand = {
  name: 'ddm values',
  usage: ['ddm values <enrollment...> [--prefix PATTERN]'],
  summary: 'reported status values; --prefix is a LIKE pattern such as .StatusItems.device.%',
  options: { ...REMOTE_OPTIONS, prefix: 'string' },
  async run(args) {
    if (args.positionals.length === 0) throw new UsageError('expected <enrollment...>');
    const res = await connect(args).get<StatusValuesJson>(`/v1/status-values/${args.positionals.map(segment).join(',')}`, { prefix: stringOption(args, 'prefix') });
    if (args.values.json) return printJson(res);
    const rows = Object.entries(res).flatMap(([id, values]) => values.map((v) => [id, v.path, v.value]));
    print(rows.length === 0 ? 'no values reported' : table(['ENROLLMENT', 'PATH', 'VALUE'], rows));
  },
};

export const ddmNotify: CliCommand = {
  name: 'ddm notify',
  usage: ['ddm notify [--declaration D,...] [--set S,...] [--id ENROLLMENT,...]'],
  summary: 'sync the enrollments named: through declarations, sets, or by id (after changes made with --no-notify)',
  options: { ...REMOTE_OPTIONS, declaration: 'string', set: 'string', id: 'string' },
  async run(args) {
    expectPositionals(args, []);
    const list = (name: string) => stringOption(args, name)?.split(',').filter((v) => v !== '') ?? [];
    const query = { declaration: list('declaration'), set: list('set'), id: list('id') };
    if (query.declaration.length + query.set.length + query.id.length === 0) throw new UsageError('name at least one --declaration, --set or --id');
    await connect(args).change('POST', '/v1/notify', query);
    changed(args, true, 'notified', '');
  },
};

export const ddmAssets: CliCommand = {
  name: 'ddm assets',
  usage: ['ddm assets'],
  summary: 'the data assets Aspen hosts for devices',
  options: REMOTE_OPTIONS,
  async run(args) {
    expectPositionals(args, []);
    const { assets } = await connect(args).get<{ assets: AssetJson[] }>('/v1/ddm/assets');
    if (args.values.json) return printJson({ assets });
    if (assets.length === 0) return print('no assets');
    print(table(['NAME', 'TYPE', 'SIZE', 'SHA-256', 'UPDATED', 'PATH'], assets.map((a) => [a.name, a.content_type, String(a.size), a.sha256, shortTime(a.updated_at), a.path])));
  },
};

export const ddmUpload: CliCommand = {
  name: 'ddm upload',
  usage: ['ddm upload <name> <file|-> [--type CONTENT-TYPE]'],
  summary: 'host a data asset for devices at /ddm/assets/<name> (prints the hash and size for its declaration)',
  options: { ...REMOTE_OPTIONS, type: 'string' },
  async run(args) {
    const [name, file] = expectPositionals(args, ['<name>', '<file|->']);
    const data = readInput(file);
    const asset = await connect(args).put<AssetJson & { changed: boolean }>(`/v1/ddm/assets/${segment(name)}`, { type: stringOption(args, 'type') ?? 'application/octet-stream', data });
    if (args.values.json) return printJson(asset);
    print(
      keyValues([
        ['asset', `${asset.name} (${asset.changed ? 'stored' : 'unchanged'})`],
        ['path', `${asset.path}  (DataURL: https://<this server>${asset.path}, Authentication.Type: MDM)`],
        ['Hash-SHA-256', asset.sha256],
        ['Size', String(asset.size)],
        ['ContentType', asset.content_type],
      ]),
    );
  },
};

export const ddmRemoveAsset: CliCommand = {
  name: 'ddm remove-asset',
  usage: ['ddm remove-asset <name>'],
  summary: 'stop hosting a data asset (devices then get 404 for it)',
  options: REMOTE_OPTIONS,
  async run(args) {
    const [name] = expectPositionals(args, ['<name>']);
    const res = await connect(args).delete<{ deleted: boolean }>(`/v1/ddm/assets/${segment(name)}`);
    if (args.values.json) return printJson(res);
    print(`${name}: deleted`);
  },
};

export const DDM_COMMANDS: readonly CliCommand[] = [
  ddmDeclarations,
  ddmShow,
  ddmPut,
  ddmDelete,
  ddmTouch,
  ddmSets,
  ddmSet,
  ddmAssign,
  ddmUnassign,
  ddmStatus,
  ddmReport,
  ddmErrors,
  ddmValues,
  ddmNotify,
  ddmAssets,
  ddmUpload,
  ddmRemoveAsset,
];
