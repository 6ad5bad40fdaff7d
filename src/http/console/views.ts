// Pieces of pages that several pages show: tables of values, a command result as JSON and as the
// plist the device sent, an ErrorChain explained, per-state counts, pagers.
import { encodePlist, type PlistValue } from '../../protocol/plist.ts';
import { html, type Html } from './html.ts';
import { time } from './layout.ts';

/** A two-column table of a JSON object's scalar facts (nested values as JSON). */
export function factsTable(caption: string, facts: Record<string, unknown> | null | undefined): Html {
  if (!facts || Object.keys(facts).length === 0) return html`<p class="muted">${caption}: none yet.</p>`;
  return html`<div class="scroll"><table class="facts"><caption>${caption}</caption><tbody>
${Object.entries(facts).map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${typeof v === 'object' && v !== null ? html`<code>${JSON.stringify(v)}</code>` : String(v)}</td></tr>`)}
</tbody></table></div>`;
}

/** What a result looks like as the plist a device sends (dates and data as the JSON spells them). */
function asPlist(value: unknown): string {
  try {
    return encodePlist(value as PlistValue);
  } catch {
    return '(cannot be shown as a plist)';
  }
}

export function resultView(result: unknown): Html {
  if (result === null || result === undefined) return html`<span class="muted">no result yet</span>`;
  return html`<details class="result"><summary>Result</summary>
<div class="tabs"><section><h4>JSON</h4><pre class="code">${JSON.stringify(result, null, 2)}</pre></section>
<section><h4>plist</h4><pre class="code">${asPlist(result)}</pre></section></div></details>`;
}

/** What well-known ErrorDomains mean, so an admin can act on an ErrorChain without looking it up. */
const DOMAINS: Record<string, string> = {
  MCMDMErrorDomain: 'the MDM client refused the command (its keys or the device state)',
  MCProfileErrorDomain: 'the profile could not be read or is not allowed',
  MCInstallationErrorDomain: 'installing the profile failed on the device',
  MCPayloadErrorDomain: 'a payload inside the profile is malformed or not supported',
  MCRestrictionsErrorDomain: 'a restriction prevents it',
  MDMClientErrorDomain: 'the MDM client could not carry it out',
  ASErrorDomain: 'App Store / app installation failed',
  NSPOSIXErrorDomain: 'an operating-system error',
  NSCocoaErrorDomain: 'a framework error on the device',
};

export function errorChainView(chain: unknown[] | null | undefined): Html {
  if (!chain || chain.length === 0) return html``;
  return html`<ol class="error-chain" aria-label="ErrorChain, outermost first">${chain.map((entry) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const domain = String(e.ErrorDomain ?? 'unknown domain');
    const description = String(e.USEnglishDescription ?? e.LocalizedDescription ?? '');
    return html`<li><strong>${domain}</strong> code ${String(e.ErrorCode ?? '?')}${description ? html`: ${description}` : ''}${DOMAINS[domain] ? html` <span class="muted">(${DOMAINS[domain]})</span>` : ''}</li>`;
  })}</ol>`;
}

export function stateBadge(state: string): Html {
  return html`<span class="badge state-${state}">${state}</span>`;
}

export function countsView(counts: Record<string, number>): Html {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  if (entries.length === 0) return html`<span class="muted">no targets</span>`;
  return html`${entries.map(([state, n]) => html`${stateBadge(state)} ${n} `)}`;
}

export function pager(next: string | null, base: string): Html {
  return next === null ? html`` : html`<p class="pager"><a href="${base}${base.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(next)}" rel="next">Next page</a></p>`;
}

export function deviceLink(id: string, label?: string | null): Html {
  return html`<a href="/ui/devices/${encodeURIComponent(id)}">${label || id}</a>`;
}

export { time };
