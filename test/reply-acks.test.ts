import { describe, expect, it } from 'vitest';
import { ackEmail, ackSms, type AckKind } from '../src/replies/acknowledgements.ts';

const kinds: AckKind[] = ['FROZEN', 'ALREADY_FROZEN', 'REVOKED', 'ALREADY_REVOKED', 'NO_LINK', 'NO_RECENT_ALERT', 'UNPROTECTIVE', 'AMBIGUOUS', 'HELP'];
const facts = { maskedAccount: '...1234', providerName: 'D-Wallet Pay Plus' };
const GSM7 = /^[A-Za-z0-9 @£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà]*$/;

describe('reply acknowledgements', () => {
  it.each(kinds)('%s: Japanese fits one UCS-2 segment (70), English one GSM-7 segment (160)', (kind) => {
    const ja = ackSms(kind, 'ja', facts);
    const en = ackSms(kind, 'en', facts);
    expect(ja.length).toBeLessThanOrEqual(70);
    expect(en.length).toBeLessThanOrEqual(160);
    expect(en).toMatch(GSM7);
  });

  it('never carry a link or ask for secrets', () => {
    for (const kind of kinds) {
      for (const locale of ['ja', 'en'] as const) {
        const m = ackEmail(kind, locale, facts);
        const all = `${m.subject}\n${m.text}\n${ackSms(kind, locale, facts)}`;
        expect(all).not.toMatch(/https?:|www\./i);
        expect(ackSms(kind, locale, facts)).not.toMatch(/password|PIN|暗証番号|パスワード/i);
      }
    }
  });
});
