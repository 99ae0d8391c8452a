/**
 * The allowance against DynamoDB Local, through the authorize handler: split debits stop at the
 * limit, 100 concurrent debits through a new link give one ALLOW, pending links and apps share one
 * allowance, requestId makes a call idempotent, release gives a reservation back once, a posted
 * withdrawal nobody reserved consumes the allowance (once), and bad input changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freezeAccount, revokeLink } from '../src/store/actions.ts';
import { getAccount } from '../src/store/customers.ts';
import { openAppHold, openHoldPeriod, recordPostedWithdrawal } from '../src/holds/allowance-store.ts';
import { authorizeWithAllowance } from '../src/holds/authorize-service.ts';
import type { WithdrawalPosted } from '../events/core.ts';
import { httpEvent, invoke, loadHandler, seedAccount, seedLink, setupActionEnv, snapshot, uniq, type ActionEnv, type Handler } from './action-support.ts';

const policy = { limitMinor: 10_000, limitCurrency: 'JPY' };
let env: ActionEnv;
let handler: Handler;
beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('authorize');
});
afterAll(async () => {
  await env.bridge.stop();
});

type Body = Record<string, unknown> & { decision?: string; reason?: string; allowance?: { remaining: number; limit: number } };
async function call(path: string, body: unknown, raw = false): Promise<{ status: number; body: Body }> {
  const res = await invoke(handler, httpEvent({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: raw ? String(body) : JSON.stringify(body) }), 'authorize');
  return { status: res.statusCode, body: JSON.parse(res.body) as Body };
}
const authorize = (body: unknown) => call('/v1/authorize', body);
const release = (body: unknown, raw = false) => call('/v1/authorize/release', body, raw);
const spent = async (accountId: string) => (await getAccount(accountId, true))?.allowance?.spent ?? 0;

function activation(accountId: string, over: Partial<{ appId: string; linkId: string; occurredAt: string }> = {}) {
  return { eventId: uniq('evt-app'), occurredAt: over.occurredAt ?? new Date().toISOString(), accountId, appId: over.appId ?? 'cardless-atm', appName: 'Cardless ATM', deviceName: 'Pixel 9', ...(over.linkId ? { linkId: over.linkId } : {}) };
}
const in24h = () => new Date(Date.now() + 24 * 3_600_000).toISOString();

describe('split debits through a new link', () => {
  it('allows at most the allowance in total: one ¥9,999, then HOLD; small ones until ¥10,000, then HOLD', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 9_999, currency: 'JPY', linkId, requestId: `split-${i}` }));
    expect(results.map((r) => r.body.decision)).toEqual(['ALLOW', ...Array(19).fill('HOLD')]);
    expect(results[0]!.body).toMatchObject({ reason: 'LINK_PENDING_UNDER_LIMIT', allowance: { limit: 10_000, remaining: 1, currency: 'JPY' } });
    expect(results[1]!.body).toMatchObject({ reason: 'LINK_PENDING_OVER_LIMIT', allowance: { remaining: 1 } });
    expect((await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 1, currency: 'JPY', linkId, requestId: 'last-yen' })).body).toMatchObject({ decision: 'ALLOW', allowance: { remaining: 0 } });
    expect((await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 1, currency: 'JPY', linkId, requestId: 'one-more' })).body).toMatchObject({ decision: 'HOLD', allowance: { remaining: 0 } });
    expect(await spent(accountId)).toBe(10_000);
    // Debits not through a pending hold are not the allowance's business.
    expect((await authorize({ accountId, channel: 'ATM_CARD', amount: 200_000, currency: 'JPY', requestId: 'card' })).body).toMatchObject({ decision: 'ALLOW', reason: 'OK' });
  });

  it('gives exactly one ALLOW to 100 concurrent ¥9,999 debits through a new link', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => authorize({ accountId, channel: 'EPAY_CHARGE', amount: 9_999, currency: 'JPY', linkId, requestId: `c-${i}` })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.body.decision === 'ALLOW')).toHaveLength(1);
    expect(results.filter((r) => r.body.decision === 'HOLD')).toHaveLength(99);
    expect(await spent(accountId)).toBe(9_999);
    const entries = (await getAccount(accountId, true))!.allowance!.entries;
    expect(Object.values(entries).filter((e) => e.status === 'RESERVED')).toHaveLength(1);
  });

  it('shares one allowance between every pending link and app of the account (five wallets are not five allowances)', async () => {
    const { accountId, customerId } = await seedAccount();
    const links = [];
    for (let i = 0; i < 5; i++) {
      const linkId = await seedLink(accountId, customerId);
      await openHoldPeriod(accountId, in24h());
      links.push(linkId);
    }
    await openAppHold(activation(accountId), in24h());
    const answers = [];
    for (const [i, linkId] of links.entries()) answers.push((await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 3_000, currency: 'JPY', linkId, requestId: `w-${i}` })).body.decision);
    expect(answers).toEqual(['ALLOW', 'ALLOW', 'ALLOW', 'HOLD', 'HOLD']);
    // The app's cardless withdrawal draws on the same ¥1,000 that is left.
    expect((await authorize({ accountId, channel: 'ATM_CARDLESS', amount: 1_001, currency: 'JPY', requestId: 'atm-1' })).body).toMatchObject({ decision: 'HOLD', reason: 'APP_PENDING_OVER_LIMIT' });
    expect((await authorize({ accountId, channel: 'ATM_CARDLESS', amount: 1_000, currency: 'JPY', requestId: 'atm-2' })).body).toMatchObject({ decision: 'ALLOW', reason: 'APP_PENDING_UNDER_LIMIT', allowance: { remaining: 0 } });
  });

  it('keeps counting while a later link is still pending: a new link extends the period, never resets it', async () => {
    const { accountId, customerId } = await seedAccount();
    const now = Date.now();
    const first = await seedLink(accountId, customerId, { createdAt: new Date(now - 23 * 3_600_000) });
    await openHoldPeriod(accountId, new Date(now + 3_600_000).toISOString(), new Date(now - 23 * 3_600_000));
    expect((await authorizeWithAllowance({ accountId, channel: 'EPAY_CHARGE', amount: 8_000, currency: 'JPY', linkId: first, requestId: 'a' }, policy)).kind).toBe('DECISION');
    const second = await seedLink(accountId, customerId);
    await openHoldPeriod(accountId, in24h());
    // Two hours later the first link's window has passed; the second link still shares what was spent.
    const later = new Date(now + 2 * 3_600_000);
    const r = await authorizeWithAllowance({ accountId, channel: 'EPAY_CHARGE', amount: 2_001, currency: 'JPY', linkId: second, requestId: 'b' }, policy, later);
    expect(r).toMatchObject({ decision: 'HOLD', allowance: { remaining: 2_000 } });
    // After the last window the period is over: a debit through the (now active) link is simply allowed.
    const after = new Date(now + 25 * 3_600_000);
    expect(await authorizeWithAllowance({ accountId, channel: 'EPAY_CHARGE', amount: 50_000, currency: 'JPY', linkId: second, requestId: 'c' }, policy, after)).toMatchObject({ decision: 'ALLOW', reason: 'OK', allowance: { remaining: 10_000 } });
  });
});

describe('requestId: retries, reuse and release', () => {
  it('answers a retry the same and reserves nothing twice; refuses the id for another debit', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const body = { accountId, channel: 'EPAY_CHARGE', amount: 6_000, currency: 'JPY', linkId, requestId: 'core-1' };
    const first = await authorize(body);
    const retries = await Promise.all([authorize(body), authorize(body), authorize(body)]);
    expect(first.body).toMatchObject({ decision: 'ALLOW', reason: 'LINK_PENDING_UNDER_LIMIT' });
    for (const r of retries) expect(r.body).toMatchObject({ decision: 'ALLOW', reason: 'LINK_PENDING_UNDER_LIMIT', replayed: true, allowance: { remaining: 4_000 } });
    expect(await spent(accountId)).toBe(6_000);
    const otherLink = await seedLink(accountId, customerId);
    const before = await snapshot(accountId);
    for (const other of [{ amount: 6_001 }, { channel: 'TRANSFER' }, { linkId: otherLink }]) {
      const r = await authorize({ ...body, ...other });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ error: 'REQUEST_ID_REUSED', field: 'requestId' });
    }
    expect(await snapshot(accountId)).toBe(before);
  });

  it('concurrent first tries of one requestId reserve once', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const body = { accountId, channel: 'EPAY_CHARGE', amount: 4_000, currency: 'JPY', linkId, requestId: 'twin' };
    const results = await Promise.all(Array.from({ length: 10 }, () => authorize(body)));
    expect(results.every((r) => r.body.decision === 'ALLOW')).toBe(true);
    expect(await spent(accountId)).toBe(4_000);
  });

  it('lets a protective change win over a replay: a retry after the freeze is DENY', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const body = { accountId, channel: 'EPAY_CHARGE', amount: 2_000, currency: 'JPY', linkId, requestId: 'before-revoke' };
    expect((await authorize(body)).body.decision).toBe('ALLOW');
    await revokeLink(accountId, linkId, { actor: 'CUSTOMER_WEB' });
    expect((await authorize(body)).body).toMatchObject({ decision: 'DENY', reason: 'LINK_REVOKED' });
    await freezeAccount(accountId, { actor: 'CUSTOMER_WEB' });
    expect((await authorize(body)).body).toMatchObject({ decision: 'DENY', reason: 'ACCOUNT_FROZEN' });
  });

  it('releases a reservation once, never below zero, never a posted one; unknown ids change nothing', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const debit = (requestId: string, amount: number) => authorize({ accountId, channel: 'EPAY_CHARGE', amount, currency: 'JPY', linkId, requestId });
    expect((await debit('r1', 7_000)).body.decision).toBe('ALLOW');
    expect((await debit('r2', 5_000)).body.decision).toBe('HOLD');
    const before = await snapshot(accountId);
    expect(await release({ accountId, requestId: 'r2' })).toMatchObject({ status: 404, body: { error: 'UNKNOWN_RESERVATION', field: 'requestId' } });
    expect(await release({ accountId, requestId: 'never' })).toMatchObject({ status: 404, body: { error: 'UNKNOWN_RESERVATION' } });
    expect(await release({ accountId: 'no-such-account', requestId: 'r1' })).toMatchObject({ status: 404, body: { error: 'UNKNOWN_ACCOUNT', field: 'accountId' } });
    expect(await snapshot(accountId)).toBe(before);

    const releases = await Promise.all(Array.from({ length: 5 }, () => release({ accountId, requestId: 'r1' })));
    expect(releases.every((r) => r.status === 200)).toBe(true);
    expect(releases.filter((r) => r.body.released === true)).toHaveLength(1);
    expect(releases.filter((r) => r.body.alreadyReleased === true)).toHaveLength(4);
    expect(releases[0]!.body).toMatchObject({ amount: 7_000, allowance: { remaining: 10_000 } });
    expect(await spent(accountId)).toBe(0);
    // The id of a released reservation is not reused for a new reservation.
    expect(await debit('r1', 7_000)).toMatchObject({ status: 409, body: { error: 'REQUEST_ID_RELEASED' } });
    expect((await debit('r3', 9_000)).body.decision).toBe('ALLOW');

    // Posted with its requestId: counted once, and no longer releasable.
    const posted = withdrawal(accountId, { linkId, amount: 9_000, authorizeRequestId: 'r3' });
    expect(await recordPostedWithdrawal(posted, policy)).toBe('RESERVATION_POSTED');
    expect(await recordPostedWithdrawal(posted, policy)).toBe('ALREADY_COUNTED');
    expect(await spent(accountId)).toBe(9_000);
    expect(await release({ accountId, requestId: 'r3' })).toMatchObject({ status: 409, body: { error: 'ALREADY_POSTED' } });
    expect(await spent(accountId)).toBe(9_000);
  });

  it('answers malformed release requests 400 naming the field, and changes nothing', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 1_000, currency: 'JPY', linkId, requestId: 'keep' });
    const before = await snapshot(accountId);
    const cases: [unknown, string, boolean?][] = [
      ['', 'body', true],
      ['{"accountId":', 'body', true],
      ['[]', 'body', true],
      [{ requestId: 'keep' }, 'accountId'],
      [{ accountId }, 'requestId'],
      [{ accountId, requestId: '' }, 'requestId'],
      [{ accountId, requestId: 'a b' }, 'requestId'],
      [{ accountId, requestId: 'x'.repeat(65) }, 'requestId'],
      [{ accountId, requestId: 7 }, 'requestId'],
      [{ accountId, requestId: 'keep', amount: 1_000 }, 'amount'],
    ];
    for (const [body, field, raw] of cases) {
      const r = await release(body, raw);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ error: 'INVALID_REQUEST', field });
    }
    expect(await snapshot(accountId)).toBe(before);
  });
});

function withdrawal(accountId: string, over: Partial<WithdrawalPosted>): WithdrawalPosted {
  return { eventId: uniq('evt-wd'), occurredAt: new Date().toISOString(), accountId, withdrawalId: uniq('wd'), channel: 'EPAY_CHARGE', amount: 1_000, currency: 'JPY', ...over };
}

describe('WithdrawalPosted the core never asked about', () => {
  it('consumes the allowance once (a redelivery counts nothing), so the next question sees it', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const w = withdrawal(accountId, { linkId, amount: 9_500 });
    expect(await recordPostedWithdrawal(w, policy)).toBe('COUNTED');
    expect(await recordPostedWithdrawal(w, policy)).toBe('ALREADY_COUNTED');
    expect(await spent(accountId)).toBe(9_500);
    expect((await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 501, currency: 'JPY', linkId, requestId: 'after-posting' })).body).toMatchObject({ decision: 'HOLD', allowance: { remaining: 500 } });
    // Counted whatever it takes the total to: the money has left. Remaining never goes below zero.
    expect(await recordPostedWithdrawal(withdrawal(accountId, { linkId, amount: 3_000 }), policy)).toBe('COUNTED');
    expect(await spent(accountId)).toBe(12_500);
    expect((await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 1, currency: 'JPY', linkId, requestId: 'x' })).body).toMatchObject({ decision: 'HOLD', allowance: { remaining: 0 } });
    // A cardless withdrawal through a pending app counts too; one not through a hold does not.
    const other = await seedAccount();
    await openAppHold(activation(other.accountId), in24h());
    expect(await recordPostedWithdrawal(withdrawal(other.accountId, { channel: 'ATM_CARD', amount: 80_000 }), policy)).toBe('NOT_THROUGH_A_HOLD');
    expect(await recordPostedWithdrawal(withdrawal(other.accountId, { channel: 'ATM_CARDLESS', amount: 4_000 }), policy)).toBe('COUNTED');
    expect(await spent(other.accountId)).toBe(4_000);
  });
});
