/** The plain rules behind the action page and the state machines (no I/O). */
import { describe, expect, it } from 'vitest';
import { confirmTransition, effectiveLinkState, freezeTransition, revokeTransition, unfreezeTransition } from '../src/domain/account.ts';
import { formCheck, formatJst, isRepeatOfRecentUse, maskAccount, offeredActions, parseActionKey, pickLocale, readActionForm } from '../src/domain/action-page/flow.ts';
import { escapeHtml, renderActionPage } from '../src/domain/action-page/render.ts';
import type { AccountRecord, LinkRecord } from '../src/store/types.ts';

const P = 'p'.repeat(40);
const account = (state: 'ACTIVE' | 'FROZEN' = 'ACTIVE'): AccountRecord => ({ accountId: 'a', customerId: 'c', last4: '1234', state, version: 0, updatedAt: '' });
const link = (state: LinkRecord['state'] = 'PENDING', holdUntil = '2099-01-01T00:00:00Z'): LinkRecord => ({
  accountId: 'a', linkId: 'l1', customerId: 'c', providerId: 'p', providerName: 'D-Wallet', linkType: 'EPAY', state, createdAt: '2026-11-25T00:00:00Z', holdUntil, version: 0, updatedAt: '',
});
const all = [{ kind: 'FREEZE_ACCOUNT' as const }, { kind: 'REVOKE_LINK' as const, linkId: 'l1' }, { kind: 'CONFIRM_LINK' as const, linkId: 'l1' }];

describe('state machines', () => {
  it('freeze, unfreeze, revoke and confirm transitions', () => {
    expect(freezeTransition('ACTIVE')).toEqual({ kind: 'CHANGE', from: 'ACTIVE', to: 'FROZEN' });
    expect(freezeTransition('FROZEN')).toEqual({ kind: 'UNCHANGED', state: 'FROZEN' });
    expect(unfreezeTransition('FROZEN')).toEqual({ kind: 'CHANGE', from: 'FROZEN', to: 'ACTIVE' });
    expect(unfreezeTransition('ACTIVE')).toMatchObject({ kind: 'REFUSED', reason: 'ACCOUNT_NOT_FROZEN' });
    expect(revokeTransition('PENDING')).toEqual({ kind: 'CHANGE', from: 'PENDING', to: 'REVOKED' });
    expect(revokeTransition('ACTIVE')).toEqual({ kind: 'CHANGE', from: 'ACTIVE', to: 'REVOKED' });
    expect(revokeTransition('REVOKED')).toEqual({ kind: 'UNCHANGED', state: 'REVOKED' });
    expect(confirmTransition('PENDING', 'ACTIVE')).toEqual({ kind: 'CHANGE', from: 'PENDING', to: 'ACTIVE' });
    expect(confirmTransition('ACTIVE', 'ACTIVE')).toEqual({ kind: 'UNCHANGED', state: 'ACTIVE' });
    expect(confirmTransition('REVOKED', 'ACTIVE')).toMatchObject({ kind: 'REFUSED', reason: 'LINK_REVOKED' });
    expect(confirmTransition('PENDING', 'FROZEN')).toMatchObject({ kind: 'REFUSED', reason: 'ACCOUNT_FROZEN' });
  });

  it('a PENDING link counts as ACTIVE from the end of its hold window', () => {
    const l = link('PENDING', '2026-11-26T00:00:00.000Z');
    expect(effectiveLinkState(l, new Date('2026-11-25T23:59:59.999Z'))).toBe('PENDING');
    expect(effectiveLinkState(l, new Date('2026-11-26T00:00:00.000Z'))).toBe('ACTIVE');
    expect(effectiveLinkState(link('REVOKED', '2020-01-01T00:00:00Z'), new Date())).toBe('REVOKED');
  });
});

describe('what the page offers', () => {
  it('every action while nothing happened; no "it was me" after a freeze or revoke from this alert, a frozen account or a revoked link', () => {
    const avail = (o: ReturnType<typeof offeredActions>) => o.filter((x) => x.available).map((x) => x.key);
    expect(avail(offeredActions({ actions: all, used: {} }, account(), [link()]))).toEqual(['FREEZE_ACCOUNT', 'REVOKE_LINK:l1', 'CONFIRM_LINK:l1']);
    expect(avail(offeredActions({ actions: all, used: { FREEZE_ACCOUNT: 't' } }, account(), [link()]))).toEqual(['REVOKE_LINK:l1']);
    expect(avail(offeredActions({ actions: all, used: { 'REVOKE_LINK:l1': 't' } }, account(), [link()]))).toEqual(['FREEZE_ACCOUNT']);
    expect(avail(offeredActions({ actions: all, used: {} }, account('FROZEN'), [link()]))).toEqual(['REVOKE_LINK:l1']);
    expect(avail(offeredActions({ actions: all, used: {} }, account(), [link('REVOKED')]))).toEqual(['FREEZE_ACCOUNT']);
    expect(avail(offeredActions({ actions: all, used: {} }, account(), [link('ACTIVE')]))).toEqual(['FREEZE_ACCOUNT', 'REVOKE_LINK:l1']);
    expect(avail(offeredActions({ actions: all, used: {} }, account(), []))).toEqual(['FREEZE_ACCOUNT']);
  });

  it('reads only its own form back: exact fields, a known action, a check for this token and action', () => {
    const check = formCheck('hash-1', 'FREEZE_ACCOUNT', P);
    expect(readActionForm(`action=FREEZE_ACCOUNT&check=${check}`, 'hash-1', [P])).toMatchObject({ ok: true, key: 'FREEZE_ACCOUNT' });
    expect(readActionForm(`action=FREEZE_ACCOUNT&check=${check}&lang=en`, 'hash-1', ['q'.repeat(40), P])).toMatchObject({ ok: true });
    expect(readActionForm(`action=FREEZE_ACCOUNT&check=${check}`, 'hash-2', [P])).toEqual({ ok: false, problem: 'BAD_FORM' });
    expect(readActionForm(`action=REVOKE_LINK%3Al1&check=${check}`, 'hash-1', [P])).toEqual({ ok: false, problem: 'BAD_FORM' });
    expect(readActionForm(`action=NUKE&check=${check}`, 'hash-1', [P])).toEqual({ ok: false, problem: 'UNKNOWN_ACTION' });
    expect(readActionForm('', 'hash-1', [P])).toEqual({ ok: false, problem: 'BAD_FORM' });
    expect(parseActionKey('CONFIRM_LINK:l-1.x')).toEqual({ kind: 'CONFIRM_LINK', linkId: 'l-1.x' });
    expect(parseActionKey('FREEZE_ACCOUNT:x')).toBeUndefined();
  });

  it('language, time in Japan, masking, repeat window, escaping', () => {
    expect(pickLocale('en', 'ja', 'ja')).toBe('en');
    expect(pickLocale('xx', 'en', 'ja')).toBe('en');
    expect(pickLocale(undefined, undefined, 'en-US,en;q=0.9')).toBe('en');
    expect(pickLocale(undefined, undefined, undefined)).toBe('ja');
    expect(formatJst('2026-11-25T15:05:00Z', 'ja')).toBe('2026/11/26 00:05（日本時間）');
    expect(formatJst('2026-11-25T15:05:00Z', 'en')).toBe('2026/11/26 00:05 JST');
    expect(maskAccount('1234')).toBe('...1234');
    expect(maskAccount('12345678')).toBeUndefined();
    const now = new Date('2026-11-25T00:10:00Z');
    expect(isRepeatOfRecentUse('2026-11-25T00:09:00Z', now)).toBe(true);
    expect(isRepeatOfRecentUse('2026-11-25T00:07:00Z', now)).toBe(false);
    expect(escapeHtml(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });

  it('renders a small page without scripts, whatever the provider name holds', () => {
    const evil = link();
    evil.providerName = '<script>alert(1)</script>"';
    const page = renderActionPage({
      locale: 'en', token: 'AAAAAAAAAAAAAAAAAAAAAA', what: { kind: 'LINK_CREATED', provider: evil.providerName }, account: account(), links: [evil],
      offered: offeredActions({ actions: all, used: {} }, account(), [evil]), checkFor: () => 'c', now: new Date(),
    });
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('&lt;script&gt;');
    expect(Buffer.byteLength(page.body)).toBeLessThan(50 * 1024);
  });
});
