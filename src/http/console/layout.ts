// The page shell every console page shares: navigation, the logout form, the stylesheet and the
// script, and the headers that go with it (a strict Content-Security-Policy: scripts and styles
// only from /ui/assets, no inline script, no style attributes).
import type { FastifyReply } from 'fastify';
import type { Principal } from '../../service/access.ts';
import { html, type Html } from './html.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Who is looking, and the token their forms carry. */
export interface Viewer {
  principal: Principal;
  csrfToken: string;
}

const NAV: { href: string; label: string; admin?: boolean }[] = [
  { href: '/ui', label: 'Overview' },
  { href: '/ui/devices', label: 'Devices' },
  { href: '/ui/commands', label: 'Commands' },
  { href: '/ui/enrollment', label: 'Enrollment' },
  { href: '/ui/webhooks', label: 'Webhooks' },
  { href: '/ui/accounts', label: 'Accounts', admin: true },
  { href: '/ui/audit', label: 'Audit', admin: true },
];

export function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-store');
}

/** The hidden field every form that changes something carries. */
export function csrfField(viewer: Pick<Viewer, 'csrfToken'>): Html {
  return html`<input type="hidden" name="_csrf" value="${viewer.csrfToken}">`;
}

export function page(title: string, body: Html, viewer: Viewer | null, current = ''): Html {
  const nav = viewer
    ? html`<header class="top">
  <a class="skip" href="#main">Skip to content</a>
  <nav aria-label="Main"><ul>${NAV.filter((n) => !n.admin || viewer.principal.role === 'admin').map(
    (n) => html`<li><a href="${n.href}"${n.href === current ? html` aria-current="page"` : ''}>${n.label}</a></li>`,
  )}</ul></nav>
  <form method="post" action="/ui/logout" class="logout">${csrfField(viewer)}<span class="who">${viewer.principal.actor} (${viewer.principal.role})</span> <button type="submit">Log out</button></form>
</header>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Aspen</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/console.css">
<script src="/ui/assets/console.js" defer></script>
</head>
<body>
${nav}
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}

export function sendPage(reply: FastifyReply, markup: Html, status = 200): FastifyReply {
  return securityHeaders(reply).code(status).type('text/html; charset=utf-8').send(markup.text);
}

/** A notice at the top of a page: what an action came to. */
export function notice(kind: 'ok' | 'error', text: Html | string): Html {
  return html`<p class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>`;
}

export function time(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}
