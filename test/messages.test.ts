/** Alert messages: SMS sizes with worst-case fields, both locales, every kind; email content; no credential requests. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  renderAlertMessages,
  renderSms,
  smsSize,
  toGsm7,
  truncateUnits,
  SmsTooLongError,
  type AlertContent,
  type RenderContext,
} from '../src/domain/messages/index.ts';
import type { Locale } from '../events/core.ts';

const BASE = 'https://alerts.example-bank.jp/a/';
const TOKEN = 'AbCdEfGhIjKlMnOpQrStUv'; // 22 characters, like a real token
const URL_ = BASE + TOKEN;
const at = '2026-11-25T06:28:00Z';

/** Worst cases allowed by the contracts (events/core.ts): 60-char names, 80-char payee, 1e13 amount. */
const longNames = {
  ja: ['あ'.repeat(60), '😀'.repeat(30), 'Ｗ'.repeat(60)],
  en: ['W'.repeat(60), '{'.repeat(60), '楽天ペイ'.repeat(15), 'Café “Ünïcode” — ₩'.padEnd(60, '€')],
};

function contents(name: string, long80: string): AlertContent[] {
  const origin = { ip: '2001:db8::1', device: name, location: name };
  const list: AlertContent[] = [
    { kind: 'LINK_CREATED', occurredAt: at, accountLast4: '1234', providerName: name, linkType: 'EPAY', origin },
    { kind: 'LINK_CREATED', occurredAt: at, accountLast4: '1234', providerName: name, linkType: 'CARDLESS_ATM' },
    { kind: 'APP_ACTIVATED', occurredAt: at, accountLast4: '1234', appName: name, deviceName: name, throughLink: true },
    { kind: 'APP_ACTIVATED', occurredAt: at, accountLast4: '1234', appName: name, throughLink: false },
  ];
  for (const channel of ['ATM_CARD', 'ATM_CARDLESS', 'EPAY_CHARGE', 'TRANSFER'] as const) {
    for (const currency of ['JPY', 'USD', 'EUR', 'KRW']) {
      list.push({ kind: 'WITHDRAWAL', occurredAt: at, accountLast4: '9876', channel, amount: 1e13, currency, counterparty: long80, providerName: name });
      list.push({ kind: 'WITHDRAWAL', occurredAt: at, accountLast4: '9876', channel, amount: 1, currency });
    }
  }
  for (const [emailChanged, phoneChanged] of [
    [true, true],
    [true, false],
    [false, true],
  ] as const) {
    for (const otherAccounts of [true, false]) {
      list.push({
        kind: 'CONTACT_CHANGED',
        occurredAt: at,
        accountLast4: '0001',
        emailChanged,
        phoneChanged,
        newEmailMasked: 'h***@example.jp',
        newPhoneMasked: '*****5678',
        otherAccounts,
      });
    }
  }
  return list;
}

const ctx = (locale: Locale, over: Partial<RenderContext> = {}): RenderContext => ({
  locale,
  actionUrl: URL_,
  ttlDays: 7,
  displayName: locale === 'ja' ? '山田 花子' : 'Hanako Yamada',
  canRevokeLink: true,
  canConfirmLink: true,
  ...over,
});

describe('SMS size (hard limit, link included)', () => {
  for (const locale of ['ja', 'en'] as const) {
    for (const name of longNames[locale]) {
      const long80 = (locale === 'ja' ? 'ぱ' : 'P').repeat(80);
      it(`${locale}: every kind fits with worst-case names (${[...name].slice(0, 3).join('')}...)`, () => {
        for (const c of contents(name, long80)) {
          const sms = renderSms(c, locale, URL_);
          const size = smsSize(sms);
          expect(sms).toContain(URL_);
          if (locale === 'ja') {
            expect(size.encoding).toBe('UCS-2');
            expect(size.units).toBeLessThanOrEqual(134);
            expect(size.segments).toBeLessThanOrEqual(2);
          } else {
            expect(size.encoding).toBe('GSM-7');
            expect(size.units).toBeLessThanOrEqual(160);
            expect(size.segments).toBe(1);
          }
        }
      });
    }
  }

  it('keeps the account and, where room allows, the contact-change "call us" tail', () => {
    const c: AlertContent = { kind: 'CONTACT_CHANGED', occurredAt: at, accountLast4: '0001', emailChanged: true, phoneChanged: true, otherAccounts: true };
    expect(renderSms(c, 'ja', URL_)).toContain('他の口座はお電話で');
    expect(renderSms(c, 'ja', URL_)).toContain('*0001');
    expect(renderSms(c, 'en', URL_)).toContain('Other accts: call us');
    expect(renderSms(c, 'en', URL_)).toContain('*0001');
  });

  it('shortens names rather than the link, and says what happened', () => {
    const sms = renderSms({ kind: 'LINK_CREATED', occurredAt: at, accountLast4: '1234', providerName: 'W'.repeat(60), linkType: 'EPAY' }, 'en', URL_);
    expect(sms).toMatch(/^Example Bank: acct \*1234 linked to W+\.\.\. 11\/25 15:28 JST\. Not you\? Freeze: https:\/\/alerts\.example-bank\.jp\/a\/AbCdEfGhIjKlMnOpQrStUv$/);
    const ja = renderSms({ kind: 'WITHDRAWAL', occurredAt: at, accountLast4: '1234', channel: 'ATM_CARDLESS', amount: 30000, currency: 'JPY' }, 'ja', URL_);
    expect(ja).toBe(`【サンプル銀行】口座*1234から30,000円の出金(カードレスATM)がありました(11/25 15:28)。心当たりがなければ停止→${URL_}`);
  });

  it('folds a Japanese provider name out of an English SMS instead of switching to UCS-2', () => {
    const sms = renderSms({ kind: 'LINK_CREATED', occurredAt: at, accountLast4: '1234', providerName: '楽天ペイ', linkType: 'EPAY' }, 'en', URL_);
    expect(smsSize(sms).encoding).toBe('GSM-7');
    expect(sms).toContain('linked to a service');
    expect(toGsm7('ＰａｙＰａｙ “Wallet” – 残高')).toBe('PayPay "Wallet" -');
  });

  it('refuses to render when even the fixed text cannot fit (a base URL far too long)', () => {
    const c: AlertContent = { kind: 'CONTACT_CHANGED', occurredAt: at, accountLast4: '0001', emailChanged: true, phoneChanged: true, otherAccounts: true };
    expect(() => renderSms(c, 'en', `https://alerts.example-bank.jp/${'x'.repeat(100)}/${TOKEN}`)).toThrow(SmsTooLongError);
  });

  it('property: any names within the contract fit in both locales', () => {
    const name = fc.string({ minLength: 1, maxLength: 60, unit: 'binary' });
    fc.assert(
      fc.property(name, name, fc.string({ maxLength: 80, unit: 'binary' }), fc.integer({ min: 1, max: 1e13 }), (a, b, cp, amount) => {
        for (const locale of ['ja', 'en'] as const) {
          for (const c of [
            { kind: 'LINK_CREATED', occurredAt: at, accountLast4: '1234', providerName: a, linkType: 'CARDLESS_ATM' },
            { kind: 'APP_ACTIVATED', occurredAt: at, accountLast4: '1234', appName: a, deviceName: b, throughLink: false },
            { kind: 'WITHDRAWAL', occurredAt: at, accountLast4: '1234', channel: 'EPAY_CHARGE', amount, currency: 'JPY', counterparty: cp, providerName: b },
          ] satisfies AlertContent[]) {
            const s = smsSize(renderSms(c, locale, URL_));
            expect(s.segments).toBeLessThanOrEqual(locale === 'ja' ? 2 : 1);
            if (locale === 'en') expect(s.encoding).toBe('GSM-7');
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('SMS without links (SMS_LINKS=never: Japanese carriers filter SMS with URLs)', () => {
  /** Worst case the setting allows: 30 characters (src/config.ts). */
  const contacts = ['0120-000-110', "(03) 1234-5678 Example Bank's", 'X'.repeat(30)];
  // Case-sensitive: a 60-character name of capital Ws truncated to "WW..." is not a link.
  const looksLikeALink = /https?:|www\.|\/a\/|\b[a-z0-9-]+\.(jp|com|net)\b/;

  for (const locale of ['ja', 'en'] as const) {
    for (const name of longNames[locale]) {
      it(`${locale}: every kind fits the same budget with worst-case names and contact (${[...name].slice(0, 3).join('')}...)`, () => {
        for (const bankContact of contacts) {
          for (const c of contents(name, (locale === 'ja' ? 'ぱ' : 'P').repeat(80))) {
            const sms = renderSms(c, locale, URL_, { links: 'never', bankContact });
            const size = smsSize(sms);
            expect(sms).not.toMatch(looksLikeALink);
            expect(sms).toContain(locale === 'ja' ? '「凍結」と返信' : 'Reply FREEZE');
            expect(sms).toContain(bankContact);
            if (locale === 'ja') {
              expect(size.encoding).toBe('UCS-2');
              expect(size.units).toBeLessThanOrEqual(134);
              expect(size.segments).toBeLessThanOrEqual(2);
            } else {
              expect(size.encoding).toBe('GSM-7');
              expect(size.units).toBeLessThanOrEqual(160);
              expect(size.segments).toBe(1);
            }
          }
        }
      });
    }
  }

  it('names the event, the account and the keyword; the email of the same alert still carries the link', () => {
    const link: AlertContent = { kind: 'LINK_CREATED', occurredAt: at, accountLast4: '1234', providerName: 'D-Wallet', linkType: 'EPAY' };
    const sms = { links: 'never', bankContact: '0120-000-110' } as const;
    expect(renderSms(link, 'ja', URL_, sms)).toBe('【サンプル銀行】口座*1234が「D-Wallet」と連携されました(11/25 15:28)。心当たりがなければ「凍結」と返信、または0120-000-110へ');
    expect(renderSms(link, 'en', URL_, sms)).toBe('Example Bank: acct *1234 linked to D-Wallet 11/25 15:28 JST. Not you? Reply FREEZE or contact us: 0120-000-110');
    const contact: AlertContent = { kind: 'CONTACT_CHANGED', occurredAt: at, accountLast4: '0001', emailChanged: false, phoneChanged: true, otherAccounts: false };
    expect(renderSms(contact, 'ja', URL_, sms)).toContain('口座*0001を凍結');
    expect(renderSms(contact, 'en', URL_, sms)).toContain('Reply FREEZE to freeze acct *0001');
    for (const locale of ['ja', 'en'] as const) {
      const m = renderAlertMessages(link, ctx(locale, { sms }));
      expect(m.sms).not.toContain(URL_);
      expect(m.email.text).toContain(URL_);
      expect(m.email.html).toContain(`href="${URL_}"`);
      // "always" (and no setting at all) keeps the link in the SMS.
      expect(renderAlertMessages(link, ctx(locale, { sms: { links: 'always' } })).sms).toContain(URL_);
      expect(renderAlertMessages(link, ctx(locale)).sms).toContain(URL_);
    }
  });

  it('refuses to render a link-less SMS without a contact, rather than leave the customer nowhere to turn', () => {
    const link: AlertContent = { kind: 'LINK_CREATED', occurredAt: at, accountLast4: '1234', providerName: 'D-Wallet', linkType: 'EPAY' };
    expect(() => renderSms(link, 'ja', URL_, { links: 'never' })).toThrow(SmsTooLongError);
    expect(() => renderSms(link, 'en', URL_, { links: 'never', bankContact: '   ' })).toThrow(/SMS_BANK_CONTACT/);
  });

  it('property: any names within the contract fit without links too', () => {
    const name = fc.string({ minLength: 1, maxLength: 60, unit: 'binary' });
    fc.assert(
      fc.property(name, name, fc.string({ maxLength: 80, unit: 'binary' }), fc.integer({ min: 1, max: 1e13 }), (a, b, cp, amount) => {
        for (const locale of ['ja', 'en'] as const) {
          for (const c of [
            { kind: 'LINK_CREATED', occurredAt: at, accountLast4: '1234', providerName: a, linkType: 'CARDLESS_ATM' },
            { kind: 'APP_ACTIVATED', occurredAt: at, accountLast4: '1234', appName: a, deviceName: b, throughLink: false },
            { kind: 'WITHDRAWAL', occurredAt: at, accountLast4: '1234', channel: 'EPAY_CHARGE', amount, currency: 'JPY', counterparty: cp, providerName: b },
          ] satisfies AlertContent[]) {
            const s = smsSize(renderSms(c, locale, URL_, { links: 'never', bankContact: 'X'.repeat(30) }));
            expect(s.segments).toBeLessThanOrEqual(locale === 'ja' ? 2 : 1);
            if (locale === 'en') expect(s.encoding).toBe('GSM-7');
          }
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('segment counting', () => {
  it('counts GSM-7 septets (extension characters cost two) and UCS-2 units', () => {
    expect(smsSize('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSize('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSize('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSize('あ'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSize('あ'.repeat(71))).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(smsSize('あ'.repeat(134))).toEqual({ encoding: 'UCS-2', units: 134, segments: 2 });
    expect(smsSize('あ'.repeat(135)).segments).toBe(3);
    // A surrogate pair is not split across parts: 66 + emoji would straddle the 67-unit boundary.
    expect(smsSize('あ'.repeat(66) + '😀' + 'あ'.repeat(66)).segments).toBe(3);
  });

  it('truncates without splitting surrogate pairs', () => {
    expect(truncateUnits('😀😀😀', 4, 'UCS-2')).toBe('😀…');
    expect(truncateUnits('abcdef', 5, 'GSM-7')).toBe('ab...');
    expect(truncateUnits('abc', 5, 'GSM-7')).toBe('abc');
  });
});

describe('email', () => {
  const link: AlertContent = {
    kind: 'LINK_CREATED',
    occurredAt: at,
    accountLast4: '1234',
    providerName: '<script>alert(1)</script>',
    linkType: 'EPAY',
    origin: { ip: '203.0.113.7', device: 'iPhone "x" & <b>' },
  };

  it('renders HTML and text in Japanese and English with the action link, escaping outside text', () => {
    for (const locale of ['ja', 'en'] as const) {
      const { email } = renderAlertMessages(link, ctx(locale, { displayName: '<i>Evil</i>' }));
      expect(email.html).toContain(`href="${URL_}"`);
      expect(email.text).toContain(URL_);
      expect(email.html).not.toContain('<script>');
      expect(email.html).toContain('&lt;script&gt;');
      expect(email.html).not.toContain('<i>Evil</i>');
      expect(email.html).toContain(`lang="${locale}"`);
      expect(email.subject).not.toMatch(/[\r\n]/);
    }
    const ja = renderAlertMessages(link, ctx('ja')).email;
    expect(ja.subject).toBe('【サンプル銀行】口座に電子決済サービスが連携されました');
    expect(ja.text).toContain('山田 花子 様');
    expect(ja.text).toContain('2026年11月25日 15:28（日本時間）');
    expect(ja.text).toContain('203.0.113.7');
    const en = renderAlertMessages(link, ctx('en')).email;
    expect(en.subject).toBe('Example Bank: an e-payment service was linked to your account');
    expect(en.text).toContain('2026-11-25 15:28 JST');
    expect(en.text).toContain('freeze the account, revoke the link or confirm it was you');
  });

  it('contact change: says the link covers one account and to call for the others', () => {
    const c: AlertContent = { kind: 'CONTACT_CHANGED', occurredAt: at, accountLast4: '0001', emailChanged: true, phoneChanged: false, newEmailMasked: 'm***@evil.example', otherAccounts: true };
    const en = renderAlertMessages(c, ctx('en', { canRevokeLink: false, canConfirmLink: false })).email;
    expect(en.text).toContain('This link can freeze account *0001 only. For your other accounts, please call us.');
    expect(en.text).toContain('m***@evil.example');
    expect(en.text).not.toContain('revoke');
    const ja = renderAlertMessages(c, ctx('ja', { canRevokeLink: false, canConfirmLink: false })).email;
    expect(ja.text).toContain('ほかの口座はお電話で');
  });

  it('withdrawal amounts in minor units, per currency', () => {
    const w = (currency: string, amount: number): AlertContent => ({ kind: 'WITHDRAWAL', occurredAt: at, accountLast4: '1', channel: 'TRANSFER', amount, currency });
    expect(renderAlertMessages(w('JPY', 1234567), ctx('ja')).email.subject).toContain('1,234,567円');
    expect(renderAlertMessages(w('JPY', 1234567), ctx('en')).email.subject).toContain('¥1,234,567');
    expect(renderAlertMessages(w('USD', 1234), ctx('en')).email.subject).toContain('$12.34');
  });
});

describe('no message asks for a password, PIN or card number', () => {
  const asks = /password|passcode|\bPIN\b|card number|security code|CVV|CVC|暗証番号|パスワード|カード番号|セキュリティコード|ワンタイム/i;
  it('in any kind, locale or channel', () => {
    for (const locale of ['ja', 'en'] as const) {
      for (const c of contents(locale === 'ja' ? 'テスト決済' : 'TestPay', 'Shop')) {
        const m = renderAlertMessages(c, ctx(locale));
        for (const text of [m.sms, m.email.subject, m.email.text, m.email.html]) expect(text).not.toMatch(asks);
      }
    }
  });
});
