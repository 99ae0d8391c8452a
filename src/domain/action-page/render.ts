/**
 * The action pages as HTML: mobile-first, no external fonts, images or scripts, a few KB. One
 * inline stylesheet, allowed by its hash in the Content-Security-Policy; the language switch is a
 * plain link (?lang=ja|en). Every value shown is escaped. The step-up pages load one script (the
 * passkey buttons, same origin, /a/{token}/passkey.js); the page of GET /a/{token} carries the
 * "opened" beacon inline, allowed by its hash (src/domain/action-page/opened-script.ts).
 * Everything works without either.
 */
import { createHash } from 'node:crypto';
import type { Locale } from '../../../events/core.ts';
import type { AccountRecord, LinkRecord } from '../../store/types.ts';
import type { TokenAction } from '../tokens.ts';
import type { AppHold } from '../allowance.ts';
import { effectiveLinkState } from '../account.ts';
import { messages, type Messages, type PageProblem } from './messages.ts';
import { stepUpMessages } from './stepup-messages.ts';
import { formatAmount, formatJst, maskAccount, type OfferedAction, type WhatHappened } from './flow.ts';
import { OPENED_SCRIPT, OPENED_SCRIPT_HASH } from './opened-script.ts';

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
  'label{display:block;font-weight:700;margin:0 0 .25rem}',
  'input.code{display:block;width:100%;max-width:14rem;font:inherit;font-size:1.5rem;letter-spacing:.3em;padding:.5rem .75rem;border:2px solid #4a4a4a;border-radius:.5rem;margin:0 0 .75rem}',
  'input.code:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}',
  '.notice{border-left:.3rem solid #a3001b;background:#fff4f4;padding:.5rem .75rem;margin:0 0 1rem}',
  '.card ul{margin:.25rem 0 .5rem;padding-left:1.25rem}',
  '.card h3{font-size:1rem;margin:.75rem 0 .25rem}.card h3:first-child{margin-top:0}',
  '[hidden]{display:none!important}',
  'footer{max-width:34rem;margin:0 auto;padding:0 1rem 2rem;font-size:.9rem;color:#4a4a4a}',
  'a{color:#0b4f8a}',
].join('');

const STYLE_HASH = createHash('sha256').update(CSS, 'utf8').digest('base64');

/** Security headers on every action page (success or failure). */
export function pageHeaders(locale: Locale, opts: { script?: boolean; beacon?: boolean } = {}): Record<string, string> {
  // The step-up pages may run our own script (same origin, never inline) and call our own API;
  // the action page runs only its "opened" beacon (inline, this exact text by its hash).
  const sources = [...(opts.script ? ["'self'"] : []), ...(opts.beacon ? [`'sha256-${OPENED_SCRIPT_HASH}'`] : [])];
  const script = sources.length ? `; script-src ${sources.join(' ')}; connect-src 'self'` : '';
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-language': locale,
    // Nothing may load; only our one stylesheet (by hash) applies, and forms post only to us.
    'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'${script}`,
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

/**
 * `beacon`: the address (relative to the page) the "opened" beacon posts to; the script goes at
 * the end of the body, after everything it could be said to have shown.
 */
export function layout(locale: Locale, title: string, content: string, scriptSrc?: string, beacon?: string): string {
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
<style>${CSS}</style>${scriptSrc ? `\n<script src="${escapeHtml(scriptSrc)}" defer></script>` : ''}
</head>
<body>
<header><p>${escapeHtml(m.bank)}</p><nav aria-label="${escapeHtml(m.languageNav)}"><a href="?lang=${other}" lang="${other}" hreflang="${other}">${escapeHtml(m.switchTo)}</a></nav></header>
<main>
${content}
</main>
<footer><p>${escapeHtml(m.neverAsk)}</p><p>${escapeHtml(m.help)}</p></footer>${beacon ? `\n<script data-opened="${escapeHtml(beacon)}">${OPENED_SCRIPT}</script>` : ''}
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

export function statusBlock(lines: string[], tone: 'ok' | 'warn' | 'info' = 'info'): string {
  if (lines.length === 0) return '';
  const cls = tone === 'info' ? 'status' : `status ${tone}`;
  return `<div class="card ${cls}" role="status">${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</div>`;
}

/** One form per action: the button is its label; the hidden fields identify the action and the page. */
export function actionForm(m: Messages, locale: Locale, token: string, a: { action: TokenAction; key: string; link?: LinkRecord; app?: AppHold }, check: string, index = 0): string {
  const kind = a.action.kind;
  const label =
    kind === 'FREEZE_ACCOUNT'
      ? m.buttons.FREEZE_ACCOUNT
      : kind === 'REVOKE_LINK'
        ? m.buttons.REVOKE_LINK(providerOf(a.link, '?'))
        : kind === 'DEACTIVATE_APP'
          ? m.buttons.DEACTIVATE_APP(a.app?.appName ?? '?')
          : kind === 'CONFIRM_APP'
            ? m.buttons.CONFIRM_APP
            : m.buttons.CONFIRM_LINK;
  const cls = kind === 'FREEZE_ACCOUNT' ? 'freeze' : kind === 'REVOKE_LINK' || kind === 'DEACTIVATE_APP' ? 'revoke' : 'confirm';
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

/**
 * GET /a/{token}: what happened, the state now, and one button per action still possible. The
 * page carries the "opened" beacon (POST {token}/opened once a browser has shown it).
 */
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
  return { statusCode: 200, headers: pageHeaders(p.locale, { beacon: true }), body: layout(p.locale, m.title, body, undefined, `${p.token}/opened`) };
}

export interface DonePageInput {
  locale: Locale;
  token: string;
  action: TokenAction;
  link?: LinkRecord | undefined;
  /** For the app actions: the activation's hold. */
  app?: AppHold | undefined;
  account: AccountRecord | undefined;
  /** After "not me": the freeze, when the alert offered it and it is still possible. */
  offerFreeze?: { key: string; check: string } | undefined;
  /** After "it was me" with a code: this browser may register a passkey (script-only button). */
  offerPasskey?: { key: string; check: string; secret: string } | undefined;
}

/** After a POST that did (or had already done) the action. */
export function renderDonePage(p: DonePageInput): HtmlResponse {
  const m = messages[p.locale];
  const provider = providerOf(p.link, '?');
  const kind = p.action.kind;
  const appName = p.app?.appName ?? '?';
  const title =
    kind === 'FREEZE_ACCOUNT'
      ? m.done.FREEZE_ACCOUNT
      : kind === 'REVOKE_LINK'
        ? m.done.REVOKE_LINK(provider)
        : kind === 'DEACTIVATE_APP'
          ? m.done.DEACTIVATE_APP(appName)
          : kind === 'CONFIRM_APP'
            ? m.done.CONFIRM_APP(appName)
            : m.done.CONFIRM_LINK(provider);
  const parts = [`<h1>${escapeHtml(title)}</h1>`];
  if (kind === 'FREEZE_ACCOUNT') parts.push(statusBlock([m.afterFreeze], 'ok'), frozenExplained(p.locale));
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
  if (p.offerPasskey) parts.push(passkeyBox(p.locale, p.token, 'register', p.offerPasskey));
  const script = p.offerPasskey ? `${p.token}/passkey.js` : undefined;
  return { statusCode: 200, headers: pageHeaders(p.locale, { script: Boolean(script) }), body: layout(p.locale, title, parts.join('\n'), script) };
}

/** After a freeze: what stops, what still works, and how it is undone (only by the bank). */
export function frozenExplained(locale: Locale): string {
  const f = stepUpMessages[locale].frozen;
  const list = (items: string[]) => `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
  return `<section class="card" aria-label="${escapeHtml(f.undoHeading)}" id="after-freeze"><h3>${escapeHtml(f.stopsHeading)}</h3>${list(f.stops)}<h3>${escapeHtml(
    f.worksHeading,
  )}</h3>${list(f.works)}<h3>${escapeHtml(f.undoHeading)}</h3><p>${escapeHtml(f.undo)}</p></section>`;
}

/**
 * The passkey section: hidden until the script (same origin) finds WebAuthn and shows it; its
 * texts and the form's fields ride on data attributes, so the script has no language of its own.
 */
export function passkeyBox(locale: Locale, token: string, mode: 'auth' | 'register', f: { key: string; check: string; secret?: string }): string {
  const s = stepUpMessages[locale];
  const texts =
    mode === 'auth'
      ? { heading: s.passkeyHeading, intro: s.passkeyIntro, button: s.passkeyButton, working: s.passkeyWorking, done: s.passkeyDone, failed: s.passkeyFailed }
      : { heading: s.register.heading, intro: s.register.body, button: s.register.button, working: s.register.working, done: s.register.done, failed: s.register.failed };
  const data = {
    mode,
    base: token,
    action: f.key,
    check: f.check,
    ...(f.secret ? { secret: f.secret } : {}),
    'msg-working': texts.working,
    'msg-done': texts.done,
    'msg-failed': texts.failed,
  };
  const attrs = Object.entries(data)
    .map(([k, v]) => `data-${k}="${escapeHtml(v)}"`)
    .join(' ');
  return `<section class="card" id="passkey" hidden ${attrs} aria-labelledby="passkey-h"><h2 id="passkey-h">${escapeHtml(texts.heading)}</h2><p>${escapeHtml(
    texts.intro,
  )}</p><button type="button" class="revoke" id="passkey-button">${escapeHtml(texts.button)}</button><p id="passkey-status" role="status" aria-live="polite"></p></section>`;
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
