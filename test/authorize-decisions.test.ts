/**
 * POST /v1/authorize: the decision rules (plain domain), the handler against DynamoDB Local
 * (hold window and limit, freeze, revoke, confirm, unknown account/link), and malformed requests
 * answered 400 with the field named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeDebit, type DebitRequest } from '../src/domain/authorize.ts';
import { resetRuntimeConfig } from '../src/config.ts';
import { confirmLink, freezeAccount, revokeLink } from '../src/store/actions.ts';
import { httpEvent, invoke, loadHandler, seedAccount, seedLink, setupActionEnv, snapshot, type ActionEnv, type Handler } from './action-support.ts';

const policy = { limitMinor: 10_000, limitCurrency: 'JPY' };
const now = new Date('2026-11-25T12:00:00Z');
const req = (over: Partial<DebitRequest> = {}): DebitRequest => ({ accountId: 'a', channel: 'EPAY_CHARGE', amount: 5_000, currency: 'JPY', linkId: 'l', ...over });
const pending = { state: 'PENDING' as const, holdUntil: '2026-11-26T00:00:00Z' };

describe('authorizeDebit rules', () => {
  it.each([
    ['unknown account', req(), undefined, pending, 'DENY', 'UNKNOWN_ACCOUNT'],
    ['frozen account (before any link rule)', req(), { state: 'FROZEN' as const }, pending, 'DENY', 'ACCOUNT_FROZEN'],
    ['frozen account, no link', req({ linkId: undefined, channel: 'ATM_CARD' }), { state: 'FROZEN' as const }, undefined, 'DENY', 'ACCOUNT_FROZEN'],
    ['active account, no link', req({ linkId: undefined, channel: 'TRANSFER', amount: 9_999_999 }), { state: 'ACTIVE' as const }, undefined, 'ALLOW', 'OK'],
    ['unknown link', req(), { state: 'ACTIVE' as const }, undefined, 'DENY', 'UNKNOWN_LINK'],
    ['revoked link', req({ amount: 1 }), { state: 'ACTIVE' as const }, { state: 'REVOKED' as const, holdUntil: '2020-01-01T00:00:00Z' }, 'DENY', 'LINK_REVOKED'],
    ['pending link, at the limit', req({ amount: 10_000 }), { state: 'ACTIVE' as const }, pending, 'ALLOW', 'LINK_PENDING_UNDER_LIMIT'],
    ['pending link, one yen above the limit', req({ amount: 10_001 }), { state: 'ACTIVE' as const }, pending, 'HOLD', 'LINK_PENDING_OVER_LIMIT'],
    ['pending link, another currency (cannot be compared)', req({ amount: 1, currency: 'USD' }), { state: 'ACTIVE' as const }, pending, 'HOLD', 'LINK_PENDING_OVER_LIMIT'],
    ['pending link whose window has passed counts as active', req({ amount: 500_000 }), { state: 'ACTIVE' as const }, { state: 'PENDING' as const, holdUntil: '2026-11-25T12:00:00Z' }, 'ALLOW', 'OK'],
    ['active link', req({ amount: 500_000 }), { state: 'ACTIVE' as const }, { state: 'ACTIVE' as const, holdUntil: '2026-11-26T00:00:00Z' }, 'ALLOW', 'OK'],
  ] as const)('%s', (_name, request, account, link, decision, reason) => {
    expect(authorizeDebit(request, account, link, policy, now)).toEqual({ decision, reason });
  });
});

let env: ActionEnv;
let handler: Handler;
beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('authorize');
});
afterAll(async () => {
  await env.bridge.stop();
});

async function authorize(body: unknown, raw = false) {
  const res = await invoke(handler, httpEvent({ method: 'POST', path: '/v1/authorize', headers: { 'content-type': 'application/json' }, body: raw ? String(body) : JSON.stringify(body) }), 'authorize');
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

describe('POST /v1/authorize against DynamoDB Local', () => {
  it('holds large debits through a new link, allows small ones, and follows confirm, revoke and freeze at once', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    // A requestId per debit: reusing one for another amount is refused (test/authorize-allowance.test.ts).
    let n = 0;
    const debit = (amount: number, extra: Record<string, unknown> = {}) => authorize({ accountId, channel: 'EPAY_CHARGE', amount, currency: 'JPY', linkId, requestId: `req-${++n}`, ...extra });
    expect((await debit(10_000)).body).toMatchObject({ decision: 'ALLOW', reason: 'LINK_PENDING_UNDER_LIMIT', accountId, linkId, requestId: 'req-1' });
    expect((await debit(10_001)).body).toMatchObject({ decision: 'HOLD', reason: 'LINK_PENDING_OVER_LIMIT' });
    expect((await authorize({ accountId, channel: 'ATM_CARD', amount: 100_000, currency: 'JPY' })).body).toMatchObject({ decision: 'ALLOW', reason: 'OK' });

    await confirmLink(accountId, linkId, { actor: 'CUSTOMER_WEB' });
    expect((await debit(10_001)).body).toMatchObject({ decision: 'ALLOW', reason: 'OK' });
    await revokeLink(accountId, linkId, { actor: 'CUSTOMER_SMS_REPLY' });
    expect((await debit(1)).body).toMatchObject({ decision: 'DENY', reason: 'LINK_REVOKED' });
    expect((await authorize({ accountId, channel: 'TRANSFER', amount: 1, currency: 'JPY' })).body).toMatchObject({ decision: 'ALLOW' });
    await freezeAccount(accountId, { actor: 'CUSTOMER_EMAIL_REPLY' });
    for (const channel of ['ATM_CARD', 'ATM_CARDLESS', 'EPAY_CHARGE', 'TRANSFER']) {
      expect((await authorize({ accountId, channel, amount: 1, currency: 'JPY' })).body).toMatchObject({ decision: 'DENY', reason: 'ACCOUNT_FROZEN' });
    }
  });

  it('counts a PENDING link as ACTIVE once its hold window has passed, with no job running', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId, { createdAt: new Date(Date.now() - 25 * 3_600_000), holdHours: 24 });
    const r = await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 1_000_000, currency: 'JPY', linkId });
    expect(r.body).toMatchObject({ decision: 'ALLOW', reason: 'OK' });
  });

  it('uses the configured hold limit', async () => {
    process.env.HOLD_LIMIT_MINOR = '500';
    resetRuntimeConfig();
    try {
      const { accountId, customerId } = await seedAccount();
      const linkId = await seedLink(accountId, customerId);
      expect((await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 500, currency: 'JPY', linkId })).body.decision).toBe('ALLOW');
      expect((await authorize({ accountId, channel: 'EPAY_CHARGE', amount: 501, currency: 'JPY', linkId })).body.decision).toBe('HOLD');
    } finally {
      delete process.env.HOLD_LIMIT_MINOR;
      resetRuntimeConfig();
    }
  });

  it('denies an unknown account, an unknown link, and a link that belongs to another account', async () => {
    const a = await seedAccount();
    const b = await seedAccount();
    const bLink = await seedLink(b.accountId, b.customerId);
    expect((await authorize({ accountId: 'no-such-account', channel: 'ATM_CARD', amount: 1, currency: 'JPY' })).body).toMatchObject({ decision: 'DENY', reason: 'UNKNOWN_ACCOUNT' });
    expect((await authorize({ accountId: a.accountId, channel: 'EPAY_CHARGE', amount: 1, currency: 'JPY', linkId: 'never-seen' })).body).toMatchObject({ decision: 'DENY', reason: 'UNKNOWN_LINK' });
    expect((await authorize({ accountId: a.accountId, channel: 'EPAY_CHARGE', amount: 1, currency: 'JPY', linkId: bLink })).body).toMatchObject({ decision: 'DENY', reason: 'UNKNOWN_LINK' });
  });

  it('answers malformed requests 400 naming the field, and changes nothing', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const ok = { accountId, channel: 'EPAY_CHARGE', amount: 20_000, currency: 'JPY', linkId };
    const before = await snapshot(accountId);
    const cases: [unknown, string, boolean?][] = [
      ['', 'body', true],
      ['{"accountId":', 'body', true],
      ['[]', 'body', true],
      ['null', 'body', true],
      [{ ...ok, accountId: undefined }, 'accountId'],
      [{ ...ok, accountId: '' }, 'accountId'],
      [{ ...ok, accountId: 'x'.repeat(65) }, 'accountId'],
      [{ ...ok, accountId: 'acct 1; DROP' }, 'accountId'],
      [{ ...ok, accountId: 42 }, 'accountId'],
      [{ ...ok, channel: undefined }, 'channel'],
      [{ ...ok, channel: 'CASH' }, 'channel'],
      [{ ...ok, amount: undefined }, 'amount'],
      [{ ...ok, amount: 10.5 }, 'amount'],
      [{ ...ok, amount: 0 }, 'amount'],
      [{ ...ok, amount: -1 }, 'amount'],
      [{ ...ok, amount: '20000' }, 'amount'],
      [{ ...ok, amount: 1e14 }, 'amount'],
      [{ ...ok, currency: undefined }, 'currency'],
      [{ ...ok, currency: 'jpy' }, 'currency'],
      [{ ...ok, currency: 'YEN!' }, 'currency'],
      [{ ...ok, linkId: '' }, 'linkId'],
      [{ ...ok, linkId: 'a/b' }, 'linkId'],
      [{ ...ok, requestId: 'x'.repeat(100) }, 'requestId'],
      [{ ...ok, overrideDecision: 'ALLOW' }, 'overrideDecision'],
      [JSON.stringify(ok).replace('}', `,"pad":"${'x'.repeat(5000)}"}`), 'body', true],
    ];
    for (const [body, field, raw] of cases) {
      const r = await authorize(body, raw);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body).toMatchObject({ error: 'INVALID_REQUEST', field });
      expect(typeof r.body.message).toBe('string');
    }
    // A base64-encoded body (as API Gateway sends non-text types) is read the same way.
    const b64 = await invoke(handler, httpEvent({ method: 'POST', path: '/v1/authorize', body: JSON.stringify(ok), base64: true }), 'authorize');
    expect(JSON.parse(b64.body)).toMatchObject({ decision: 'HOLD' });
    // Neither the 400s nor the decisions change state.
    expect(await snapshot(accountId)).toBe(before);
  });
});
