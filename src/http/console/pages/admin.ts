// Enrollment invites (with the profile link and a QR code of it), webhooks with their deliveries,
// the audit log, and the login page.
import { uqr } from '../../../on-first-use.ts';
import { html, trusted, type Html } from '../html.ts';
import { csrfField, notice, page, time, type Viewer } from '../layout.ts';
import { deviceLink, pager, stateBadge } from '../views.ts';

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

export function loginPage(csrf: string, problem: string | null, name = ''): Html {
  const body = html`${problem ? notice('error', problem) : ''}
<form method="post" action="/ui/login" class="login">
<input type="hidden" name="_csrf" value="${csrf}">
<div class="field"><label for="name">Account</label><input id="name" name="name" autocomplete="username" required value="${name}" autofocus></div>
<div class="field"><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
<button type="submit">Log in</button>
</form>`;
  return page('Log in to Aspen', body, null);
}

/** A QR code of `text` as inline SVG (presentation attributes only: no style the CSP would refuse). */
export function qrCode(text: string, label: string): Html {
  return html`<figure class="qr" role="img" aria-label="${label}">${trusted(uqr.renderSVG(text, { border: 2 }))}<figcaption>${label}</figcaption></figure>`;
}

export function invitesPage(viewer: Viewer, invites: Record<string, unknown>[], next: string | null, created: Record<string, unknown> | null, problem: string | null): Html {
  const canCreate = viewer.principal.role !== 'viewer';
  const body = html`${problem ? notice('error', problem) : ''}
${created ? html`<section class="created" aria-labelledby="h-created"><h2 id="h-created">Invite created</h2>
${notice('ok', 'Shown once: copy the link or scan the code on the device now.')}
<p>Profile download: <a href="${str(created.url)}">${str(created.url)}</a></p>
${qrCode(str(created.url), `QR code of the enrollment link for ${str(created.label) || 'this invite'}`)}
<p>Expires ${time(str(created.expires_at))}, ${str(created.max_uses)} use(s).</p></section>` : ''}
${canCreate ? html`<form method="post" action="/ui/enrollment" class="invite">${csrfField(viewer)}
<fieldset><legend>New invite</legend>
<div class="field"><label for="label">Label</label><input id="label" name="label" maxlength="200" aria-describedby="label-hint"><small id="label-hint">who or what it is for</small></div>
<div class="field"><label for="max_uses">Uses</label><input id="max_uses" name="max_uses" type="number" min="1" max="100000" value="1"></div>
<div class="field"><label for="days">Valid for (days)</label><input id="days" name="days" type="number" min="1" max="366" value="7"></div>
<button type="submit">Create invite</button></fieldset></form>` : ''}
<div class="scroll"><table><caption>Invites, newest first</caption><thead><tr><th scope="col">Label</th><th scope="col">State</th><th scope="col">Uses</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Revoke</span></th></tr></thead><tbody>
${invites.map((i) => html`<tr><td>${str(i.label) || html`<span class="muted">${str(i.id)}</span>`}</td><td>${stateBadge(str(i.state))}</td><td>${str(i.uses)} / ${str(i.max_uses)}</td><td>${time(str(i.expires_at))}</td>
<td>${canCreate && i.state === 'active' ? html`<form method="post" action="/ui/enrollment/${encodeURIComponent(str(i.id))}/revoke">${csrfField(viewer)}<button type="submit" aria-label="Revoke invite ${str(i.label) || str(i.id)}">Revoke</button></form>` : ''}</td></tr>`)}
</tbody></table></div>
${pager(next, '/ui/enrollment')}`;
  return page('Enrollment', body, viewer, '/ui/enrollment');
}

export function webhooksPage(viewer: Viewer, endpoints: Record<string, unknown>[]): Html {
  const body = html`${endpoints.length === 0 ? html`<p class="muted">No webhook endpoints. Add one with <code>aspen webhooks add</code> or <code>POST /v1/webhooks</code>.</p>` : ''}
<div class="scroll"><table><caption>Endpoints</caption><thead><tr><th scope="col">URL</th><th scope="col">Format</th><th scope="col">Topics</th><th scope="col">Enabled</th></tr></thead><tbody>
${endpoints.map((e) => html`<tr><td><a href="/ui/webhooks/${encodeURIComponent(str(e.id))}">${str(e.url)}</a></td><td>${str(e.format)}</td><td>${Array.isArray(e.topics) ? e.topics.join(', ') : 'all'}</td><td>${e.enabled ? 'yes' : html`<span class="bad">no</span> ${str(e.disabled_reason)}`}</td></tr>`)}
</tbody></table></div>`;
  return page('Webhooks', body, viewer, '/ui/webhooks');
}

export function deliveriesPage(viewer: Viewer, endpointId: string, deliveries: Record<string, unknown>[], next: string | null): Html {
  const body = html`<p>Endpoint <code>${endpointId}</code></p>
<div class="scroll"><table><caption>Deliveries, newest first</caption><thead><tr><th scope="col">Event</th><th scope="col">Device</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last answer</th></tr></thead><tbody>
${deliveries.map((d) => html`<tr><td>${str(d.topic)} ${time(str(d.created_at))}</td><td>${d.chain ? deviceLink(str(d.chain)) : ''}</td><td>${stateBadge(str(d.state))}</td><td>${str(d.attempts)}</td><td>${str(d.last_status)} ${str(d.last_error)}</td></tr>`)}
</tbody></table></div>
${pager(next, `/ui/webhooks/${encodeURIComponent(endpointId)}`)}`;
  return page('Webhook deliveries', body, viewer, '/ui/webhooks');
}

export function auditPage(viewer: Viewer, filter: Record<string, string>, entries: Record<string, unknown>[], next: string | null, problem: string | null): Html {
  const qs = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== '')).toString();
  const body = html`<form method="get" action="/ui/audit" class="filters">
<div class="field"><label for="actor">Who</label><input id="actor" name="actor" value="${filter.actor ?? ''}"></div>
<div class="field"><label for="action">Action</label><input id="action" name="action" value="${filter.action ?? ''}"></div>
<div class="field"><label for="target">Target</label><input id="target" name="target" value="${filter.target ?? ''}"></div>
<button type="submit">Filter</button></form>
${problem ? notice('error', problem) : ''}
<div class="scroll"><table class="audit"><caption>Every change, newest first</caption><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Targets</th><th scope="col">Outcome</th></tr></thead><tbody>
${entries.map((e) => html`<tr><td>${time(str(e.at))}</td><td>${str(e.actor)} <small class="muted">${str(e.via)}</small></td><td><code>${str(e.action)}</code> <small class="muted">${str(e.method)} ${str(e.path)}</small></td>
<td>${((e.targets as { kind: string; id: string }[] | undefined) ?? []).map((t) => html`<span class="target">${t.kind} <code>${t.id}</code></span> `)}</td><td>${stateBadge(str(e.outcome))} ${str(e.status)}</td></tr>`)}
</tbody></table></div>
${pager(next, `/ui/audit${qs ? `?${qs}` : ''}`)}`;
  return page('Audit log', body, viewer, '/ui/audit');
}

const ROLES = ['viewer', 'operator', 'admin'] as const;

export function accountsPage(viewer: Viewer, accounts: Record<string, unknown>[], message: Html | null): Html {
  const body = html`${message ?? ''}
<form method="post" action="/ui/accounts" class="invite">${csrfField(viewer)}
<fieldset><legend>New account</legend>
<div class="field"><label for="new-name">Name</label><input id="new-name" name="name" required maxlength="64" autocomplete="off"></div>
<div class="field"><label for="new-role">Role</label><select id="new-role" name="role">${ROLES.map((r) => html`<option value="${r}">${r}</option>`)}</select></div>
<div class="field"><label for="new-password">Password</label><input id="new-password" name="password" type="password" required minlength="8" autocomplete="new-password" aria-describedby="new-password-hint"><small id="new-password-hint">8 to 1000 characters</small></div>
<button type="submit">Add account</button></fieldset></form>
<div class="scroll"><table><caption>Accounts</caption><thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Password changed</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead><tbody>
${accounts.map((a) => {
  const name = str(a.name);
  return html`<tr><td>${name}</td>
<td><form method="post" action="/ui/accounts/${encodeURIComponent(name)}/role" class="inline">${csrfField(viewer)}<label class="sr-only" for="role-${name}">Role of ${name}</label><select id="role-${name}" name="role">${ROLES.map((r) => html`<option value="${r}"${r === a.role ? html` selected` : ''}>${r}</option>`)}</select> <button type="submit">Change role</button></form></td>
<td>${time(str(a.password_changed_at))}</td>
<td>${name === viewer.principal.actor ? '' : html`<form method="post" action="/ui/accounts/${encodeURIComponent(name)}/remove">${csrfField(viewer)}<button type="submit" class="danger" aria-label="Remove account ${name}">Remove</button></form>`}</td></tr>`;
})}
</tbody></table></div>
<p class="muted">API tokens: <code>aspen tokens create NAME</code> or <code>POST /v1/tokens</code>.</p>`;
  return page('Accounts', body, viewer, '/ui/accounts');
}
