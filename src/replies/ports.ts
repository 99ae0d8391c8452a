/** The reply flow's ports, wired to the table, the actions and the senders. */
import { runtimeConfig } from '../config.ts';
import { findCustomersByEmail, findCustomersByPhone, getAccount, getCustomer } from '../store/customers.ts';
import { getLink } from '../store/links.ts';
import { ActionRefusedError, freezeAccount, revokeLink } from '../store/actions.ts';
import { recentAlertsOf, revocableLinkOf } from '../delivery/alert-items.ts';
import { normaliseAddress } from '../domain/alert-decision.ts';
import { isFailed } from '../domain/delivery.ts';
import { findAlert } from '../store/alerts.ts';
import { findMessage } from '../delivery/store.ts';
import { ackEmail, ackSms } from './acknowledgements.ts';
import { sendAckEmail, sendAckSms } from './senders.ts';
import { mayAcknowledge } from './ack-throttle.ts';
import type { ReplyChannel, ReplyPorts } from './service.ts';

const actorOf = (c: ReplyChannel) => (c === 'SMS' ? ('CUSTOMER_SMS_REPLY' as const) : ('CUSTOMER_EMAIL_REPLY' as const));

async function guarded<T>(f: () => Promise<T>): Promise<T | { refused: string }> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ActionRefusedError) return { refused: e.reason };
    throw e;
  }
}

export function replyPorts(): ReplyPorts {
  return {
    findCustomerIds: (channel, contact) => (channel === 'SMS' ? findCustomersByPhone(contact) : findCustomersByEmail(contact)),
    async getCustomer(customerId) {
      const c = await getCustomer(customerId, true);
      return c ? { customerId: c.customerId, locale: c.locale, accountIds: c.accountIds } : undefined;
    },
    async recentAlerts(customerIds, channel, contact, since) {
      const out = [];
      for (const customerId of customerIds) {
        const c = await getCustomer(customerId, true);
        if (!c) continue;
        for (const a of await recentAlertsOf(c, since)) {
          // Only an alert whose message on this channel reached (or may have reached) this very contact can be answered from it.
          const ours = Object.values(a.deliveries ?? {}).filter(
            (d) => d.channel === channel && d.status !== 'PENDING' && !isFailed(d.status) && normaliseAddress(channel, d.recipient) === contact,
          );
          if (ours.length === 0) continue;
          const linkId = revocableLinkOf(a);
          out.push({
            alertId: a.alertId,
            customerId: a.customerId,
            sentAt: a.sentAt ?? a.createdAt,
            ...(a.accountId ? { accountId: a.accountId } : {}),
            ...(linkId ? { linkId } : {}),
            messageIds: ours.flatMap((d) => (d.messageId ? [d.messageId] : [])),
          });
        }
      }
      return out;
    },
    async alertAnsweredBy(messageId, channel, contact, since) {
      const ref = await findMessage(messageId);
      if (!ref || ref.channel !== channel) return undefined;
      const a = await findAlert(ref.owner, ref.alertId, true);
      const sentAt = a?.sentAt ?? a?.createdAt;
      if (!a || !sentAt || sentAt < since.toISOString()) return undefined;
      const went = Object.values(a.deliveries ?? {}).some(
        (d) => d.channel === channel && d.messageId === messageId && normaliseAddress(channel, d.recipient) === contact,
      );
      if (!went) return undefined;
      const linkId = revocableLinkOf(a);
      return { alertId: a.alertId, customerId: a.customerId, sentAt, ...(a.accountId ? { accountId: a.accountId } : {}), ...(linkId ? { linkId } : {}) };
    },
    freezeAccount: (accountId, alertId, channel, at) => guarded(() => freezeAccount(accountId, { actor: actorOf(channel), alertId, at })),
    revokeLink: (accountId, linkId, alertId, channel, at) => guarded(() => revokeLink(accountId, linkId, { actor: actorOf(channel), alertId, at })),
    async accountFacts(accountId, linkId) {
      if (!accountId) return {};
      const [account, link] = await Promise.all([getAccount(accountId, false), linkId ? getLink(accountId, linkId, false) : undefined]);
      return { ...(account ? { maskedAccount: `...${account.last4}` } : {}), ...(link ? { providerName: link.providerName } : {}) };
    },
    async sendAck(reply, customer, kind, facts) {
      if (!(await mayAcknowledge(`${reply.channel}:${reply.from}`, reply.receivedAt))) return false;
      // Answer the contact that wrote: it is the customer's own (step 1 of the flow).
      if (reply.channel === 'SMS') await sendAckSms(reply.from, ackSms(kind, customer.locale, facts));
      else {
        const m = ackEmail(kind, customer.locale, facts);
        await sendAckEmail(reply.from, m.subject, m.text);
      }
      return true;
    },
  };
}

export const tokenTtlDays = () => runtimeConfig().TOKEN_TTL_DAYS;
