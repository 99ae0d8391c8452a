/** Customers, links and sent alerts for the reply and delivery tests (each test its own customer). */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { upsertCustomerProfile } from '../../src/store/customers.ts';
import { createLink } from '../../src/store/links.ts';
import { db, tableName } from '../../src/store/db.ts';
import { key } from '../../src/store/table.ts';

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
  opts: { alertId?: string; sentAt?: Date; linkId?: string | null; channels?: ('EMAIL' | 'SMS')[]; status?: string } = {},
): Promise<{ alertId: string; emailMessageId: string; smsMessageId: string }> {
  const alertId = opts.alertId ?? `al-${randomUUID()}`;
  const emailMessageId = `ses-${randomUUID()}`;
  const smsMessageId = randomUUID();
  const channels = opts.channels ?? ['EMAIL', 'SMS'];
  const linkId = opts.linkId === null ? undefined : (opts.linkId ?? f.linkId);
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...key.alert({ accountId: f.accountId, customerId: f.customerId }, alertId),
        alertId,
        customerId: f.customerId,
        accountId: f.accountId,
        ...(linkId ? { linkId } : {}),
        sourceEventType: 'LinkCreated',
        sentAt: (opts.sentAt ?? new Date()).toISOString(),
        messages: [
          ...(channels.includes('EMAIL') ? [{ channel: 'EMAIL', recipient: f.email, messageId: emailMessageId, status: opts.status ?? 'SENT' }] : []),
          ...(channels.includes('SMS') ? [{ channel: 'SMS', recipient: f.phone, messageId: smsMessageId, status: opts.status ?? 'SENT' }] : []),
        ],
      },
    }),
  );
  return { alertId, emailMessageId, smsMessageId };
}
