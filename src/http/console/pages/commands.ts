// /ui/commands (recent commands with per-target state) and /ui/commands/{uuid} (each target's
// state and result); the send form and its outcome (/ui/send).
import type { CommandDefinition } from '../../../protocol/commands/index.ts';
import { html, type Html } from '../html.ts';
import { csrfField, notice, page, time, type Viewer } from '../layout.ts';
import { commandFields, hiddenCommandFields, isDestructive, requestTypePicker } from '../command-form.ts';
import type { FormBody } from '../session.ts';
import { countsView, deviceLink, errorChainView, pager, resultView, stateBadge } from '../views.ts';

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const TARGET_STATES = ['queued', 'notnow', 'acknowledged', 'error', 'commandformaterror', 'cancelled'];

export function commandsPage(viewer: Viewer, filter: { request_type: string; state: string }, commands: Record<string, unknown>[], next: string | null, error: string | null): Html {
  const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== '')).toString();
  const body = html`<form method="get" action="/ui/commands" class="filters">
<div class="field"><label for="request_type">RequestType</label><input id="request_type" name="request_type" value="${filter.request_type}"></div>
<div class="field"><label for="state">A target in state</label><select id="state" name="state"><option value="">any</option>${TARGET_STATES.map((s) => html`<option value="${s}"${s === filter.state ? html` selected` : ''}>${s}</option>`)}</select></div>
<button type="submit">Filter</button></form>
${error ? notice('error', error) : ''}
<div class="scroll"><table><caption>Recent commands, newest first</caption>
<thead><tr><th scope="col">Command</th><th scope="col">Created</th><th scope="col">Targets</th></tr></thead><tbody>
${commands.map((c) => html`<tr><td><a href="/ui/commands/${encodeURIComponent(str(c.command_uuid))}">${str(c.request_type)}</a> <small><code>${str(c.command_uuid)}</code></small></td><td>${time(str(c.created_at))}</td><td>${countsView(c.targets as Record<string, number>)}</td></tr>`)}
</tbody></table></div>
${pager(next, `/ui/commands${qs ? `?${qs}` : ''}`)}
<p><a href="/ui/enrollment">Enrollment invites</a> · <a href="/ui/webhooks">Webhooks and deliveries</a>${viewer.principal.role === 'admin' ? html` · <a href="/ui/audit">Audit log</a>` : ''}</p>`;
  return page('Commands', body, viewer, '/ui/commands');
}

export function commandPage(viewer: Viewer, command: Record<string, unknown>, next: string | null): Html {
  const uuid = str(command.command_uuid);
  const targets = (command.targets as Record<string, unknown>[]) ?? [];
  const body = html`<p><code>${uuid}</code>, created ${time(str(command.created_at))}</p>
<details><summary>The command as sent</summary><pre class="code">${JSON.stringify(command.command, null, 2)}</pre></details>
<div class="scroll" id="targets" data-refresh data-targets><table class="targets"><caption>Targets</caption><thead><tr><th scope="col">Enrollment</th><th scope="col">State</th><th scope="col">Updated</th><th scope="col">Result</th></tr></thead><tbody>
${targets.map((t) => html`<tr data-target="${str(t.enrollment_id)}"><td>${deviceLink(str(t.enrollment_id))}</td><td data-field="state">${stateBadge(str(t.state))}${Number(t.notnow_count) > 0 ? html` <small>NotNow ×${str(t.notnow_count)}</small>` : ''}</td><td>${time(str(t.updated_at))}</td>
<td>${errorChainView(t.error_chain as unknown[] | null)}${resultView(t.result)}</td></tr>`)}
</tbody></table></div>
${pager(next, `/ui/commands/${encodeURIComponent(uuid)}`)}`;
  return page(str(command.request_type), body, viewer, '/ui/commands');
}

/** Who a command goes to: chosen devices, or every device matching a filter. */
export type Targets = { kind: 'ids'; ids: string[] } | { kind: 'filter'; query: string; description: string };

function targetFields(targets: Targets): Html {
  return targets.kind === 'ids'
    ? html`${targets.ids.map((id) => html`<input type="hidden" name="target" value="${id}">`)}`
    : html`<input type="hidden" name="scope" value="filter">${[...new URLSearchParams(targets.query)].map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}`;
}

function targetText(targets: Targets): Html {
  if (targets.kind === 'filter') return html`every device matching ${targets.description}`;
  if (targets.ids.length === 1) return html`${deviceLink(targets.ids[0]!)}`;
  return html`${targets.ids.length} selected devices`;
}

export function sendPage(viewer: Viewer, targets: Targets, definition: CommandDefinition | undefined, sent: FormBody | undefined, problems: Html | null): Html {
  const noTargets = targets.kind === 'ids' && targets.ids.length === 0;
  const body = html`${problems ?? ''}
${viewer.principal.role === 'viewer' ? notice('error', 'Your role (viewer) can look, not send: the API will refuse a command from you.') : ''}
<p>To: ${noTargets ? html`<span class="bad">no device chosen</span> (<a href="/ui/devices">choose on the devices page</a>)` : targetText(targets)}</p>
${requestTypePicker(definition?.requestType ?? '', targetFields(targets))}
${definition && !noTargets ? html`<form method="post" action="/ui/send" class="send">
${csrfField(viewer)}${targetFields(targets)}
<input type="hidden" name="request_type" value="${definition.requestType}">
${isDestructive(definition.requestType) ? notice('error', html`${definition.requestType} is destructive: you will be asked to confirm with the number of devices.`) : ''}
${commandFields(definition, sent)}
<div class="field"><label class="choice"><input type="checkbox" name="push" value="1" checked> Push now, so devices fetch it at once</label></div>
<button type="submit">Send ${definition.requestType}</button>
</form>` : ''}`;
  return page('Send a command', body, viewer, '/ui/devices');
}

export function confirmPage(viewer: Viewer, targets: Targets, requestType: string, count: number, body: FormBody): Html {
  const markup = html`${notice('error', html`<strong>${requestType}</strong> will be sent to <strong>${count} device${count === 1 ? '' : 's'}</strong> (${targetText(targets)}). This cannot be undone.`)}
<form method="post" action="/ui/send">
${csrfField(viewer)}${targetFields(targets)}
<input type="hidden" name="request_type" value="${requestType}">
<input type="hidden" name="confirm" value="${count}">
${body.push ? html`<input type="hidden" name="push" value="1">` : ''}
${hiddenCommandFields(body)}
<button type="submit" class="danger">Yes, send ${requestType} to ${count} device${count === 1 ? '' : 's'}</button>
<a href="/ui/devices">Cancel</a>
</form>`;
  return page(`Confirm ${requestType}`, markup, viewer, '/ui/devices');
}

export function sentPage(viewer: Viewer, answer: Record<string, unknown>): Html {
  const uuid = str(answer.command_uuid);
  const targets = Object.entries((answer.targets as Record<string, Record<string, unknown>>) ?? {});
  const body = html`${notice('ok', html`${str(answer.request_type)} queued as <a href="/ui/commands/${encodeURIComponent(uuid)}">${uuid}</a>.`)}
<div class="scroll"><table><caption>Per device</caption><thead><tr><th scope="col">Enrollment</th><th scope="col">Outcome</th><th scope="col">Push</th></tr></thead><tbody>
${targets.map(([id, t]) => {
  const push = t.push as Record<string, unknown> | undefined;
  return html`<tr><td>${deviceLink(id)}</td><td>${stateBadge(str(t.status))} ${str(t.reason)}</td><td>${push ? `${str(push.status)} ${str(push.reason)}` : ''}</td></tr>`;
})}
</tbody></table></div>
${answer.push_error ? notice('error', `Push: ${str(answer.push_error)}`) : ''}
<p><a href="/ui/commands/${encodeURIComponent(uuid)}">Watch its results</a></p>`;
  return page('Command sent', body, viewer, '/ui/commands');
}

/** The API's refusal of a command: each key path on its own line, or each target's reason. */
export function apiProblems(error: { message: string; details?: unknown } | null): Html {
  if (error === null) return html``;
  const details = error.details;
  if (Array.isArray(details)) {
    return notice('error', html`The command was refused:<ul>${details.map((i) => {
      const issue = i as { path?: string; message?: string };
      return html`<li><code>${issue.path ?? ''}</code>: ${issue.message ?? ''}</li>`;
    })}</ul>`);
  }
  if (details && typeof details === 'object') {
    return notice('error', html`${error.message}:<ul>${Object.entries(details as Record<string, { status?: string; reason?: string }>).map(
      ([id, t]) => html`<li>${deviceLink(id)}: ${t.status ?? ''} ${t.reason ?? ''}</li>`,
    )}</ul>`);
  }
  return notice('error', error.message);
}
