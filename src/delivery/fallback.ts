/**
 * The fallback send: the other channel of an alert, when the first one failed for good. It goes
 * through the alert pipeline's send ledger (claim before calling the provider, SENT after), so a
 * repeated or concurrent decision sends at most once per (alert, channel, recipient). The
 * message is rendered from the content kept on the alert record, with a fresh token for the same
 * alert, account and actions (the first token's clear text is gone: only its hash is stored).
 */
import type { AlertChannel } from '../../events/alerting.ts';
import { sendEmail } from '../adapters/email.ts';
import { sendSms } from '../adapters/sms.ts';
import { tokenPeppers } from '../adapters/pepper.ts';
import { publishEvents } from '../adapters/publisher.ts';
import { runtimeConfig } from '../config.ts';
import { renderAlertMessages } from '../domain/messages/index.ts';
import { deliveryKey, recordAlert, type AlertRecord } from '../store/alerts.ts';
import { claimSend, markSendSent, recipientRef, releaseSend } from '../store/send-ledger.ts';
import { issueToken } from '../store/tokens.ts';
import type { CustomerRecord } from '../store/types.ts';

export type FallbackResult = 'SENT' | 'ALREADY_SENT' | 'IN_FLIGHT' | 'FAILED' | 'NO_CONTACT';

export async function sendFallback(alert: AlertRecord, channel: AlertChannel, customer: CustomerRecord, now = new Date()): Promise<FallbackResult> {
  const cfg = runtimeConfig();
  const address = channel === 'SMS' ? customer.phone : customer.suppressedEmail ? undefined : customer.email;
  if (!address) return 'NO_CONTACT';
  const ref = recipientRef(channel, address);
  const owner = { customerId: alert.customerId, ...(alert.accountId ? { accountId: alert.accountId } : {}) };
  const claim = await claimSend(alert.alertId, channel, ref, owner, { staleSeconds: cfg.SEND_CLAIM_STALE_SECONDS, now });
  if (claim.kind === 'IN_FLIGHT') return 'IN_FLIGHT';
  if (claim.kind === 'FAILED') return 'FAILED';
  if (claim.kind === 'ALREADY_SENT') {
    await recordDelivery(alert, channel, ref, address, claim.messageId, claim.sentAt);
    return 'ALREADY_SENT';
  }
  let messageId: string;
  try {
    const { token } = await issueToken(
      // The token knows its channel: "it was me" from this message sends its code to the other one.
      { accountId: alert.tokenAccountId, customerId: alert.customerId, alertId: alert.alertId, actions: alert.actions, channel },
      { pepper: (await tokenPeppers()).current, ttlDays: cfg.TOKEN_TTL_DAYS, now },
    );
    const rendered = renderAlertMessages(alert.content, {
      locale: alert.locale,
      actionUrl: `${cfg.ACTION_BASE_URL}${token}`,
      ttlDays: cfg.TOKEN_TTL_DAYS,
      ...(customer.displayName ? { displayName: customer.displayName } : {}),
      canRevokeLink: alert.actions.some((a) => a.kind === 'REVOKE_LINK'),
      canConfirmLink: alert.actions.some((a) => a.kind === 'CONFIRM_LINK'),
      sms: { links: cfg.SMS_LINKS, bankContact: cfg.SMS_BANK_CONTACT },
    });
    messageId =
      channel === 'SMS'
        ? (await sendSms({ to: address, message: rendered.sms, context: { alertId: alert.alertId } })).messageId
        : (await sendEmail({ to: address, ...rendered.email, tags: { alertId: alert.alertId, channel: 'EMAIL', recipientRef: ref } })).messageId;
  } catch (e) {
    // Nothing reached the provider: another attempt may claim at once.
    await releaseSend(alert.alertId, channel, ref, claim.attemptId);
    throw e;
  }
  const sentAt = now.toISOString();
  await markSendSent(alert.alertId, channel, ref, claim.attemptId, messageId, now);
  await recordDelivery(alert, channel, ref, address, messageId, sentAt);
  await publishEvents([
    {
      detailType: 'AlertSent',
      detail: {
        alertId: alert.alertId,
        sourceEventId: alert.sourceEventId,
        sourceEventType: alert.sourceEventType,
        ...(alert.accountId ? { accountId: alert.accountId } : {}),
        customerId: alert.customerId,
        channel,
        messageId,
        sentAt,
      },
    },
  ]);
  return 'SENT';
}

/** Adds the message to the alert record (only where that delivery is absent or still PENDING). */
async function recordDelivery(alert: AlertRecord, channel: AlertChannel, ref: string, address: string, messageId: string, sentAt: string): Promise<void> {
  await recordAlert({
    ...alert,
    deliveries: {
      [deliveryKey(channel, ref)]: { channel, recipientRef: ref, recipient: address, role: 'PROFILE', status: 'SENT', messageId, sentAt, updatedAt: sentAt },
    },
  });
}
