/**
 * Reimbursement cases in the operations API:
 *   GET  /ops/cases                                   cases with totals owed and the oldest unpaid
 *   GET  /ops/cases.csv                               the same for accounting (CSV, one row per case)
 *   GET  /ops/cases/{accountId}/{linkId}              one case with its debits
 *   POST /ops/cases/{accountId}/{linkId}/review       {"note"}            OPEN -> REVIEWED (ReimbursementDue)
 *   POST /ops/cases/{accountId}/{linkId}/repay        {"paymentRef"}      REVIEWED -> REPAID (approvers group, not the reviewer)
 *   POST /ops/cases/{accountId}/{linkId}/reject       {"reason"}          OPEN | REVIEWED -> REJECTED
 */
import * as z from 'zod';
import { opsJson, opsProblem, type OpsRequest, type OpsResponse } from '../../ops/router.ts';
import { APPROVER_GROUP } from '../../ops/unfreeze.ts';
import { asResponse, parseBody, pathId } from '../http.ts';
import { ageDays, csvLine } from './rules.ts';
import { getCase, listCaseDebits, listCases, transitionCase, type ReimbursementCase } from './store.ts';

const text = z.string().trim().min(3).max(500);
const bodies = {
  review: z.object({ note: text }).strict(),
  repay: z.object({ paymentRef: z.string().trim().min(3).max(128).regex(/^[\x21-\x7e][\x20-\x7e]*$/, 'printable ASCII reference such as PAY-2026-000123') }).strict(),
  reject: z.object({ reason: text }).strict(),
} as const;

const unpaid = (c: ReimbursementCase) => c.state === 'OPEN' || c.state === 'REVIEWED';

export function casesSummary(cases: readonly ReimbursementCase[], now = new Date()) {
  const owed: Record<string, number> = {};
  for (const c of cases.filter(unpaid)) for (const [cur, n] of Object.entries(c.totals ?? {})) owed[cur] = (owed[cur] ?? 0) + n;
  const oldest = cases.filter(unpaid).sort((a, b) => a.openedAt.localeCompare(b.openedAt))[0];
  return {
    open: cases.filter((c) => c.state === 'OPEN').length,
    reviewed: cases.filter((c) => c.state === 'REVIEWED').length,
    repaid: cases.filter((c) => c.state === 'REPAID').length,
    rejected: cases.filter((c) => c.state === 'REJECTED').length,
    totalOwed: owed,
    ...(oldest ? { oldestUnpaid: { caseId: oldest.caseId, openedAt: oldest.openedAt, ageDays: ageDays(oldest.openedAt, now) } } : {}),
  };
}

const CSV_COLUMNS = ['caseId', 'accountId', 'linkId', 'providerId', 'state', 'openedAt', 'ageDays', 'currency', 'amountMinor', 'debits', 'reviewedBy', 'reviewedAt', 'repaidBy', 'repaidAt', 'paymentRef', 'rejectedBy', 'rejectReason'] as const;

export function casesCsv(cases: readonly ReimbursementCase[], now = new Date()): string {
  let out = csvLine(CSV_COLUMNS);
  for (const c of cases) {
    const totals = Object.entries(c.totals ?? {});
    for (const [currency, amount] of totals.length ? totals : [['JPY', 0] as [string, number]]) {
      out += csvLine([c.caseId, c.accountId, c.linkId, c.providerId, c.state, c.openedAt, ageDays(c.openedAt, now), currency, amount, c.debitCount, c.reviewedBy, c.reviewedAt, c.repaidBy, c.repaidAt, c.paymentRef, c.rejectedBy, c.rejectReason]);
    }
  }
  return out;
}

export async function handleCaseRequest(req: OpsRequest): Promise<OpsResponse | undefined> {
  const path = req.path.replace(/\/+$/, '');
  if (!path.startsWith('/ops/cases')) return undefined;
  try {
    if (req.method === 'GET' && path === '/ops/cases') {
      const cases = await listCases();
      return opsJson(200, { summary: casesSummary(cases), cases: cases.map((c) => ({ ...c, ageDays: ageDays(c.openedAt, new Date()) })) });
    }
    if (req.method === 'GET' && path === '/ops/cases.csv') {
      return {
        statusCode: 200,
        headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="reimbursement-cases.csv"', 'cache-control': 'no-store' },
        body: casesCsv(await listCases()),
      };
    }
    const m = /^\/ops\/cases\/([^/]+)\/([^/]+)(?:\/(review|repay|reject))?$/.exec(path);
    if (!m) return undefined;
    const accountId = pathId(m[1]!, 'accountId');
    const linkId = pathId(m[2]!, 'linkId');
    const verb = m[3] as keyof typeof bodies | undefined;
    if (!verb) {
      if (req.method !== 'GET') return undefined;
      const c = await getCase(accountId, linkId);
      if (!c) return opsProblem(404, 'CASE_NOT_FOUND', 'no such case');
      return opsJson(200, { case: { ...c, ageDays: ageDays(c.openedAt, new Date()) }, debits: await listCaseDebits(accountId, linkId) });
    }
    if (req.method !== 'POST') return undefined;
    const body = parseBody(bodies[verb], req.body) as { note?: string; paymentRef?: string; reason?: string };
    // Paying out is the second pair of eyes: an approver who is not the reviewer.
    if (verb === 'repay' && !req.groups.includes(APPROVER_GROUP)) return opsProblem(403, 'NOT_AN_APPROVER', `confirming a repayment needs the ${APPROVER_GROUP} group`);
    const out = await transitionCase(accountId, linkId, { verb, operatorId: req.operatorId, text: body.note ?? body.paymentRef ?? body.reason ?? '' });
    return opsJson(200, out);
  } catch (e) {
    return asResponse(e);
  }
}
