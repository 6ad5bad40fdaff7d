// /ui/devices (search, filter, page, select) and /ui/devices/{id} (facts, channels, queue with
// cancel, history with results, identities, DDM state).
import { ENROLLMENT_STATES, type Enrollment, type EnrollmentState } from '../../../storage/storage.ts';
import type { DeviceSearch } from '../../../storage/fleet.ts';
import { PLATFORMS } from '../../../protocol/commands/index.ts';
import { html, type Html } from '../html.ts';
import { csrfField, notice, page, time, type Viewer } from '../layout.ts';
import { deviceLink, errorChainView, factsTable, pager, resultView, stateBadge } from '../views.ts';

export const PAGE_SIZE = 50;

/** How long ago a device was last seen, as the filter offers it. */
export const SEEN_CHOICES: Record<string, { label: string; ms: number; within: boolean }> = {
  hour: { label: 'in the last hour', ms: 3_600_000, within: true },
  day: { label: 'in the last day', ms: 86_400_000, within: true },
  week: { label: 'in the last week', ms: 7 * 86_400_000, within: true },
  'not-day': { label: 'not for a day', ms: 86_400_000, within: false },
  'not-week': { label: 'not for a week', ms: 7 * 86_400_000, within: false },
  'not-month': { label: 'not for 30 days', ms: 30 * 86_400_000, within: false },
};

export interface DeviceFilter {
  q: string;
  platform: string;
  state: string;
  seen: string;
}

export function filterFrom(source: Record<string, unknown>): DeviceFilter {
  const get = (k: string) => (typeof source[k] === 'string' ? (source[k] as string) : '');
  return { q: get('q'), platform: get('platform'), state: get('state'), seen: get('seen') };
}

/** The store's search for a filter; unknown choices select nothing rather than everything. */
export function searchOf(filter: DeviceFilter, now: number): DeviceSearch | null {
  const search: DeviceSearch = {};
  if (filter.q.trim() !== '') search.text = filter.q.trim();
  if (filter.platform !== '') {
    if (!(PLATFORMS as readonly string[]).includes(filter.platform)) return null;
    search.platform = filter.platform;
  }
  if (filter.state !== '') {
    if (!(ENROLLMENT_STATES as readonly string[]).includes(filter.state)) return null;
    search.state = filter.state as EnrollmentState;
  }
  if (filter.seen !== '') {
    const choice = SEEN_CHOICES[filter.seen];
    if (choice === undefined) return null;
    const at = new Date(now - choice.ms).toISOString();
    if (choice.within) search.seenAfter = at;
    else search.seenBefore = at;
  }
  return search;
}

export function filterQuery(filter: DeviceFilter): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== '') params.set(k, v);
  return params.toString();
}

function select(id: string, label: string, value: string, options: [string, string][]): Html {
  return html`<div class="field"><label for="${id}">${label}</label><select id="${id}" name="${id}">
<option value="">any</option>${options.map(([v, l]) => html`<option value="${v}"${v === value ? html` selected` : ''}>${l}</option>`)}</select></div>`;
}

export function devicesPage(viewer: Viewer, filter: DeviceFilter, devices: Enrollment[] | null, next: string | null): Html {
  const qs = filterQuery(filter);
  const rows = devices ?? [];
  const body = html`<form method="get" action="/ui/devices" class="filters" role="search">
<div class="field"><label for="q">Serial, name or id</label><input id="q" name="q" type="search" value="${filter.q}"></div>
${select('platform', 'Platform', filter.platform, PLATFORMS.map((p) => [p, p]))}
${select('state', 'State', filter.state, ENROLLMENT_STATES.map((s) => [s, s]))}
${select('seen', 'Last seen', filter.seen, Object.entries(SEEN_CHOICES).map(([k, c]) => [k, c.label]))}
<button type="submit">Filter</button>
</form>
${devices === null ? notice('error', 'That filter names a platform, state or time the console does not know.') : ''}
<form method="get" action="/ui/send" class="selection">
<div class="scroll"><table class="devices" data-live-table>
<caption>${rows.length === 0 ? 'No devices match.' : `${rows.length}${next ? '+' : ''} device${rows.length === 1 ? '' : 's'}`}</caption>
<thead><tr><th scope="col"><span class="sr-only">Select</span></th><th scope="col">Device</th><th scope="col">Serial</th><th scope="col">Platform</th><th scope="col">State</th><th scope="col">Last seen</th><th scope="col">Last status</th></tr></thead>
<tbody>
${rows.map(
  (e) => html`<tr data-device-id="${e.id}">
<td><input type="checkbox" name="target" value="${e.id}" id="sel-${e.id}" aria-label="Select ${e.deviceName ?? e.id}"></td>
<td>${deviceLink(e.id, e.deviceName)}</td><td>${e.serialNumber ?? ''}</td><td>${e.platform ?? 'unknown'}</td><td>${stateBadge(e.state)}</td>
<td data-field="last-seen">${time(e.lastSeenAt)}</td><td data-field="last-status">${e.lastStatus}</td></tr>`,
)}
</tbody></table></div>
${rows.length > 0 ? html`<p class="actions"><button type="submit">Send a command to the selected devices</button>
<a class="button" href="/ui/send?${qs}${qs ? '&' : ''}scope=filter">Send a command to every device matching this filter</a></p>` : ''}
</form>
${pager(next, `/ui/devices${qs ? `?${qs}` : ''}`)}`;
  return page('Devices', body, viewer, '/ui/devices');
}

export interface DeviceView {
  device: Record<string, unknown>;
  queue: Record<string, unknown>[];
  history: Record<string, unknown>[];
  historyNext: string | null;
  declarations: Record<string, unknown> | null;
}

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

export function devicePage(viewer: Viewer, view: DeviceView, message: Html | null): Html {
  const d = view.device;
  const id = str(d.id);
  const canCancel = viewer.principal.role !== 'viewer';
  const identities = (d.identities as Record<string, unknown>[] | undefined) ?? [];
  const channels = (d.user_channels as string[] | undefined) ?? [];
  const ddm = view.declarations;
  const body = html`${message ?? ''}
<p class="actions"><a class="button" href="/ui/send?target=${encodeURIComponent(id)}">Send a command</a></p>
<div class="grid">
<section id="summary" data-refresh aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>
<dl class="summary" data-device-id="${id}">
<dt>Id</dt><dd><code>${id}</code></dd>
<dt>Name</dt><dd>${str(d.device_name) || html`<span class="muted">unknown until DeviceInformation</span>`}</dd>
<dt>Serial</dt><dd>${str(d.serial_number)}</dd>
<dt>Platform</dt><dd>${str(d.platform) || 'unknown'} ${str(d.os_version)}</dd>
<dt>Model</dt><dd>${str(d.model)}</dd>
<dt>State</dt><dd>${stateBadge(str(d.state))}</dd>
<dt>Supervised</dt><dd>${str(d.supervised) || 'unknown'}</dd>
<dt>First seen</dt><dd>${time(str(d.first_seen_at))}</dd>
<dt>Last seen</dt><dd data-field="last-seen">${time(str(d.last_seen_at))}</dd>
<dt>Last status</dt><dd data-field="last-status">${str(d.last_status)}</dd>
<dt>Push</dt><dd>${d.push_token_invalid ? html`<span class="bad">token refused by APNs</span>` : str(d.last_push_result) || 'not pushed yet'} ${d.last_push_at ? time(str(d.last_push_at)) : ''}</dd>
<dt>Topic</dt><dd><code>${str(d.topic)}</code></dd>
</dl></section>
<section aria-labelledby="h-channels"><h2 id="h-channels">Channels</h2>
<ul><li>device channel <code>${id}</code></li>${channels.map((c) => html`<li>user channel ${deviceLink(c)}</li>`)}</ul>
<h2 id="h-identities">Bound identities</h2>
${identities.length === 0 ? html`<p class="muted">No certificate bound.</p>` : html`<ul class="identities">${identities.map((i) => html`<li>${str(i.subject)}, expires ${time(str(i.not_after))} <small><code>${str(i.fingerprint).slice(0, 16)}…</code></small></li>`)}</ul>`}
</section>
</div>
<section id="queue" data-refresh aria-labelledby="h-queue"><h2 id="h-queue">Queue</h2>
${view.queue.length === 0 ? html`<p class="muted" data-queue-empty>Nothing queued.</p>` : html`<div class="scroll"><table><thead><tr><th scope="col">Command</th><th scope="col">State</th><th scope="col">Queued</th><th scope="col">NotNow</th><th scope="col"><span class="sr-only">Cancel</span></th></tr></thead><tbody>
${view.queue.map((q) => html`<tr data-command="${str(q.command_uuid)}"><td><a href="/ui/commands/${encodeURIComponent(str(q.command_uuid))}">${str(q.request_type)}</a> <small><code>${str(q.command_uuid)}</code></small></td><td>${stateBadge(str(q.state))}</td><td>${time(str(q.queued_at))}</td><td>${str(q.notnow_count)}</td>
<td>${canCancel ? html`<form method="post" action="/ui/devices/${encodeURIComponent(id)}/queue/${encodeURIComponent(str(q.command_uuid))}/cancel">${csrfField(viewer)}<button type="submit" aria-label="Cancel ${str(q.request_type)} ${str(q.command_uuid)}">Cancel</button></form>` : ''}</td></tr>`)}
</tbody></table></div>`}
</section>
<section id="history" data-refresh aria-labelledby="h-history"><h2 id="h-history">Command history</h2>
${view.history.length === 0 ? html`<p class="muted">No commands yet.</p>` : html`<ul class="history">${view.history.map(
  (h) => html`<li data-command="${str(h.command_uuid)}"><a href="/ui/commands/${encodeURIComponent(str(h.command_uuid))}">${str(h.request_type)}</a> ${stateBadge(str(h.state))} ${time(str(h.updated_at))}
${errorChainView(h.error_chain as unknown[] | null)}${resultView(h.result)}</li>`,
)}</ul>`}
${pager(view.historyNext, `/ui/devices/${encodeURIComponent(id)}`)}
</section>
<section aria-labelledby="h-ddm"><h2 id="h-ddm">Declarative Device Management</h2>
${ddm === null ? html`<p class="muted">No DDM state.</p>` : ddmView(ddm)}
</section>
<div class="grid">
<section aria-labelledby="h-facts"><h2 id="h-facts">Facts from Authenticate</h2>${factsTable('Authenticate', d.facts as Record<string, unknown> | null)}</section>
<section aria-labelledby="h-inventory"><h2 id="h-inventory">Inventory</h2>${factsTable(`DeviceInformation${d.inventory_updated_at ? `, ${str(d.inventory_updated_at)}` : ''}`, d.inventory as Record<string, unknown> | null)}</section>
</div>`;
  return page(str(d.device_name) || str(d.serial_number) || id, body, viewer, '/ui/devices');
}

function ddmView(ddm: Record<string, unknown>): Html {
  const declarations = (ddm.declarations as Record<string, unknown>[] | undefined) ?? [];
  const sets = [...((ddm.sets as string[]) ?? []), ...((ddm.global_sets as string[]) ?? []).map((s) => `${s} (every enrollment)`)];
  return html`<p>Sets: ${sets.length ? sets.join(', ') : html`<span class="muted">none</span>`}. Last status report: ${time(str(ddm.last_status_report_at))}.</p>
${declarations.length === 0 ? html`<p class="muted">No declarations.</p>` : html`<div class="scroll"><table><thead><tr><th scope="col">Identifier</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Reported</th></tr></thead><tbody>
${declarations.map((x) => html`<tr><td><code>${str(x.identifier)}</code>${x.generated ? html` <small class="muted">generated</small>` : ''}</td><td>${str(x.type)}</td><td>${stateBadge(str(x.state))}</td><td>${x.reported ? html`<code>${JSON.stringify(x.reported)}</code>` : ''}</td></tr>`)}
</tbody></table></div>`}`;
}

