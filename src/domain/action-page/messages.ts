/** Every word on the action pages, in Japanese and English. Never asks for a password, PIN or card number. */
import type { Locale } from '../../../events/core.ts';
// One fraud line for every customer-facing text (the reply acknowledgements print the same).
import { FRAUD_LINE } from '../../replies/acknowledgements.ts';

export type PageProblem =
  | 'INVALID'
  | 'EXPIRED'
  | 'ALREADY_USED'
  | 'NOT_AVAILABLE'
  | 'NOT_OFFERED'
  | 'BAD_FORM'
  | 'NOT_FOUND'
  | 'TRY_AGAIN'
  | 'ERROR';

export interface Messages {
  bank: string;
  title: string;
  switchTo: string;
  languageNav: string;
  account: (masked: string | undefined) => string;
  when: string;
  provider: string;
  amount: string;
  counterparty: string;
  device: string;
  location: string;
  happened: {
    LINK_CREATED: (provider: string, account: string) => string;
    WITHDRAWAL: (amount: string, account: string, provider: string | undefined) => string;
    APP_ACTIVATED: (app: string, account: string) => string;
    CONTACT_CHANGED: () => string;
    UNKNOWN: (account: string) => string;
  };
  ask: string;
  nothingUntilPress: string;
  actionsHeading: string;
  buttons: { FREEZE_ACCOUNT: string; REVOKE_LINK: (provider: string) => string; CONFIRM_LINK: string; DEACTIVATE_APP: (app: string) => string; CONFIRM_APP: string };
  explain: { FREEZE_ACCOUNT: string; REVOKE_LINK: string; CONFIRM_LINK: string; DEACTIVATE_APP: string; CONFIRM_APP: string };
  state: {
    frozen: string;
    linkRevoked: (provider: string) => string;
    linkActive: (provider: string) => string;
    linkPending: (provider: string, until: string) => string;
  };
  nothingLeft: string;
  done: {
    FREEZE_ACCOUNT: string;
    REVOKE_LINK: (provider: string) => string;
    CONFIRM_LINK: (provider: string) => string;
    DEACTIVATE_APP: (app: string) => string;
    CONFIRM_APP: (app: string) => string;
  };
  afterFreeze: string;
  offerFreeze: string;
  problems: Record<PageProblem, { title: string; body: string }>;
  backToPage: string;
  neverAsk: string;
  help: string;
}

const ja: Messages = {
  bank: 'サンプル銀行',
  title: '口座の保護',
  switchTo: 'English',
  languageNav: '表示言語',
  account: (m) => (m ? `口座 ${m}` : 'お客さまの口座'),
  when: '日時',
  provider: '連携先',
  amount: '金額',
  counterparty: '相手先',
  device: '端末',
  location: '場所',
  happened: {
    LINK_CREATED: (p, a) => `${a} が「${p}」と連携されました。`,
    WITHDRAWAL: (amt, a, p) => `${a} から ${amt} が出金されました${p ? `（${p}）` : ''}。`,
    APP_ACTIVATED: (app, a) => `${a} でアプリ「${app}」が有効になりました。`,
    CONTACT_CHANGED: () => 'お客さまの連絡先（メールアドレスまたは電話番号）が変更されました。',
    UNKNOWN: (a) => `${a} についてお知らせをお送りしました。`,
  },
  ask: 'お心当たりがない場合は、すぐに下のボタンで口座を守ってください。',
  nothingUntilPress: 'ボタンを押すまで、何も変更されません。',
  actionsHeading: 'できること',
  buttons: {
    FREEZE_ACCOUNT: '口座を凍結する',
    REVOKE_LINK: (p) => `心当たりがない：「${p}」との連携を解除する`,
    CONFIRM_LINK: '自分で行った操作です',
    DEACTIVATE_APP: (app) => `心当たりがない：アプリ「${app}」を停止する`,
    CONFIRM_APP: '自分で行った操作です',
  },
  explain: {
    FREEZE_ACCOUNT: '出金・決済・振込をすべて止めます。入金は引き続き受け付けます。凍結の解除は本人確認のうえ当行で行います。',
    REVOKE_LINK: 'この連携先からの引き落としを止めます。',
    CONFIRM_LINK: '保留中の連携を有効にし、引き落としの保留を解除します。SMS またはメールでお送りする確認コード（またはパスキー）でご本人を確認します。',
    DEACTIVATE_APP: 'このアプリと、この口座のカードレスATMでの出金をすべて止めます。再開は本人確認のうえ当行で行います。',
    CONFIRM_APP: 'アプリの保留を解除し、カードレスでの出金の保留を解除します。SMS またはメールでお送りする確認コード（またはパスキー）でご本人を確認します。',
  },
  state: {
    frozen: 'この口座は凍結されています。出金・決済・振込はできません。',
    linkRevoked: (p) => `「${p}」との連携は解除されています。`,
    linkActive: (p) => `「${p}」との連携は有効です。`,
    linkPending: (p, u) => `「${p}」との連携は確認待ちです（${u} まで高額の引き落としを保留します）。`,
  },
  nothingLeft: 'このお知らせから行える操作は、すべて完了しています。',
  done: {
    FREEZE_ACCOUNT: '口座を凍結しました。',
    REVOKE_LINK: (p) => `「${p}」との連携を解除しました。`,
    CONFIRM_LINK: (p) => `ご確認ありがとうございます。「${p}」との連携を有効にしました。`,
    DEACTIVATE_APP: (app) => `アプリ「${app}」を停止しました。カードレスでの出金は、当行でご本人を確認するまでできません。`,
    CONFIRM_APP: (app) => `ご確認ありがとうございます。アプリ「${app}」の保留を解除しました。`,
  },
  afterFreeze: 'この口座からお金が出ていくことはありません。',
  offerFreeze: 'ほかにも心当たりのない取引がある場合は、口座も凍結してください。',
  problems: {
    INVALID: { title: 'このリンクは無効です', body: 'お知らせのリンクを最後までそのまま開いたかご確認ください。ご不明な場合は当行までお電話ください。' },
    EXPIRED: { title: 'このリンクは有効期限が切れています', body: '口座を守る必要がある場合は、当行までお電話ください。SMS またはメールに「停止」と返信することもできます。' },
    ALREADY_USED: { title: 'このリンクはすでに使用されています', body: '同じ操作を二度行うことはできません。' },
    NOT_AVAILABLE: { title: 'この操作はもう行えません', body: '口座の凍結または連携の解除の後は、「自分で行った操作です」は選べません。' },
    NOT_OFFERED: { title: 'この操作はこのリンクからは行えません', body: 'お知らせのページに表示されたボタンをお使いください。' },
    BAD_FORM: { title: 'ページのボタンからお手続きください', body: '送信された内容を確認できませんでした。何も変更されていません。' },
    NOT_FOUND: { title: '対象が見つかりません', body: '何も変更されていません。当行までお電話ください。' },
    TRY_AGAIN: { title: 'ただいま混み合っています', body: '少し待ってからもう一度お試しください。' },
    ERROR: { title: '処理を完了できませんでした', body: 'もう一度お試しください。解決しない場合は当行までお電話ください。' },
  },
  backToPage: 'お知らせのページに戻る',
  neverAsk: '当行が暗証番号・パスワード・カード番号をおたずねすることはありません。',
  help: `不正利用のご相談：${FRAUD_LINE}（24時間受付）`,
};

const en: Messages = {
  bank: 'Example Bank',
  title: 'Protect your account',
  switchTo: '日本語',
  languageNav: 'Language',
  account: (m) => (m ? `your account ${m}` : 'your account'),
  when: 'When',
  provider: 'Service',
  amount: 'Amount',
  counterparty: 'Where',
  device: 'Device',
  location: 'Location',
  happened: {
    LINK_CREATED: (p, a) => `${cap(a)} was linked to ${p}.`,
    WITHDRAWAL: (amt, a, p) => `${amt} was withdrawn from ${a}${p ? ` (${p})` : ''}.`,
    APP_ACTIVATED: (app, a) => `The app ${app} was activated for ${a}.`,
    CONTACT_CHANGED: () => 'Your contact details (email address or phone number) were changed.',
    UNKNOWN: (a) => `We sent you an alert about ${a}.`,
  },
  ask: 'If this was not you, protect your account now with a button below.',
  nothingUntilPress: 'Nothing changes until you press a button.',
  actionsHeading: 'What you can do',
  buttons: {
    FREEZE_ACCOUNT: 'Freeze my account',
    REVOKE_LINK: (p) => `This wasn't me: revoke the link to ${p}`,
    CONFIRM_LINK: 'It was me',
    DEACTIVATE_APP: (app) => `This wasn't me: deactivate ${app}`,
    CONFIRM_APP: 'It was me',
  },
  explain: {
    FREEZE_ACCOUNT: 'Stops every withdrawal, payment and transfer out. Deposits still arrive. We unfreeze it only after checking your identity.',
    REVOKE_LINK: 'Stops this service from taking money from your account.',
    CONFIRM_LINK: 'Confirms the new link and releases payments held through it, after we check it is you with a code sent by SMS or email (or your passkey).',
    DEACTIVATE_APP: 'Stops this app, and every cardless ATM withdrawal from this account until we have checked your identity.',
    CONFIRM_APP: 'Confirms the app and releases cardless withdrawals held for it, after we check it is you with a code sent by SMS or email (or your passkey).',
  },
  state: {
    frozen: 'This account is frozen: no withdrawals, payments or transfers out.',
    linkRevoked: (p) => `The link to ${p} is revoked.`,
    linkActive: (p) => `The link to ${p} is active.`,
    linkPending: (p, u) => `The link to ${p} awaits confirmation (larger payments through it are held until ${u}).`,
  },
  nothingLeft: 'Everything this alert offered has been done.',
  done: {
    FREEZE_ACCOUNT: 'Your account is frozen.',
    REVOKE_LINK: (p) => `The link to ${p} is revoked.`,
    CONFIRM_LINK: (p) => `Thank you. The link to ${p} is confirmed.`,
    DEACTIVATE_APP: (app) => `${app} is deactivated. Cardless withdrawals stay blocked until we have checked your identity.`,
    CONFIRM_APP: (app) => `Thank you. ${app} is confirmed and its hold is lifted.`,
  },
  afterFreeze: 'No money can leave this account.',
  offerFreeze: 'If you see anything else you do not recognise, freeze your account as well.',
  problems: {
    INVALID: { title: 'This link is not valid', body: 'Please check that you opened the whole link from our message. If in doubt, call us.' },
    EXPIRED: { title: 'This link has expired', body: 'If you need to protect your account, call us, or reply FREEZE to our SMS or email.' },
    ALREADY_USED: { title: 'This link has already been used', body: 'The same action cannot be done twice.' },
    NOT_AVAILABLE: { title: 'This action is no longer available', body: 'After a freeze or a revoked link, "It was me" can no longer be chosen.' },
    NOT_OFFERED: { title: 'This action is not available from this link', body: 'Please use the buttons on the alert page.' },
    BAD_FORM: { title: 'Please use the buttons on the page', body: 'We could not read what was sent. Nothing was changed.' },
    NOT_FOUND: { title: 'We could not find what this link refers to', body: 'Nothing was changed. Please call us.' },
    TRY_AGAIN: { title: 'We are busy right now', body: 'Please try again in a moment.' },
    ERROR: { title: 'We could not complete this', body: 'Please try again. If it keeps happening, call us.' },
  },
  backToPage: 'Back to the alert page',
  neverAsk: 'We never ask for your PIN, password or card number.',
  help: `Fraud line: ${FRAUD_LINE} (24 hours)`,
};

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export const messages: Record<Locale, Messages> = { ja, en };
