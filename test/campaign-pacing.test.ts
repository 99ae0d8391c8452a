/** Pacing, the send window and the campaign templates (pure; no AWS). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TokenBucket, Aborted, msUntilWindowOpens, nextRelease, perRelease } from '../src/campaign/pacing.ts';
import { campaignTemplates, renderTemplate } from '../src/campaign/templates.ts';
import { messageData, renderEmail, renderSms, tokensIn, escapeHtml } from '../src/campaign/message.ts';
import { generateToken } from '../src/domain/tokens.ts';

/** A bucket on a virtual clock: take() resolves by timers, so the test drives real timers briefly. */
describe('token bucket', () => {
  it('releases at most rate x T recipients between any two releases, with idle spells and late timers (model)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 5000, noNaN: true }),
        fc.array(fc.record({ n: fc.integer({ min: 1, max: 50 }), idleMs: fc.nat({ max: 3000 }), lateMs: fc.nat({ max: 40 }) }), { minLength: 1, maxLength: 200 }),
        (rate, asks) => {
          let now = 0;
          let last = 0;
          const releases: { at: number; n: number }[] = [];
          for (const a of asks) {
            const n = Math.min(a.n, perRelease(rate, 50));
            now += a.idleMs;
            // The bucket's turn comes after the previous release; the timer may fire late.
            const due = nextRelease(last, Math.max(now, last), n, rate);
            last = due + a.lateMs;
            now = last;
            releases.push({ at: last, n });
          }
          for (let i = 0; i < releases.length; i++) {
            let sum = 0;
            for (let j = i + 1; j < releases.length; j++) {
              sum += releases[j]!.n;
              if (sum > (rate * (releases[j]!.at - releases[i]!.at)) / 1000 + 1e-6) return false;
            }
          }
          return releases.every((r) => r.n <= Math.max(1, rate));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never releases two batches closer than n/rate on the real clock, even when the event loop stalls', async () => {
    const b = new TokenBucket(2000);
    const at: number[] = [];
    const stall = setTimeout(() => {
      const until = performance.now() + 30;
      while (performance.now() < until) {
        // a busy event loop: timers fire late
      }
    }, 40);
    await Promise.all(Array.from({ length: 12 }, () => b.take(50).then(() => at.push(performance.now()))));
    clearTimeout(stall);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(25 - 0.5);
  });

  it('releases batches evenly at the configured rate on the real clock', async () => {
    const b = new TokenBucket(1000);
    const t0 = performance.now();
    const at: number[] = [];
    await Promise.all(Array.from({ length: 10 }, () => b.take(20).then(() => at.push(performance.now() - t0))));
    // 10 x 20 recipients at 1000/s: the last release cannot be before 200 ms.
    expect(Math.max(...at)).toBeGreaterThanOrEqual(199);
    expect(at[0]).toBeGreaterThanOrEqual(19);
    expect(perRelease(14, 50)).toBe(14);
    expect(perRelease(2000, 50)).toBe(50);
    expect(perRelease(0.5, 50)).toBe(1);
  });

  it('a waiting take is abandoned when its signal fires', async () => {
    const b = new TokenBucket(1);
    const ac = new AbortController();
    const p = b.take(10, ac.signal);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(Aborted);
  });

  it('slows down when throttled and recovers to the configured rate, never above it', () => {
    const b = new TokenBucket(100);
    b.throttled();
    expect(b.rate).toBe(70);
    for (let i = 0; i < 100; i++) b.recovered();
    expect(b.rate).toBe(100);
  });

  it('refuses a rate of 0', () => {
    expect(() => new TokenBucket(0)).toThrow(/positive/);
  });
});

describe('send window (JST)', () => {
  const at = (iso: string) => new Date(iso);
  it('is open inside the window and says how long until it opens outside it', () => {
    const w = { start: '09:00', end: '20:00' };
    expect(msUntilWindowOpens(w, at('2026-11-25T00:00:00Z'))).toBe(0); // 09:00 JST
    expect(msUntilWindowOpens(w, at('2026-11-25T10:59:00Z'))).toBe(0); // 19:59 JST
    expect(msUntilWindowOpens(w, at('2026-11-25T11:00:00Z'))).toBe(13 * 3_600_000); // 20:00 JST -> 09:00
    expect(msUntilWindowOpens(w, at('2026-11-24T23:30:00Z'))).toBe(30 * 60_000); // 08:30 JST
    expect(msUntilWindowOpens(undefined, at('2026-11-24T23:30:00Z'))).toBe(0);
  });
  it('handles windows over midnight', () => {
    const w = { start: '22:00', end: '06:00' };
    expect(msUntilWindowOpens(w, at('2026-11-25T14:00:00Z'))).toBe(0); // 23:00 JST
    expect(msUntilWindowOpens(w, at('2026-11-25T20:00:00Z'))).toBe(0); // 05:00 JST
    expect(msUntilWindowOpens(w, at('2026-11-25T22:00:00Z'))).toBe(15 * 3_600_000); // 07:00 JST
  });
});

describe('campaign templates', () => {
  const t = campaignTemplates.get('linked-services-review')!;
  const view = (loc: 'ja' | 'en', n: number, name = 'A<b>&"') => ({
    accountId: 'acct-1',
    customerId: 'cust-1',
    last4: '1234',
    displayName: name,
    locale: loc,
    links: Array.from({ length: n }, (_, i) => ({ linkId: `lnk-${i}`, providerName: `Pay<${i}>` })),
  });

  it.each([['ja', 134], ['en', 160]] as const)('the %s SMS fits its segments (%i characters) with the link, up to 99 links', (loc, max) => {
    for (const n of [1, 9, 99]) {
      const sms = renderSms(t, loc, messageData(view(loc, n), generateToken(), 'https://alerts.example-bank.jp/a/'));
      expect(sms.length).toBeLessThanOrEqual(max);
      expect(tokensIn(sms, 'https://alerts.example-bank.jp/a/')).toHaveLength(1);
    }
    if (loc === 'en') expect(renderSms(t, 'en', messageData(view('en', 3), generateToken(), 'https://alerts.example-bank.jp/a/'))).toMatch(/^[\x20-\x7E]+$/);
  });

  it('lists every link with its own revoke link and escapes HTML in names', () => {
    const token = generateToken();
    const mail = renderEmail(t, 'en', messageData(view('en', 3), token, 'https://alerts.example-bank.jp/a/'));
    for (let i = 0; i < 3; i++) {
      expect(mail.text).toContain(`Pay<${i}>: revoke https://alerts.example-bank.jp/a/${token}?revoke=lnk-${i}`);
      expect(mail.html).toContain(`${escapeHtml(`Pay<${i}>`)} — <a href="https://alerts.example-bank.jp/a/${token}?revoke=lnk-${i}">`);
    }
    expect(mail.html).not.toContain('A<b>');
    expect(mail.html).toContain('A&lt;b&gt;&amp;&quot;');
    expect(mail.text).toContain(`?freeze=1`);
    for (const body of [mail.text, mail.html]) expect(body).not.toMatch(/PIN を|enter your (password|PIN)/i);
  });

  it('every template has ja and en for each channel it offers, and renders without leftovers', () => {
    for (const tpl of campaignTemplates.values()) {
      for (const forms of [tpl.email, tpl.sms]) if (forms) expect(Object.keys(forms).sort()).toEqual(['en', 'ja']);
      for (const loc of ['ja', 'en'] as const) {
        const data = messageData(view(loc, 2), generateToken(), 'https://alerts.example-bank.jp/a/');
        if (tpl.email) for (const part of Object.values(renderEmail(tpl, loc, data))) expect(part).not.toMatch(/\{\{|\}\}/);
        if (tpl.sms) expect(renderSms(tpl, loc, data)).not.toMatch(/\{\{|\}\}/);
      }
    }
  });

  it('the renderer refuses unbalanced blocks', () => {
    expect(() => renderTemplate('{{#each links}}x', {})).toThrow(/unclosed/);
    expect(() => renderTemplate('x{{/each}}', {})).toThrow(/without/);
  });
});
