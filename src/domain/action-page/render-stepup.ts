/**
 * The step-up pages of a releasing action ("it was me"): where the code goes, the code form, the
 * passkey button (script-only, hidden otherwise), and the locked page. Plain forms, POST only:
 * nothing here works by GET, and nothing needs JavaScript except the passkey.
 */
import type { Locale } from '../../../events/core.ts';
import type { LinkRecord } from '../../store/types.ts';
import type { TokenAction } from '../tokens.ts';
import type { AppHold } from '../allowance.ts';
import { messages } from './messages.ts';
import { stepUpMessages, type StepUpMessages } from './stepup-messages.ts';
import { actionForm, escapeHtml, layout, pageHeaders, passkeyBox, type HtmlResponse } from './render.ts';
import { formatJst } from './flow.ts';

export type CodeChannelView = 'SMS' | 'EMAIL';

export interface DestinationView {
  channel: CodeChannelView;
  masked: string;
  sameChannel: boolean;
}

export type StepUpNotice =
  | { kind: 'WRONG'; attemptsLeft: number }
  | { kind: 'TOO_SOON'; retryAt: string }
  | { kind: 'EXPIRED' | 'USED' | 'NO_CODE' | 'BAD_CODE' | 'TOO_MANY' | 'RATE_LIMITED' | 'SEND_FAILED' | 'NO_CONTACT' | 'CONFLICT' };

export interface ProtectiveForm {
  action: TokenAction;
  key: string;
  check: string;
  link?: LinkRecord | undefined;
  app?: AppHold | undefined;
}

export interface StepUpPageInput {
  locale: Locale;
  token: string;
  key: string;
  check: string;
  provider: string;
  destination?: DestinationView | undefined;
  /** A code was sent for this page and can still be typed. */
  liveCode?: { expiresAt: string; destination: DestinationView } | undefined;
  hasPasskeys: boolean;
  notice?: StepUpNotice | undefined;
  /** Freeze and revoke stay one tap, right here. */
  protective: readonly ProtectiveForm[];
  statusCode?: number;
}

function noticeText(s: StepUpMessages, n: StepUpNotice, locale: Locale): string {
  switch (n.kind) {
    case 'WRONG':
      return s.notices.WRONG(n.attemptsLeft);
    case 'TOO_SOON':
      return s.notices.TOO_SOON(formatJst(n.retryAt, locale));
    default:
      return s.notices[n.kind];
  }
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
}

function protectiveSection(locale: Locale, token: string, forms: readonly ProtectiveForm[]): string {
  if (forms.length === 0) return '';
  const m = messages[locale];
  const s = stepUpMessages[locale];
  return `<section aria-labelledby="notyou"><h2 id="notyou">${escapeHtml(s.notYou)}</h2>\n${forms
    .map((f, i) => actionForm(m, locale, token, { action: f.action, key: f.key, ...(f.link ? { link: f.link } : {}), ...(f.app ? { app: f.app } : {}) }, f.check, 10 + i))
    .join('\n')}</section>`;
}

/** The step-up page: send a code, type it, or use a passkey; the protective buttons stay. */
export function renderStepUpPage(p: StepUpPageInput): HtmlResponse {
  const s = stepUpMessages[p.locale];
  const post = `${escapeHtml(p.token)}?lang=${p.locale}`;
  const parts: string[] = [`<h1>${escapeHtml(s.title)}</h1>`, `<p>${escapeHtml(p.key.startsWith('CONFIRM_APP:') ? s.introApp(p.provider) : s.intro(p.provider))}</p>`, `<p>${escapeHtml(s.why)}</p>`];
  if (p.notice) parts.push(`<p class="notice" role="alert">${escapeHtml(noticeText(s, p.notice, p.locale))}</p>`);
  if (p.hasPasskeys) parts.push(passkeyBox(p.locale, p.token, 'auth', { key: p.key, check: p.check }));
  const code: string[] = [];
  if (p.liveCode) {
    code.push(`<p role="status">${escapeHtml(s.sent(p.liveCode.destination.channel, p.liveCode.destination.masked, formatJst(p.liveCode.expiresAt, p.locale)))}</p>`);
    code.push(`<form method="post" action="${post}">
${hidden('action', p.key)}
${hidden('check', p.check)}
${hidden('step', 'verify')}
<label for="code">${escapeHtml(s.codeLabel)}</label>
<input class="code" id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9０-９ -]*" minlength="6" maxlength="8" required aria-describedby="code-hint">
<p class="explain" id="code-hint">${escapeHtml(s.codeHint)}</p>
<button type="submit" class="revoke">${escapeHtml(s.verifyButton)}</button>
</form>`);
  }
  if (p.destination) {
    code.push(`<p>${escapeHtml(s.sendTo(p.destination.channel, p.destination.masked))}</p>`);
    if (p.destination.sameChannel) code.push(`<p class="notice" id="same-channel">${escapeHtml(s.sameChannel(p.destination.channel))}</p>`);
    code.push(`<form method="post" action="${post}">
${hidden('action', p.key)}
${hidden('check', p.check)}
${hidden('step', 'send')}
<button type="submit" class="${p.liveCode ? 'confirm' : 'revoke'}">${escapeHtml(p.liveCode ? s.resendButton : s.sendButton)}</button>
</form>`);
  } else {
    code.push(`<p class="notice">${escapeHtml(s.notices.NO_CONTACT)}</p>`);
  }
  parts.push(`<section class="card" aria-label="${escapeHtml(s.codeLabel)}">${code.join('\n')}</section>`);
  parts.push(`<p>${escapeHtml(s.codeNeverShare)}</p>`);
  parts.push(protectiveSection(p.locale, p.token, p.protective));
  const script = p.hasPasskeys ? `${p.token}/passkey.js` : undefined;
  const headers = pageHeaders(p.locale, { script: Boolean(script) });
  if (p.notice?.kind === 'TOO_SOON' || p.notice?.kind === 'RATE_LIMITED') headers['retry-after'] = p.notice.kind === 'TOO_SOON' ? '60' : '3600';
  return { statusCode: p.statusCode ?? 200, headers, body: layout(p.locale, s.title, parts.join('\n'), script) };
}

export interface LockedPageInput {
  locale: Locale;
  token: string;
  maxAttempts: number;
  holdUntil?: string | undefined;
  protective: readonly ProtectiveForm[];
}

/** Too many wrong codes: nothing is released from this alert any more; freeze and revoke stay. */
export function renderLockedPage(p: LockedPageInput): HtmlResponse {
  const s = stepUpMessages[p.locale];
  const parts = [
    `<h1>${escapeHtml(s.lockedTitle)}</h1>`,
    `<p class="notice" role="alert">${escapeHtml(s.lockedBody(p.maxAttempts))}</p>`,
    ...(p.holdUntil ? [`<p>${escapeHtml(s.lockedHold(formatJst(p.holdUntil, p.locale)))}</p>`] : []),
    protectiveSection(p.locale, p.token, p.protective),
  ];
  return { statusCode: 423, headers: pageHeaders(p.locale), body: layout(p.locale, s.lockedTitle, parts.join('\n')) };
}
