/**
 * Alert emails, HTML and text, Japanese and English. They say what happened, when, on which
 * account (masked) and from where when known, then offer one link to the bank's page where the
 * customer sees the details and can freeze the account, revoke the link or confirm "it was me"
 * (a GET only shows; the page's button acts). Everything from outside is HTML-escaped.
 * No email asks for a password, PIN or card number.
 */
import type { Locale } from '../../../events/core.ts';
import type { AlertContent, RenderContext } from './content.ts';
import { BANK_NAME, formatAmount, longTime, withdrawalChannelLabel } from './format.ts';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Subject, headline, and the detail rows (label, value) of one alert in one language. */
interface Body {
  subject: string;
  headline: string;
  rows: [string, string][];
  /** What to do; the last sentence names the actions the page offers. */
  advice: string[];
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

function origin(c: AlertContent, locale: Locale): [string, string][] {
  const o = c.origin;
  if (!o) return [];
  const rows: [string, string][] = [];
  const L = locale === 'ja' ? { device: '端末', ip: 'IPアドレス', location: '場所' } : { device: 'Device', ip: 'IP address', location: 'Location' };
  if (o.device) rows.push([L.device, oneLine(o.device)]);
  if (o.ip) rows.push([L.ip, o.ip]);
  if (o.location) rows.push([L.location, oneLine(o.location)]);
  return rows;
}

function actionsSentence(ctx: RenderContext): string {
  if (ctx.locale === 'ja') {
    const acts = [
      '口座の利用停止',
      ...(ctx.canRevokeLink ? ['連携の解除'] : []),
      ...(ctx.canDeactivateApp ? ['アプリの停止'] : []),
      ...(ctx.canConfirmLink || ctx.canDeactivateApp ? ['「本人による操作」の確認'] : []),
    ];
    return `下のボタンから内容を確認し、${acts.join('・')}ができます。リンクの有効期限は${ctx.ttlDays}日です。`;
  }
  const acts = [
    'freeze the account',
    ...(ctx.canRevokeLink ? ['revoke the link'] : []),
    ...(ctx.canDeactivateApp ? ['deactivate the app'] : []),
    ...(ctx.canConfirmLink || ctx.canDeactivateApp ? ['confirm it was you'] : []),
  ];
  const list = acts.length > 1 ? `${acts.slice(0, -1).join(', ')} or ${acts[acts.length - 1]}` : acts[0]!;
  return `Use the button below to review it and ${list}. The link is valid for ${ctx.ttlDays} days.`;
}

/** What the app's hold means: cardless withdrawals share a small allowance until "it was me". */
function appHoldNotice(h: NonNullable<RenderContext['appHold']>, locale: Locale): string {
  const limit = formatAmount(h.limitMinor, 'JPY', locale);
  return locale === 'ja'
    ? `安全のため、有効化から${h.hours}時間は、カードレスでの出金が合計${limit}を超えると、ご本人の確認（下のボタンから）まで保留されます。`
    : `For your safety, for ${h.hours} hours after the activation, cardless withdrawals above ${limit} in total are held until you confirm it was you (button below).`;
}

function body(c: AlertContent, ctx: RenderContext): Body {
  const ja = ctx.locale === 'ja';
  const acct = `*${c.accountLast4}`;
  const when = longTime(c.occurredAt, ctx.locale);
  const notYou = ja
    ? 'お心当たりがない場合は、すぐに口座を停止してください。停止すると出金・決済・振込が止まります（入金は受け付けます）。'
    : 'If this was not you, freeze the account now: withdrawals, payments and transfers stop at once (deposits still arrive).';
  const reply = ja
    ? 'このメールに「停止」とだけ書いて返信しても、口座を停止できます。'
    : 'You can also reply to this email with the single word FREEZE to freeze the account.';
  const advice = [notYou, actionsSentence(ctx), reply];
  switch (c.kind) {
    case 'LINK_CREATED': {
      const type = c.linkType === 'CARDLESS_ATM' ? (ja ? 'カードレスATM' : 'cardless ATM') : ja ? '電子決済サービス' : 'e-payment service';
      return {
        subject: ja ? `【${BANK_NAME.ja}】口座に${type}が連携されました` : `${BANK_NAME.en}: ${c.linkType === 'EPAY' ? 'an' : 'a'} ${type} was linked to your account`,
        headline:
          (ja ? `口座 ${acct} に${type}「${oneLine(c.providerName)}」が連携されました。` : `Your account ${acct} was linked to the ${type} "${oneLine(c.providerName)}".`) +
          // Operations had suspended this provider's new links: the bank has already stopped this one.
          (c.providerSuspended
            ? ja
              ? ' 当行はこのサービスの新規連携を停止しているため、この連携による出金・決済はできません。'
              : ' The bank has suspended new links to this service, so no money can leave through this link.'
            : ''),
        rows: [
          [ja ? '日時' : 'When', when],
          [ja ? '口座' : 'Account', acct],
          [ja ? '連携先' : 'Linked to', `${oneLine(c.providerName)} (${type})`],
          ...origin(c, ctx.locale),
        ],
        advice,
      };
    }
    case 'APP_ACTIVATED':
      return {
        subject: ja ? `【${BANK_NAME.ja}】アプリが有効化されました` : `${BANK_NAME.en}: an app was activated for your account`,
        headline: ja
          ? `口座 ${acct} で「${oneLine(c.appName)}」が${c.deviceName ? `端末「${oneLine(c.deviceName)}」で` : ''}有効化されました。`
          : `"${oneLine(c.appName)}" was activated${c.deviceName ? ` on the device "${oneLine(c.deviceName)}"` : ''} for your account ${acct}.`,
        rows: [
          [ja ? '日時' : 'When', when],
          [ja ? '口座' : 'Account', acct],
          [ja ? 'アプリ' : 'App', oneLine(c.appName)],
          ...(c.deviceName ? [[ja ? '端末名' : 'Device name', oneLine(c.deviceName)] as [string, string]] : []),
          ...origin(c, ctx.locale),
        ],
        advice: ctx.appHold ? [appHoldNotice(ctx.appHold, ctx.locale), ...advice] : advice,
      };
    case 'WITHDRAWAL': {
      const amount = formatAmount(c.amount, c.currency, ctx.locale);
      const channel = withdrawalChannelLabel[ctx.locale][c.channel];
      return {
        subject: ja ? `【${BANK_NAME.ja}】出金のお知らせ（${amount}）` : `${BANK_NAME.en}: ${amount} withdrawn from your account`,
        headline: ja ? `口座 ${acct} から ${amount} の出金（${channel}）がありました。` : `${amount} was withdrawn from your account ${acct} (${channel}).`,
        rows: [
          [ja ? '日時' : 'When', when],
          [ja ? '口座' : 'Account', acct],
          [ja ? '金額' : 'Amount', amount],
          [ja ? '方法' : 'Channel', channel],
          ...(c.providerName ? [[ja ? '連携先' : 'Through', oneLine(c.providerName)] as [string, string]] : []),
          ...(c.counterparty ? [[ja ? '取引先' : 'Payee / place', oneLine(c.counterparty)] as [string, string]] : []),
          ...origin(c, ctx.locale),
        ],
        advice,
      };
    }
    case 'CONTACT_CHANGED': {
      const what = ja
        ? c.emailChanged && c.phoneChanged ? 'メールアドレスと電話番号' : c.emailChanged ? 'メールアドレス' : '電話番号'
        : c.emailChanged && c.phoneChanged ? 'email address and phone number' : c.emailChanged ? 'email address' : 'phone number';
      const others = c.otherAccounts
        ? [ja ? `このリンクで停止できるのは口座 ${acct} だけです。ほかの口座はお電話でお申し出ください。` : `This link can freeze account ${acct} only. For your other accounts, please call us.`]
        : [];
      return {
        subject: ja ? `【${BANK_NAME.ja}】ご登録の${what}が変更されました` : `${BANK_NAME.en}: the ${what} on your account was changed`,
        headline: ja
          ? `ご登録の${what}が変更されました。このお知らせは変更前と変更後の連絡先にお送りしています。`
          : `The ${what} registered with us was changed. We are sending this notice to both the previous and the new contact.`,
        rows: [
          [ja ? '日時' : 'When', when],
          ...(c.newEmailMasked ? [[ja ? '新しいメールアドレス' : 'New email', c.newEmailMasked] as [string, string]] : []),
          ...(c.newPhoneMasked ? [[ja ? '新しい電話番号' : 'New phone', c.newPhoneMasked] as [string, string]] : []),
          ...origin(c, ctx.locale),
        ],
        advice: [notYou, ...others, actionsSentence(ctx), reply],
      };
    }
  }
}

export function renderEmail(c: AlertContent, ctx: RenderContext): RenderedEmail {
  const b = body(c, ctx);
  const ja = ctx.locale === 'ja';
  const greeting = ctx.displayName ? (ja ? `${oneLine(ctx.displayName)} 様` : `Dear ${oneLine(ctx.displayName)},`) : ja ? 'お客さま' : 'Dear customer,';
  const button = ja ? '内容を確認する' : 'Review this activity';
  const footer = ja
    ? `このメールは${BANK_NAME.ja}からお送りしています。`
    : `This message was sent by ${BANK_NAME.en}.`;
  const width = Math.max(...b.rows.map(([l]) => l.length));
  const text = [
    greeting,
    '',
    b.headline,
    '',
    ...b.rows.map(([l, v]) => `${l.padEnd(width)}  ${v}`),
    '',
    ...b.advice,
    '',
    `${button}: ${ctx.actionUrl}`,
    '',
    `-- ${footer}`,
    '',
  ].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="${ctx.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(b.subject)}</title></head>
<body style="font-family:system-ui,-apple-system,'Hiragino Sans','Noto Sans JP',sans-serif;color:#1a1a1a;max-width:36rem;margin:0 auto;padding:1rem">
<p>${e(greeting)}</p>
<h1 style="font-size:1.2rem">${e(b.headline)}</h1>
<table role="presentation" style="border-collapse:collapse;margin:1rem 0">
${b.rows.map(([l, v]) => `<tr><th scope="row" style="text-align:left;padding:.25rem 1rem .25rem 0;font-weight:600">${e(l)}</th><td style="padding:.25rem 0">${e(v)}</td></tr>`).join('\n')}
</table>
${b.advice.map((a) => `<p>${e(a)}</p>`).join('\n')}
<p style="margin:1.5rem 0"><a href="${e(ctx.actionUrl)}" style="background:#b00020;color:#fff;padding:.75rem 1.25rem;border-radius:6px;text-decoration:none;font-weight:600">${e(button)}</a></p>
<p style="font-size:.85rem;color:#555">${e(ctx.actionUrl)}</p>
<hr><p style="font-size:.8rem;color:#555">${e(footer)}</p>
</body></html>
`;
  return { subject: oneLine(b.subject), html, text };
}
