/**
 * Reimbursement cases against DynamoDB Local: "not me" opens one case with every debit through
 * the link (recorded before or after), duplicates count once, transitions need the right
 * operators, each is audited, bad input is 400 naming the field with nothing changed, reviewing
 * publishes ReimbursementDue, accounting gets a CSV.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHandler, seedAccount, seedLink, setupActionEnv, uniq, type ActionEnv, type Handler } from './action-support.ts';
import { callOps, partition } from './fraud-support.ts';
import { processFraudRecord } from '../src/fraud/consumer.ts';
import { getCase } from '../src/fraud/cases/store.ts';
import { revokeLink } from '../src/store/actions.ts';
import { listAudit } from '../src/store/audit.ts';
import { casesCsv } from '../src/fraud/cases/ops.ts';

let env: ActionEnv;
let ops: Handler;
beforeAll(async () => {
  env = await setupActionEnv();
  ops = await loadHandler('ops');
});
afterAll(async () => {
  await env.bridge.stop();
});

const withdrawal = (accountId: string, linkId: string, amount: number, id = uniq('w')) => ({
  source: 'bank.core',
  'detail-type': 'WithdrawalPosted',
  detail: { eventId: `ev-${id}`, occurredAt: new Date().toISOString(), accountId, withdrawalId: id, channel: 'EPAY_CHARGE', amount, currency: 'JPY', linkId },
});

/** A revoked link with debits, its case opened by the LinkRevoked the revocation published. */
async function caseWithDebits(amounts: number[]) {
  const a = await seedAccount();
  const linkId = await seedLink(a.accountId, a.customerId);
  for (const amt of amounts) await processFraudRecord(withdrawal(a.accountId, linkId, amt));
  await revokeLink(a.accountId, linkId, { actor: 'CUSTOMER_WEB', alertId: 'al-x' });
  const revoked = env.bridge.publishedEvents().find((e) => e.detailType === 'LinkRevoked' && (e.detail as { linkId: string }).linkId === linkId)!;
  const envelope = { source: 'bank.alerting', 'detail-type': 'LinkRevoked', detail: revoked.detail };
  return { ...a, linkId, envelope };
}

describe('opening a case', () => {
  it('"not me" opens one case with every debit through the link; redelivery, duplicates and late debits count once', async () => {
    const c = await caseWithDebits([9_000, 12_000]);
    expect(await processFraudRecord(c.envelope)).toMatchObject({ kind: 'CASE', opened: true });
    expect(await processFraudRecord(c.envelope)).toMatchObject({ kind: 'CASE', opened: false });
    expect(await getCase(c.accountId, c.linkId)).toMatchObject({ state: 'OPEN', totals: { JPY: 21_000 }, debitCount: 2, timeline: { actedBy: 'CUSTOMER_WEB' } });
    // A withdrawal arriving after the case opened joins it, once even if delivered twice.
    const late = withdrawal(c.accountId, c.linkId, 5_000);
    await processFraudRecord(late);
    await processFraudRecord(late);
    expect(await getCase(c.accountId, c.linkId)).toMatchObject({ totals: { JPY: 26_000 }, debitCount: 3 });
    expect((await listAudit(c.accountId)).filter((e) => e.action === 'openReimbursementCase')).toHaveLength(1);
  });

  it('an operator revoke opens a case too, naming the operator', async () => {
    const a = await seedAccount();
    const linkId = await seedLink(a.accountId, a.customerId);
    await revokeLink(a.accountId, linkId, { actor: 'OPERATOR', operatorId: 'op-dan' });
    const ev = env.bridge.publishedEvents().find((e) => e.detailType === 'LinkRevoked' && (e.detail as { linkId: string }).linkId === linkId)!;
    await processFraudRecord({ source: 'bank.alerting', 'detail-type': 'LinkRevoked', detail: ev.detail });
    expect(await getCase(a.accountId, linkId)).toMatchObject({ state: 'OPEN', timeline: { actedBy: 'OPERATOR op-dan' }, debitCount: 0 });
  });
});

describe('case transitions through the operations API', () => {
  const path = (c: { accountId: string; linkId: string }, verb = '') => `/ops/cases/${c.accountId}/${c.linkId}${verb ? `/${verb}` : ''}`;

  it('OPEN -> REVIEWED (ReimbursementDue) -> REPAID by a second operator who is an approver; each step audited', async () => {
    const c = await caseWithDebits([30_000]);
    await processFraudRecord(c.envelope);
    expect(await callOps(ops, 'POST', path(c, 'repay'), 'op-bob', { paymentRef: 'PAY-1' })).toMatchObject({ status: 409, body: { error: 'WRONG_STATE' } });
    expect(await callOps(ops, 'POST', path(c, 'review'), 'op-alice', { note: 'debits match the complaint' })).toMatchObject({ status: 200, body: { case: { state: 'REVIEWED' } } });
    const due = env.bridge.publishedEvents().filter((e) => e.detailType === 'ReimbursementDue' && (e.detail as { linkId: string }).linkId === c.linkId);
    expect(due).toEqual([expect.objectContaining({ detail: expect.objectContaining({ amounts: { JPY: 30_000 }, debits: 1, reviewedBy: 'op-alice' }) })]);
    expect(await callOps(ops, 'POST', path(c, 'repay'), 'op-alice', { paymentRef: 'PAY-2026-0001' })).toMatchObject({ status: 403, body: { error: 'SAME_OPERATOR' } });
    expect(await callOps(ops, 'POST', path(c, 'repay'), 'op-bob', { paymentRef: 'PAY-2026-0001' }, ['operators'])).toMatchObject({ status: 403, body: { error: 'NOT_AN_APPROVER' } });
    expect((await getCase(c.accountId, c.linkId))!.state).toBe('REVIEWED');
    expect(await callOps(ops, 'POST', path(c, 'repay'), 'op-bob', { paymentRef: 'PAY-2026-0001' })).toMatchObject({ status: 200, body: { case: { state: 'REPAID', repaidBy: 'op-bob' } } });
    expect(await callOps(ops, 'POST', path(c, 'reject'), 'op-bob', { reason: 'too late' })).toMatchObject({ status: 409 });
    const audit = (await listAudit(c.accountId)).filter((e) => e.target === `CASE#${c.accountId}~${c.linkId}`);
    expect(audit.map((e) => [e.action, e.oldState, e.newState])).toEqual([
      ['openReimbursementCase', 'NONE', 'OPEN'],
      ['reviewReimbursementCase', 'OPEN', 'REVIEWED'],
      ['repayReimbursementCase', 'REVIEWED', 'REPAID'],
    ]);
    expect(audit[2]).toMatchObject({ operatorId: 'op-alice', approverId: 'op-bob' });
  });

  it('REJECTED needs a reason; bad input is 400 naming the field and changes nothing', async () => {
    const c = await caseWithDebits([1_000]);
    await processFraudRecord(c.envelope);
    const before = await partition('CASES');
    expect(await callOps(ops, 'POST', path(c, 'reject'), 'op-alice', {})).toMatchObject({ status: 400, body: { field: 'reason' } });
    expect(await callOps(ops, 'POST', path(c, 'review'), 'op-alice', { note: 'looks right', extra: true })).toMatchObject({ status: 400, body: { field: 'extra' } });
    expect(await callOps(ops, 'POST', path(c, 'review'), 'op-alice', '{oops')).toMatchObject({ status: 400, body: { field: 'body' } });
    expect(await callOps(ops, 'POST', `/ops/cases/bad%20acct/${c.linkId}/review`, 'op-alice', { note: 'ok ok' })).toMatchObject({ status: 400, body: { field: 'accountId' } });
    expect(await partition('CASES')).toBe(before);
    expect(await callOps(ops, 'POST', path(c, 'reject'), 'op-alice', { reason: 'customer made these payments' })).toMatchObject({ status: 200, body: { case: { state: 'REJECTED', rejectReason: 'customer made these payments' } } });
  });

  it('the list shows the total owed and the oldest unpaid; the CSV has one row per case and no formula cells', async () => {
    const c = await caseWithDebits([4_000, 6_000]);
    await processFraudRecord(c.envelope);
    const res = await callOps(ops, 'GET', '/ops/cases', 'op-alice');
    const summary = res.body.summary as { totalOwed: Record<string, number>; oldestUnpaid: { caseId: string } };
    const cases = res.body.cases as { caseId: string; state: string; totals: Record<string, number> }[];
    const unpaidTotal = cases.filter((x) => x.state === 'OPEN' || x.state === 'REVIEWED').reduce((s, x) => s + (x.totals.JPY ?? 0), 0);
    expect(summary.totalOwed.JPY).toBe(unpaidTotal);
    expect(summary.totalOwed.JPY).toBeGreaterThanOrEqual(10_000);
    expect(cases.map((x) => x.caseId)).toContain(`${c.accountId}~${c.linkId}`);
    const csv = await callOps(ops, 'GET', '/ops/cases.csv', 'op-alice');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const text = String(csv.body.text);
    expect(text.split('\r\n')[0]).toBe('caseId,accountId,linkId,providerId,state,openedAt,ageDays,currency,amountMinor,debits,reviewedBy,reviewedAt,repaidBy,repaidAt,paymentRef,rejectedBy,rejectReason');
    expect(text).toContain(`${c.accountId}~${c.linkId},${c.accountId},${c.linkId},dwallet,OPEN,`);
    expect(casesCsv([{ ...(await getCase(c.accountId, c.linkId))!, rejectReason: '=HYPERLINK("x")' }])).toContain(`"'=HYPERLINK(""x"")"`);
  });
});
