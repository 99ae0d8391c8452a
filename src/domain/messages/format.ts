/** Dates, amounts and labels as customers of a Japanese bank read them: times in JST. */
import type { Locale, WithdrawalChannel } from '../../../events/core.ts';
import { isGsm7 } from './sms-segments.ts';

const TZ = 'Asia/Tokyo';

// Intl formatters are costly to build and safe to share: one per process (per currency).
const jst = new Intl.DateTimeFormat('en-GB', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function parts(iso: string): Record<string, string> {
  return Object.fromEntries(jst.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
}

const currencyFormats = new Map<string, Intl.NumberFormat | null>();
function currencyFormat(currency: string): Intl.NumberFormat | null {
  let f = currencyFormats.get(currency);
  if (f === undefined) {
    try {
      f = new Intl.NumberFormat('en-US', { style: 'currency', currency, currencyDisplay: 'narrowSymbol' });
    } catch {
      f = null;
    }
    if (currencyFormats.size < 500) currencyFormats.set(currency, f);
  }
  return f;
}

/** 11/25 15:28 (JST), for SMS. */
export function shortTime(iso: string): string {
  const p = parts(iso);
  return `${p.month}/${p.day} ${p.hour}:${p.minute}`;
}

/** 2026年11月25日 15:28 / 2026-11-25 15:28 JST, for email. */
export function longTime(iso: string, locale: Locale): string {
  const p = parts(iso);
  return locale === 'ja'
    ? `${p.year}年${Number(p.month)}月${Number(p.day)}日 ${p.hour}:${p.minute}（日本時間）`
    : `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} JST`;
}

function fractionDigits(currency: string): number {
  return currencyFormat(currency)?.resolvedOptions().maximumFractionDigits ?? 2;
}

/** Minor units -> 12,345円 / ¥12,345 / $12.34; a symbol GSM-7 lacks becomes the ISO code. */
export function formatAmount(minor: number, currency: string, locale: Locale): string {
  const digits = fractionDigits(currency);
  const value = minor / 10 ** digits;
  const number = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (locale === 'ja') return currency === 'JPY' ? `${number}円` : `${number} ${currency}`;
  const symbolic = currencyFormat(currency)?.format(value) ?? '';
  return symbolic && isGsm7(symbolic) ? symbolic : `${currency} ${number}`;
}

export const withdrawalChannelLabel: Record<Locale, Record<WithdrawalChannel, string>> = {
  ja: { ATM_CARD: 'カードATM', ATM_CARDLESS: 'カードレスATM', EPAY_CHARGE: '電子決済', TRANSFER: '振込' },
  en: { ATM_CARD: 'card ATM', ATM_CARDLESS: 'cardless ATM', EPAY_CHARGE: 'e-payment', TRANSFER: 'transfer' },
};

export const BANK_NAME: Record<Locale, string> = { ja: 'サンプル銀行', en: 'Example Bank' };
