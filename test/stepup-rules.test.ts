/** The step-up's rules in plain TypeScript: where the code goes, how a typed code is judged, when another may be sent. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canSendCode, DEFAULT_POLICY, hashCode, judgeCode, normaliseCode, pickCodeChannel, type CodeChallenge } from '../src/stepup/codes.ts';
import { isReleasing } from '../src/domain/action-page/flow.ts';

const PEPPER = 'p'.repeat(32);
const binding = { alertId: 'al-1', actionKey: 'CONFIRM_LINK:l1', tokenHash: 'tok-1' };
const now = new Date('2026-11-29T10:00:00Z');
function challenge(over: Partial<CodeChallenge> = {}): CodeChallenge {
  return {
    accountId: 'a',
    customerId: 'c',
    alertId: 'al-1',
    actionKey: 'CONFIRM_LINK:l1',
    tokenHash: 'tok-1',
    channel: 'SMS',
    codeHash: hashCode(PEPPER, binding, '123456'),
    sentAt: '2026-11-29T09:59:00.000Z',
    expiresAt: '2026-11-29T10:09:00.000Z',
    sends: 1,
    failures: 0,
    version: 1,
    ...over,
  };
}

describe('where the code goes', () => {
  const both = { phone: '+819012345678', email: 'h@example.jp' };
  it('to the other channel than the message the page was opened from', () => {
    expect(pickCodeChannel('EMAIL', both)).toMatchObject({ ok: true, channel: 'SMS', sameChannel: false });
    expect(pickCodeChannel('SMS', both)).toMatchObject({ ok: true, channel: 'EMAIL', sameChannel: false });
  });
  it('to the same one when it is the only one (said plainly), or a suppressed other counts as none', () => {
    expect(pickCodeChannel('EMAIL', { email: both.email })).toMatchObject({ channel: 'EMAIL', sameChannel: true });
    expect(pickCodeChannel('SMS', { phone: both.phone })).toMatchObject({ channel: 'SMS', sameChannel: true });
    expect(pickCodeChannel('EMAIL', { ...both, suppressedPhone: true })).toMatchObject({ channel: 'EMAIL', sameChannel: true });
    expect(pickCodeChannel('EMAIL', {})).toEqual({ ok: false, reason: 'NO_CONTACT' });
  });
  it('a token that does not know its channel counts as opened from the email: the code goes to the phone', () => {
    expect(pickCodeChannel(undefined, both)).toMatchObject({ channel: 'SMS' });
  });
});

describe('judging a typed code', () => {
  const typed = (code: string, b = binding) => hashCode(PEPPER, b, code);
  it('right, wrong, spent, expired, locked, and another page\'s or alert\'s code', () => {
    expect(judgeCode(challenge(), typed('123456'), 'tok-1', now, DEFAULT_POLICY)).toEqual({ ok: true });
    expect(judgeCode(challenge(), typed('123457'), 'tok-1', now, DEFAULT_POLICY)).toEqual({ ok: false, reason: 'WRONG', attemptsLeft: 4, locks: false });
    expect(judgeCode(challenge({ consumedAt: now.toISOString() }), typed('123456'), 'tok-1', now, DEFAULT_POLICY)).toEqual({ ok: false, reason: 'USED' });
    expect(judgeCode(challenge({ expiresAt: now.toISOString() }), typed('123456'), 'tok-1', now, DEFAULT_POLICY)).toEqual({ ok: false, reason: 'EXPIRED' });
    expect(judgeCode(challenge({ failures: 5 }), typed('123456'), 'tok-1', now, DEFAULT_POLICY)).toEqual({ ok: false, reason: 'LOCKED' });
    expect(judgeCode(challenge({ failures: 4 }), typed('000000'), 'tok-1', now, DEFAULT_POLICY)).toMatchObject({ reason: 'WRONG', locks: true });
    expect(judgeCode(challenge(), typed('123456', { ...binding, alertId: 'al-2' }), 'tok-1', now, DEFAULT_POLICY)).toMatchObject({ reason: 'WRONG' });
    expect(judgeCode(challenge(), typed('123456'), 'tok-2', now, DEFAULT_POLICY)).toMatchObject({ reason: 'WRONG' });
    expect(judgeCode(undefined, typed('123456'), 'tok-1', now, DEFAULT_POLICY)).toEqual({ ok: false, reason: 'NO_CODE' });
  });
  it('only the one right code of a million passes; every other one is wrong', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999 }), (n) => {
        const code = String(n).padStart(6, '0');
        const v = judgeCode(challenge(), typed(code), 'tok-1', now, DEFAULT_POLICY);
        return code === '123456' ? v.ok : !v.ok && v.reason === 'WRONG';
      }),
      { numRuns: 2000 },
    );
  });
  it('reads full-width digits, spaces and hyphens; nothing else is a code', () => {
    expect(normaliseCode('１２３ ４５６')).toBe('123456');
    expect(normaliseCode('123-456')).toBe('123456');
    for (const bad of [undefined, '', '12345', '1234567', 'abcdef', '١٢٣٤٥٦', '12345６7', 'x'.repeat(100)]) expect(normaliseCode(bad)).toBeUndefined();
  });
});

describe('sending another code', () => {
  it('not within a minute of the last, at most three per confirmation, never once locked', () => {
    expect(canSendCode(undefined, now, DEFAULT_POLICY)).toEqual({ ok: true });
    expect(canSendCode(challenge({ sentAt: '2026-11-29T09:59:30.000Z' }), now, DEFAULT_POLICY)).toMatchObject({ ok: false, reason: 'TOO_SOON' });
    expect(canSendCode(challenge({ sentAt: '2026-11-29T09:58:59.000Z' }), now, DEFAULT_POLICY)).toEqual({ ok: true });
    expect(canSendCode(challenge({ sends: 3, sentAt: '2026-11-29T09:00:00.000Z' }), now, DEFAULT_POLICY)).toMatchObject({ reason: 'TOO_MANY' });
    expect(canSendCode(challenge({ lockedAt: now.toISOString() }), now, DEFAULT_POLICY)).toMatchObject({ reason: 'LOCKED' });
  });
});

describe('which actions need the step-up', () => {
  it('every CONFIRM_* (link or app) releases money; freeze, revoke and deactivate stay one tap', () => {
    expect(isReleasing({ kind: 'CONFIRM_LINK', linkId: 'l' })).toBe(true);
    expect(isReleasing({ kind: 'CONFIRM_APP', activationId: 'a' })).toBe(true);
    expect(isReleasing({ kind: 'FREEZE_ACCOUNT' })).toBe(false);
    expect(isReleasing({ kind: 'REVOKE_LINK', linkId: 'l' })).toBe(false);
    expect(isReleasing({ kind: 'DEACTIVATE_APP', activationId: 'a' })).toBe(false);
  });
});
