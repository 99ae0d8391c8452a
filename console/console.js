// The operations console: a build-free single page (ES module, no external resources) over the
// authenticated operations API (/ops/...). Locally the API authenticates with the dev-login
// session cookie; in AWS with a Cognito access token (PKCE login, see auth below).
import { stackedBarChart, sparkline } from './charts.js';
import { casesPage, incidentsPage, providersPage } from './fraud.js';

// ---------------------------------------------------------------------------------------------
// Small DOM helpers: everything from the API goes in as text, never as HTML.

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const jstFormat = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const jstShort = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
function jst(iso, short = false) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${(short ? jstShort : jstFormat).format(d)} JST`;
}
function timeEl(iso) {
  return h('time', { datetime: iso }, jst(iso));
}
function badge(value, prefix = 'state') {
  return h('span', { class: `badge ${prefix}-${value}` }, value);
}
function table(caption, columns, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data' },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((cell) => h('td', {}, cell)))) : h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'None'))),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Auth and the API.

let config = { apiBase: '', auth: 'session' };
const TOKEN_KEY = 'ops_access_token';

async function loadConfig() {
  try {
    const r = await fetch('config.json', { cache: 'no-store' });
    if (r.ok) config = { ...config, ...(await r.json()) };
  } catch {
    // no config.json: local mode, same-origin API with the dev-login cookie
  }
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Cognito hosted UI, authorization code with PKCE (no client secret in the browser). */
async function cognitoLogin() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({ response_type: 'code', client_id: config.clientId, redirect_uri: config.redirectUri, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state });
  location.assign(`${config.cognitoDomain}/oauth2/authorize?${q}`);
}

async function completeCognitoLogin() {
  const q = new URLSearchParams(location.search);
  const code = q.get('code');
  if (!code) return;
  const saved = JSON.parse(sessionStorage.getItem('pkce') ?? '{}');
  sessionStorage.removeItem('pkce');
  history.replaceState(null, '', location.pathname + location.hash);
  if (!saved.verifier || saved.state !== q.get('state')) return;
  const r = await fetch(`${config.cognitoDomain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, code, redirect_uri: config.redirectUri, code_verifier: saved.verifier }),
  });
  if (r.ok) sessionStorage.setItem(TOKEN_KEY, (await r.json()).access_token);
}

class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function api(path, opts = {}) {
  const headers = { accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`${config.apiBase}${path}`, {
    method: opts.method ?? 'GET',
    headers,
    credentials: 'same-origin',
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  if (opts.raw) {
    if (!r.ok) throw new ApiError(r.status, await errorText(r));
    return r;
  }
  const text = await r.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!r.ok) throw new ApiError(r.status, (body && (body.message || body.error)) || `HTTP ${r.status}`, body);
  return body;
}

async function errorText(r) {
  try {
    const b = await r.json();
    return b.message || b.error || `HTTP ${r.status}`;
  } catch {
    return `HTTP ${r.status}`;
  }
}

function loginPrompt() {
  sessionStorage.removeItem(TOKEN_KEY); // expired or revoked: sign in again
  const main = document.getElementById('main');
  const next = encodeURIComponent(`/console/${location.hash}`);
  main.replaceChildren(
    h('h1', {}, 'Sign in'),
    h('p', {}, 'The operations console is for bank operators.'),
    config.auth === 'cognito'
      ? h('p', {}, h('button', { type: 'button', onclick: () => cognitoLogin() }, 'Sign in'))
      : h('p', {}, h('a', { href: `/dev-login?next=${next}`, class: 'button', id: 'login-link' }, 'Sign in (local dev login)')),
  );
}

function showError(container, e) {
  if (e instanceof ApiError && e.status === 401) return loginPrompt();
  container.append(h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e)));
}

// ---------------------------------------------------------------------------------------------
// Overview.

const KIND_LABELS = { LinkCreated: 'Link created', AppActivated: 'App activated', WithdrawalPosted: 'Withdrawal', ContactChanged: 'Contact changed' };

function sumSeries(series, pred, length) {
  const out = new Array(length).fill(0);
  for (const [name, values] of Object.entries(series)) if (pred(name)) values.forEach((v, i) => (out[i] += v));
  return out;
}

async function overviewPage(main, params) {
  const range = ['hour', 'day', 'week'].includes(params.get('range')) ? params.get('range') : 'day';
  const heading = h('h1', {}, 'Overview');
  const picker = h(
    'div',
    { class: 'seg', role: 'group', 'aria-label': 'Time range' },
    ['hour', 'day', 'week'].map((r) => h('button', { type: 'button', 'aria-pressed': String(r === range), onclick: () => (location.hash = `#/overview?range=${r}`) }, `Last ${r}`)),
  );
  const body = h('div', { id: 'overview-body', 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  main.replaceChildren(heading, picker, body);
  let m;
  try {
    m = await api(`/ops/overview?range=${range}`);
  } catch (e) {
    body.replaceChildren();
    return showError(body, e);
  }
  const s = m.summary;
  const n = m.buckets.length;
  const labels = m.buckets.map((b) => jst(b, true));
  const tiles = h(
    'ul',
    { class: 'tiles', 'aria-label': `Totals over the last ${range}` },
    [
      ['Alerts sent', s.alertsSent, 'alerts-sent'],
      ['by email', s.alertsByChannel.EMAIL, 'alerts-email'],
      ['by SMS', s.alertsByChannel.SMS, 'alerts-sms'],
      ['Freezes', s.freezes, 'freezes'],
      ['Links revoked', s.revokes, 'revokes'],
      ['Debits held', s.holds, 'holds'],
      ['Undelivered alerts', s.undelivered, 'undelivered'],
      ['Unfreezes', s.unfreezes, 'unfreezes'],
    ].map(([l, v, id]) => h('li', { class: 'tile', 'data-metric': id }, h('span', { class: 'n' }, String(v)), h('span', { class: 'l' }, l))),
  );
  const charts = h(
    'div',
    { class: 'charts' },
    stackedBarChart({
      title: 'Alerts sent',
      labels,
      series: [
        { name: 'Email', values: sumSeries(m.series, (k) => k.startsWith('alert:') && k.endsWith('|EMAIL'), n), cls: 'email' },
        { name: 'SMS', values: sumSeries(m.series, (k) => k.startsWith('alert:') && k.endsWith('|SMS'), n), cls: 'sms' },
      ],
    }),
    stackedBarChart({
      title: 'Protective actions',
      labels,
      series: [
        { name: 'Freezes', values: sumSeries(m.series, (k) => k.startsWith('freeze|'), n), cls: 'freeze' },
        { name: 'Revokes', values: sumSeries(m.series, (k) => k.startsWith('revoke|'), n), cls: 'revoke' },
        { name: '"It was me"', values: sumSeries(m.series, (k) => k.startsWith('confirm|'), n), cls: 'confirm' },
      ],
    }),
    stackedBarChart({
      title: 'Holds and undelivered alerts',
      labels,
      series: [
        { name: 'Debits held', values: sumSeries(m.series, (k) => k.startsWith('hold|'), n), cls: 'hold' },
        { name: 'Undelivered', values: sumSeries(m.series, (k) => k.startsWith('undelivered|'), n), cls: 'undelivered' },
      ],
    }),
  );
  const kinds = new Map();
  for (const [name, total] of Object.entries(m.totals)) {
    const mm = /^alert:([^|]+)\|(.+)$/.exec(name);
    if (!mm) continue;
    const row = kinds.get(mm[1]) ?? { EMAIL: 0, SMS: 0 };
    row[mm[2]] = (row[mm[2]] ?? 0) + total;
    kinds.set(mm[1], row);
  }
  const byKind = table(
    'Alerts sent by kind and channel',
    ['Kind', 'Email', 'SMS'],
    [...kinds.entries()].map(([k, v]) => [KIND_LABELS[k] ?? k, String(v.EMAIL ?? 0), String(v.SMS ?? 0)]),
  );
  body.replaceChildren(tiles, charts, h('h2', {}, 'Alerts sent by kind and channel'), byKind, h('p', { class: 'muted' }, `Each bar is ${m.bucketSeconds >= 3600 ? `${m.bucketSeconds / 3600} hour${m.bucketSeconds === 3600 ? '' : 's'}` : `${m.bucketSeconds / 60} minute${m.bucketSeconds === 60 ? '' : 's'}`}; times in JST.`));
}

// ---------------------------------------------------------------------------------------------
// Campaigns.

const rateHistory = new Map(); // campaignId -> [{ t, done }]
const armedCancels = new Set(); // campaign ids whose Cancel was clicked once

function campaignList(body) {
  if (Array.isArray(body)) return body;
  return body?.campaigns ?? body?.items ?? [];
}

function campaignCard(c, refresh) {
  const camp = c.campaign ?? c;
  const counters = c.counters ?? camp.counters ?? {};
  const id = camp.campaignId;
  const done = (counters.sent ?? 0) + (counters.failed ?? 0) + (counters.suppressed ?? 0) + (counters.skipped ?? 0);
  const total = Math.max(counters.planned ?? 0, camp.audienceEstimate ?? 0, done, 1);
  const hist = rateHistory.get(id) ?? [];
  const now = Date.now();
  if (!hist.length || hist[hist.length - 1].done !== done || now - hist[hist.length - 1].t > 5000) hist.push({ t: now, done });
  while (hist.length > 60) hist.shift();
  rateHistory.set(id, hist);
  const points = hist.slice(1).map((p, i) => ({ t: p.t, v: ((p.done - hist[i].done) * 1000) / Math.max(1, p.t - hist[i].t) }));
  const status = h('p', { class: 'status', 'aria-live': 'polite' });
  const act = (verb) => async (ev) => {
    const button = ev.currentTarget;
    button.disabled = true;
    status.textContent = `${verb}…`;
    try {
      await api(`/ops/campaigns/${encodeURIComponent(id)}/${verb}`, { method: 'POST', body: {} });
      status.textContent = `${verb} requested`;
      status.className = 'status ok';
      await refresh();
    } catch (e) {
      status.textContent = e.message;
      status.className = 'status error';
    }
  };
  const state = camp.state;
  const actions = h(
    'div',
    { class: 'actions' },
    state === 'RUNNING' && h('button', { type: 'button', class: 'secondary', 'data-action': 'pause', onclick: act('pause') }, 'Pause'),
    state === 'PAUSED' && h('button', { type: 'button', 'data-action': 'resume', onclick: act('resume') }, 'Resume'),
    (state === 'RUNNING' || state === 'PAUSED' || state === 'DRAFT') &&
      h('button', {
        type: 'button',
        class: 'danger',
        'data-action': 'cancel',
        'data-armed': armedCancels.has(id) ? 'true' : undefined,
        onclick: (ev) => {
          // Two clicks: the second confirms. Kept across the list's redraws, for 10 seconds.
          if (armedCancels.has(id)) {
            armedCancels.delete(id);
            return act('cancel')(ev);
          }
          armedCancels.add(id);
          setTimeout(() => armedCancels.delete(id), 10_000);
          ev.currentTarget.dataset.armed = 'true';
          ev.currentTarget.textContent = 'Confirm cancel';
        },
      }, armedCancels.has(id) ? 'Confirm cancel' : 'Cancel'),
  );
  const pct = Math.min(100, Math.round((done / total) * 100));
  return h(
    'article',
    { class: 'card campaign', 'data-campaign-id': id, 'data-state': state },
    h('div', { class: 'head' }, h('h2', {}, camp.name ?? id), badge(state, 'st'), h('span', { class: 'muted' }, id)),
    h('label', {}, `Progress: ${done} of ${total} (${pct}%)`, h('progress', { max: total, value: done })),
    h(
      'dl',
      { class: 'counters' },
      ['planned', 'sent', 'failed', 'suppressed', 'skipped'].map((k) => h('div', {}, h('dt', {}, k), h('dd', {}, String(counters[k] ?? 0)))),
    ),
    h('div', {}, h('span', { class: 'muted' }, `${rateText(camp, done, total, points)} `), sparkline({ title: 'Send rate', points, unit: 'per second' })),
    actions,
    status,
  );
}

/** Average rate since the start, the current one from the last polls, and the ETA while running. */
function rateText(camp, done, total, points) {
  const parts = [];
  const started = Date.parse(camp.startedAt ?? '');
  const ended = Date.parse(camp.finishedAt ?? '') || Date.now();
  if (started && done > 0) parts.push(`average ${(done / Math.max(1, (ended - started) / 1000)).toFixed(1)}/s`);
  const now = points.length ? points[points.length - 1].v : 0;
  if (camp.state === 'RUNNING') {
    parts.push(`now ${now.toFixed(1)}/s`);
    if (now > 0 && total > done) parts.push(`ETA ${Math.ceil((total - done) / now / 60)} min`);
    if (camp.window) parts.push(`sends ${camp.window.start}–${camp.window.end} JST`);
  }
  return `Send rate (recipients/s): ${parts.join(', ') || '—'}`;
}

let campaignTimer;
async function campaignsPage(main) {
  const list = h('div', { id: 'campaign-list', 'aria-busy': 'true' }, h('p', {}, 'Loading…'));
  main.replaceChildren(h('h1', {}, 'Campaigns'), list);
  const refresh = async () => {
    let body;
    try {
      body = await api('/ops/campaigns');
    } catch (e) {
      list.replaceChildren();
      return showError(list, e);
    }
    let items = campaignList(body);
    // A list without counters: ask each campaign for its status (few campaigns run at once).
    items = await Promise.all(
      items.map(async (c) => (c.counters ? c : api(`/ops/campaigns/${encodeURIComponent((c.campaign ?? c).campaignId)}`).catch(() => c))),
    );
    items.sort((x, y) => String((y.campaign ?? y).createdAt ?? '').localeCompare(String((x.campaign ?? x).createdAt ?? '')));
    list.replaceChildren(...(items.length ? items.map((c) => campaignCard(c, refresh)) : [h('p', { class: 'muted' }, 'No campaigns yet. Create one with npm run campaign -- create.')]));
    list.setAttribute('aria-busy', 'false');
  };
  await refresh();
  campaignTimer = setInterval(() => {
    if (document.activeElement?.closest?.('#campaign-list')) return; // don't redraw under the operator's focus
    refresh();
  }, 3000);
}

// ---------------------------------------------------------------------------------------------
// Account view and unfreeze.

function deliveryCell(delivery) {
  if (!delivery?.length) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'legend' }, delivery.map((d) => h('li', {}, `${d.channel}${d.role && d.role !== 'PROFILE' ? ` (${d.role.toLowerCase()} contact)` : ''} `, badge(d.status, 'st'), d.reason ? h('span', { class: 'muted' }, ` ${d.reason}`) : '')));
}

function auditItem(a) {
  const who = a.actor === 'OPERATOR' ? `operator ${a.operatorId ?? '?'}${a.approverId ? `, approved by ${a.approverId}` : ''}` : a.actor.replace('CUSTOMER_', 'customer via ').replace('_', ' ').toLowerCase();
  return h(
    'li',
    { 'data-action': a.action },
    timeEl(a.at),
    h('strong', {}, a.action),
    ` ${a.target}: ${a.oldState} → ${a.newState} `,
    h('span', { class: 'muted' }, `(${who}${a.alertId ? `, alert ${a.alertId}` : ''}${a.tokenRef ? `, token ${a.tokenRef}` : ''}${a.verificationRef ? `, verification ${a.verificationRef}` : ''})`),
  );
}

function unfreezeSection(v, rerender) {
  const id = v.account.accountId;
  const status = h('p', { class: 'status', role: 'status' });
  const pending = (v.unfreezeRequests ?? []).filter((r) => (r.status ?? r.state ?? 'PENDING') === 'PENDING');
  const parts = [h('h2', { id: 'unfreeze-h' }, 'Unfreeze')];
  if (v.account.state !== 'FROZEN' && !pending.length) {
    parts.push(h('p', { class: 'muted' }, 'The account is not frozen.'));
    return h('section', { class: 'card', 'aria-labelledby': 'unfreeze-h' }, ...parts);
  }
  if (!pending.length) {
    const ref = h('input', { name: 'verificationRef', id: 'verification-ref', required: true, minlength: 3, maxlength: 128, autocomplete: 'off', placeholder: 'IDV-2026-000123' });
    parts.push(
      h('p', {}, 'Unfreezing needs an identity verification reference and the approval of a second operator.'),
      h(
        'form',
        {
          class: 'inline',
          id: 'unfreeze-request-form',
          onsubmit: async (ev) => {
            ev.preventDefault();
            status.textContent = 'Requesting…';
            try {
              await api(`/ops/accounts/${encodeURIComponent(id)}/unfreeze-requests`, { method: 'POST', body: { verificationRef: ref.value.trim() } });
              await rerender('Unfreeze requested: a second operator must approve it.');
            } catch (e) {
              status.textContent = e.message;
              status.className = 'status error';
            }
          },
        },
        h('label', { for: 'verification-ref' }, 'Identity verification reference', ref),
        h('button', { type: 'submit' }, 'Request unfreeze'),
      ),
    );
  }
  for (const r of pending) {
    const rid = r.requestId ?? r.id;
    parts.push(
      h(
        'div',
        { class: 'card', 'data-request-id': rid },
        h('p', {}, `Request ${rid} by operator `, h('strong', {}, r.requestedBy ?? r.operatorId ?? '?'), ` at ${jst(r.requestedAt ?? r.createdAt)}; verification `, h('code', {}, r.verificationRef ?? '?')),
        r.requestedBy === currentOperator || r.operatorId === currentOperator
          ? h('p', { class: 'muted' }, 'You made this request: another operator must approve it.')
          : '',
        h(
          'button',
          {
            type: 'button',
            'data-action': 'approve-unfreeze',
            onclick: async (ev) => {
              const button = ev.currentTarget; // currentTarget is null once the handler awaits
              button.disabled = true;
              status.className = 'status';
              status.textContent = 'Approving…';
              try {
                await api(`/ops/accounts/${encodeURIComponent(id)}/unfreeze-requests/${encodeURIComponent(rid)}/approve`, { method: 'POST', body: {} });
                await rerender('Unfreeze approved: the account is active again.');
              } catch (e) {
                button.disabled = false;
                status.textContent = e.message;
                status.className = 'status error';
              }
            },
          },
          'Approve unfreeze',
        ),
      ),
    );
  }
  return h('section', { class: 'card', 'aria-labelledby': 'unfreeze-h' }, ...parts, status);
}

async function accountsPage(main, accountId) {
  const input = h('input', { id: 'account-id', name: 'accountId', required: true, value: accountId ?? '', autocomplete: 'off', spellcheck: 'false' });
  const form = h(
    'form',
    {
      class: 'inline',
      role: 'search',
      onsubmit: (ev) => {
        ev.preventDefault();
        if (input.value.trim()) location.hash = `#/accounts/${encodeURIComponent(input.value.trim())}`;
      },
    },
    h('label', { for: 'account-id' }, 'Account id', input),
    h('button', { type: 'submit' }, 'Open'),
  );
  const view = h('div', { id: 'account-view', 'aria-live': 'polite' });
  main.replaceChildren(h('h1', {}, accountId ? `Account ${accountId}` : 'Accounts'), form, view);
  if (!accountId) return;
  const render = async (notice) => {
    let v;
    try {
      v = await api(`/ops/accounts/${encodeURIComponent(accountId)}`);
    } catch (e) {
      view.replaceChildren();
      return showError(view, e);
    }
    const c = v.customer ?? {};
    view.replaceChildren(
      notice ? h('p', { class: 'ok', role: 'status' }, notice) : '',
      h(
        'section',
        { class: 'card', 'aria-label': 'Account' },
        h('p', {}, 'State: ', h('span', { id: 'account-state' }, badge(v.account.state)), `  ·  account …${v.account.last4}  ·  customer ${c.customerId ?? '?'}`),
        h('p', {}, `Email: ${c.email ?? '—'}${c.suppressedEmail ? ' (suppressed)' : ''}  ·  Phone: ${c.phone ?? '—'}${c.suppressedPhone ? ' (suppressed)' : ''}  ·  Locale: ${c.locale ?? '—'}`),
      ),
      unfreezeSection(v, render),
      h('h2', {}, 'Links'),
      table(
        'Links',
        ['Provider', 'Type', 'State', 'Counts as', 'Created', 'Hold until'],
        v.links.map((l) => [`${l.providerName} (${l.linkId})`, l.linkType, badge(l.state), badge(l.effectiveState), timeEl(l.createdAt), timeEl(l.holdUntil)]),
      ),
      passkeysSection(accountId, render),
      h('h2', {}, 'Alerts'),
      table('Alerts', ['Time', 'Kind', 'Alert', 'Delivery'], v.alerts.map((a) => [timeEl(a.createdAt), KIND_LABELS[a.kind] ?? a.kind, a.alertId, deliveryCell(a.delivery)])),
      h('h2', { id: 'audit-h' }, 'Audit timeline'),
      v.audit.length ? h('ol', { class: 'timeline', id: 'audit-timeline', 'aria-labelledby': 'audit-h' }, v.audit.map(auditItem)) : h('p', { class: 'muted' }, 'No changes yet.'),
    );
  };
  await render();
}

/**
 * The account holder's passkeys ("it was me" without a code): listed, and removable when the
 * customer lost the device or asks (the removal is audited on this account).
 */
function passkeysSection(accountId, rerender) {
  const box = h('section', { id: 'passkeys', 'aria-labelledby': 'passkeys-h' }, h('h2', { id: 'passkeys-h' }, 'Passkeys'), h('p', { class: 'muted' }, 'Loading…'));
  const base = `/ops/accounts/${encodeURIComponent(accountId)}/passkeys`;
  api(base).then(
    (v) => {
      const rows = v.passkeys.map((p) => [
        h('code', {}, `${p.credentialId.slice(0, 12)}…`),
        timeEl(p.createdAt),
        p.lastUsedAt ? timeEl(p.lastUsedAt) : '—',
        p.registeredFromAlert,
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            'aria-label': `Remove passkey ${p.credentialId.slice(0, 12)}`,
            onclick: async (ev) => {
              ev.target.disabled = true;
              try {
                await api(`${base}/${encodeURIComponent(p.credentialId)}/remove`, { method: 'POST', body: {} });
                await rerender('Passkey removed: the customer confirms with a code again.');
              } catch (e) {
                ev.target.disabled = false;
                showError(box, e);
              }
            },
          },
          'Remove',
        ),
      ]);
      box.replaceChildren(
        h('h2', { id: 'passkeys-h' }, 'Passkeys'),
        rows.length ? table('Passkeys', ['Credential', 'Registered', 'Last used', 'From alert', ''], rows) : h('p', { class: 'muted' }, 'No passkey: "it was me" needs a code.'),
      );
    },
    (e) => {
      box.replaceChildren(h('h2', { id: 'passkeys-h' }, 'Passkeys'));
      showError(box, e);
    },
  );
  return box;
}

// ---------------------------------------------------------------------------------------------
// Audit export: follows the API's page cursor and joins the pages into one file.

async function auditPage(main) {
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
  const from = h('input', { type: 'date', id: 'export-from', required: true, value: weekAgo });
  const to = h('input', { type: 'date', id: 'export-to', required: true, value: today });
  const format = h('select', { id: 'export-format' }, h('option', { value: 'csv' }, 'CSV'), h('option', { value: 'jsonl' }, 'JSON lines'));
  const status = h('p', { class: 'status', role: 'status', id: 'export-status' });
  const preview = h('pre', { id: 'export-preview', class: 'card', hidden: true });
  const form = h(
    'form',
    {
      class: 'inline',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const button = form.querySelector('button');
        button.disabled = true;
        status.className = 'status';
        status.textContent = 'Exporting…';
        const parts = [];
        let cursor;
        let pages = 0;
        try {
          do {
            const q = new URLSearchParams({ from: from.value, to: to.value, format: format.value, ...(cursor ? { cursor } : {}) });
            const r = await api(`/ops/audit/export?${q}`, { raw: true });
            parts.push(await r.text());
            cursor = r.headers.get('x-next-cursor') ?? undefined;
            pages++;
            status.textContent = `Exporting… ${pages} page(s)`;
          } while (cursor);
          const text = parts.join('');
          const lines = text.split('\n').filter((l) => l.trim());
          const rows = format.value === 'csv' ? Math.max(0, lines.length - 1) : lines.length;
          const blob = new Blob([text], { type: format.value === 'csv' ? 'text/csv' : 'application/x-ndjson' });
          const a = h('a', { href: URL.createObjectURL(blob), download: `audit-${from.value}-${to.value}.${format.value}` });
          document.body.append(a);
          a.click();
          a.remove();
          status.textContent = `Exported ${rows} entries (${pages} page${pages === 1 ? '' : 's'}).`;
          status.className = 'status ok';
          status.dataset.rows = String(rows);
          preview.textContent = lines.slice(0, 6).join('\n');
          preview.hidden = false;
        } catch (e) {
          if (e instanceof ApiError && e.status === 401) return loginPrompt();
          status.textContent = e.message;
          status.className = 'status error';
        } finally {
          button.disabled = false;
        }
      },
    },
    h('label', { for: 'export-from' }, 'From (UTC day)', from),
    h('label', { for: 'export-to' }, 'To (UTC day, inclusive)', to),
    h('label', { for: 'export-format' }, 'Format', format),
    h('button', { type: 'submit' }, 'Export'),
  );
  main.replaceChildren(
    h('h1', {}, 'Audit export'),
    h('p', {}, 'Every state change (freezes, revokes, confirmations, unfreezes) with who, when, from which alert, old and new state — for compensation reviews.'),
    form,
    status,
    preview,
  );
}

// ---------------------------------------------------------------------------------------------
// Router.

let currentOperator;
// What the fraud-operations pages (fraud.js) use of this module.
const fraudUi = { h, api, jst, timeEl, badge, table, showError, currentOperator: () => currentOperator };

async function route() {
  clearInterval(campaignTimer);
  delete document.body.dataset.ready; // set again once this view has its data (tests wait for it)
  const main = document.getElementById('main');
  const [path, query] = (location.hash.replace(/^#/, '') || '/overview').split('?');
  const params = new URLSearchParams(query ?? '');
  const segs = path.split('/').filter(Boolean);
  const section = segs[0] ?? 'overview';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${section[0].toUpperCase()}${section.slice(1)} — operations console`;
  if (section === 'campaigns') await campaignsPage(main);
  else if (section === 'accounts') await accountsPage(main, segs[1] ? decodeURIComponent(segs[1]) : undefined);
  else if (section === 'audit') await auditPage(main);
  else if (section === 'incidents') await incidentsPage(main, fraudUi, segs[1] ? decodeURIComponent(segs[1]) : undefined);
  else if (section === 'providers') await providersPage(main, fraudUi);
  else if (section === 'cases') await casesPage(main, fraudUi);
  else await overviewPage(main, params);
  document.body.dataset.ready = section;
}

async function start() {
  await loadConfig();
  if (config.auth === 'cognito') await completeCognitoLogin();
  try {
    const me = await api('/ops/whoami');
    currentOperator = me.operatorId;
    const who = document.getElementById('who');
    who.replaceChildren(`Signed in as ${me.operatorId}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return loginPrompt();
  }
  window.addEventListener('hashchange', () => route());
  await route();
}

start();
