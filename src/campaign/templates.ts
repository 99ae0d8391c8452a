/**
 * Campaign templates (separate from the alert templates): Japanese and English, email as
 * subject + HTML + text and SMS as text. Email parts are SES templates (a Handlebars subset:
 * `{{name}}` and `{{#each links}}...{{/each}}`): in AWS SES renders them per destination of a
 * SendBulkEmail from each recipient's replacement data; `renderTemplate` renders the same subset
 * here for SMS, previews, tests and the dry run. SES does not HTML-escape, so values that go into
 * HTML come pre-escaped as separate `...Html` fields.
 * No message asks for a password, PIN or card number.
 */
import type { Locale } from '../../events/core.ts';

export interface EmailParts {
  subject: string;
  html: string;
  text: string;
}

export interface CampaignTemplate {
  id: string;
  description: string;
  email?: Record<Locale, EmailParts>;
  sms?: Record<Locale, string>;
  /** Which links a message lists: live ones (default), or those revoked since the campaign was created (a bank's bulk revoke notice). */
  lists?: 'live' | 'revoked-since-created';
}

const review: CampaignTemplate = {
  id: 'linked-services-review',
  description: 'Ask every customer with linked e-payment services to review them; one tap revokes a link or freezes the account.',
  email: {
    ja: {
      subject: '【サンプル銀行】口座に連携中のサービスをご確認ください',
      html:
        '<p>{{nameHtml}} 様</p><p>口座（末尾{{last4}}）には次の{{linkCount}}件のサービスが連携されています。お心当たりのないものは「連携を解除」を押してください。</p>' +
        '<ul>{{#each links}}<li>{{providerHtml}} — <a href="{{revokeUrl}}">連携を解除</a></li>{{/each}}</ul>' +
        '<p>不正利用の心配がある場合は <a href="{{freezeUrl}}">口座を一時停止</a> できます。</p>' +
        '<p>当行がパスワード・暗証番号・カード番号をお尋ねすることはありません。</p>',
      text:
        '{{name}} 様\n\n口座（末尾{{last4}}）には次の{{linkCount}}件のサービスが連携されています。お心当たりのないものは解除してください。\n\n' +
        '{{#each links}}- {{provider}}: 連携を解除 {{revokeUrl}}\n{{/each}}\n口座を一時停止: {{freezeUrl}}\n\n' +
        '当行がパスワード・暗証番号・カード番号をお尋ねすることはありません。\n',
    },
    en: {
      subject: 'Example Bank: please review the services linked to your account',
      html:
        '<p>Dear {{nameHtml}},</p><p>Your account ending {{last4}} is linked to these {{linkCount}} service(s). If you do not recognise one, revoke it.</p>' +
        '<ul>{{#each links}}<li>{{providerHtml}} — <a href="{{revokeUrl}}">Revoke this link</a></li>{{/each}}</ul>' +
        '<p>If you are worried about misuse you can <a href="{{freezeUrl}}">freeze your account</a>.</p>' +
        '<p>We never ask for your password, PIN or card number.</p>',
      text:
        'Dear {{name}},\n\nYour account ending {{last4}} is linked to these {{linkCount}} service(s). If you do not recognise one, revoke it.\n\n' +
        '{{#each links}}- {{provider}}: revoke {{revokeUrl}}\n{{/each}}\nFreeze your account: {{freezeUrl}}\n\n' +
        'We never ask for your password, PIN or card number.\n',
    },
  },
  // Japanese: at most 2 UCS-2 segments (134 characters) with the link; English: 1 GSM-7 segment (160).
  sms: {
    ja: '【サンプル銀行】口座末尾{{last4}}に{{linkCount}}件の連携サービスがあります。心当たりがなければ解除・停止を {{pageUrl}}',
    en: 'Example Bank: account *{{last4}} has {{linkCount}} linked service(s). Not you? Revoke or freeze: {{pageUrl}}',
  },
};

const providerNotice: CampaignTemplate = {
  id: 'provider-notice-email',
  description: 'Email-only notice to the customers of one provider.',
  email: {
    ja: {
      subject: '【サンプル銀行】連携サービスに関するお知らせ',
      html: '<p>{{nameHtml}} 様</p><ul>{{#each links}}<li>{{providerHtml}} — <a href="{{revokeUrl}}">連携を解除</a></li>{{/each}}</ul><p><a href="{{freezeUrl}}">口座を一時停止</a></p>',
      text: '{{name}} 様\n{{#each links}}- {{provider}}: {{revokeUrl}}\n{{/each}}口座を一時停止: {{freezeUrl}}\n',
    },
    en: {
      subject: 'Example Bank: a notice about a linked service',
      html: '<p>Dear {{nameHtml}},</p><ul>{{#each links}}<li>{{providerHtml}} — <a href="{{revokeUrl}}">Revoke this link</a></li>{{/each}}</ul><p><a href="{{freezeUrl}}">Freeze your account</a></p>',
      text: 'Dear {{name}},\n{{#each links}}- {{provider}}: {{revokeUrl}}\n{{/each}}Freeze your account: {{freezeUrl}}\n',
    },
  },
};

/**
 * Sent once per customer after operations revoked a provider's unconfirmed links (src/fraud/providers):
 * one message lists the revoked links of every account of the customer, each with its account;
 * the freeze link (one token, bound to one account) freezes the account named by {{last4}}.
 */
const linksRevoked: CampaignTemplate = {
  id: 'provider-links-revoked',
  description: 'Tell each customer whose unconfirmed links to a suspended provider the bank revoked (all its accounts in one message); offers the freeze.',
  lists: 'revoked-since-created',
  email: {
    ja: {
      subject: '【サンプル銀行】不正利用の疑いがある連携を解除しました',
      html:
        '<p>{{nameHtml}} 様</p><p>不正利用の疑いがあるため、当行はお客さまの口座の次の連携を解除しました。これらのサービスからの出金・決済はできません。</p>' +
        '<ul>{{#each links}}<li>{{providerHtml}}（口座末尾{{accountLast4}}）</li>{{/each}}</ul>' +
        '<p>ご自身で連携したものであれば、後日あらためて連携してください。お心当たりのない出金があれば <a href="{{freezeUrl}}">口座（末尾{{last4}}）を一時停止</a> し、当行までご連絡ください。被害は当行が確認のうえ補償します。</p>' +
        '<p>当行がパスワード・暗証番号・カード番号をお尋ねすることはありません。</p>',
      text:
        '{{name}} 様\n\n不正利用の疑いがあるため、当行はお客さまの口座の次の連携を解除しました。\n\n{{#each links}}- {{provider}}（口座末尾{{accountLast4}}）\n{{/each}}\n' +
        'お心当たりのない出金があれば口座（末尾{{last4}}）を一時停止し、当行までご連絡ください: {{freezeUrl}}\n\n当行がパスワード・暗証番号・カード番号をお尋ねすることはありません。\n',
    },
    en: {
      subject: 'Example Bank: we revoked links that may be fraudulent',
      html:
        '<p>Dear {{nameHtml}},</p><p>Because of suspected fraud we revoked these links to your account(s). No money can leave through them.</p>' +
        '<ul>{{#each links}}<li>{{providerHtml}} (account ending {{accountLast4}})</li>{{/each}}</ul>' +
        '<p>If you made one yourself, link it again later. If you see a withdrawal you did not make, <a href="{{freezeUrl}}">freeze your account ending {{last4}}</a> and call us: the bank reviews and repays losses.</p>' +
        '<p>We never ask for your password, PIN or card number.</p>',
      text:
        'Dear {{name}},\n\nBecause of suspected fraud we revoked these links to your account(s):\n\n{{#each links}}- {{provider}} (account ending {{accountLast4}})\n{{/each}}\n' +
        'A withdrawal you did not make? Freeze your account ending {{last4}} and call us: {{freezeUrl}}\n\nWe never ask for your password, PIN or card number.\n',
    },
  },
  // {{accountsLast4}}: "1234", "1234/5678", at most three then "+n" (src/campaign/message.ts): 2 UCS-2 / 1 GSM-7 segments.
  sms: {
    ja: '【サンプル銀行】不正の疑いで口座末尾{{accountsLast4}}の連携{{linkCount}}件を当行で解除しました。心当たりのない出金があれば停止を {{pageUrl}}',
    en: 'Example Bank: we revoked {{linkCount}} suspicious link(s) on acct *{{accountsLast4}}. Unknown withdrawal? Freeze: {{pageUrl}}',
  },
};

export const campaignTemplates: ReadonlyMap<string, CampaignTemplate> = new Map([review, providerNotice, linksRevoked].map((t) => [t.id, t]));

/** The SES template name of one locale of a campaign template (created/updated at start). */
export const sesTemplateName = (templateId: string, loc: Locale) => `campaign-${templateId}-${loc}`;

type Node = { kind: 'text'; value: string } | { kind: 'var'; name: string } | { kind: 'each'; name: string; body: Node[] };
export type TemplateValue = string | number | readonly Record<string, string | number>[];
export type TemplateData = Record<string, TemplateValue>;

const compiled = new Map<string, Node[]>();

function parse(source: string): Node[] {
  const root: Node[] = [];
  const stack: { name: string; body: Node[] }[] = [];
  const current = () => stack.at(-1)?.body ?? root;
  const re = /\{\{\s*(#each\s+([A-Za-z_][\w]*)|\/each|[A-Za-z_][\w]*)\s*\}\}/g;
  let last = 0;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m.index > last) current().push({ kind: 'text', value: source.slice(last, m.index) });
    last = m.index + m[0].length;
    if (m[2]) {
      stack.push({ name: m[2], body: [] });
    } else if (m[1] === '/each') {
      const done = stack.pop();
      if (!done) throw new Error('template: {{/each}} without {{#each}}');
      current().push({ kind: 'each', name: done.name, body: done.body });
    } else {
      current().push({ kind: 'var', name: m[1]! });
    }
  }
  if (stack.length > 0) throw new Error('template: unclosed {{#each}}');
  if (last < source.length) current().push({ kind: 'text', value: source.slice(last) });
  return root;
}

function renderNodes(nodes: readonly Node[], data: Record<string, unknown>): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.value;
    else if (n.kind === 'var') {
      const v = data[n.name];
      if (typeof v === 'string' || typeof v === 'number') out += String(v);
    } else {
      const list = data[n.name];
      if (Array.isArray(list)) for (const item of list) out += renderNodes(n.body, item as Record<string, unknown>);
    }
  }
  return out;
}

/** Renders the Handlebars subset the campaign templates use; the parse is cached per source. */
export function renderTemplate(source: string, data: TemplateData): string {
  let nodes = compiled.get(source);
  if (!nodes) {
    nodes = parse(source);
    compiled.set(source, nodes);
  }
  return renderNodes(nodes, data);
}
