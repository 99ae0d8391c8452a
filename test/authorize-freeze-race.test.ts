/**
 * The promise of a freeze: once freezeAccount has returned, no debit on the account is allowed.
 * 1,000 authorisations run concurrently through the authorize handler against DynamoDB Local
 * while a freeze commits in the middle; each records when it started. Among those that started
 * after freezeAccount returned: 0 ALLOW.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { freezeAccount } from '../src/store/actions.ts';
import { listAudit } from '../src/store/audit.ts';
import { httpEvent, invoke, loadHandler, seedAccount, seedLink, setupActionEnv, type ActionEnv, type Handler } from './action-support.ts';

let env: ActionEnv;
let handler: Handler;
beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('authorize');
});
afterAll(async () => {
  await env.bridge.stop();
});

describe('freeze against 1,000 concurrent authorisations', () => {
  it('allows no debit that started after freezeAccount returned', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId, { createdAt: new Date(Date.now() - 48 * 3_600_000) });
    const body = (i: number) =>
      JSON.stringify(
        i % 2 === 0
          ? { accountId, channel: 'EPAY_CHARGE', amount: 3_000, currency: 'JPY', linkId, requestId: `r-${i}` }
          : { accountId, channel: 'ATM_CARDLESS', amount: 20_000, currency: 'JPY', requestId: `r-${i}` },
      );
    const one = async (i: number) => {
      const startedAt = performance.now();
      const res = await invoke(handler, httpEvent({ method: 'POST', path: '/v1/authorize', headers: { 'content-type': 'application/json' }, body: body(i) }), 'authorize');
      return { startedAt, status: res.statusCode, decision: (JSON.parse(res.body) as { decision: string }).decision };
    };

    // The test can see an ALLOW: the account is active before the race.
    expect((await one(-2)).decision).toBe('ALLOW');

    const TOTAL = 1_000;
    const calls: Promise<Awaited<ReturnType<typeof one>>>[] = [];
    let freezeReturnedAt = Number.POSITIVE_INFINITY;
    let freeze: Promise<void> | undefined;
    for (let i = 0; i < TOTAL; i++) {
      calls.push(one(i));
      if (i === 300) {
        freeze = freezeAccount(accountId, { actor: 'CUSTOMER_WEB', alertId: 'al-race' }).then((r) => {
          expect(r.changed).toBe(true);
          freezeReturnedAt = performance.now();
        });
      }
      // Spread the starts over time; make sure a good share starts after the freeze returned.
      if (i === 700 && freezeReturnedAt === Number.POSITIVE_INFINITY) await freeze;
      if (i % 25 === 24) await new Promise((r) => setTimeout(r, 1));
    }
    await freeze;
    const results = await Promise.all(calls);

    expect(results.every((r) => r.status === 200)).toBe(true);
    const after = results.filter((r) => r.startedAt > freezeReturnedAt);
    const allowedAfter = after.filter((r) => r.decision === 'ALLOW').length;
    expect(after.length).toBeGreaterThanOrEqual(299);
    expect(allowedAfter).toBe(0);
    expect(after.every((r) => r.decision === 'DENY')).toBe(true);
    expect(await listAudit(accountId)).toHaveLength(1);
    // Printed for the report: how the 1,000 split around the freeze.
    const before = results.filter((r) => r.startedAt <= freezeReturnedAt);
    console.info(
      `freeze race: ${before.length} started before the freeze returned (${before.filter((r) => r.decision === 'ALLOW').length} ALLOW), ${after.length} after (${allowedAfter} ALLOW)`,
    );
  });
});
