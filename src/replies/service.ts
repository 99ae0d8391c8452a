/**
 * What a reply does, whichever channel it came by. The channel handlers (SMS, email) have already
 * checked the envelope: the notification parses, and for email SPF, DKIM and DMARC passed. Here:
 *
 * 1. The sender must be a customer's registered contact (reverse lookup by normalised E.164 or
 *    lower-cased address), or the contact an alert was sent to when the reply names that alert's
 *    message (SMS previousPublishedMessageId, email In-Reply-To): after a contact change the
 *    alert also went to the OLD number/address, which the real customer may still hold and is
 *    no longer on the profile. Unknown: nothing happens and nothing is answered, because
 *    answering would tell a stranger the number or address belongs to a customer of the bank.
 * 2. The text is read as a keyword (src/domain/reply-keywords.ts).
 * 3. FREEZE / REVOKE act on "the alert the reply answers": the newest alert of that customer whose
 *    message went to this very contact within the token lifetime (TOKEN_TTL_DAYS), preferring the
 *    exact message when the provider tells which one was answered. No such alert: no change.
 *    FREEZE freezes the alert's account (an alert with no account, e.g. a contact change, freezes
 *    every account of the customer: the attacker's first move deserves the widest stop). REVOKE
 *    revokes the alert's link. Both are the audited, idempotent actions of src/store/actions.ts
 *    with actor CUSTOMER_SMS_REPLY / CUSTOMER_EMAIL_REPLY.
 * 4. Nothing else is ever done from a reply: unprotective or ambiguous keywords get an answer that
 *    says how to do it safely.
 * 5. The customer gets an acknowledgement on the channel they used, in their locale. Empty bodies
 *    and carrier opt-out keywords (STOP) get none.
 */
import type { Locale } from '../../events/core.ts';
import { parseReply, type ReplyIntent } from '../domain/reply-keywords.ts';
import type { AckFacts, AckKind } from './acknowledgements.ts';

export type ReplyChannel = 'SMS' | 'EMAIL';

export interface InboundReply {
  channel: ReplyChannel;
  /** Normalised sender: E.164 for SMS, lower-cased address for email. */
  from: string;
  /** The SMS body, or the first own line of the email. */
  text: string;
  /** Provider id of the inbound message (the dedupe key upstream). */
  replyId: string;
  /** Provider id of the message being answered, when known. */
  answersMessageId?: string;
  receivedAt: Date;
}

export interface AnsweredAlert {
  alertId: string;
  customerId: string;
  accountId?: string;
  linkId?: string;
  sentAt: string;
}

export interface ReplyCustomer {
  customerId: string;
  locale: Locale;
  accountIds: string[];
}

export interface ReplyPorts {
  findCustomerIds(channel: ReplyChannel, contact: string): Promise<string[]>;
  getCustomer(customerId: string): Promise<ReplyCustomer | undefined>;
  /** Alerts of these customers whose message on `channel` went to `contact`, sent at or after `since`. */
  recentAlerts(customerIds: string[], channel: ReplyChannel, contact: string, since: Date): Promise<(AnsweredAlert & { messageIds?: string[] })[]>;
  /**
   * The alert whose message has this provider id, if that message went to `contact` on `channel`
   * at or after `since`. Lets the OLD number or address of a contact change (no longer on the
   * profile) answer the alert it was sent.
   */
  alertAnsweredBy(messageId: string, channel: ReplyChannel, contact: string, since: Date): Promise<AnsweredAlert | undefined>;
  freezeAccount(accountId: string, alertId: string, channel: ReplyChannel, at: Date): Promise<ActionOutcome>;
  revokeLink(accountId: string, linkId: string, alertId: string, channel: ReplyChannel, at: Date): Promise<ActionOutcome>;
  accountFacts(accountId: string | undefined, linkId: string | undefined): Promise<AckFacts>;
  /** False when the acknowledgement was not sent (per-contact hourly cap reached). */
  sendAck(reply: InboundReply, customer: ReplyCustomer, kind: AckKind, facts: AckFacts): Promise<boolean>;
}

/** `eventPublished: false`: the change is committed and audited, but its partner event was not published. */
export type ActionOutcome = { changed: boolean; eventPublished?: boolean } | { refused: string };

export type ReplyOutcome =
  | 'UNKNOWN_SENDER'
  /** Empty text or a carrier keyword: nothing done, nothing answered. */
  | 'IGNORED'
  | 'FROZEN'
  | 'ALREADY_FROZEN'
  | 'REVOKED'
  | 'ALREADY_REVOKED'
  | 'NO_LINK'
  | 'NO_RECENT_ALERT'
  | 'REFUSED_UNPROTECTIVE'
  | 'AMBIGUOUS'
  | 'HELP';

export interface ReplyResult {
  outcome: ReplyOutcome;
  intent?: ReplyIntent;
  customerId?: string;
  alertId?: string;
  /** Accounts frozen / links revoked by this reply (ids only). */
  changed: string[];
  ack?: AckKind;
  /** The acknowledgement was due but not sent: the contact's hourly cap was reached. */
  ackThrottled?: boolean;
  /** A change committed whose AccountFrozen / LinkRevoked event could not be published. */
  eventPublishFailed?: boolean;
}

export async function handleReply(reply: InboundReply, ports: ReplyPorts, opts: { tokenTtlDays: number }): Promise<ReplyResult> {
  const since = new Date(reply.receivedAt.getTime() - opts.tokenTtlDays * 86_400_000);
  const customerIds = await ports.findCustomerIds(reply.channel, reply.from);
  const pinned = reply.answersMessageId ? await ports.alertAnsweredBy(reply.answersMessageId, reply.channel, reply.from, since) : undefined;
  if (customerIds.length === 0 && !pinned) return { outcome: 'UNKNOWN_SENDER', changed: [] };
  const { intent } = parseReply(reply.text);
  if (intent === 'EMPTY' || intent === 'OPT_OUT') return { outcome: 'IGNORED', intent, changed: [] };

  let alert: AnsweredAlert | undefined = pinned;
  if (!alert && (intent === 'FREEZE' || intent === 'REVOKE')) {
    const alerts = await ports.recentAlerts(customerIds, reply.channel, reply.from, since);
    alert = [...alerts].sort((a, b) => b.sentAt.localeCompare(a.sentAt))[0];
  }
  // The customer whose alert it is; without one, the first candidate (only for the answer's locale).
  const customerId = alert?.customerId ?? customerIds[0];
  const customer = customerId ? await ports.getCustomer(customerId) : undefined;
  if (!customer) return { outcome: 'UNKNOWN_SENDER', changed: [] };

  const result = await act(intent, alert, customer, reply, ports);
  const sent = result.ack ? await ports.sendAck(reply, customer, result.ack, result.facts) : true;
  const { facts: _facts, ...rest } = result;
  return { ...rest, intent, customerId: customer.customerId, ...(sent ? {} : { ackThrottled: true }) };
}

async function act(
  intent: ReplyIntent,
  alert: AnsweredAlert | undefined,
  customer: ReplyCustomer,
  reply: InboundReply,
  ports: ReplyPorts,
): Promise<Omit<ReplyResult, 'intent' | 'customerId'> & { facts: AckFacts }> {
  const none = { changed: [] as string[], facts: {} as AckFacts };
  switch (intent) {
    case 'UNPROTECTIVE':
      return { ...none, outcome: 'REFUSED_UNPROTECTIVE', ack: 'UNPROTECTIVE' };
    case 'AMBIGUOUS':
      return { ...none, outcome: 'AMBIGUOUS', ack: 'AMBIGUOUS' };
    case 'HELP':
    case 'UNRECOGNISED':
      return { ...none, outcome: 'HELP', ack: 'HELP' };
    case 'FREEZE': {
      if (!alert) return { ...none, outcome: 'NO_RECENT_ALERT', ack: 'NO_RECENT_ALERT' };
      const accounts = alert.accountId ? [alert.accountId] : customer.accountIds;
      const changed: string[] = [];
      let eventPublishFailed = false;
      for (const accountId of accounts) {
        const r = await ports.freezeAccount(accountId, alert.alertId, reply.channel, reply.receivedAt);
        if ('changed' in r && r.changed) changed.push(accountId);
        if ('changed' in r && r.eventPublished === false) eventPublishFailed = true;
      }
      const facts = accounts.length === 1 ? await ports.accountFacts(accounts[0], undefined) : {};
      const kind: AckKind = changed.length > 0 ? 'FROZEN' : 'ALREADY_FROZEN';
      return { outcome: kind, alertId: alert.alertId, changed, ack: kind, facts, ...(eventPublishFailed ? { eventPublishFailed } : {}) };
    }
    case 'REVOKE': {
      if (!alert) return { ...none, outcome: 'NO_RECENT_ALERT', ack: 'NO_RECENT_ALERT' };
      if (!alert.accountId || !alert.linkId) return { ...none, outcome: 'NO_LINK', alertId: alert.alertId, ack: 'NO_LINK' };
      const r = await ports.revokeLink(alert.accountId, alert.linkId, alert.alertId, reply.channel, reply.receivedAt);
      if ('refused' in r) return { ...none, outcome: 'NO_LINK', alertId: alert.alertId, ack: 'NO_LINK' };
      const facts = await ports.accountFacts(alert.accountId, alert.linkId);
      const kind: AckKind = r.changed ? 'REVOKED' : 'ALREADY_REVOKED';
      return {
        outcome: kind,
        alertId: alert.alertId,
        changed: r.changed ? [alert.linkId] : [],
        ack: kind,
        facts,
        ...(r.eventPublished === false ? { eventPublishFailed: true } : {}),
      };
    }
    default:
      return { ...none, outcome: 'IGNORED' };
  }
}
