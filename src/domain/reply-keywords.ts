/**
 * Reply keywords: what a customer may text or email back to an alert, in Japanese or English.
 *
 * A reply is read by folding it (Unicode NFKC, so full-width ＦＲＥＥＺＥ and half-width ﾄｳｹﾂ
 * become FREEZE and トウケツ; upper case; every kind of space removed; trailing punctuation such
 * as 。.!！ dropped) and comparing the WHOLE folded text with the list below. Whole-text matching
 * is deliberate: "don't freeze" or "凍結しないで" must never be read as a freeze request.
 *
 * Only protective actions are ever taken from a reply, because sender numbers can be spoofed and
 * SIMs swapped. Keywords asking for anything else are recognised, so that the customer is told how
 * to do it safely, and change nothing.
 *
 * Reserved carrier keywords (STOP, UNSUBSCRIBE, CANCEL, ...) are NOT ours: End User Messaging and
 * the carriers treat them as an SMS opt-out and answer them themselves. Overloading STOP to freeze
 * an account would freeze the account of someone who only wanted fewer texts and opt them out of
 * security alerts at the same time, so STOP takes no action here. (停止 is not a carrier keyword
 * in Japan and is the word Japanese banks use for 利用停止, so it freezes.)
 *
 * 解除 alone is ambiguous: 連携解除 (unlink: protective) or 凍結解除 (unfreeze: never by reply).
 * It changes nothing and the answer tells the customer which words to use.
 */

export type ReplyIntent =
  /** Freeze the account of the alert answered. */
  | 'FREEZE'
  /** Revoke the link of the alert answered. */
  | 'REVOKE'
  /** Unfreeze, confirm "it was me", approve: never by reply. */
  | 'UNPROTECTIVE'
  /** 解除 alone: unlink or unfreeze? */
  | 'AMBIGUOUS'
  | 'HELP'
  /** Carrier opt-out keyword: handled by the carrier / End User Messaging, not by us. */
  | 'OPT_OUT'
  | 'EMPTY'
  | 'UNRECOGNISED';

export interface ParsedReply {
  intent: ReplyIntent;
  /** The canonical keyword matched (for metrics and audit), never the customer's text. */
  keyword?: string;
}

/**
 * The documented list (docs/replies.md repeats it). Keys are already folded: upper case, no spaces.
 * The value is the canonical keyword reported in audit and metrics.
 */
export const KEYWORDS: Readonly<Record<Exclude<ReplyIntent, 'EMPTY' | 'UNRECOGNISED'>, readonly string[]>> = {
  FREEZE: ['FREEZE', 'LOCK', 'FREEZEACCOUNT', 'LOCKACCOUNT', '凍結', 'とうけつ', 'トウケツ', '口座凍結', '停止', 'ていし', 'テイシ', '利用停止', 'ロック'],
  REVOKE: ['REVOKE', 'UNLINK', 'REVOKELINK', '連携解除', 'れんけいかいじょ', 'レンケイカイジョ', '連携停止', '連携取消', '連携取り消し'],
  UNPROTECTIVE: [
    'UNFREEZE',
    'UNLOCK',
    'ITWASME',
    'ITSME',
    'ITWASMINE',
    'CONFIRM',
    'APPROVE',
    'ALLOW',
    'YES',
    'OK',
    'RESUME',
    '凍結解除',
    'ロック解除',
    '利用再開',
    '再開',
    '本人',
    '本人です',
    '私です',
    'わたしです',
    '自分です',
    '確認',
    '承認',
    '許可',
    'はい',
  ],
  AMBIGUOUS: ['解除', 'かいじょ', 'カイジョ'],
  // A lone "?" is help too (handled before folding, which drops punctuation).
  HELP: ['HELP', 'INFO', 'ヘルプ', 'へるぷ', '使い方'],
  OPT_OUT: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'ARRET', 'REMOVE'],
};

const lookup: ReadonlyMap<string, Exclude<ReplyIntent, 'EMPTY' | 'UNRECOGNISED'>> = new Map(
  (Object.entries(KEYWORDS) as [Exclude<ReplyIntent, 'EMPTY' | 'UNRECOGNISED'>, readonly string[]][]).flatMap(([intent, words]) =>
    words.map((w) => [w, intent] as const),
  ),
);

/** Longer than any keyword by far: such a text is not a keyword, and is not folded at all. */
export const MAX_KEYWORD_TEXT = 64;

/** Everything NFKC leaves as a separator, plus zero-width characters phones insert. */
const SPACES = /[\s\u200B-\u200D\u2060\uFEFF\u3000_\-・'’]/gu;
/** Punctuation customers add around a keyword: 「凍結」。 FREEZE! "freeze". */
const WRAPPING = /^[\s"'`「『(\[【<]+|[\s"'`」』)\]】>.。、,!！?？…~〜]+$/gu;

/** Folds text for keyword comparison. Exported for tests and the docs' examples. */
export function foldReplyText(text: string): string {
  return text.normalize('NFKC').replace(WRAPPING, '').replace(SPACES, '').toUpperCase();
}

/**
 * Reads a reply. The text is the SMS body or the first non-quoted line of an email. Anything that
 * is not exactly one listed keyword (after folding) is UNRECOGNISED: long texts, binary-looking
 * bytes, emoji, sentences.
 */
export function parseReply(text: string): ParsedReply {
  if (text.trim().length === 0) return { intent: 'EMPTY' };
  if (text.length > MAX_KEYWORD_TEXT) return { intent: 'UNRECOGNISED' };
  // "?" alone folds to nothing through WRAPPING; keep it as the help keyword.
  const raw = text.normalize('NFKC').trim();
  if (raw === '?') return { intent: 'HELP', keyword: 'HELP' };
  const folded = foldReplyText(text);
  if (folded.length === 0) return { intent: 'EMPTY' };
  const intent = lookup.get(folded);
  if (!intent) return { intent: 'UNRECOGNISED' };
  return { intent, keyword: canonical(intent, folded) };
}

function canonical(intent: ReplyIntent, folded: string): string {
  switch (intent) {
    case 'FREEZE':
      return 'FREEZE';
    case 'REVOKE':
      return 'REVOKE';
    case 'HELP':
      return 'HELP';
    case 'OPT_OUT':
      return 'STOP';
    case 'AMBIGUOUS':
      return '解除';
    default:
      return /^[A-Z]+$/.test(folded) ? folded : 'UNPROTECTIVE';
  }
}
