/**
 * The hold rules as plain functions (src/domain/allowance.ts, src/domain/authorize.ts): which
 * debits go through a pending hold, what the allowance lets through, how periods open, extend and
 * end, releases, and the app hold transitions.
 */
import { describe, expect, it } from 'vitest';
import {
  allowanceNow,
  appHoldsToPrune,
  confirmAppTransition,
  deactivateAppTransition,
  MAX_ALLOWANCE_ENTRIES,
  planHoldOpening,
  planPosting,
  planRelease,
  planReservation,
  sameDebit,
  type Allowance,
  type AllowanceEntry,
  type AppHold,
} from '../src/domain/allowance.ts';
import { assessDebit, planDebit, type AccountView } from '../src/domain/authorize.ts';

const policy = { limitMinor: 10_000, limitCurrency: 'JPY' };
const now = new Date('2026-11-25T12:00:00Z');
const later = '2026-11-26T00:00:00.000Z';
const earlier = '2026-11-25T00:00:00.000Z';
const entry = (amount: number, status: AllowanceEntry['status'] = 'RESERVED'): AllowanceEntry => ({ amount, status, at: earlier, holdKind: 'LINK', holdId: 'l', channel: 'EPAY_CHARGE', linkId: 'l' });
const running = (spent: number, entries: Record<string, AllowanceEntry> = {}): Allowance => ({ until: later, spent, entries });
const app = (over: Partial<AppHold> = {}): AppHold => ({
  activationId: 'evt-1',
  appId: 'cardless-atm',
  appName: 'Cardless ATM',
  linkId: 'lnk-cl',
  state: 'PENDING',
  activatedAt: earlier,
  holdUntil: later,
  updatedAt: earlier,
  ...over,
});
const acct = (over: Partial<AccountView> = {}): AccountView => ({ state: 'ACTIVE', ...over });
const pendingLink = { state: 'PENDING' as const, holdUntil: later };

describe('the allowance', () => {
  it('lets through what fits what is left, in yen only, and holds the rest', () => {
    expect(planReservation(undefined, later, 10_000, 'JPY', policy, now)).toMatchObject({ ok: true, remainingAfter: 0, write: { kind: 'FRESH', until: later } });
    expect(planReservation(undefined, later, 10_001, 'JPY', policy, now)).toEqual({ ok: false, remaining: 10_000 });
    expect(planReservation(running(9_999), later, 1, 'JPY', policy, now)).toMatchObject({ ok: true, remainingAfter: 0, write: { kind: 'ADD', readUntil: later } });
    expect(planReservation(running(9_999), later, 2, 'JPY', policy, now)).toEqual({ ok: false, remaining: 1 });
    expect(planReservation(undefined, later, 1, 'USD', policy, now)).toEqual({ ok: false, remaining: 10_000 });
    // Spent beyond the limit (postings) leaves nothing, never a negative remainder.
    expect(allowanceNow(running(12_500), policy, now).remaining).toBe(0);
  });

  it('counts a full entry list as spent: hundreds of debits through a new link are themselves the pattern', () => {
    const entries = Object.fromEntries(Array.from({ length: MAX_ALLOWANCE_ENTRIES }, (_, i) => [`R#${i}`, entry(1)]));
    expect(planReservation(running(MAX_ALLOWANCE_ENTRIES, entries), later, 1, 'JPY', policy, now)).toEqual({ ok: false, remaining: 0 });
  });

  it('opens a period, extends it for a later hold, never shortens or resets a running one', () => {
    expect(planHoldOpening(undefined, later, now)).toEqual({ kind: 'FRESH', readUntil: undefined, until: later });
    const ended = { until: earlier, spent: 10_000, entries: {} };
    expect(planHoldOpening(ended, later, now)).toEqual({ kind: 'FRESH', readUntil: earlier, until: later });
    expect(planHoldOpening(running(5_000), '2026-11-26T06:00:00.000Z', now)).toEqual({ kind: 'ADD', readUntil: later, until: '2026-11-26T06:00:00.000Z' });
    expect(planHoldOpening(running(5_000), '2026-11-25T18:00:00.000Z', now)).toBeUndefined();
    // A hold whose window already passed (a late event) opens nothing.
    expect(planHoldOpening(undefined, earlier, now)).toBeUndefined();
    // Once the period has ended, the allowance is whole again.
    expect(allowanceNow(ended, policy, now)).toEqual({ active: false, spent: 0, remaining: 10_000 });
  });

  it('counts a posting whatever the total; another currency as the whole allowance', () => {
    expect(planPosting(running(9_000), later, 3_000, 'JPY', policy, now)).toEqual({ write: { kind: 'ADD', readUntil: later, until: later }, counted: 3_000 });
    expect(planPosting(undefined, later, 5, 'USD', policy, now).counted).toBe(10_000);
  });

  it('releases a reservation once, never a posted one, and knows nothing of other ids or ended periods', () => {
    const a = running(7_000, { 'R#r1': entry(7_000), 'R#r2': entry(500, 'RELEASED'), 'R#r3': entry(900, 'POSTED') });
    expect(planRelease(a, 'r1', now)).toEqual({ kind: 'RELEASE', amount: 7_000 });
    expect(planRelease(a, 'r2', now)).toEqual({ kind: 'ALREADY_RELEASED', amount: 500 });
    expect(planRelease(a, 'r3', now)).toEqual({ kind: 'ALREADY_POSTED', amount: 900 });
    expect(planRelease(a, 'r4', now)).toEqual({ kind: 'UNKNOWN_RESERVATION' });
    expect(planRelease({ ...a, until: earlier }, 'r1', now)).toEqual({ kind: 'UNKNOWN_RESERVATION' });
  });

  it('recognises a retry only when it is the same debit', () => {
    const e = entry(6_000);
    expect(sameDebit(e, { amount: 6_000, channel: 'EPAY_CHARGE', linkId: 'l' })).toBe(true);
    expect(sameDebit(e, { amount: 6_001, channel: 'EPAY_CHARGE', linkId: 'l' })).toBe(false);
    expect(sameDebit(e, { amount: 6_000, channel: 'TRANSFER', linkId: 'l' })).toBe(false);
    expect(sameDebit(e, { amount: 6_000, channel: 'EPAY_CHARGE' })).toBe(false);
  });
});

describe('which debits go through a pending hold', () => {
  const apps = { 'evt-1': app() };
  it.each([
    ['cardless, app pending, not named', { channel: 'ATM_CARDLESS' }, acct({ apps }), undefined, { through: { holdKind: 'APP', holdId: 'evt-1' } }],
    ['cardless naming the app id', { channel: 'ATM_CARDLESS', linkId: 'cardless-atm' }, acct({ apps }), undefined, { through: { holdKind: 'APP' } }],
    ['cardless naming the activation link', { channel: 'ATM_CARDLESS', linkId: 'lnk-cl' }, acct({ apps }), undefined, { through: { holdKind: 'APP' } }],
    ['cardless naming an app never seen, none pending (genuine old app)', { channel: 'ATM_CARDLESS', linkId: 'old-app' }, acct(), undefined, { final: { decision: 'ALLOW', reason: 'OK' } }],
    ['cardless naming an app never seen while one is pending', { channel: 'ATM_CARDLESS', linkId: 'other' }, acct({ apps }), undefined, { through: { holdKind: 'APP' } }],
    ['e-payment naming an unknown id', { channel: 'EPAY_CHARGE', linkId: 'never-seen' }, acct({ apps }), undefined, { final: { decision: 'DENY', reason: 'UNKNOWN_LINK' } }],
    ['card withdrawal while an app is pending', { channel: 'ATM_CARD' }, acct({ apps }), undefined, { final: { decision: 'ALLOW', reason: 'OK' } }],
    ['cardless, app confirmed', { channel: 'ATM_CARDLESS' }, acct({ apps: { e: app({ state: 'CONFIRMED' }) } }), undefined, { final: { decision: 'ALLOW', reason: 'OK' } }],
    ['cardless, app window passed', { channel: 'ATM_CARDLESS' }, acct({ apps: { e: app({ holdUntil: earlier }) } }), undefined, { final: { decision: 'ALLOW', reason: 'OK' } }],
    ['cardless after "not me" to an app', { channel: 'ATM_CARDLESS' }, acct({ apps: { e: app({ state: 'DEACTIVATED', holdUntil: earlier }) } }), undefined, { final: { decision: 'DENY', reason: 'APP_DEACTIVATED' } }],
    ['e-payment naming the deactivated activation link', { channel: 'EPAY_CHARGE', linkId: 'lnk-cl' }, acct({ apps: { e: app({ state: 'DEACTIVATED' }) } }), pendingLink, { final: { decision: 'DENY', reason: 'APP_DEACTIVATED' } }],
    ['transfer after "not me" to an app', { channel: 'TRANSFER' }, acct({ apps: { e: app({ state: 'DEACTIVATED' }) } }), undefined, { final: { decision: 'ALLOW', reason: 'OK' } }],
    ['frozen beats everything', { channel: 'ATM_CARDLESS' }, acct({ state: 'FROZEN', apps }), undefined, { final: { decision: 'DENY', reason: 'ACCOUNT_FROZEN' } }],
    ['a pending link named', { channel: 'EPAY_CHARGE', linkId: 'l' }, acct(), pendingLink, { through: { holdKind: 'LINK', holdId: 'l', holdUntil: later } }],
    ['a link item wins over an app of the same id', { channel: 'ATM_CARDLESS', linkId: 'lnk-cl' }, acct({ apps }), { state: 'ACTIVE' as const, holdUntil: earlier }, { final: { decision: 'ALLOW', reason: 'OK' } }],
  ] as const)('%s', (_name, req, account, link, expected) => {
    expect(assessDebit(req, account, link, now)).toMatchObject(expected);
  });

  it('picks the pending activation that ends last, so the period reaches it', () => {
    const two = { a: app({ activationId: 'a', holdUntil: later }), b: app({ activationId: 'b', holdUntil: '2026-11-26T09:00:00.000Z' }) };
    expect(assessDebit({ channel: 'ATM_CARDLESS' }, acct({ apps: two }), undefined, now)).toEqual({ through: { holdKind: 'APP', holdId: 'b', holdUntil: '2026-11-26T09:00:00.000Z' } });
  });

  it('plans the decision with what is left: ALLOW *_UNDER_LIMIT reserves, HOLD *_OVER_LIMIT does not', () => {
    const a = acct({ apps: { 'evt-1': app() }, allowance: running(9_000) });
    expect(planDebit({ channel: 'ATM_CARDLESS', amount: 1_000, currency: 'JPY' }, a, undefined, policy, now)).toMatchObject({ decision: 'ALLOW', reason: 'APP_PENDING_UNDER_LIMIT', remaining: 0, reserve: { write: { kind: 'ADD' } } });
    const held = planDebit({ channel: 'ATM_CARDLESS', amount: 1_001, currency: 'JPY' }, a, undefined, policy, now);
    expect(held).toEqual({ decision: 'HOLD', reason: 'APP_PENDING_OVER_LIMIT', remaining: 1_000 });
    expect(planDebit({ channel: 'EPAY_CHARGE', amount: 2_000, currency: 'JPY', linkId: 'l' }, a, pendingLink, policy, now)).toEqual({ decision: 'HOLD', reason: 'LINK_PENDING_OVER_LIMIT', remaining: 1_000 });
  });
});

describe('app hold transitions', () => {
  it('deactivates from any state but DEACTIVATED; confirms only a pending app on an active account', () => {
    expect(deactivateAppTransition('PENDING')).toEqual({ kind: 'CHANGE', from: 'PENDING', to: 'DEACTIVATED' });
    expect(deactivateAppTransition('CONFIRMED')).toEqual({ kind: 'CHANGE', from: 'CONFIRMED', to: 'DEACTIVATED' });
    expect(deactivateAppTransition('DEACTIVATED')).toEqual({ kind: 'UNCHANGED', state: 'DEACTIVATED' });
    expect(confirmAppTransition('PENDING', 'ACTIVE')).toEqual({ kind: 'CHANGE', from: 'PENDING', to: 'CONFIRMED' });
    expect(confirmAppTransition('CONFIRMED', 'ACTIVE')).toEqual({ kind: 'UNCHANGED', state: 'CONFIRMED' });
    expect(confirmAppTransition('DEACTIVATED', 'ACTIVE')).toEqual({ kind: 'REFUSED', reason: 'APP_DEACTIVATED' });
    expect(confirmAppTransition('PENDING', 'FROZEN')).toEqual({ kind: 'REFUSED', reason: 'ACCOUNT_FROZEN' });
  });

  it('prunes holds whose window passed, never a deactivated one', () => {
    const apps = { a: app({ activationId: 'a', holdUntil: earlier }), b: app({ activationId: 'b' }), c: app({ activationId: 'c', state: 'DEACTIVATED', holdUntil: earlier }), d: app({ activationId: 'd', state: 'CONFIRMED', holdUntil: earlier }) };
    expect(appHoldsToPrune(apps, now).sort()).toEqual(['a', 'd']);
  });
});
