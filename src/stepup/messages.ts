/**
 * The code messages, in Japanese and English. They carry the code and say what it is for; they
 * never ask for a password, PIN or card number, never contain a link (the customer types the code
 * on the page they already have open), and tell the customer what to do if they did not ask.
 */
import type { Locale } from '../../events/core.ts';
import { escapeHtml } from '../domain/messages/email.ts';

const BANK: Record<Locale, string> = { ja: 'サンプル銀行', en: 'Example Bank' };

export function codeSms(locale: Locale, code: string, ttlMinutes: number): string {
  return locale === 'ja'
    ? `【${BANK.ja}】確認コード ${code}（${ttlMinutes}分間有効）。「自分で行った操作です」の確認用です。このコードを他人に伝えないでください。心当たりがなければ入力せず、口座を凍結してください。`
    : `${BANK.en}: code ${code} (valid ${ttlMinutes} min) to confirm "It was me". Never share it. Not you? Do not enter it; freeze your account from our alert.`;
}

export function codeEmail(locale: Locale, code: string, ttlMinutes: number): { subject: string; text: string; html: string } {
  const ja = locale === 'ja';
  const subject = ja ? `【${BANK.ja}】確認コード` : `${BANK.en}: your confirmation code`;
  const lines = ja
    ? [
        `確認コード：${code}`,
        `${ttlMinutes}分間有効です。お知らせのページで「自分で行った操作です」を確認するために、ページに入力してください。`,
        'このコードを他人に伝えないでください。当行がお電話などでおたずねすることはありません。',
        'お心当たりがない場合は入力せず、お知らせのページから口座を凍結してください。',
      ]
    : [
        `Your code: ${code}`,
        `Valid for ${ttlMinutes} minutes. Type it on the alert page to confirm "It was me".`,
        'Never share this code. We will never call or write to ask for it.',
        'If this was not you, do not enter it: freeze your account from the alert page.',
      ];
  const html = `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>${lines
    .map((l, i) => (i === 0 ? `<p style="font-size:1.4em;font-weight:700;letter-spacing:.1em">${escapeHtml(l)}</p>` : `<p>${escapeHtml(l)}</p>`))
    .join('')}</body></html>`;
  return { subject, text: `${lines.join('\n\n')}\n`, html };
}
