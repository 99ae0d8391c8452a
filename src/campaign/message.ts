/**
 * One recipient's message: the linked services it lists, the token grant behind its links and
 * the data SES (email) or our renderer (SMS) fills the template with. Plain TypeScript.
 *
 * One token per recipient carries every action the message offers: FREEZE_ACCOUNT plus
 * REVOKE_LINK for each listed link, each usable once. The SMS then needs a single 22-character
 * token (two UCS-2 segments in Japanese hold it), and the email's per-service links are the same
 * action page with the service named in the query (`?revoke={linkId}`, `?freeze=1`) so the page
 * can put that action first; a GET never acts, the POST from the page does.
 */
import type { Locale } from '../../events/core.ts';
import type { TokenAction } from '../domain/tokens.ts';
import type { CampaignTemplate, TemplateData } from './templates.ts';
import { renderTemplate } from './templates.ts';

export interface RecipientLink {
  linkId: string;
  providerName: string;
  /** The account the link is on and its last four digits: a bulk revoke notice covers several accounts of one customer. */
  accountId?: string;
  accountLast4?: string;
}

export interface RecipientView {
  accountId: string;
  customerId: string;
  last4: string;
  displayName?: string | undefined;
  locale: Locale;
  links: RecipientLink[];
}

export const campaignAlertId = (campaignId: string) => `campaign-${campaignId}`;

/** The token is bound to the view's account: it offers revoking only the links on that account. */
export function grantActions(links: readonly RecipientLink[], accountId?: string): TokenAction[] {
  const own = accountId === undefined ? links : links.filter((l) => l.accountId === undefined || l.accountId === accountId);
  return [{ kind: 'FREEZE_ACCOUNT' }, ...own.map((l): TokenAction => ({ kind: 'REVOKE_LINK', linkId: l.linkId }))];
}

/** The last four digits of the accounts a message lists, first three then "+n": "1234", "1234/5678", "1234/5678/9012+2". */
function accountsLast4(r: RecipientView): string {
  // The account the message offers to freeze first, when it has links listed.
  const all = [...new Set(r.links.map((l) => l.accountLast4 ?? r.last4))].sort((a, b) => Number(b === r.last4) - Number(a === r.last4));
  if (all.length === 0) return r.last4;
  return all.length <= 3 ? all.join('/') : `${all.slice(0, 3).join('/')}+${all.length - 3}`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const defaultName: Record<Locale, string> = { ja: 'お客', en: 'customer' };

export function messageData(r: RecipientView, token: string, actionBaseUrl: string): TemplateData {
  const pageUrl = `${actionBaseUrl}${token}`;
  const name = r.displayName ?? defaultName[r.locale];
  return {
    name,
    nameHtml: escapeHtml(name),
    last4: r.last4,
    accountsLast4: accountsLast4(r),
    linkCount: r.links.length,
    pageUrl,
    freezeUrl: `${pageUrl}?freeze=1`,
    links: r.links.map((l) => ({
      provider: l.providerName,
      providerHtml: escapeHtml(l.providerName),
      revokeUrl: `${pageUrl}?revoke=${encodeURIComponent(l.linkId)}`,
      accountLast4: l.accountLast4 ?? r.last4,
    })),
  };
}

export function renderSms(template: CampaignTemplate, loc: Locale, data: TemplateData): string {
  const source = template.sms?.[loc];
  if (!source) throw new Error(`template ${template.id} has no SMS in ${loc}`);
  return renderTemplate(source, data);
}

export function renderEmail(template: CampaignTemplate, loc: Locale, data: TemplateData): { subject: string; html: string; text: string } {
  const parts = template.email?.[loc];
  if (!parts) throw new Error(`template ${template.id} has no email in ${loc}`);
  return { subject: renderTemplate(parts.subject, data), html: renderTemplate(parts.html, data), text: renderTemplate(parts.text, data) };
}

/** The tokens in a delivered message body (to tie a message found in a mailbox to a ledger attempt). */
export function tokensIn(body: string, actionBaseUrl: string): string[] {
  const out: string[] = [];
  let i = body.indexOf(actionBaseUrl);
  while (i >= 0) {
    const t = body.slice(i + actionBaseUrl.length, i + actionBaseUrl.length + 22);
    if (/^[A-Za-z0-9_-]{22}$/.test(t)) out.push(t);
    i = body.indexOf(actionBaseUrl, i + 1);
  }
  return out;
}
