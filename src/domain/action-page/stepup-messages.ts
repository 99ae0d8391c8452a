/**
 * The words of the step-up ("it was me" needs a code or a passkey) and of the page after a freeze,
 * in Japanese and English. Never asks for a password, PIN or card number.
 */
import type { Locale } from '../../../events/core.ts';
import { FRAUD_LINE } from '../../replies/acknowledgements.ts';

type Channel = 'SMS' | 'EMAIL';

export interface StepUpMessages {
  title: string;
  intro: (provider: string) => string;
  introApp: (app: string) => string;
  why: string;
  sendTo: (channel: Channel, masked: string) => string;
  sameChannel: (channel: Channel) => string;
  sendButton: string;
  resendButton: string;
  sent: (channel: Channel, masked: string, until: string) => string;
  codeLabel: string;
  codeHint: string;
  verifyButton: string;
  passkeyHeading: string;
  passkeyIntro: string;
  passkeyButton: string;
  passkeyWorking: string;
  passkeyFailed: string;
  passkeyDone: string;
  notices: {
    WRONG: (left: number) => string;
    EXPIRED: string;
    USED: string;
    NO_CODE: string;
    BAD_CODE: string;
    TOO_SOON: (at: string) => string;
    TOO_MANY: string;
    RATE_LIMITED: string;
    SEND_FAILED: string;
    NO_CONTACT: string;
    CONFLICT: string;
  };
  lockedTitle: string;
  lockedBody: (max: number) => string;
  lockedHold: (until: string) => string;
  notYou: string;
  codeNeverShare: string;
  register: { heading: string; body: string; button: string; working: string; done: string; failed: string };
  frozen: { stopsHeading: string; stops: string[]; worksHeading: string; works: string[]; undoHeading: string; undo: string };
}

const ja: StepUpMessages = {
  title: 'ご本人の確認',
  intro: (p) => `「${p}」との連携を有効にして引き落としの保留を解除する前に、ご本人であることを確認します。`,
  introApp: (a) => `アプリ「${a}」のカードレス出金の保留を解除する前に、ご本人であることを確認します。`,
  why: 'リンクを開いただけの第三者（メールを盗み見た人や、リンクを自動で開くプログラム）が解除できないようにするためです。',
  sendTo: (c, m) => (c === 'SMS' ? `確認コード（6桁）を、ご登録の電話番号（${m}）に SMS でお送りします。` : `確認コード（6桁）を、ご登録のメールアドレス（${m}）にお送りします。`),
  sameChannel: (c) =>
    `ご登録の連絡先がこの${c === 'SMS' ? '電話番号' : 'メールアドレス'}だけのため、お知らせと同じ宛先にコードをお送りします。この宛先を他人が見られる状態なら、コードも見られてしまいます。連絡先の追加は当行までご連絡ください。`,
  sendButton: '確認コードを送る',
  resendButton: '新しい確認コードを送る',
  sent: (c, m, u) => `${c === 'SMS' ? 'SMS' : 'メール'}（${m}）に確認コードを送りました。${u} まで有効です。`,
  codeLabel: '確認コード（6桁の数字）',
  codeHint: 'SMS またはメールに届いた 6 桁の数字を入力してください。',
  verifyButton: '確認して保留を解除する',
  passkeyHeading: 'パスキーで確認',
  passkeyIntro: 'この端末にパスキーを登録済みなら、確認コードなしで確認できます。',
  passkeyButton: 'パスキーで確認する',
  passkeyWorking: 'パスキーで確認しています…',
  passkeyFailed: 'パスキーで確認できませんでした。確認コードをお使いください。',
  passkeyDone: 'パスキーで確認しました。',
  notices: {
    WRONG: (n) => `確認コードが正しくありません。あと ${n} 回まちがえると、このお知らせからは確認できなくなります。`,
    EXPIRED: 'この確認コードは有効期限が切れています。新しいコードをお送りください。',
    USED: 'この確認コードはすでに使われています。',
    NO_CODE: '有効な確認コードがありません。コードをお送りください。',
    BAD_CODE: '6 桁の数字を入力してください。何も変更されていません。',
    TOO_SOON: (at) => `確認コードは送信済みです。新しいコードは ${at} 以降にお送りできます。`,
    TOO_MANY: 'このお知らせでお送りできる確認コードの上限に達しました。',
    RATE_LIMITED: '確認コードの送信が続いたため、しばらくお送りできません。1 時間ほどしてからお試しください。',
    SEND_FAILED: '確認コードを送れませんでした。少し待ってからもう一度お試しください。',
    NO_CONTACT: '確認コードをお送りできる連絡先が登録されていません。当行までお電話ください。',
    CONFLICT: 'ただいま混み合っています。少し待ってからもう一度お試しください。',
  },
  lockedTitle: 'このお知らせからの確認はできません',
  lockedBody: (n) => `確認コードを ${n} 回まちがえたため、このお知らせからは「自分で行った操作です」を確認できなくなりました。何も解除されていません。`,
  lockedHold: (u) => `ご本人の操作であれば、保留は ${u} に自動で終わります。お急ぎの場合は当行までお電話ください。`,
  notYou: '心当たりがない場合',
  codeNeverShare: '確認コードを誰にも伝えないでください。当行がお電話などでおたずねすることはありません。',
  register: {
    heading: '次回はパスキーで',
    body: 'この端末にパスキーを登録すると、次回からは確認コードの代わりに、端末のロック解除（指紋・顔・端末の PIN）で確認できます。登録しなくても確認コードはお使いいただけます。',
    button: 'この端末にパスキーを登録する',
    working: 'パスキーを登録しています…',
    done: 'パスキーを登録しました。次回はパスキーで確認できます。',
    failed: 'パスキーを登録できませんでした。確認コードは引き続きお使いいただけます。',
  },
  frozen: {
    stopsHeading: '止まるもの',
    stops: ['出金（ATM・窓口・カードレス出金）', '電子決済サービスへの支払い・引き落とし', 'お振込み・お振替など口座からの送金'],
    worksHeading: '引き続きできること',
    works: ['お金の受け取り（お給料・年金・お振込みの入金）'],
    undoHeading: '凍結の解除',
    undo: `凍結はこのページや SMS・メールへの返信では解除できません。解除は、ご本人の確認のうえ当行が行います。不正利用ダイヤル ${FRAUD_LINE}（24時間受付）までお電話ください。`,
  },
};

const en: StepUpMessages = {
  title: 'Confirm it is you',
  intro: (p) => `Before we confirm the link to ${p} and release payments held through it, we check that it is you.`,
  introApp: (a) => `Before we release the cardless withdrawals held for the app ${a}, we check that it is you.`,
  why: 'This stops anyone who merely has this link (someone reading your email, or a program that opens links) from doing it.',
  sendTo: (c, m) => (c === 'SMS' ? `We will text a 6-digit code to your phone number on file (${m}).` : `We will email a 6-digit code to your address on file (${m}).`),
  sameChannel: (c) =>
    `This ${c === 'SMS' ? 'phone number' : 'email address'} is the only contact we have for you, so the code goes to the same place as the alert. Anyone who can read it there can read the code too. To add another contact, call us.`,
  sendButton: 'Send me a code',
  resendButton: 'Send a new code',
  sent: (c, m, u) => `We sent a code by ${c === 'SMS' ? 'SMS' : 'email'} (${m}). It is valid until ${u}.`,
  codeLabel: 'Code (6 digits)',
  codeHint: 'Type the 6 digits from the SMS or email.',
  verifyButton: 'Confirm and release',
  passkeyHeading: 'Confirm with a passkey',
  passkeyIntro: 'If you registered a passkey on this device, you can confirm without a code.',
  passkeyButton: 'Confirm with my passkey',
  passkeyWorking: 'Checking your passkey…',
  passkeyFailed: 'We could not confirm with your passkey. Please use a code.',
  passkeyDone: 'Confirmed with your passkey.',
  notices: {
    WRONG: (n) => `That code is not right. ${n} more wrong ${n === 1 ? 'try' : 'tries'} and this alert can no longer be confirmed.`,
    EXPIRED: 'This code has expired. Please ask for a new one.',
    USED: 'This code has already been used.',
    NO_CODE: 'There is no valid code. Please ask for one.',
    BAD_CODE: 'Please type the 6 digits. Nothing was changed.',
    TOO_SOON: (at) => `We have sent a code. You can ask for a new one after ${at}.`,
    TOO_MANY: 'You have had as many codes as this alert allows.',
    RATE_LIMITED: 'We have sent several codes recently, so we cannot send another now. Please try again in an hour.',
    SEND_FAILED: 'We could not send the code. Please try again in a moment.',
    NO_CONTACT: 'We have no phone number or email address to send a code to. Please call us.',
    CONFLICT: 'We are busy right now. Please try again in a moment.',
  },
  lockedTitle: 'This alert can no longer be confirmed',
  lockedBody: (n) => `The code was typed wrongly ${n} times, so "It was me" can no longer be confirmed from this alert. Nothing was released.`,
  lockedHold: (u) => `If it was you, the hold ends by itself at ${u}. If it is urgent, call us.`,
  notYou: 'If this was not you',
  codeNeverShare: 'Never share the code. We will never call or write to ask for it.',
  register: {
    heading: 'Next time, use a passkey',
    body: 'Register a passkey on this device and next time you confirm by unlocking it (fingerprint, face or device PIN) instead of typing a code. Codes keep working either way.',
    button: 'Register a passkey on this device',
    working: 'Registering your passkey…',
    done: 'Your passkey is registered. Next time you can confirm with it.',
    failed: 'We could not register a passkey. You can keep using codes.',
  },
  frozen: {
    stopsHeading: 'What stops',
    stops: ['Withdrawals (ATM, counter, cardless)', 'Payments and charges by e-payment services', 'Transfers out of the account'],
    worksHeading: 'What still works',
    works: ['Money coming in (salary, pension, transfers to you)'],
    undoHeading: 'How it is undone',
    undo: `A freeze cannot be undone from this page or by replying to our SMS or email. Only the bank unfreezes it, after checking your identity: call our fraud line ${FRAUD_LINE} (24 hours).`,
  },
};

export const stepUpMessages: Record<Locale, StepUpMessages> = { ja, en };
