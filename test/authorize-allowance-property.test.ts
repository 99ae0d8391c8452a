/**
 * Property (fast-check), with real concurrency against DynamoDB Local: whatever mix of concurrent
 * authorisations through any number of pending links and cardless-ATM apps of one account, with
 * retries of the same requestId and releases racing them,
 *   - the outstanding reservations never exceed the allowance (sum of distinct ALLOWs through a
 *     pending hold, minus what was given back, <= HOLD_LIMIT_MINOR, after every wave);
 *   - a retry with the same requestId never reserves twice (the stored total equals the distinct
 *     reservations still held, and there is one entry per requestId);
 *   - releases never push the total below zero, and each reservation is given back at most once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { getAccount } from '../src/store/customers.ts';
import { openAppHold, openHoldPeriod } from '../src/holds/allowance-store.ts';
import { authorizeWithAllowance, releaseAuthorization } from '../src/holds/authorize-service.ts';
import type { WithdrawalChannel } from '../events/core.ts';
import { seedAccount, seedLink, setupActionEnv, uniq, type ActionEnv } from './action-support.ts';

const LIMIT = 10_000;
const policy = { limitMinor: LIMIT, limitCurrency: 'JPY' };
let env: ActionEnv;
beforeAll(async () => {
  env = await setupActionEnv();
});
afterAll(async () => {
  await env.bridge.stop();
});

/** Where a debit goes: through pending link i, app j (named), cardless unnamed, or nothing held. */
type Via = { kind: 'LINK'; i: number } | { kind: 'APP'; i: number } | { kind: 'CARDLESS' } | { kind: 'CARD' };
type Op = { op: 'AUTH'; id: number; amount: number; via: Via } | { op: 'RETRY'; id: number } | { op: 'RELEASE'; id: number };

const via: fc.Arbitrary<Via> = fc.oneof(
  fc.record({ kind: fc.constant('LINK' as const), i: fc.nat(3) }),
  fc.record({ kind: fc.constant('APP' as const), i: fc.nat(2) }),
  fc.constant({ kind: 'CARDLESS' as const }),
  fc.constant({ kind: 'CARD' as const }),
);
const amount = fc.oneof(fc.integer({ min: 1, max: 3_000 }), fc.integer({ min: 3_000, max: 10_000 }), fc.integer({ min: 9_000, max: 12_000 }));
const wave = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('AUTH' as const), id: fc.nat(24), amount, via }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('RETRY' as const), id: fc.nat(24) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('RELEASE' as const), id: fc.nat(24) }) },
  ),
  { minLength: 4, maxLength: 24 },
);
const scenario = fc.record({ links: fc.integer({ min: 1, max: 4 }), apps: fc.integer({ min: 0, max: 3 }), waves: fc.array(wave, { minLength: 1, maxLength: 3 }) });

describe('the allowance under concurrent authorisations, retries and releases', () => {
  it('never allows more than the allowance, never reserves twice, never goes below zero', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { accountId, customerId } = await seedAccount();
        const links: string[] = [];
        for (let i = 0; i < s.links; i++) links.push(await seedLink(accountId, customerId));
        await openHoldPeriod(accountId, new Date(Date.now() + 24 * 3_600_000).toISOString());
        const appIds: string[] = [];
        for (let i = 0; i < s.apps; i++) {
          const appId = `app-${i}`;
          appIds.push(appId);
          await openAppHold({ eventId: uniq('evt-app'), occurredAt: new Date().toISOString(), accountId, appId, appName: `App ${i}` }, new Date(Date.now() + 24 * 3_600_000).toISOString());
        }
        // The request each id stands for: fixed by its first AUTH, so a RETRY is the same debit.
        const requests = new Map<number, { amount: number; channel: WithdrawalChannel; linkId?: string }>();
        const allowed = new Map<number, number>();
        let releasedTotal = 0;
        const releasedIds = new Set<number>();
        for (const w of s.waves) {
          await Promise.all(
            w.map(async (o) => {
              const requestId = `p-${o.id}`;
              if (o.op === 'RELEASE') {
                const r = await releaseAuthorization(accountId, requestId, policy);
                if (r.kind === 'RELEASED') {
                  expect(releasedIds.has(o.id)).toBe(false);
                  releasedIds.add(o.id);
                  releasedTotal += r.amount;
                }
                return;
              }
              let req = requests.get(o.id);
              if (!req && o.op === 'AUTH') {
                const v = o.via;
                req =
                  v.kind === 'LINK'
                    ? { amount: o.amount, channel: 'EPAY_CHARGE', linkId: links[v.i % links.length]! }
                    : v.kind === 'APP' && appIds.length > 0
                      ? { amount: o.amount, channel: 'ATM_CARDLESS', linkId: appIds[v.i % appIds.length]! }
                      : v.kind === 'CARD'
                        ? { amount: o.amount, channel: 'ATM_CARD' }
                        : { amount: o.amount, channel: 'ATM_CARDLESS' };
                requests.set(o.id, req);
              }
              if (!req) return;
              const r = await authorizeWithAllowance({ accountId, currency: 'JPY', requestId, ...req }, policy);
              if (r.kind === 'DECISION' && r.decision === 'ALLOW' && r.reason !== 'OK') {
                const earlier = allowed.get(o.id);
                if (earlier !== undefined) expect(earlier).toBe(req.amount);
                allowed.set(o.id, req.amount);
              }
              if (r.kind === 'DECISION') expect(r.allowance.remaining).toBeGreaterThanOrEqual(0);
            }),
          );
          const account = await getAccount(accountId, true);
          const a = account!.allowance;
          const held = [...allowed.entries()].filter(([id]) => !releasedIds.has(id)).reduce((t, [, amt]) => t + amt, 0);
          // Never more than the allowance outstanding, and what is stored is exactly what is held.
          expect(held).toBeLessThanOrEqual(LIMIT);
          expect(a?.spent ?? 0).toBe(held);
          expect(a?.spent ?? 0).toBeGreaterThanOrEqual(0);
          const reserved = Object.entries(a?.entries ?? {}).filter(([, e]) => e.status === 'RESERVED');
          expect(reserved.map(([k]) => k).sort()).toEqual([...allowed.keys()].filter((id) => !releasedIds.has(id)).map((id) => `R#p-${id}`).sort());
          expect(releasedTotal).toBeLessThanOrEqual([...allowed.values()].reduce((t, x) => t + x, 0));
        }
      }),
      { numRuns: 14 },
    );
  });
});
