/** Customers, links and sent alerts for the reply and delivery tests (each test its own customer). */
import { randomUUID } from 'node:crypto';
import { upsertCustomerProfile } from '../../src/store/customers.ts';
import { createLink } from '../../src/store/links.ts';
import { deliveryKey, recordAlert, type AlertDeliveryStatus, type AlertRecord } from '../../src/store/alerts.ts';
import { claimSend, markSendSent, recipientRef } from '../../src/store/send-ledger.ts';
import { rememberMessage } from '../../src/delivery/store.ts';
import type { AlertChannel } from '../../events/alerting.ts';

let n = 0;

export interface Fixture {
  customerId: string;
  accountId: string;
  linkId: string;
  phone: string;
  email: string;
  locale: 'ja' | 'en';
}

export async function newCustomer(opts: { locale?: 'ja' | 'en'; phone?: boolean; email?: boolean } = {}): Promise<Fixture> {
  n++;
  const id = `${n}-${randomUUID().slice(0, 8)}`;
  const f: Fixture = {
    customerId: `cust-${id}`,
    accountId: `acct-${id}`,
    linkId: `lnk-${id}`,
    phone: `+8190${String(10_000_000 + Math.floor(Math.random() * 89_999_999)).slice(0, 8)}`,
    email: `user.${id}@example.jp`,
    locale: opts.locale ?? 'ja',
  };
  await upsertCustomerProfile({
    eventId: `evt-${id}`,
    occurredAt: '2026-11-24T09:00:00+09:00',
    customerId: f.customerId,
    ...(opts.email === false ? {} : { email: f.email }),
    ...(opts.phone === false ? {} : { phone: f.phone }),
    locale: f.locale,
    accounts: [{ accountId: f.accountId, last4: '1234' }],
    preferences: { withdrawals: 'LINKED_AND_CARDLESS', withdrawalThreshold: 50_000, marketingOptOut: false },
  });
  const now = new Date();
  await createLink({
    accountId: f.accountId,
    linkId: f.linkId,
    customerId: f.customerId,
    providerId: 'dwallet',
    providerName: 'D-Wallet',
    linkType: 'EPAY',
    createdAt: now.toISOString(),
    holdUntil: new Date(now.getTime() + 86_400_000).toISOString(),
  });
  return f;
}

/** An alert as the alert function records it after both providers accepted the messages. */
export async function putSentAlert(
  f: Fixture,
  opts: { alertId?: string; sentAt?: Date; linkId?: string | null; channels?: ('EMAIL' | 'SMS')[]; status?: AlertDeliveryStatus; emailTo?: string; smsTo?: string; index?: boolean } = {},
): Promise<{ alertId: string; emailMessageId: string; smsMessageId: string; record: AlertRecord }> {
  const alertId = opts.alertId ?? `al-${randomUUID()}`;
  const emailMessageId = `0106019a${randomUUID().replaceAll('-', '')}-000000`;
  const smsMessageId = randomUUID();
  const channels = opts.channels ?? ['EMAIL', 'SMS'];
  const linkId = opts.linkId === null ? undefined : (opts.linkId ?? f.linkId);
  const sentAt = (opts.sentAt ?? new Date()).toISOString();
  const owner = { accountId: f.accountId, customerId: f.customerId };
  const deliveries: AlertRecord['deliveries'] = {};
  const targets: [AlertChannel, string, string][] = [];
  if (channels.includes('EMAIL')) targets.push(['EMAIL', opts.emailTo ?? f.email, emailMessageId]);
  if (channels.includes('SMS')) targets.push(['SMS', opts.smsTo ?? f.phone, smsMessageId]);
  for (const [channel, address, messageId] of targets) {
    const ref = recipientRef(channel, address);
    deliveries[deliveryKey(channel, ref)] = { channel, recipientRef: ref, recipient: address, role: 'PROFILE', status: opts.status ?? 'SENT', messageId, sentAt, updatedAt: sentAt };
    // As the alert function's ledger and the delivery function's AlertSent handling leave them.
    const claim = await claimSend(alertId, channel, ref, owner, { staleSeconds: 120 });
    if (claim.kind === 'CLAIMED') await markSendSent(alertId, channel, ref, claim.attemptId, messageId, new Date(sentAt));
    if (opts.index !== false) await rememberMessage(messageId, { alertId, channel, owner }, new Date(sentAt));
  }
  const record: AlertRecord = {
    alertId,
    sourceEventId: `evt-${alertId}`,
    sourceEventType: 'LinkCreated',
    ...owner,
    tokenAccountId: f.accountId,
    actions: [{ kind: 'FREEZE_ACCOUNT' }, ...(linkId ? [{ kind: 'REVOKE_LINK' as const, linkId }, { kind: 'CONFIRM_LINK' as const, linkId }] : [])],
    locale: f.locale,
    content: { kind: 'LINK_CREATED', occurredAt: sentAt, accountLast4: '1234', providerName: 'D-Wallet', linkType: 'EPAY' },
    occurredAt: sentAt,
    createdAt: sentAt,
    sentAt,
    deliveries,
  };
  await recordAlert(record);
  return { alertId, emailMessageId, smsMessageId, record };
}
