/**
 * SMS texts. Size is a hard limit, link included: Japanese at most 134 UCS-2 units (two
 * concatenated segments), English at most 160 GSM-7 septets (one segment). Names from outside
 * (provider, app, device, payee) are what gets cut, longest first; English ones are first folded
 * to GSM-7 so a Japanese name cannot switch the message to UCS-2. Optional tails go last.
 * No SMS asks for a password, PIN or card number; it only points at the bank's own page.
 *
 * Links are a per-deployment choice (SmsOptions.links): Japanese carriers' filters (docomo's
 * 危険SMS拒否, on by default for new contracts since 2022) drop SMS with URLs, so a bank may send
 * "never" SMS: the event, the reply keyword (凍結 / FREEZE: the two-way reply freezes the account)
 * and the bank's official number or app. The email of the same alert still carries the link.
 * A "never" SMS is also one an impostor's link-bearing text cannot imitate.
 */
import type { Locale } from '../../../events/core.ts';
import type { AlertContent } from './content.ts';
import { BANK_NAME, formatAmount, shortTime, withdrawalChannelLabel } from './format.ts';
import { smsSize, toGsm7, truncateUnits, unitsOf, type SmsEncoding } from './sms-segments.ts';

export const SMS_LIMITS: Record<Locale, { encoding: SmsEncoding; units: number; segments: number }> = {
  ja: { encoding: 'UCS-2', units: 134, segments: 2 },
  en: { encoding: 'GSM-7', units: 160, segments: 1 },
};

export interface SmsOptions {
  links: 'always' | 'never';
  /** The bank's official number or app (GSM-7, at most 30 characters); required with links 'never'. */
  bankContact?: string;
}

export class SmsTooLongError extends Error {
  override readonly name = 'SmsTooLongError';
}

/** A piece of an SMS: fixed text, a name that may be shortened to `min`, or a droppable tail. */
type Piece = string | { name: string; min: number; prefix?: string } | { optional: string };

function fit(pieces: Piece[], locale: Locale): string {
  const { encoding, units: limit } = SMS_LIMITS[locale];
  const vars = pieces.map((p) => (typeof p === 'object' && 'name' in p ? p.name : undefined));
  let optionals = pieces.map((p) => typeof p === 'object' && 'optional' in p);
  const render = () =>
    pieces
      .map((p, i) => (typeof p === 'string' ? p : 'name' in p ? (vars[i] ? (p.prefix ?? '') + vars[i] : '') : optionals[i] ? p.optional : ''))
      .join('');
  for (let guard = 0; guard < 200; guard++) {
    const text = render();
    const excess = unitsOf(text, encoding) - limit;
    if (excess <= 0) return text;
    // Shorten the longest name that is still above its minimum.
    let longest = -1;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (typeof p !== 'object' || !('name' in p)) continue;
      const u = unitsOf(vars[i]!, encoding);
      if (u > p.min && (longest < 0 || u > unitsOf(vars[longest]!, encoding))) longest = i;
    }
    if (longest >= 0) {
      const p = pieces[longest] as { min: number };
      const target = Math.max(p.min, unitsOf(vars[longest]!, encoding) - excess);
      vars[longest] = truncateUnits(vars[longest]!, target, encoding);
      continue;
    }
    const firstOptional = optionals.indexOf(true);
    if (firstOptional >= 0) {
      optionals = optionals.map((o, i) => (i === firstOptional ? false : o));
      continue;
    }
    throw new SmsTooLongError(`SMS does not fit ${limit} ${encoding} units even with every name shortened (${unitsOf(text, encoding)})`);
  }
  throw new SmsTooLongError('SMS fitting did not converge');
}

const jaName = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
/** English names folded to GSM-7; a name with nothing left falls back to a generic word. */
const enName = (s: string | undefined, fallback: string) => toGsm7(s ?? '') || fallback;

/** What the customer is asked to do: open the link, or (no links) reply or contact the bank. */
interface Act {
  /** After "what happened": the general call to action. */
  general: string;
  /** Contact changes: the call to action naming the account the link / reply protects. */
  account: (last4: string) => string;
}

function actOf(locale: Locale, url: string, opts: SmsOptions): Act {
  if (opts.links === 'always') {
    return locale === 'ja'
      ? { general: `心当たりがなければ停止→${url}`, account: (l) => `心当たりがなければ口座*${l}を停止→${url}` }
      : { general: `. Not you? Freeze: ${url}`, account: (l) => `. Not you? Freeze acct *${l}: ${url}` };
  }
  const contact = toGsm7(opts.bankContact ?? '');
  if (!contact) throw new SmsTooLongError('an SMS without a link needs the bank contact (SMS_BANK_CONTACT)');
  return locale === 'ja'
    ? { general: `心当たりがなければ「凍結」と返信、または${contact}へ`, account: (l) => `心当たりがなければ「凍結」と返信(口座*${l}を凍結)、または${contact}へ` }
    : { general: `. Not you? Reply FREEZE or contact us: ${contact}`, account: (l) => `. Not you? Reply FREEZE to freeze acct *${l} or contact us: ${contact}` };
}

export function renderSms(c: AlertContent, locale: Locale, actionUrl: string, opts: SmsOptions = { links: 'always' }): string {
  const act = actOf(locale, actionUrl, opts);
  const text = locale === 'ja' ? ja(c, act) : en(c, act);
  const size = smsSize(text);
  const limit = SMS_LIMITS[locale];
  if (size.units > limit.units || size.segments > limit.segments || (locale === 'en' && size.encoding !== 'GSM-7')) {
    throw new SmsTooLongError(`SMS is ${size.units} ${size.encoding} units in ${size.segments} segments`);
  }
  return text;
}

function ja(c: AlertContent, a: Act): string {
  const head = `【${BANK_NAME.ja}】`;
  const when = `(${shortTime(c.occurredAt)})。`;
  const act = a.general;
  switch (c.kind) {
    case 'LINK_CREATED':
      return fit(
        [head, `口座*${c.accountLast4}が「`, { name: jaName(c.providerName), min: 4 }, '」', c.linkType === 'CARDLESS_ATM' ? '(カードレスATM)' : '', 'と連携されました', c.providerSuspended ? '(当行で停止済)' : '', when, act],
        'ja',
      );
    case 'APP_ACTIVATED':
      return fit(
        [
          head,
          `口座*${c.accountLast4}の「`,
          { name: jaName(c.appName), min: 4 },
          '」が',
          ...(c.deviceName ? ['端末「', { name: jaName(c.deviceName), min: 2 }, '」で'] : []),
          '有効化されました',
          when,
          act,
        ],
        'ja',
      );
    case 'WITHDRAWAL': {
      const detail = [c.providerName, c.counterparty].map(jaName).filter(Boolean).join(' ');
      return fit(
        [
          head,
          `口座*${c.accountLast4}から${formatAmount(c.amount, c.currency, 'ja')}の出金(${withdrawalChannelLabel.ja[c.channel]}`,
          { name: detail, min: 0, prefix: ' ' },
          ')',
          // Only a near-impossible amount (trillions of yen) needs these characters back.
          { optional: 'がありました' },
          when,
          act,
        ],
        'ja',
      );
    }
    case 'CONTACT_CHANGED': {
      const what = c.emailChanged && c.phoneChanged ? 'メールアドレスと電話番号' : c.emailChanged ? 'メールアドレス' : '電話番号';
      return fit(
        [head, `ご登録の${what}が変更されました`, when, a.account(c.accountLast4), ...(c.otherAccounts ? [{ optional: ' 他の口座はお電話で' }] : [])],
        'ja',
      );
    }
  }
}

function en(c: AlertContent, a: Act): string {
  const head = `${BANK_NAME.en}: `;
  const when = { optional: ' JST' };
  const act = a.general;
  const time = shortTime(c.occurredAt);
  switch (c.kind) {
    case 'LINK_CREATED':
      return fit(
        [
          head,
          `acct *${c.accountLast4} linked to `,
          { name: enName(c.providerName, 'a service'), min: 6 },
          c.linkType === 'CARDLESS_ATM' ? ' (cardless ATM)' : '',
          c.providerSuspended ? ' (blocked by bank)' : '',
          ` ${time}`,
          when,
          act,
        ],
        'en',
      );
    case 'APP_ACTIVATED':
      return fit(
        [
          head,
          { name: enName(c.appName, 'An app'), min: 6 },
          ' activated',
          ...(c.deviceName && toGsm7(c.deviceName) ? [' on ', { name: toGsm7(c.deviceName), min: 4 }] : []),
          ` for acct *${c.accountLast4} ${time}`,
          when,
          act,
        ],
        'en',
      );
    case 'WITHDRAWAL': {
      const detail = [c.providerName, c.counterparty].map((s) => toGsm7(s ?? '')).filter(Boolean).join(' ');
      return fit(
        [
          head,
          `${formatAmount(c.amount, c.currency, 'en')} withdrawn, acct *${c.accountLast4}, ${withdrawalChannelLabel.en[c.channel]}`,
          { name: detail, min: 0, prefix: ' ' },
          `, ${time}`,
          when,
          act,
        ],
        'en',
      );
    }
    case 'CONTACT_CHANGED': {
      const what = c.emailChanged && c.phoneChanged ? 'Email and phone' : c.emailChanged ? 'Email' : 'Phone number';
      return fit(
        [head, `${what} changed ${time}`, when, a.account(c.accountLast4), ...(c.otherAccounts ? [{ optional: ' Other accts: call us' }] : [])],
        'en',
      );
    }
  }
}
