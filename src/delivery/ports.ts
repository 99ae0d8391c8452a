/** The delivery flows' ports, wired to the table, the alert records, the ledger and the senders. */
import { publishEvents } from '../adapters/publisher.ts';
import { runtimeConfig } from '../config.ts';
import { findAlert, markUndeliveredReported, recordDeliveryStatus } from '../store/alerts.ts';
import { getCustomer } from '../store/customers.ts';
import { getSend, recipientRef, recordProviderAccepted } from '../store/send-ledger.ts';
import { sendFallback } from './fallback.ts';
import { recordIfCampaignSend } from './campaign-sends.ts';
import type { DeliveryConfig, DeliveryPorts } from './service.ts';
import { dueIn, findMessage, forgetDue, forgetOrphans, orphansOf, parkOrphan, rememberMessage, suppressCustomerEmail, watchDeadline } from './store.ts';

export function deliveryPorts(): DeliveryPorts {
  return {
    findMessage,
    async ownerFromLedger(alertId, channel, recipient) {
      return (await getSend(alertId, channel, recipientRef(channel, recipient)))?.owner;
    },
    recordDeliveryStatus: (ref, o, messageId) =>
      recordDeliveryStatus(ref.alertId, ref.owner, o.channel, o.recipient, o.status, { reason: o.reason, messageId, at: o.at }),
    recordProviderAccepted: (alertId, recipient, messageId, at) => recordProviderAccepted(alertId, 'EMAIL', recipient, messageId, at),
    findAlert: (owner, alertId) => findAlert(owner, alertId, true),
    getCustomer: (customerId) => getCustomer(customerId, true),
    suppressEmail: suppressCustomerEmail,
    sendFallback,
    markUndeliveredReported,
    publish: (events) => publishEvents(events),
    rememberMessage,
    watchDeadline,
    dueIn,
    forgetDue,
    parkOrphan,
    orphansOf,
    forgetOrphans,
    recordCampaignSend: recordIfCampaignSend,
  };
}

export const deliveryConfig = (): DeliveryConfig => ({ undeliveredAfterMinutes: runtimeConfig().UNDELIVERED_AFTER_MINUTES });
