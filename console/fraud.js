// Fraud operations pages of the console: Incidents, Providers, Cases. The DOM and API helpers
// come from console.js (ui); everything from the API goes in as text, never as HTML.

function statusLine(ui) {
  return ui.h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
}

async function act(ui, status, button, fn, done) {
  button.disabled = true;
  status.className = 'status';
  status.textContent = 'Working…';
  try {
    await fn();
    await done();
  } catch (e) {
    button.disabled = false;
    status.textContent = e.message;
    status.className = 'status error';
  }
}

function amounts(totals) {
  const entries = Object.entries(totals ?? {});
  if (!entries.length) return '¥0';
  return entries.map(([cur, n]) => (cur === 'JPY' ? `¥${Number(n).toLocaleString('en-US')}` : `${cur} ${Number(n).toLocaleString('en-US')}`)).join(' + ');
}

/** A provider-control request form: one operator asks, another (an approver) approves on the Providers page. */
function controlForm(ui, providerId, action, label, status, done, extra) {
  const reason = ui.h('input', { name: 'reason', required: true, minlength: 3, maxlength: 500, autocomplete: 'off', placeholder: 'Why (incident id, regulator request)', 'aria-label': `Reason to ${label.toLowerCase()}` });
  const hours = extra ? ui.h('input', { name: 'holdHours', type: 'number', min: 1, max: 2160, value: 168, 'aria-label': 'Hold hours after each link was created' }) : undefined;
  return ui.h(
    'form',
    {
      class: 'inline',
      'data-control': action,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const button = ev.currentTarget.querySelector('button');
        await act(
          ui,
          status,
          button,
          () => ui.api(`/ops/providers/${encodeURIComponent(providerId)}/requests`, { method: 'POST', body: { action, reason: reason.value.trim(), ...(hours ? { holdHours: Number(hours.value) } : {}) } }),
          () => done(`${label} requested for ${providerId}: a second operator (approver) must approve it on the Providers page.`),
        );
      },
    },
    reason,
    hours ?? '',
    ui.h('button', { type: 'submit' }, label),
  );
}

// ---------------------------------------------------------------------------------------------
// Incidents.

export async function incidentsPage(main, ui, incidentId) {
  main.replaceChildren(ui.h('h1', {}, 'Incidents'));
  const status = statusLine(ui);
  const rerender = async (msg) => {
    await incidentsPage(main, ui, incidentId);
    if (msg) main.querySelector('.status').textContent = msg;
  };
  try {
    if (!incidentId) {
      const { incidents } = await ui.api('/ops/incidents');
      main.append(
        ui.h('p', {}, 'An incident opens when a detection rule fires across accounts; later hits join it. Open one to act on its accounts and links.'),
        ui.table(
          'Incidents',
          ['Opened', 'Rule', 'Key', 'Accounts', 'Links', 'State'],
          incidents.map((i) => [ui.timeEl(i.openedAt), ui.h('a', { href: `#/incidents/${encodeURIComponent(i.incidentId)}`, 'data-incident': i.incidentId }, i.rule), ui.h('code', {}, i.key), String(i.accounts), String(i.links), ui.badge(i.state)]),
        ),
        status,
      );
      return;
    }
    const { incident, members } = await ui.api(`/ops/incidents/${encodeURIComponent(incidentId)}`);
    main.append(
      ui.h('p', {}, ui.h('a', { href: '#/incidents' }, '← All incidents')),
      ui.h('h2', {}, `${incident.rule} · `, ui.h('code', {}, incident.key)),
      ui.h('p', {}, 'Opened ', ui.timeEl(incident.openedAt), ` · ${incident.accounts} account(s), ${incident.links} link(s) · `, ui.badge(incident.state)),
    );
    for (const providerId of incident.providerIds ?? []) {
      main.append(ui.h('section', { class: 'card' }, ui.h('h3', {}, `Provider ${providerId}`), controlForm(ui, providerId, 'SUSPEND', 'Suspend this provider', status, rerender)));
    }
    const base = `/ops/incidents/${encodeURIComponent(incidentId)}/accounts`;
    main.append(
      ui.table(
        'Accounts and links in this incident',
        ['Account', 'Link', 'Joined', 'Actions'],
        members.map((m) => [
          ui.h('a', { href: `#/accounts/${encodeURIComponent(m.accountId)}` }, m.accountId),
          m.linkId ?? '—',
          ui.timeEl(m.joinedAt),
          ui.h(
            'span',
            { class: 'actions' },
            ui.h('button', { type: 'button', 'data-action': 'freeze', 'data-account': m.accountId, onclick: (ev) => act(ui, status, ev.currentTarget, () => ui.api(`${base}/${encodeURIComponent(m.accountId)}/freeze`, { method: 'POST', body: {} }), () => rerender(`Account ${m.accountId} frozen.`)) }, 'Freeze account'),
            m.linkId
              ? ui.h(
                  'button',
                  { type: 'button', 'data-action': 'revoke', 'data-link': m.linkId, onclick: (ev) => act(ui, status, ev.currentTarget, () => ui.api(`${base}/${encodeURIComponent(m.accountId)}/links/${encodeURIComponent(m.linkId)}/revoke`, { method: 'POST', body: {} }), () => rerender(`Link ${m.linkId} revoked.`)) },
                  'Revoke link',
                )
              : '',
          ),
        ]),
      ),
      status,
    );
  } catch (e) {
    ui.showError(main, e);
  }
}

// ---------------------------------------------------------------------------------------------
// Providers.

export async function providersPage(main, ui) {
  main.replaceChildren(ui.h('h1', {}, 'Providers'));
  const status = statusLine(ui);
  const rerender = async (msg) => {
    await providersPage(main, ui);
    if (msg) main.querySelector('.status').textContent = msg;
  };
  try {
    const { providers } = await ui.api('/ops/providers');
    main.append(ui.h('p', {}, 'Every control needs two people: one operator asks, a different operator in the approvers group approves.'), status);
    for (const p of providers) {
      const pending = p.pending.map((r) =>
        ui.h(
          'div',
          { class: 'card', 'data-request-id': r.requestId },
          ui.h('p', {}, ui.h('strong', {}, r.action), ` asked by ${r.requestedBy} at ${ui.jst(r.requestedAt)}: ${r.reason}`),
          r.requestedBy === ui.currentOperator() ? ui.h('p', { class: 'muted' }, 'You asked for this: another operator must approve it.') : '',
          ui.h(
            'button',
            {
              type: 'button',
              'data-action': 'approve-control',
              onclick: (ev) =>
                act(ui, status, ev.currentTarget, () => ui.api(`/ops/providers/${encodeURIComponent(p.providerId)}/requests/${encodeURIComponent(r.requestId)}/approve`, { method: 'POST', body: {} }), () => rerender(`${r.action} approved for ${p.providerId}.`)),
            },
            `Approve ${r.action}`,
          ),
        ),
      );
      main.append(
        ui.h(
          'section',
          { class: 'card', 'data-provider': p.providerId },
          ui.h('h2', {}, p.providerName ? `${p.providerName} (${p.providerId})` : p.providerId),
          ui.h('p', {}, 'New links: ', ui.badge(p.control.suspended ? 'SUSPENDED' : 'ALLOWED'), p.control.suspendedAt && p.control.suspended ? ` since ${ui.jst(p.control.suspendedAt)}` : ''),
          p.control.suspended ? controlForm(ui, p.providerId, 'RESUME', 'Resume new links', status, rerender) : controlForm(ui, p.providerId, 'SUSPEND', 'Suspend new links', status, rerender),
          controlForm(ui, p.providerId, 'EXTEND_HOLD', 'Extend pending holds', status, rerender, true),
          controlForm(ui, p.providerId, 'REVOKE_UNCONFIRMED', 'Revoke unconfirmed links', status, rerender),
          ...pending,
          p.recent.length
            ? ui.table('Recent requests', ['Asked', 'Action', 'By', 'Approved by', 'Status', 'Links changed'], p.recent.map((r) => [ui.timeEl(r.requestedAt), r.action, r.requestedBy, r.approvedBy ?? '—', ui.badge(r.status), r.changed === undefined ? '—' : `${r.changed}/${r.seen ?? 0}`]))
            : '',
        ),
      );
    }
    if (!providers.length) main.append(ui.h('p', { class: 'muted' }, 'No provider seen yet.'));
  } catch (e) {
    ui.showError(main, e);
  }
}

// ---------------------------------------------------------------------------------------------
// Cases.

export async function casesPage(main, ui) {
  main.replaceChildren(ui.h('h1', {}, 'Reimbursement cases'));
  const status = statusLine(ui);
  const rerender = async (msg) => {
    await casesPage(main, ui);
    if (msg) main.querySelector('.status').textContent = msg;
  };
  try {
    const { summary, cases } = await ui.api('/ops/cases');
    main.append(
      ui.h(
        'dl',
        { class: 'summary', id: 'cases-summary' },
        ui.h('dt', {}, 'Total owed (open and reviewed)'),
        ui.h('dd', { id: 'total-owed' }, amounts(summary.totalOwed)),
        ui.h('dt', {}, 'Oldest unpaid'),
        ui.h('dd', { id: 'oldest-unpaid' }, summary.oldestUnpaid ? `${summary.oldestUnpaid.caseId}, ${summary.oldestUnpaid.ageDays} day(s)` : 'none'),
        ui.h('dt', {}, 'Open / reviewed / repaid / rejected'),
        ui.h('dd', {}, `${summary.open} / ${summary.reviewed} / ${summary.repaid} / ${summary.rejected}`),
      ),
      ui.h(
        'p',
        {},
        ui.h(
          'button',
          {
            type: 'button',
            id: 'cases-csv',
            onclick: async () => {
              const r = await ui.api('/ops/cases.csv', { raw: true });
              const url = URL.createObjectURL(await r.blob());
              const a = ui.h('a', { href: url, download: 'reimbursement-cases.csv' });
              document.body.append(a);
              a.click();
              a.remove();
              URL.revokeObjectURL(url);
            },
          },
          'Export CSV for accounting',
        ),
      ),
      status,
    );
    const base = (c) => `/ops/cases/${encodeURIComponent(c.accountId)}/${encodeURIComponent(c.linkId)}`;
    const step = (c, verb, field, label, placeholder) => {
      const input = ui.h('input', { name: field, required: true, minlength: 3, maxlength: 500, autocomplete: 'off', placeholder, 'aria-label': `${label}: ${field}` });
      return ui.h(
        'form',
        {
          class: 'inline',
          'data-case-action': verb,
          onsubmit: async (ev) => {
            ev.preventDefault();
            await act(ui, status, ev.currentTarget.querySelector('button'), () => ui.api(`${base(c)}/${verb}`, { method: 'POST', body: { [field]: input.value.trim() } }), () => rerender(`Case ${c.caseId}: ${label.toLowerCase()} done.`));
          },
        },
        input,
        ui.h('button', { type: 'submit' }, label),
      );
    };
    main.append(
      ui.table(
        'Cases',
        ['Opened', 'Account', 'Provider', 'Owed', 'Debits', 'Alert sent / delivered / page opened', 'Acted on', 'State', 'Next step'],
        cases.map((c) => [
          ui.timeEl(c.openedAt),
          ui.h('a', { href: `#/accounts/${encodeURIComponent(c.accountId)}` }, c.accountId),
          c.providerName ?? c.providerId,
          amounts(c.totals),
          String(c.debitCount),
          // "page opened": a browser showed the alert's page and ran its beacon (evidence, not proof it was read).
          [c.timeline?.sentAt, c.timeline?.deliveredAt, c.timeline?.openedAt].map((t) => (t ? ui.jst(t, true) : '—')).join(' / '),
          `${ui.jst(c.timeline?.actedAt, true)} (${c.timeline?.actedBy ?? ''})`,
          ui.h('span', { 'data-case': c.caseId }, ui.badge(c.state)),
          c.state === 'OPEN'
            ? ui.h('span', {}, step(c, 'review', 'note', 'Review', 'what was checked'), step(c, 'reject', 'reason', 'Reject', 'why'))
            : c.state === 'REVIEWED'
              ? ui.h('span', {}, c.reviewedBy === ui.currentOperator() ? ui.h('p', { class: 'muted' }, 'You reviewed it: another approver confirms the repayment.') : '', step(c, 'repay', 'paymentRef', 'Mark repaid', 'PAY-2026-000123'), step(c, 'reject', 'reason', 'Reject', 'why'))
              : '—',
        ]),
      ),
    );
  } catch (e) {
    ui.showError(main, e);
  }
}
