import { describe, expect, it } from 'vitest';
import { generateToken, isWellFormedToken, hashToken, checkGrant, TOKEN_LENGTH, type TokenGrant } from '../src/domain/tokens.ts';

describe('action tokens', () => {
  it('are 22 URL-safe characters carrying 128 random bits', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = generateToken();
      expect(t).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(16);
      seen.add(t);
    }
    expect(seen.size).toBe(2000);
    expect(TOKEN_LENGTH).toBeLessThanOrEqual(32);
  });

  it('reject truncated, long, padded and non-ASCII candidates before any lookup', () => {
    const t = generateToken();
    for (const bad of [t.slice(0, 21), `${t}A`, `${t.slice(0, 21)}=`, `${t.slice(0, 21)}é`, 'x'.repeat(10_000), '', 42, null]) {
      expect(isWellFormedToken(bad)).toBe(false);
    }
    expect(isWellFormedToken(t)).toBe(true);
  });

  it('hash differently for any one-character change and under another pepper', () => {
    const t = 'AAAAAAAAAAAAAAAAAAAAAA';
    const h = hashToken(t, 'p'.repeat(32));
    expect(hashToken('AAAAAAAAAAAAAAAAAAAAAB', 'p'.repeat(32))).not.toBe(h);
    expect(hashToken(t, 'q'.repeat(32))).not.toBe(h);
  });

  it('allow each offered action once, until expiry', () => {
    const grant: TokenGrant = {
      accountId: 'a', customerId: 'c', alertId: 'al', issuedAt: '2026-11-25T00:00:00Z', expiresAt: '2026-12-02T00:00:00Z',
      actions: [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId: 'l1' }],
    };
    const now = new Date('2026-11-26T00:00:00Z');
    expect(checkGrant(grant, { kind: 'FREEZE_ACCOUNT' }, [], now)).toEqual({ ok: true });
    expect(checkGrant(grant, { kind: 'FREEZE_ACCOUNT' }, ['FREEZE_ACCOUNT'], now)).toEqual({ ok: false, reason: 'ALREADY_USED' });
    expect(checkGrant(grant, { kind: 'REVOKE_LINK', linkId: 'l2' }, [], now)).toEqual({ ok: false, reason: 'ACTION_NOT_OFFERED' });
    expect(checkGrant(grant, { kind: 'CONFIRM_LINK', linkId: 'l1' }, [], now)).toEqual({ ok: false, reason: 'ACTION_NOT_OFFERED' });
    expect(checkGrant(grant, { kind: 'FREEZE_ACCOUNT' }, [], new Date('2026-12-02T00:00:00Z'))).toEqual({ ok: false, reason: 'EXPIRED' });
  });
});
