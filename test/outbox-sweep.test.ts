/** The minute's scheduled sweep publishes partner events whose first publish failed. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { freezeAccount } from '../src/store/actions.ts';
import { seedAccount, setupActionEnv, type ActionEnv } from './action-support.ts';

let env: ActionEnv;
beforeAll(async () => {
  env = await setupActionEnv();
});
afterAll(async () => {
  await env.bridge.stop();
});

const scheduled = { version: '0', id: 'sched-1', source: 'aws.events', 'detail-type': 'Scheduled Event', time: new Date().toISOString(), resources: [], detail: {} };

it('an AccountFrozen whose publish failed reaches partners with the next scheduled sweep, once', async () => {
  const { handler } = await import('../functions/delivery/handler.ts');
  const { accountId } = await seedAccount();
  env.bridge.injectFaults(Array.from({ length: 8 }, () => '5xx' as const));
  // Committed two minutes ago, its publish failed: it waits in the outbox.
  const frozen = await freezeAccount(accountId, { actor: 'CUSTOMER_WEB', alertId: 'al-sweep', at: new Date(Date.now() - 120_000) });
  env.bridge.clear();
  expect(frozen).toMatchObject({ changed: true, eventPublished: false });
  const forAccount = () => env.bridge.publishedEvents().filter((e) => (e.detail as { accountId?: string }).accountId === accountId);
  expect(forAccount()).toHaveLength(0);

  const ctx = { functionName: 'delivery', awsRequestId: 'r1', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
  const out = (await handler(scheduled as never, ctx)) as { outboxPublished: number };
  expect(out.outboxPublished).toBeGreaterThanOrEqual(1);
  expect(forAccount().map((e) => e.detailType)).toEqual(['AccountFrozen']);

  await handler(scheduled as never, ctx);
  expect(forAccount()).toHaveLength(1);
});
