/** The alert decision: who, what, which actions, per the rules in src/domain/alert-decision.ts. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  alertIdFor,
  decideAlert,
  withdrawalNeedsAlert,
  tokenActionsFor,
  type AlertableEvent,
  type CustomerView,
} from '../src/domain/alert-decision.ts';
import { readFileSync } from 'node:fs';
import { LinkCreated, AppActivated, WithdrawalPosted, ContactChanged } from '../events/core.ts';

const example = <T>(name: string, schema: { parse(x: unknown): T }): T =>
  schema.parse((JSON.parse(readFileSync(new URL(`../events/examples/${name}.json`, import.meta.url), 'utf8')) as { detail: unknown }).detail);

const customer = (over: Partial<CustomerView> = {}): CustomerView => ({
  customerId: 'cust-0001',
  email: 'Hanako.Yamada@Example.jp',
  phone: '+819012345678',
  locale: 'ja',
  accountIds: ['acct-0001'],
  preferences: { withdrawals: 'LINKED_AND_CARDLESS', withdrawalThreshold: 50_000 },
  ...over,
});
const account = { accountId: 'acct-0001', last4: '1234' };
const now = new Date('2026-11-25T00:00:00Z');

describe('withdrawal preference', () => {
  const prefs = (withdrawals: CustomerView['preferences']['withdrawals']) => ({ withdrawals, withdrawalThreshold: 50_000 });
  it('default LINKED_AND_CARDLESS: every cardless, e-payment and linked withdrawal; card ATM and transfer at or above the threshold', () => {
    const p = prefs('LINKED_AND_CARDLESS');
    expect(withdrawalNeedsAlert({ channel: 'ATM_CARDLESS', amount: 1 }, p, false)).toBe(true);
    expect(withdrawalNeedsAlert({ channel: 'EPAY_CHARGE', amount: 1 }, p, false)).toBe(true);
    expect(withdrawalNeedsAlert({ channel: 'TRANSFER', amount: 1, linkId: 'l' }, p, false)).toBe(true);
    expect(withdrawalNeedsAlert({ channel: 'ATM_CARD', amount: 49_999 }, p, false)).toBe(false);
    expect(withdrawalNeedsAlert({ channel: 'ATM_CARD', amount: 50_000 }, p, false)).toBe(true);
    expect(withdrawalNeedsAlert({ channel: 'TRANSFER', amount: 49_999 }, p, false)).toBe(false);
    expect(withdrawalNeedsAlert({ channel: 'TRANSFER', amount: 50_000 }, p, false)).toBe(true);
  });
  it('ALL alerts on everything; ABOVE_THRESHOLD only at or above it', () => {
    expect(withdrawalNeedsAlert({ channel: 'ATM_CARD', amount: 1 }, prefs('ALL'), false)).toBe(true);
    expect(withdrawalNeedsAlert({ channel: 'EPAY_CHARGE', amount: 1 }, prefs('ABOVE_THRESHOLD'), false)).toBe(false);
    expect(withdrawalNeedsAlert({ channel: 'EPAY_CHARGE', amount: 50_000 }, prefs('ABOVE_THRESHOLD'), false)).toBe(true);
  });
  it('a debit through a link still in its hold window alerts whatever the preference', () => {
    fc.assert(
      fc.property(fc.constantFrom('ALL', 'LINKED_AND_CARDLESS', 'ABOVE_THRESHOLD' as const), fc.constantFrom('ATM_CARD', 'ATM_CARDLESS', 'EPAY_CHARGE', 'TRANSFER' as const), fc.integer({ min: 1, max: 1e9 }), (w, channel, amount) => {
        expect(withdrawalNeedsAlert({ channel, amount, linkId: 'l' }, { withdrawals: w, withdrawalThreshold: 1e10 }, true)).toBe(true);
      }),
    );
  });
  it('decideAlert uses the link state: PENDING in the window overrides ABOVE_THRESHOLD', () => {
    const w: AlertableEvent = { detailType: 'WithdrawalPosted', detail: { ...example('WithdrawalPosted', WithdrawalPosted), amount: 100 } };
    const c = customer({ preferences: { withdrawals: 'ABOVE_THRESHOLD', withdrawalThreshold: 50_000 } });
    const pending = { providerName: 'D-Wallet', state: 'PENDING' as const, holdUntil: '2026-11-26T00:00:00Z' };
    expect(decideAlert(w, { customer: c, account, link: pending, now }).alert).toBe(true);
    expect(decideAlert(w, { customer: c, account, link: { ...pending, holdUntil: '2026-11-24T00:00:00Z' }, now })).toEqual({ alert: false, reason: 'PREFERENCE' });
    expect(decideAlert(w, { customer: c, account, link: { ...pending, state: 'ACTIVE' }, now }).alert).toBe(false);
  });
});

describe('token actions', () => {
  it('links and app activations with a link: freeze, revoke, confirm; withdrawals: freeze (+ revoke through a link); contact changes: freeze', () => {
    const link = example('LinkCreated', LinkCreated);
    expect(tokenActionsFor({ detailType: 'LinkCreated', detail: link })).toEqual([
      { kind: 'FREEZE_ACCOUNT' },
      { kind: 'REVOKE_LINK', linkId: link.linkId },
      { kind: 'CONFIRM_LINK', linkId: link.linkId },
    ]);
    const app = example('AppActivated', AppActivated);
    // An activation is held like a link: deactivate it or confirm it (src/holds/), keyed by the event.
    expect(tokenActionsFor({ detailType: 'AppActivated', detail: app })).toEqual([
      { kind: 'FREEZE_ACCOUNT' },
      { kind: 'DEACTIVATE_APP', activationId: app.eventId },
      { kind: 'CONFIRM_APP', activationId: app.eventId },
    ]);
    const { linkId: _l, ...appNoLink } = app;
    expect(tokenActionsFor({ detailType: 'AppActivated', detail: appNoLink }).map((a) => a.kind)).toEqual(['FREEZE_ACCOUNT', 'DEACTIVATE_APP', 'CONFIRM_APP']);
    const wd = example('WithdrawalPosted', WithdrawalPosted);
    expect(tokenActionsFor({ detailType: 'WithdrawalPosted', detail: wd })).toEqual([{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId: wd.linkId }]);
    const { linkId: _w, ...wdNoLink } = wd;
    expect(tokenActionsFor({ detailType: 'WithdrawalPosted', detail: wdNoLink })).toEqual([{ kind: 'FREEZE_ACCOUNT' }]);
    expect(tokenActionsFor({ detailType: 'ContactChanged', detail: example('ContactChanged', ContactChanged) })).toEqual([{ kind: 'FREEZE_ACCOUNT' }]);
  });
});

describe('recipients', () => {
  const link: AlertableEvent = { detailType: 'LinkCreated', detail: example('LinkCreated', LinkCreated) };
  it('profile email and phone, lower-cased, minus suppressed ones', () => {
    const d = decideAlert(link, { customer: customer(), account, now });
    expect(d.alert && d.plan.recipients).toEqual([
      { channel: 'EMAIL', address: 'hanako.yamada@example.jp', role: 'PROFILE' },
      { channel: 'SMS', address: '+819012345678', role: 'PROFILE' },
    ]);
    const s = decideAlert(link, { customer: customer({ suppressedEmail: true }), account, now });
    expect(s.alert && s.plan.recipients.map((r) => r.channel)).toEqual(['SMS']);
  });

  it('a contact change reaches old and new address and number, plus the unchanged contact on file, each once', () => {
    const cc = example('ContactChanged', ContactChanged);
    const d = decideAlert({ detailType: 'ContactChanged', detail: cc }, { customer: customer({ accountIds: ['acct-0001', 'acct-0002'] }), account, now });
    if (!d.alert) throw new Error('expected an alert');
    expect(d.plan.recipients.map((r) => `${r.channel} ${r.role} ${r.address}`)).toEqual([
      'EMAIL PREVIOUS hanako.yamada@example.jp',
      'EMAIL CURRENT hanako.y@example.net',
      'SMS PREVIOUS +819012345678',
      'SMS CURRENT +818098765432',
    ]);
    expect(d.plan.owner).toEqual({ customerId: 'cust-0001' });
    expect(d.plan.tokenAccountId).toBe('acct-0001');
    expect(d.plan.content).toMatchObject({ kind: 'CONTACT_CHANGED', emailChanged: true, phoneChanged: true, newEmailMasked: 'h***@example.net', newPhoneMasked: '*****5432', otherAccounts: true });

    const emailOnly: ContactChanged = { ...cc, previous: { email: 'old@example.jp' }, current: { email: 'new@example.jp' } };
    const e = decideAlert({ detailType: 'ContactChanged', detail: emailOnly }, { customer: customer(), account, now });
    if (!e.alert) throw new Error('expected an alert');
    // The phone on file still gets the SMS: the real customer still holds it.
    expect(e.plan.recipients.map((r) => `${r.channel} ${r.role}`)).toEqual(['EMAIL PREVIOUS', 'EMAIL CURRENT', 'EMAIL PROFILE', 'SMS PROFILE']);
    expect(e.plan.content).toMatchObject({ emailChanged: true, phoneChanged: false, otherAccounts: false });
  });
});

describe('alert id', () => {
  it('is deterministic per source event, distinct across events, and tag-safe', () => {
    expect(alertIdFor('evt-1')).toBe(alertIdFor('evt-1'));
    expect(alertIdFor('evt-1')).not.toBe(alertIdFor('evt-2'));
    expect(alertIdFor('evt-1')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
