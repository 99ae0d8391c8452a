/**
 * The answers a customer gets to a reply, in their locale. SMS answers stay within one segment
 * where possible (Japanese: 70 UCS-2 characters; English: 160 GSM-7) and never above two; the
 * test checks every one. Like every message of the bank, they never ask for a password, PIN or
 * card number, and carry no link: a reply answer with a link would teach customers to trust
 * links in unexpected texts.
 */
import type { Locale } from '../../events/core.ts';

export type AckKind =
  | 'FROZEN'
  | 'ALREADY_FROZEN'
  | 'REVOKED'
  | 'ALREADY_REVOKED'
  /** REVOKE answered an alert that has no link (e.g. a withdrawal at an ATM). */
  | 'NO_LINK'
  /** FREEZE/REVOKE, but no alert of ours went to this contact within the token lifetime. */
  | 'NO_RECENT_ALERT'
  | 'UNPROTECTIVE'
  | 'AMBIGUOUS'
  | 'HELP';

/** The bank's fraud line (demo number); printed, never linked. */
export const FRAUD_LINE = '0120-000-110';

export interface AckFacts {
  /** ...1234 */
  maskedAccount?: string;
  providerName?: string;
}

const sms: Record<Locale, Record<AckKind, (f: AckFacts) => string>> = {
  ja: {
    FROZEN: (f) => `口座${f.maskedAccount ?? ''}を凍結しました。出金・決済は止まっています。解除は本人確認後に${FRAUD_LINE}へ。`,
    ALREADY_FROZEN: (f) => `口座${f.maskedAccount ?? ''}は凍結済みです。出金・決済は止まっています。解除は${FRAUD_LINE}へ。`,
    REVOKED: (f) => `${f.providerName ?? 'サービス'}との連携を解除しました。口座の凍結は「凍結」と返信。`,
    ALREADY_REVOKED: (f) => `${f.providerName ?? 'サービス'}との連携は解除済みです。口座の凍結は「凍結」と返信。`,
    NO_LINK: () => `この通知に解除できる連携はありません。口座を止めるには「凍結」と返信。`,
    NO_RECENT_ALERT: () => `最近の通知が見つからず、操作していません。不審な取引は${FRAUD_LINE}へお電話を。`,
    UNPROTECTIVE: () => `安全のため返信では凍結解除・承認はできません。通知のリンクか${FRAUD_LINE}へ。`,
    AMBIGUOUS: () => `「解除」では判断できません。連携を切るには「連携解除」と返信。凍結解除は${FRAUD_LINE}へ。`,
    HELP: () => `返信で操作できます:「凍結」口座を凍結 /「連携解除」連携を解除。その他は${FRAUD_LINE}へ。`,
  },
  en: {
    FROZEN: (f) => `Your account ${f.maskedAccount ?? ''} is now frozen: no withdrawals or payments. To unfreeze, call ${FRAUD_LINE} (ID check).`,
    ALREADY_FROZEN: (f) => `Your account ${f.maskedAccount ?? ''} is already frozen: no withdrawals or payments. To unfreeze, call ${FRAUD_LINE}.`,
    REVOKED: (f) => `The link to ${f.providerName ?? 'the service'} is revoked. To freeze your account too, reply FREEZE.`,
    ALREADY_REVOKED: (f) => `The link to ${f.providerName ?? 'the service'} was already revoked. To freeze your account, reply FREEZE.`,
    NO_LINK: () => `This alert has no link to revoke. To freeze your account, reply FREEZE.`,
    NO_RECENT_ALERT: () => `We found no recent alert to match your reply, so nothing was changed. If in doubt, call ${FRAUD_LINE}.`,
    UNPROTECTIVE: () => `For your safety, unfreezing or confirming cannot be done by reply. Use the link in the alert or call ${FRAUD_LINE}.`,
    AMBIGUOUS: () => `Reply FREEZE to freeze your account or REVOKE to revoke the link. To unfreeze, call ${FRAUD_LINE}.`,
    HELP: () => `Reply FREEZE to freeze your account, or REVOKE to revoke the new link. Anything else: call ${FRAUD_LINE}.`,
  },
};

export function ackSms(kind: AckKind, locale: Locale, facts: AckFacts = {}): string {
  return sms[locale][kind](facts).replace(/\s{2,}/g, ' ');
}

const subjects: Record<Locale, Record<AckKind, string>> = {
  ja: {
    FROZEN: '口座を凍結しました',
    ALREADY_FROZEN: '口座は凍結済みです',
    REVOKED: '連携を解除しました',
    ALREADY_REVOKED: '連携は解除済みです',
    NO_LINK: '解除できる連携はありません',
    NO_RECENT_ALERT: 'ご返信を受け付けましたが、操作はしていません',
    UNPROTECTIVE: '返信ではこの操作はできません',
    AMBIGUOUS: 'ご返信の内容を確認させてください',
    HELP: '返信で使える言葉',
  },
  en: {
    FROZEN: 'Your account is frozen',
    ALREADY_FROZEN: 'Your account is already frozen',
    REVOKED: 'The link is revoked',
    ALREADY_REVOKED: 'The link was already revoked',
    NO_LINK: 'No link to revoke',
    NO_RECENT_ALERT: 'We received your reply; nothing was changed',
    UNPROTECTIVE: 'This cannot be done by reply',
    AMBIGUOUS: 'Please tell us what you meant',
    HELP: 'Words you can reply with',
  },
};

const footer: Record<Locale, string> = {
  ja: `\n\n返信で使える言葉: 「凍結」(口座を凍結) /「連携解除」(新しい連携を解除)。\n当行がパスワード・暗証番号・カード番号をお尋ねすることはありません。\nお問い合わせ: ${FRAUD_LINE}`,
  en: `\n\nWords you can reply with: FREEZE (freeze your account) / REVOKE (revoke the new link).\nWe never ask for your password, PIN or card number.\nQuestions: ${FRAUD_LINE}`,
};

/** The acknowledgement email: plain text (no HTML, no links), subject as a reply to theirs. */
export function ackEmail(kind: AckKind, locale: Locale, facts: AckFacts = {}): { subject: string; text: string } {
  return { subject: subjects[locale][kind], text: ackSms(kind, locale, facts) + footer[locale] };
}
