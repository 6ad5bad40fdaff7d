// /ui: the fleet at a glance.
import type { FleetSummary } from '../../../storage/fleet.ts';
import { html, type Html } from '../html.ts';
import { page, time, type Viewer } from '../layout.ts';
import { countsView } from '../views.ts';

export interface OverviewData {
  summary: FleetSummary;
  pushCert: { topic?: string; not_after?: string } | null;
  expiring: Record<string, unknown>[];
  failing: Record<string, unknown>[];
  now: number;
}

function countTable(id: string, caption: string, counts: Record<string, number>, link: (key: string) => string): Html {
  return html`<table class="counts" id="${id}"><caption>${caption}</caption><tbody>
${Object.entries(counts).map(([k, n]) => html`<tr><th scope="row"><a href="${link(k)}">${k}</a></th><td data-count="${k}">${n}</td></tr>`)}
</tbody></table>`;
}

const SEEN_LINK: Record<string, string> = { hour: 'hour', day: 'day', week: 'week', month: 'not-week', older: 'not-month' };

export function overviewPage(viewer: Viewer, data: OverviewData): Html {
  const s = data.summary;
  const days = data.pushCert?.not_after ? Math.floor((Date.parse(data.pushCert.not_after) - data.now) / 86_400_000) : null;
  const body = html`<div class="cards">
<section class="card" aria-labelledby="h-devices"><h2 id="h-devices">${s.devices} device${s.devices === 1 ? '' : 's'}</h2>
${countTable('by-platform', 'By platform', s.byPlatform, (k) => `/ui/devices?platform=${encodeURIComponent(k === 'unknown' ? '' : k)}`)}
${countTable('by-state', 'By state', s.byState, (k) => `/ui/devices?state=${encodeURIComponent(k)}`)}
${countTable('by-seen', 'Last seen', s.lastSeen, (k) => `/ui/devices?seen=${SEEN_LINK[k] ?? ''}`)}
</section>
<section class="card" aria-labelledby="h-push"><h2 id="h-push">Push</h2>
${data.pushCert === null ? html`<p class="bad">No push certificate: devices cannot be woken. Upload one with <code>aspen pushcert</code> or <code>PUT /v1/pushcert</code>.</p>`
  : html`<p>Topic <code>${data.pushCert.topic ?? ''}</code>, expires ${time(data.pushCert.not_after)}${days !== null ? html` <span class="${days < 30 ? 'bad' : 'muted'}">(${days} days)</span>` : ''}.</p>`}
<p>${s.push.tokenInvalid} channel(s) with a token APNs refused; ${s.push.lastPushFailed} whose last push failed.</p>
</section>
<section class="card" aria-labelledby="h-identities"><h2 id="h-identities">Identities expiring</h2>
${data.expiring.length === 0 ? html`<p class="muted">None within the renewal window.</p>` : html`<ul>${data.expiring.map((r) => html`<li><a href="/ui/devices/${encodeURIComponent(String(r.device_id ?? ''))}">${String(r.device_id ?? '')}</a> expires ${time(String((r.identity as { not_after?: string } | undefined)?.not_after ?? ''))} <span class="muted">renewal ${String(r.state ?? '')}</span></li>`)}</ul>`}
</section>
<section class="card" aria-labelledby="h-failing"><h2 id="h-failing">Commands failing</h2>
${data.failing.length === 0 ? html`<p class="muted">No command has a failed target.</p>` : html`<ul>${data.failing.map((c) => html`<li><a href="/ui/commands/${encodeURIComponent(String(c.command_uuid))}">${String(c.request_type)}</a> ${time(String(c.created_at))} ${countsView(c.targets as Record<string, number>)}</li>`)}</ul>`}
<p><a href="/ui/commands?state=error">All commands with errors</a></p>
</section>
</div>
<section aria-labelledby="h-live"><h2 id="h-live">Check-ins</h2>
<p class="muted" id="live-status">Devices that check in appear here while this page is open (and on the devices page).</p>
<ol class="live" id="live-feed" aria-live="polite" data-live-feed></ol>
</section>`;
  return page('Overview', body, viewer, '/ui');
}
