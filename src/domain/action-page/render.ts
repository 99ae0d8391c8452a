/**
 * The action pages as HTML: mobile-first, no JavaScript, no external fonts, images or scripts,
 * a few KB. One inline stylesheet, allowed by its hash in the Content-Security-Policy; the
 * language switch is a plain link (?lang=ja|en). Every value shown is escaped.
 */
import { createHash } from 'node:crypto';
import type { Locale } from '../../../events/core.ts';
import type { AccountRecord, LinkRecord } from '../../store/types.ts';
import type { TokenAction } from '../tokens.ts';
import { effectiveLinkState } from '../account.ts';
import { messages, type Messages, type PageProblem } from './messages.ts';
import { formatAmount, formatJst, maskAccount, type OfferedAction, type WhatHappened } from './flow.ts';

export interface HtmlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const CSS = [
  '*{box-sizing:border-box}',
  'html{-webkit-text-size-adjust:100%}',
  'body{margin:0;font-family:system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",Meiryo,sans-serif;font-size:1rem;line-height:1.6;color:#1b1b1b;background:#f4f5f7}',
  'header{background:#0b3a66;color:#fff;padding:.75rem 1rem;display:flex;justify-content:space-between;align-items:center;gap:1rem}',
  'header p{margin:0;font-weight:700}',
  'header a{color:#fff}',
  'main{max-width:34rem;margin:0 auto;padding:1rem}',
  'h1{font-size:1.35rem;line-height:1.3;margin:.5rem 0 1rem}',
  'h2{font-size:1.1rem;margin:1.5rem 0 .5rem}',
  '.card{background:#fff;border:1px solid #c9ced6;border-radius:.5rem;padding:1rem;margin:0 0 1rem}',
  '.card h2{margin:0}.card p{margin:0}.card p+p{margin-top:.5rem}',
  'dl{margin:.5rem 0 0;display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem}',
  'dt{color:#4a4a4a}dd{margin:0;overflow-wrap:anywhere}',
  'form{margin:0 0 1rem}',
  'button{display:block;width:100%;min-height:3rem;padding:.75rem 1rem;font:inherit;font-weight:700;border-radius:.5rem;border:2px solid transparent;cursor:pointer}',
  'button:focus-visible,a:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}',
  '.freeze{background:#a3001b;color:#fff}',
  '.revoke{background:#0b4f8a;color:#fff}',
  '.confirm{background:#fff;color:#0b4f8a;border-color:#0b4f8a}',
  '.explain{margin:.35rem 0 0;font-size:.9rem;color:#4a4a4a}',
  '.status{border-left:.3rem solid #0b4f8a;padding-left:.75rem}',
  '.ok{border-left-color:#1e7b34}',
  '.warn{border-left-color:#a3001b}',
  'footer{max-width:34rem;margin:0 auto;padding:0 1rem 2rem;font-size:.9rem;color:#4a4a4a}',
  'a{color:#0b4f8a}',
].join('');

const STYLE_HASH = createHash('sha256').update(CSS, 'utf8').digest('base64');

/** Security headers on every action page (success or failure). */
export function pageHeaders(locale: Locale): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-language': locale,
    // Nothing may load; only our one stylesheet (by hash) applies, and forms post only to us.
    'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-robots-tag': 'noindex, nofollow',
  };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(locale: Locale, title: string, content: string): string {
  const m = messages[locale];
  const other: Locale = locale === 'ja' ? 'en' : 'ja';
  return `<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} | ${escapeHtml(m.bank)}</title>
<style>${CSS}</style>
</head>
<body>
<header><p>${escapeHtml(m.bank)}</p><nav aria-label="${escapeHtml(m.languageNav)}"><a href="?lang=${other}" lang="${other}" hreflang="${other}">${escapeHtml(m.switchTo)}</a></nav></header>
<main>
${content}
</main>
<footer><p>${escapeHtml(m.neverAsk)}</p><p>${escapeHtml(m.help)}</p></footer>
</body>
</html>
`;
}

const providerOf = (link: LinkRecord | undefined, fallback: string) => link?.providerName ?? fallback;

function summary(m: Messages, locale: Locale, what: WhatHappened, account: AccountRecord | undefined): string {
  const masked = maskAccount(account?.last4 ?? what.last4);
  const acct = m.account(masked);
  const provider = what.provider ?? '';
  let sentence: string;
  switch (what.kind) {
    case 'LINK_CREATED':
      sentence = m.happened.LINK_CREATED(provider || '?', acct);
      break;
    case 'WITHDRAWAL':
      sentence = what.amount !== undefined ? m.happened.WITHDRAWAL(formatAmount(what.amount, what.currency, locale), acct, what.provider) : m.happened.UNKNOWN(acct);
      break;
    case 'APP_ACTIVATED':
      sentence = m.happened.APP_ACTIVATED(what.app ?? what.provider ?? '?', acct);
      break;
    case 'CONTACT_CHANGED':
      sentence = m.happened.CONTACT_CHANGED();
      break;
    default:
      sentence = m.happened.UNKNOWN(acct);
  }
  const rows: string[] = [];
  if (what.occurredAt) rows.push(`<dt>${escapeHtml(m.when)}</dt><dd>${escapeHtml(formatJst(what.occurredAt, locale))}</dd>`);
  if (what.provider) rows.push(`<dt>${escapeHtml(m.provider)}</dt><dd>${escapeHtml(what.provider)}</dd>`);
  if (what.kind === 'WITHDRAWAL' && what.amount !== undefined) {
    rows.push(`<dt>${escapeHtml(m.amount)}</dt><dd>${escapeHtml(formatAmount(what.amount, what.currency, locale))}</dd>`);
  }
  if (what.counterparty) rows.push(`<dt>${escapeHtml(m.counterparty)}</dt><dd>${escapeHtml(what.counterparty)}</dd>`);
  if (what.device) rows.push(`<dt>${escapeHtml(m.device)}</dt><dd>${escapeHtml(what.device)}</dd>`);
  if (what.location) rows.push(`<dt>${escapeHtml(m.location)}</dt><dd>${escapeHtml(what.location)}</dd>`);
  return `<section class="card" aria-labelledby="what"><h2 id="what">${escapeHtml(sentence)}</h2>${rows.length ? `<dl>${rows.join('')}</dl>` : ''}</section>`;
}

function stateLines(m: Messages, locale: Locale, account: AccountRecord | undefined, links: readonly LinkRecord[], now: Date): string[] {
  const lines: string[] = [];
  if (account?.state === 'FROZEN') lines.push(m.state.frozen);
  for (const l of links) {
    const s = effectiveLinkState(l, now);
    if (s === 'REVOKED') lines.push(m.state.linkRevoked(l.providerName));
    else if (s === 'PENDING') lines.push(m.state.linkPending(l.providerName, formatJst(l.holdUntil, locale)));
    else lines.push(m.state.linkActive(l.providerName));
  }
  return lines;
}

function statusBlock(lines: string[], tone: 'ok' | 'warn' | 'info' = 'info'): string {
  if (lines.length === 0) return '';
  const cls = tone === 'info' ? 'status' : `status ${tone}`;
  return `<div class="card ${cls}" role="status">${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</div>`;
}

/** One form per action: the button is its label; the hidden fields identify the action and the page. */
function actionForm(m: Messages, locale: Locale, token: string, a: { action: TokenAction; key: string; link?: LinkRecord }, check: string, index = 0): string {
  const kind = a.action.kind;
  const label = kind === 'FREEZE_ACCOUNT' ? m.buttons.FREEZE_ACCOUNT : kind === 'REVOKE_LINK' ? m.buttons.REVOKE_LINK(providerOf(a.link, '?')) : m.buttons.CONFIRM_LINK;
  const cls = kind === 'FREEZE_ACCOUNT' ? 'freeze' : kind === 'REVOKE_LINK' ? 'revoke' : 'confirm';
  const id = `explain-${index}`;
  return `<form method="post" action="${escapeHtml(token)}?lang=${locale}">
<input type="hidden" name="action" value="${escapeHtml(a.key)}">
<input type="hidden" name="check" value="${escapeHtml(check)}">
<button type="submit" class="${cls}" aria-describedby="${id}">${escapeHtml(label)}</button>
<p class="explain" id="${id}">${escapeHtml(m.explain[kind])}</p>
</form>`;
}

export interface ActionPageInput {
  locale: Locale;
  token: string;
  what: WhatHappened;
  account: AccountRecord | undefined;
  links: readonly LinkRecord[];
  offered: readonly OfferedAction[];
  checkFor: (key: string) => string;
  now: Date;
}

/** GET /a/{token}: what happened, the state now, and one button per action still possible. */
export function renderActionPage(p: ActionPageInput): HtmlResponse {
  const m = messages[p.locale];
  const available = p.offered.filter((o) => o.available);
  const forms = available.map((o, i) => actionForm(m, p.locale, p.token, o, p.checkFor(o.key), i)).join('\n');
  const body = [
    `<h1>${escapeHtml(m.title)}</h1>`,
    summary(m, p.locale, p.what, p.account),
    statusBlock(stateLines(m, p.locale, p.account, p.links, p.now)),
    available.length
      ? `<section aria-labelledby="act"><h2 id="act">${escapeHtml(m.actionsHeading)}</h2><p>${escapeHtml(m.ask)}${p.locale === 'ja' ? '' : ' '}${escapeHtml(m.nothingUntilPress)}</p>\n${forms}</section>`
      : `<p>${escapeHtml(m.nothingLeft)}</p>`,
  ].join('\n');
  return { statusCode: 200, headers: pageHeaders(p.locale), body: layout(p.locale, m.title, body) };
}

export interface DonePageInput {
  locale: Locale;
  token: string;
  action: TokenAction;
  link?: LinkRecord | undefined;
  account: AccountRecord | undefined;
  /** After "not me": the freeze, when the alert offered it and it is still possible. */
  offerFreeze?: { key: string; check: string } | undefined;
}

/** After a POST that did (or had already done) the action. */
export function renderDonePage(p: DonePageInput): HtmlResponse {
  const m = messages[p.locale];
  const provider = providerOf(p.link, '?');
  const kind = p.action.kind;
  const title = kind === 'FREEZE_ACCOUNT' ? m.done.FREEZE_ACCOUNT : kind === 'REVOKE_LINK' ? m.done.REVOKE_LINK(provider) : m.done.CONFIRM_LINK(provider);
  const parts = [`<h1>${escapeHtml(title)}</h1>`];
  if (kind === 'FREEZE_ACCOUNT') parts.push(statusBlock([m.afterFreeze], 'ok'));
  else if (p.account?.state === 'FROZEN') parts.push(statusBlock([m.state.frozen], 'ok'));
  if (p.offerFreeze) {
    parts.push(
      `<section aria-labelledby="more"><h2 id="more">${escapeHtml(m.offerFreeze)}</h2>\n${actionForm(
        m,
        p.locale,
        p.token,
        { action: { kind: 'FREEZE_ACCOUNT' }, key: p.offerFreeze.key },
        p.offerFreeze.check,
      )}</section>`,
    );
  }
  return { statusCode: 200, headers: pageHeaders(p.locale), body: layout(p.locale, title, parts.join('\n')) };
}

const PROBLEM_STATUS: Record<PageProblem, number> = {
  INVALID: 404,
  EXPIRED: 410,
  ALREADY_USED: 409,
  NOT_AVAILABLE: 409,
  NOT_OFFERED: 403,
  BAD_FORM: 400,
  NOT_FOUND: 404,
  TRY_AGAIN: 503,
  ERROR: 500,
};

export interface ProblemPageInput {
  locale: Locale;
  problem: PageProblem;
  /** The current state, when we know whose account it is (e.g. "this account is frozen"). */
  account?: AccountRecord | undefined;
  links?: readonly LinkRecord[];
  now?: Date;
  /** Offer a way back to the page (GET) when the token itself is fine. */
  backToPage?: boolean;
}

/** Every failure: a clear page in the customer's language with the right status, never a stack trace. */
export function renderProblemPage(p: ProblemPageInput): HtmlResponse {
  const m = messages[p.locale];
  const text = m.problems[p.problem];
  const parts = [`<h1>${escapeHtml(text.title)}</h1>`, `<p>${escapeHtml(text.body)}</p>`];
  if (p.account || p.links?.length) parts.push(statusBlock(stateLines(m, p.locale, p.account, p.links ?? [], p.now ?? new Date())));
  if (p.backToPage) parts.push(`<p><a href="?lang=${p.locale}">${escapeHtml(m.backToPage)}</a></p>`);
  const headers = pageHeaders(p.locale);
  if (p.problem === 'TRY_AGAIN') headers['retry-after'] = '5';
  return { statusCode: PROBLEM_STATUS[p.problem], headers, body: layout(p.locale, text.title, parts.join('\n')) };
}
