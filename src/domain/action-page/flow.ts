/**
 * What the action page offers and how its form is read back. Plain TypeScript: the handler loads
 * the token, account, links and alert, and this decides.
 *
 * The form: one <form method="post"> per offered action, each with two hidden fields,
 *   action = the action key (FREEZE_ACCOUNT, REVOKE_LINK:{linkId}, CONFIRM_LINK:{linkId})
 *   check  = HMAC(pepper, "form|" + tokenHash + "|" + action), 22 characters
 * The token in the URL is the credential; `check` proves the POST came from the page we rendered
 * for that token and that its action was not edited, so a POST without the page's fields, or
 * with an action typed in by hand, is refused before anything else happens.
 */
import { createHmac } from 'node:crypto';
import type { Locale } from '../../../events/core.ts';
import { actionKey, sameHash, type TokenAction } from '../tokens.ts';
import type { AccountRecord, LinkRecord, TokenRecord } from '../../store/types.ts';
import { effectiveLinkState } from '../account.ts';
import { effectiveAppState, type AppHold } from '../allowance.ts';

/** A repeat of the same action within this window (double tap, refresh) gets the success page again. */
export const REPEAT_GRACE_MS = 2 * 60_000;
/** Form bodies are tiny; anything longer is not from our page. */
export const MAX_FORM_BYTES = 1024;

export function formCheck(tokenHash: string, key: string, pepper: string): string {
  return createHmac('sha256', pepper).update(`form|${tokenHash}|${key}`, 'utf8').digest('base64url').slice(0, 22);
}

const ACTION_FIELD = /^(FREEZE_ACCOUNT|(REVOKE_LINK|CONFIRM_LINK|DEACTIVATE_APP|CONFIRM_APP):([A-Za-z0-9._:-]{1,64}))$/;

/** The action a form field names, or undefined when it names none we know. */
export function parseActionKey(value: string): TokenAction | undefined {
  const m = ACTION_FIELD.exec(value);
  if (!m) return undefined;
  if (m[1] === 'FREEZE_ACCOUNT') return { kind: 'FREEZE_ACCOUNT' };
  if (m[2] === 'DEACTIVATE_APP' || m[2] === 'CONFIRM_APP') return { kind: m[2], activationId: m[3]! };
  return { kind: m[2] as 'REVOKE_LINK' | 'CONFIRM_LINK', linkId: m[3]! };
}

export type FormProblem = 'BAD_FORM' | 'UNKNOWN_ACTION';

/** The step of a releasing action's form: none (show the step-up), send a code, or verify one. */
export type FormStep = 'send' | 'verify';

/**
 * Releasing actions give money back to whoever holds the link, so they need the step-up (a code
 * to the other channel, or a passkey); protective ones (freeze, revoke, deactivate) stay one tap.
 * Any CONFIRM_* action is releasing, whatever it confirms.
 */
export const isReleasing = (a: TokenAction): boolean => a.kind.startsWith('CONFIRM_');

/**
 * Reads the POSTed form: exactly the page's fields (action, check; lang is tolerated; step and
 * code on the step-up's forms), each once, and a check that matches under one of the peppers.
 */
export function readActionForm(
  body: string,
  tokenHash: string,
  peppers: readonly string[],
): { ok: true; action: TokenAction; key: string; step?: FormStep; code?: string } | { ok: false; problem: FormProblem } {
  if (Buffer.byteLength(body, 'utf8') > MAX_FORM_BYTES) return { ok: false, problem: 'BAD_FORM' };
  const params = new URLSearchParams(body);
  const seen = new Map<string, string>();
  for (const [name, value] of params) {
    if (seen.has(name) || !['action', 'check', 'lang', 'step', 'code'].includes(name)) return { ok: false, problem: 'BAD_FORM' };
    seen.set(name, value);
  }
  const action = seen.get('action');
  const check = seen.get('check');
  if (!action || !check) return { ok: false, problem: 'BAD_FORM' };
  const parsed = parseActionKey(action);
  if (!parsed) return { ok: false, problem: 'UNKNOWN_ACTION' };
  if (!peppers.some((p) => sameHash(check, formCheck(tokenHash, action, p)))) return { ok: false, problem: 'BAD_FORM' };
  const step = seen.get('step');
  const code = seen.get('code');
  if (step !== undefined && step !== 'send' && step !== 'verify') return { ok: false, problem: 'BAD_FORM' };
  // A step or a code belongs only to a releasing action's step-up, and a code only to "verify".
  if ((step !== undefined && !isReleasing(parsed)) || (code !== undefined && step !== 'verify')) return { ok: false, problem: 'BAD_FORM' };
  return { ok: true, action: parsed, key: action, ...(step ? { step } : {}), ...(code !== undefined ? { code } : {}) };
}

/** Why an offered action is not shown as a button any more. */
export type Unavailability = 'USED' | 'ACCOUNT_FROZEN' | 'LINK_REVOKED' | 'LINK_ACTIVE' | 'AFTER_PROTECTIVE_ACTION' | 'MISSING' | 'APP_DEACTIVATED' | 'APP_CONFIRMED';

export interface OfferedAction {
  action: TokenAction;
  key: string;
  available: boolean;
  why?: Unavailability;
  link?: LinkRecord;
  /** For the app actions: the activation's hold (src/holds/). */
  app?: AppHold;
}

/** Each action of the token, in a fixed order (protective first), with whether it can still be done. */
export function offeredActions(token: Pick<TokenRecord, 'actions' | 'used'>, account: AccountRecord | undefined, links: readonly LinkRecord[]): OfferedAction[] {
  const used = token.used ?? {};
  const order = { FREEZE_ACCOUNT: 0, REVOKE_LINK: 1, DEACTIVATE_APP: 1, CONFIRM_LINK: 2, CONFIRM_APP: 2 } as const;
  const protectiveUsed = (linkId: string) => Boolean(used.FREEZE_ACCOUNT || used[`REVOKE_LINK:${linkId}`]);
  return [...token.actions]
    .sort((a, b) => order[a.kind] - order[b.kind])
    .map((action): OfferedAction => {
      const key = actionKey(action);
      if (action.kind === 'DEACTIVATE_APP' || action.kind === 'CONFIRM_APP') return offeredAppAction(action, key, used, account);
      const link = action.kind === 'FREEZE_ACCOUNT' ? undefined : links.find((l) => l.linkId === action.linkId);
      const base = { action, key, ...(link ? { link } : {}) };
      const no = (why: Unavailability): OfferedAction => ({ ...base, available: false, why });
      if (used[key]) return no('USED');
      if (!account) return no('MISSING');
      if (action.kind === 'FREEZE_ACCOUNT') return account.state === 'FROZEN' ? no('ACCOUNT_FROZEN') : { ...base, available: true };
      if (!link) return no('MISSING');
      if (link.state === 'REVOKED') return no('LINK_REVOKED');
      if (action.kind === 'REVOKE_LINK') return { ...base, available: true };
      if (protectiveUsed(action.linkId)) return no('AFTER_PROTECTIVE_ACTION');
      if (account.state === 'FROZEN') return no('ACCOUNT_FROZEN');
      if (link.state === 'ACTIVE') return no('LINK_ACTIVE');
      return { ...base, available: true };
    });
}

/** "Deactivate this app" (protective: while not yet deactivated) and "it was me" for it (as for links). */
function offeredAppAction(
  action: Extract<TokenAction, { kind: 'DEACTIVATE_APP' | 'CONFIRM_APP' }>,
  key: string,
  used: Record<string, string>,
  account: AccountRecord | undefined,
): OfferedAction {
  const app = account?.apps?.[action.activationId];
  const base = { action, key, ...(app ? { app } : {}) };
  const no = (why: Unavailability): OfferedAction => ({ ...base, available: false, why });
  if (used[key]) return no('USED');
  if (!account || !app) return no('MISSING');
  if (app.state === 'DEACTIVATED') return no('APP_DEACTIVATED');
  if (action.kind === 'DEACTIVATE_APP') return { ...base, available: true };
  if (used.FREEZE_ACCOUNT || used[`DEACTIVATE_APP:${action.activationId}`]) return no('AFTER_PROTECTIVE_ACTION');
  if (account.state === 'FROZEN') return no('ACCOUNT_FROZEN');
  if (effectiveAppState(app, new Date()) !== 'PENDING') return no('APP_CONFIRMED');
  return { ...base, available: true };
}

/** Whether an earlier use of the same action is recent enough to count as the same tap. */
export function isRepeatOfRecentUse(usedAt: string | undefined, now: Date): boolean {
  return usedAt !== undefined && now.getTime() - Date.parse(usedAt) < REPEAT_GRACE_MS;
}

/** ?lang= wins; then the customer's locale; then the browser's; Japanese by default. */
export function pickLocale(query: string | undefined, customer: Locale | undefined, acceptLanguage: string | undefined): Locale {
  if (query === 'ja' || query === 'en') return query;
  if (customer) return customer;
  const first = (acceptLanguage ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('en') ? 'en' : 'ja';
}

// --- What happened, for the page's summary ------------------------------------------------------

export type EventKind = 'LINK_CREATED' | 'WITHDRAWAL' | 'APP_ACTIVATED' | 'CONTACT_CHANGED' | 'UNKNOWN';

export interface WhatHappened {
  kind: EventKind;
  occurredAt?: string;
  provider?: string;
  app?: string;
  amount?: number;
  currency?: string;
  /** Where it came from, when the core knew (device name, place); never an IP address on the page. */
  device?: string;
  location?: string;
  counterparty?: string;
  /** From the alert, when the account record has no last four digits. */
  last4?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined);

const KIND_BY_EVENT: Record<string, EventKind> = {
  LinkCreated: 'LINK_CREATED',
  WithdrawalPosted: 'WITHDRAWAL',
  AppActivated: 'APP_ACTIVATED',
  ContactChanged: 'CONTACT_CHANGED',
};

/**
 * The summary from the alert record when the alert function wrote one (its fields read
 * defensively: it is another module's record), else from the link the token is about.
 */
export function whatHappened(alert: Record<string, unknown> | undefined, links: readonly LinkRecord[]): WhatHappened {
  const link = links[0];
  if (alert) {
    // The alert function keeps what the message said under `content` (src/domain/messages/content.ts).
    const content = obj(alert.content) ?? {};
    const pick = (name: string) => content[name] ?? alert[name];
    const kind =
      (str(content.kind) && (Object.values(KIND_BY_EVENT) as string[]).includes(String(content.kind)) ? (content.kind as EventKind) : undefined) ??
      KIND_BY_EVENT[str(alert.sourceEventType) ?? ''];
    if (kind) {
      const provider = str(pick('providerName')) ?? link?.providerName;
      const occurredAt = str(pick('occurredAt')) ?? str(alert.createdAt);
      const app = str(pick('appName'));
      const amount = num(pick('amount'));
      const currency = str(pick('currency'));
      const origin = obj(pick('origin')) ?? {};
      const device = str(pick('deviceName')) ?? str(origin.device);
      const location = str(origin.location);
      const counterparty = str(pick('counterparty'));
      const last4 = str(pick('accountLast4'));
      return {
        kind,
        ...(occurredAt ? { occurredAt } : {}),
        ...(provider ? { provider } : {}),
        ...(app ? { app } : {}),
        ...(amount !== undefined ? { amount } : {}),
        ...(currency ? { currency } : {}),
        ...(device ? { device } : {}),
        ...(location ? { location } : {}),
        ...(counterparty ? { counterparty } : {}),
        ...(last4 ? { last4 } : {}),
      };
    }
  }
  if (link) return { kind: 'LINK_CREATED', occurredAt: link.createdAt, provider: link.providerName };
  return { kind: 'UNKNOWN' };
}

/** Time in Japan, whatever the server's zone: 2026/11/25 18:02 (JST). */
export function formatJst(iso: string, locale: Locale): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const d = new Date(t + 9 * 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
  return locale === 'ja' ? `${date}（日本時間）` : `${date} JST`;
}

/** ...1234: never the full number. */
export function maskAccount(last4: string | undefined): string | undefined {
  return last4 && /^\d{4}$/.test(last4) ? `...${last4}` : undefined;
}

export function formatAmount(amount: number, currency: string | undefined, locale: Locale): string {
  const grouped = Math.trunc(amount).toLocaleString('en-US');
  if ((currency ?? 'JPY') === 'JPY') return locale === 'ja' ? `${grouped}円` : `¥${grouped}`;
  return `${currency} ${grouped} (minor units)`;
}

export { effectiveLinkState };
