// Aspen console enhancements. Every page works without this script; with it:
// - choosing a RequestType shows its fields at once (the form is submitted for you);
// - check-ins stream in (server-sent events from /ui/live): device rows update, the overview's
//   feed grows, and a device's or command's page refreshes its live parts when its device speaks.
/* global document, location, fetch, DOMParser, HTMLSelectElement, CSS, EventSource */
'use strict';

document.addEventListener('change', (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute('data-autosubmit') && target.form) target.form.requestSubmit();
});

function text(el, value) {
  if (el) el.textContent = value;
}

function shortTime(iso) {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Replaces this page's live parts ([data-refresh] with an id) by their current version. */
let refreshing = null;
let again = false;
async function refreshParts() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = (async () => {
    do {
      again = false;
      const response = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      for (const part of document.querySelectorAll('[data-refresh][id]')) {
        const fresh = doc.getElementById(part.id);
        // Leave a part alone while someone is working in it (focus inside).
        if (fresh && !part.contains(document.activeElement)) part.replaceWith(document.importNode(fresh, true));
      }
    } while (again);
  })().finally(() => {
    refreshing = null;
  });
}

function onSeen(event) {
  const seen = JSON.parse(event.data);
  for (const row of document.querySelectorAll('tr[data-device-id]')) {
    if (row.getAttribute('data-device-id') !== seen.device_id) continue;
    text(row.querySelector('[data-field="last-seen"]'), shortTime(seen.last_seen_at));
    text(row.querySelector('[data-field="last-status"]'), seen.last_status);
    row.classList.add('fresh');
  }
  const feed = document.querySelector('[data-live-feed]');
  if (feed) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = '/ui/devices/' + encodeURIComponent(seen.device_id);
    link.textContent = seen.device_name || seen.serial_number || seen.id;
    item.append(link, ' ' + seen.last_status + ' at ' + shortTime(seen.last_seen_at) + (seen.channel === 'user' ? ' (user channel)' : ''));
    feed.prepend(item);
    while (feed.children.length > 50) feed.lastElementChild.remove();
  }
  const summary = document.querySelector('dl.summary[data-device-id]');
  const targets = document.querySelector('[data-targets]');
  const mine = summary && summary.getAttribute('data-device-id') === seen.device_id;
  const targeted = targets && targets.querySelector('tr[data-target="' + CSS.escape(seen.id) + '"]');
  if (mine || targeted) refreshParts();
}

if (document.querySelector('[data-live-feed], [data-live-table], dl.summary[data-device-id], [data-targets]')) {
  const source = new EventSource('/ui/live');
  source.addEventListener('seen', onSeen);
  source.addEventListener('open', () => document.documentElement.setAttribute('data-live', 'open'));
  const status = document.getElementById('live-status');
  source.addEventListener('error', () => text(status, 'Live updates paused: reconnecting…'));
}
