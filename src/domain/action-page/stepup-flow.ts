/**
 * POST of a releasing action ("it was me"), after the page's common checks (token, form, offered,
 * not used). Never one tap:
 *   no step     -> the step-up page (where the code would go, passkey if any); changes nothing
 *   step=send   -> a code to the other channel (rate-limited, audited), then the code form
 *   step=verify -> the typed code checked; right: released with the code spent in one transaction
 * A locked confirmation (too many wrong codes) gets the locked page; freeze and revoke stay.
 */
import type { Locale } from '../../../events/core.ts';
import type { AccountRecord, LinkRecord, TokenRecord } from '../../store/types.ts';
import type { TokenAction } from '../tokens.ts';
import type { AppHold } from '../allowance.ts';
import { offeredActions, type FormStep } from './flow.ts';
import { renderDonePage, type HtmlResponse } from './render.ts';
import { renderLockedPage, renderStepUpPage, type DestinationView, type ProtectiveForm, type StepUpNotice } from './render-stepup.ts';

export interface StepUpStatusView {
  locked: boolean;
  destination?: DestinationView;
  liveCode?: { expiresAt: string; destination: DestinationView };
  hasPasskeys: boolean;
}

export type SendResultView =
  | { ok: true; destination: DestinationView; expiresAt: string }
  | { ok: false; reason: 'LOCKED' | 'TOO_MANY' | 'RATE_LIMITED' | 'NO_CONTACT' | 'SEND_FAILED' | 'CONFLICT' }
  | { ok: false; reason: 'TOO_SOON'; retryAt: string };

export type CodeReleaseView =
  | { ok: true; changed: boolean; eventPublished?: boolean; registrationSecret?: string }
  | { ok: false; reason: 'WRONG'; attemptsLeft: number }
  | { ok: false; reason: 'LOCKED' | 'EXPIRED' | 'USED' | 'NO_CODE' | 'BAD_CODE' | 'CONFLICT' }
  | { ok: false; refusal: string };

export interface StepUpPorts {
  maxAttempts(): number;
  status(record: TokenRecord, key: string, now: Date): Promise<StepUpStatusView>;
  sendCode(record: TokenRecord, key: string, locale: Locale, now: Date): Promise<SendResultView>;
  confirmWithCode(record: TokenRecord, action: TokenAction, key: string, code: string | undefined, now: Date): Promise<CodeReleaseView>;
}

export interface ReleasingRequest {
  locale: Locale;
  token: string;
  record: TokenRecord;
  action: TokenAction;
  key: string;
  step?: FormStep | undefined;
  code?: string | undefined;
  account: AccountRecord;
  links: readonly LinkRecord[];
  link?: LinkRecord | undefined;
  /** For a cardless-ATM app's "it was me": the activation's hold. */
  app?: AppHold | undefined;
  checkFor: (key: string) => string;
  now: Date;
}

export type ReleasingResult =
  | { kind: 'PAGE'; response: HtmlResponse; outcome: string; changed?: boolean; eventPublished?: boolean }
  /** The store refused the release (frozen meanwhile, revoked, token used...): the caller's pages say why. */
  | { kind: 'REFUSED'; refusal: string };

const STATUS: Record<StepUpNotice['kind'], number> = {
  WRONG: 403,
  EXPIRED: 410,
  USED: 409,
  NO_CODE: 409,
  BAD_CODE: 400,
  TOO_SOON: 429,
  TOO_MANY: 429,
  RATE_LIMITED: 429,
  SEND_FAILED: 503,
  NO_CONTACT: 409,
  CONFLICT: 503,
};

/** Freeze and revoke forms still possible from this token: they stay on every step-up page. */
function protectiveForms(r: ReleasingRequest): ProtectiveForm[] {
  return offeredActions(r.record, r.account, r.links)
    .filter((o) => o.available && (o.action.kind === 'FREEZE_ACCOUNT' || o.action.kind === 'REVOKE_LINK' || o.action.kind === 'DEACTIVATE_APP'))
    .map((o) => ({ action: o.action, key: o.key, check: r.checkFor(o.key), ...(o.link ? { link: o.link } : {}), ...(o.app ? { app: o.app } : {}) }));
}

export async function handleReleasingPost(r: ReleasingRequest, ports: StepUpPorts): Promise<ReleasingResult> {
  const check = r.checkFor(r.key);
  const provider = r.link?.providerName ?? r.app?.appName ?? '?';
  const locked = (): ReleasingResult => ({
    kind: 'PAGE',
    outcome: 'STEP_UP_LOCKED',
    response: renderLockedPage({ locale: r.locale, token: r.token, maxAttempts: ports.maxAttempts(), holdUntil: r.link?.holdUntil ?? r.app?.holdUntil, protective: protectiveForms(r) }),
  });
  const page = async (outcome: string, notice?: StepUpNotice, sent?: { destination: DestinationView; expiresAt: string }): Promise<ReleasingResult> => {
    const status = await ports.status(r.record, r.key, r.now);
    if (status.locked) return locked();
    const liveCode = sent ?? status.liveCode;
    return {
      kind: 'PAGE',
      outcome,
      response: renderStepUpPage({
        locale: r.locale,
        token: r.token,
        key: r.key,
        check,
        provider,
        destination: status.destination,
        liveCode,
        hasPasskeys: status.hasPasskeys,
        notice,
        protective: protectiveForms(r),
        ...(notice ? { statusCode: STATUS[notice.kind] } : {}),
      }),
    };
  };

  if (r.step === undefined) return page('STEP_UP_SHOWN');

  if (r.step === 'send') {
    const sent = await ports.sendCode(r.record, r.key, r.locale, r.now);
    if (sent.ok) return page('CODE_SENT', undefined, { destination: sent.destination, expiresAt: sent.expiresAt });
    if (sent.reason === 'LOCKED') return locked();
    return page(`CODE_${sent.reason}`, sent.reason === 'TOO_SOON' ? { kind: 'TOO_SOON', retryAt: sent.retryAt } : { kind: sent.reason });
  }

  const out = await ports.confirmWithCode(r.record, r.action, r.key, r.code, r.now);
  if (out.ok) {
    return {
      kind: 'PAGE',
      outcome: out.changed ? 'CHANGED' : 'UNCHANGED',
      changed: out.changed,
      ...(out.eventPublished !== undefined ? { eventPublished: out.eventPublished } : {}),
      response: renderDonePage({
        locale: r.locale,
        token: r.token,
        action: r.action,
        link: r.link,
        app: r.app,
        account: r.account,
        ...(out.registrationSecret ? { offerPasskey: { key: r.key, check, secret: out.registrationSecret } } : {}),
      }),
    };
  }
  if ('refusal' in out) return { kind: 'REFUSED', refusal: out.refusal };
  // The code is spent only with the release: a concurrent submission of it won, so this one did it too.
  if (out.reason === 'USED') return { kind: 'REFUSED', refusal: 'TOKEN_ALREADY_USED' };
  if (out.reason === 'LOCKED') return locked();
  return page(`CODE_${out.reason}`, out.reason === 'WRONG' ? { kind: 'WRONG', attemptsLeft: out.attemptsLeft } : { kind: out.reason });
}
