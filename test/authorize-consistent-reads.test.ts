/**
 * Every read POST /v1/authorize makes is strongly consistent, on every decision path.
 *
 * DynamoDB Local always answers with the latest state, so the decision tests
 * (authorize-decisions, authorize-freeze-race) would still pass if authorize switched to
 * eventually consistent reads, which in AWS can miss a freeze committed a moment ago. This file
 * watches the requests on the real SDK client the handler uses (a middleware on its stack) while
 * it answers each kind of question, and asserts each read carried ConsistentRead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { db } from '../src/store/db.ts';
import { key } from '../src/store/table.ts';
import { freezeAccount, revokeLink } from '../src/store/actions.ts';
import { watchReads, type ReadWatch } from './support/dynamo-probe.ts';
import { httpEvent, invoke, loadHandler, seedAccount, seedLink, setupActionEnv, type ActionEnv, type Handler } from './action-support.ts';

let env: ActionEnv;
let handler: Handler;
let reads: ReadWatch;
beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('authorize');
  reads = watchReads(db());
});
afterAll(async () => {
  reads?.stop();
  await env.bridge.stop();
});

async function authorize(body: Record<string, unknown>) {
  const res = await invoke(handler, httpEvent({ method: 'POST', path: '/v1/authorize', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), 'authorize');
  return { status: res.statusCode, ...(JSON.parse(res.body) as { decision: string; reason: string }) };
}

describe('authorize reads the latest state', () => {
  it('the watch flags an eventually consistent read on the same client (it can fail)', async () => {
    reads.clear();
    await db().send(new GetCommand({ TableName: env.tableName, Key: key.account('nobody') }));
    await db().send(new GetCommand({ TableName: env.tableName, Key: key.account('nobody'), ConsistentRead: true }));
    expect(reads.reads.map((r) => r.command)).toEqual(['GetItemCommand', 'GetItemCommand']);
    expect(reads.eventual()).toEqual(['GetItemCommand']);
  });

  it('every decision path: each read ConsistentRead', async () => {
    const { accountId, customerId } = await seedAccount();
    const pending = await seedLink(accountId, customerId);
    const active = await seedLink(accountId, customerId, { createdAt: new Date(Date.now() - 48 * 3_600_000) });
    const revoked = await seedLink(accountId, customerId, { createdAt: new Date(Date.now() - 48 * 3_600_000) });
    await revokeLink(accountId, revoked, { actor: 'CUSTOMER_WEB' });
    const frozen = await seedAccount();
    await freezeAccount(frozen.accountId, { actor: 'CUSTOMER_WEB' });
    let n = 0;
    const debit = (over: Record<string, unknown>) => ({ accountId, channel: 'EPAY_CHARGE', amount: 5_000, currency: 'JPY', requestId: `cr-${++n}`, ...over });

    const cases: [Record<string, unknown>, string, string][] = [
      [debit({ accountId: 'acct-nobody', linkId: pending }), 'DENY', 'UNKNOWN_ACCOUNT'],
      [debit({ accountId: frozen.accountId }), 'DENY', 'ACCOUNT_FROZEN'],
      [debit({ linkId: 'lnk-nobody' }), 'DENY', 'UNKNOWN_LINK'],
      [debit({ linkId: revoked }), 'DENY', 'LINK_REVOKED'],
      [debit({ linkId: pending, amount: 500_000 }), 'HOLD', 'LINK_PENDING_OVER_LIMIT'],
      [debit({ linkId: pending, amount: 1_000 }), 'ALLOW', 'LINK_PENDING_UNDER_LIMIT'],
      [debit({ linkId: active, amount: 500_000 }), 'ALLOW', 'OK'],
      [debit({ channel: 'ATM_CARD', amount: 500_000 }), 'ALLOW', 'OK'],
    ];
    for (const [body, decision, reason] of cases) {
      reads.clear();
      expect(await authorize(body), JSON.stringify(body)).toMatchObject({ status: 200, decision, reason });
      // It read something (the account at least), and nothing it read was eventually consistent.
      expect(reads.reads.length, `${reason}: reads`).toBeGreaterThan(0);
      expect(reads.eventual(), `${reason}: eventually consistent reads`).toEqual([]);
    }
  });
});
