/**
 * GET and POST of /a/{token}, as plain TypeScript over ports (the handler wires the store).
 *
 * GET never changes state: it validates the token, shows what happened and one button per action
 * still possible. POST reads the page's form, checks the grant, and asks the store to act (one
 * transaction: state change + token use + audit). Every failure is a page with its status and
 * changes nothing: a malformed token is refused before any I/O; an unknown one after one lookup.
 */
import type { Locale } from '../../../events/core.ts';
import type { AccountRecord, LinkRecord, TokenRecord } from '../../store/types.ts';
import { actionKey, isWellFormedToken, type TokenAction } from '../tokens.ts';
import { formCheck, isReleasing, isRepeatOfRecentUse, offeredActions, pickLocale, readActionForm, whatHappened } from './flow.ts';
import { handleReleasingPost, type StepUpPorts } from './stepup-flow.ts';
import type { PageProblem } from './messages.ts';
import { renderActionPage, renderDonePage, renderProblemPage, type HtmlResponse } from './render.ts';

export interface Subject {
  account?: AccountRecord;
  links: LinkRecord[];
  locale?: Locale;
  alert?: Record<string, unknown>;
}

/** What the store said when asked to act (refusals are the store's ActionRefusal codes). */
export type ActOutcome = { ok: true; changed: boolean; eventPublished?: boolean } | { ok: false; refusal: string };

export interface ActionPagePorts {
  peppers(): Promise<readonly string[]>;
  findToken(token: string, peppers: readonly string[]): Promise<TokenRecord | undefined>;
  /** `withAlert`: also the alert record (only the GET page summarises what happened). */
  loadSubject(record: TokenRecord, opts?: { withAlert: boolean }): Promise<Subject>;
  /** Protective actions only (freeze, revoke): releasing ones go through `stepUp`. */
  act(action: TokenAction, record: TokenRecord, token: { tokenHash: string; actionKey: string }): Promise<ActOutcome>;
  stepUp: StepUpPorts;
}

export interface ActionPageRequest {
  method: 'GET' | 'POST';
  token: string;
  lang?: string | undefined;
  acceptLanguage?: string | undefined;
  body?: string | undefined;
  now: Date;
}

/** For logs and metrics: ids and outcome codes only. */
export interface ActionPageOutcome {
  outcome: string;
  accountId?: string;
  alertId?: string;
  action?: string;
  changed?: boolean;
  eventPublished?: boolean;
}

export interface ActionPageResult {
  response: HtmlResponse;
  log: ActionPageOutcome;
}

const linkIdsOf = (r: TokenRecord) => r.actions.flatMap((a) => (a.kind === 'REVOKE_LINK' || a.kind === 'CONFIRM_LINK' ? [a.linkId] : []));
export { linkIdsOf };

export async function handleActionPage(req: ActionPageRequest, ports: ActionPagePorts): Promise<ActionPageResult> {
  const early = pickLocale(req.lang, undefined, req.acceptLanguage);
  const fail = (problem: PageProblem, extra: Partial<Parameters<typeof renderProblemPage>[0]> = {}, log: Partial<ActionPageOutcome> = {}) => ({
    response: renderProblemPage({ locale: early, problem, ...extra }),
    log: { outcome: problem, ...log },
  });

  // Shape first: truncated, padded, 10 KB long or non-ASCII input never reaches the table.
  if (!isWellFormedToken(req.token)) return fail('INVALID', {}, { outcome: 'MALFORMED_TOKEN' });
  const peppers = await ports.peppers();
  const record = await ports.findToken(req.token, peppers);
  if (!record) return fail('INVALID', {}, { outcome: 'UNKNOWN_TOKEN' });

  const ids = { accountId: record.accountId, alertId: record.alertId };
  const subject = await ports.loadSubject(record, { withAlert: req.method === 'GET' });
  const locale = pickLocale(req.lang, subject.locale, req.acceptLanguage);
  const problem = (p: PageProblem, extra: Partial<Parameters<typeof renderProblemPage>[0]> = {}, log: Partial<ActionPageOutcome> = {}): ActionPageResult => ({
    response: renderProblemPage({ locale, problem: p, now: req.now, ...extra }),
    log: { outcome: p, ...ids, ...log },
  });

  if (req.now.getTime() >= Date.parse(record.expiresAt)) return problem('EXPIRED');
  if (!subject.account) return problem('NOT_FOUND');
  const checkFor = (key: string) => formCheck(record.tokenHash, key, peppers[0]!);

  if (req.method === 'GET') {
    return {
      response: renderActionPage({
        locale,
        token: req.token,
        what: whatHappened(subject.alert, subject.links),
        account: subject.account,
        links: subject.links,
        offered: offeredActions(record, subject.account, subject.links),
        checkFor,
        now: req.now,
      }),
      log: { outcome: 'SHOWN', ...ids },
    };
  }

  const form = readActionForm(req.body ?? '', record.tokenHash, peppers);
  if (!form.ok) return problem('BAD_FORM', { backToPage: true }, { outcome: form.problem });
  const key = form.key;
  if (!record.actions.some((a) => actionKey(a) === key)) return problem('NOT_OFFERED', { backToPage: true }, { action: key });

  const named = form.action;
  const link = named.kind === 'REVOKE_LINK' || named.kind === 'CONFIRM_LINK' ? subject.links.find((l) => l.linkId === named.linkId) : undefined;
  const app = named.kind === 'DEACTIVATE_APP' || named.kind === 'CONFIRM_APP' ? subject.account?.apps?.[named.activationId] : undefined;
  const done = (outcome: string, account: AccountRecord | undefined, extra: Partial<ActionPageOutcome> = {}): ActionPageResult => {
    const freezeStillPossible =
      (form.action.kind === 'REVOKE_LINK' || form.action.kind === 'DEACTIVATE_APP') &&
      account?.state !== 'FROZEN' &&
      record.actions.some((a) => a.kind === 'FREEZE_ACCOUNT') &&
      !record.used?.FREEZE_ACCOUNT;
    return {
      response: renderDonePage({
        locale,
        token: req.token,
        action: form.action,
        link,
        app,
        account,
        offerFreeze: freezeStillPossible ? { key: 'FREEZE_ACCOUNT', check: checkFor('FREEZE_ACCOUNT') } : undefined,
      }),
      log: { outcome, ...ids, action: key, ...extra },
    };
  };

  // Used before: the same tap repeated (double tap, refresh) sees success; a later reuse is refused.
  const usedAt = record.used?.[key];
  if (usedAt !== undefined) {
    if (isRepeatOfRecentUse(usedAt, req.now)) return done('REPEATED', subject.account);
    return problem('ALREADY_USED', { account: subject.account, links: subject.links }, { action: key });
  }

  const after = (account: AccountRecord | undefined): AccountRecord | undefined =>
    account && form.action.kind === 'FREEZE_ACCOUNT' ? { ...account, state: 'FROZEN' } : account;

  const refused = async (refusal: string): Promise<ActionPageResult> => {
    switch (refusal) {
      case 'TOKEN_ALREADY_USED':
        // A concurrent POST of the same action won the race: one change, both see success.
        return done('LOST_RACE', after(subject.account), { changed: false });
      case 'ACTION_NOT_AVAILABLE':
      case 'ACCOUNT_FROZEN':
      case 'LINK_REVOKED': {
        const now = await ports.loadSubject(record, { withAlert: false });
        return problem('NOT_AVAILABLE', { account: now.account, links: now.links, backToPage: true }, { action: key, outcome: refusal });
      }
      case 'TOKEN_UNUSABLE':
        return problem('EXPIRED', {}, { action: key });
      case 'UNKNOWN_ACCOUNT':
      case 'UNKNOWN_LINK':
        return problem('NOT_FOUND', {}, { action: key, outcome: refusal });
      case 'CONFLICT':
        return problem('TRY_AGAIN', {}, { action: key });
      default:
        return problem('ERROR', {}, { action: key, outcome: refusal });
    }
  };

  // "It was me" is never one tap: its form leads through the step-up (code or passkey).
  if (isReleasing(form.action)) {
    const offered = offeredActions(record, subject.account, subject.links).find((o) => o.key === key);
    if (!offered?.available) {
      return problem('NOT_AVAILABLE', { account: subject.account, links: subject.links, backToPage: true }, { action: key, outcome: `NOT_AVAILABLE_${offered?.why ?? 'MISSING'}` });
    }
    const r = await handleReleasingPost(
      { locale, token: req.token, record, action: form.action, key, step: form.step, code: form.code, account: subject.account, links: subject.links, link, app, checkFor, now: req.now },
      ports.stepUp,
    );
    if (r.kind === 'PAGE') {
      return {
        response: r.response,
        log: { outcome: r.outcome, ...ids, action: key, ...(r.changed !== undefined ? { changed: r.changed } : {}), ...(r.eventPublished !== undefined ? { eventPublished: r.eventPublished } : {}) },
      };
    }
    return refused(r.refusal);
  }

  const outcome = await ports.act(form.action, record, { tokenHash: record.tokenHash, actionKey: key });
  if (outcome.ok) {
    return done(outcome.changed ? 'CHANGED' : 'UNCHANGED', after(subject.account), {
      changed: outcome.changed,
      ...(outcome.eventPublished !== undefined ? { eventPublished: outcome.eventPublished } : {}),
    });
  }
  return refused(outcome.refusal);
}

