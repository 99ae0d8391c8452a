/**
 * POST /a/{token}/opened: the action page's beacon (src/domain/action-page/opened-script.ts) says
 * a browser displayed the page. It records `openedAt` once on the alert record, and nothing else:
 * no token use, no account or link change, no audit entry, no event.
 *
 * The token is checked exactly as GET /a/{token} checks it, in the same order and with the same
 * answers (a malformed one before any I/O, unknown: 404, expired: 410, account gone: 404), so this
 * route tells a prober nothing the page does not, at the same cost, under the same WAF rule on
 * /a/*. The body is not read: sendBeacon sends none; more than MAX_OPENED_BODY bytes is refused
 * (413) before any lookup. A valid token answers 204 whether this was the first opening or not.
 */
import type { OpenedOutcome } from '../../store/alert-opened.ts';
import type { TokenRecord } from '../../store/types.ts';
import { isWellFormedToken } from '../tokens.ts';
import { pickLocale } from './flow.ts';
import type { PageProblem } from './messages.ts';
import { renderProblemPage, type HtmlResponse } from './render.ts';
import type { Subject } from './service.ts';

export const MAX_OPENED_BODY = 1024;

export interface OpenedPorts {
  peppers(): Promise<readonly string[]>;
  findToken(token: string, peppers: readonly string[]): Promise<TokenRecord | undefined>;
  loadSubject(record: TokenRecord, opts?: { withAlert: boolean }): Promise<Subject>;
  /** Sets the alert's openedAt if it has none (conditional); never creates or changes anything else. */
  recordOpened(record: TokenRecord, at: Date): Promise<OpenedOutcome>;
}

export interface OpenedRequest {
  token: string;
  body: string;
  lang?: string | undefined;
  acceptLanguage?: string | undefined;
  now: Date;
}

export interface OpenedResult {
  response: HtmlResponse;
  /** Ids and outcome codes only. */
  log: { outcome: string; accountId?: string; alertId?: string };
}

const NO_CONTENT: HtmlResponse = {
  statusCode: 204,
  headers: { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' },
  body: '',
};

export async function handleOpenedBeacon(req: OpenedRequest, ports: OpenedPorts): Promise<OpenedResult> {
  const early = pickLocale(req.lang, undefined, req.acceptLanguage);
  const fail = (problem: PageProblem, outcome: string, statusCode?: number): OpenedResult => {
    const page = renderProblemPage({ locale: early, problem });
    return { response: statusCode ? { ...page, statusCode } : page, log: { outcome } };
  };
  if (!isWellFormedToken(req.token)) return fail('INVALID', 'MALFORMED_TOKEN');
  if (Buffer.byteLength(req.body, 'utf8') > MAX_OPENED_BODY) return fail('BAD_FORM', 'TOO_LARGE', 413);
  const peppers = await ports.peppers();
  const record = await ports.findToken(req.token, peppers);
  if (!record) return fail('INVALID', 'UNKNOWN_TOKEN');

  const ids = { accountId: record.accountId, alertId: record.alertId };
  const subject = await ports.loadSubject(record, { withAlert: false });
  const locale = pickLocale(req.lang, subject.locale, req.acceptLanguage);
  const problem = (p: PageProblem): OpenedResult => ({ response: renderProblemPage({ locale, problem: p, now: req.now }), log: { outcome: p, ...ids } });
  if (req.now.getTime() >= Date.parse(record.expiresAt)) return problem('EXPIRED');
  if (!subject.account) return problem('NOT_FOUND');

  const outcome = await ports.recordOpened(record, req.now);
  return { response: { ...NO_CONTENT, headers: { ...NO_CONTENT.headers } }, log: { outcome, ...ids } };
}
