/**
 * Reading alert items (written by the alert function) for replies and delivery. The alert
 * function owns their shape; this module is the one place that reads them, tolerant of how the
 * per-channel messages are laid out (a list of messages, or a map by channel), so that replies and
 * delivery depend on a handful of fields only: alertId, customerId, accountId, linkId, the send
 * time, and per message its channel, recipient, provider message id and status.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertChannel } from '../../events/alerting.ts';
import { db, tableName } from '../store/db.ts';
import { key } from '../store/table.ts';
import { deliveryStatuses, type DeliveryStatus } from '../domain/delivery.ts';

export interface AlertMessage {
  channel: AlertChannel;
  recipient?: string;
  messageId?: string;
  status?: DeliveryStatus;
}

export interface AlertItem {
  alertId: string;
  customerId: string;
  accountId?: string;
  linkId?: string;
  sentAt: string;
  messages: AlertMessage[];
  undeliveredReportedAt?: string;
  raw: Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const isChannel = (v: unknown): v is AlertChannel => v === 'EMAIL' || v === 'SMS';

function toStatus(v: unknown): DeliveryStatus | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.toUpperCase();
  if ((deliveryStatuses as readonly string[]).includes(s)) return s as DeliveryStatus;
  if (s === 'ACCEPTED' || s === 'SENDING') return 'SENT';
  return undefined;
}

function message(channel: AlertChannel, m: Record<string, unknown>): AlertMessage {
  const recipient = str(m.recipient) ?? str(m.to) ?? str(m.address) ?? str(m.phone) ?? str(m.email);
  const messageId = str(m.messageId) ?? str(m.providerMessageId);
  const status = toStatus(m.status);
  return {
    channel,
    ...(recipient ? { recipient: channel === 'EMAIL' ? recipient.toLowerCase() : recipient } : {}),
    ...(messageId ? { messageId } : {}),
    ...(status ? { status } : {}),
  };
}

export function messagesOf(item: Record<string, unknown>): AlertMessage[] {
  const out: AlertMessage[] = [];
  for (const field of ['messages', 'channels', 'deliveries', 'delivery', 'recipients']) {
    const v = item[field];
    if (Array.isArray(v)) {
      for (const m of v as Record<string, unknown>[]) if (m && isChannel(m.channel)) out.push(message(m.channel, m));
    } else if (v && typeof v === 'object') {
      for (const [channel, m] of Object.entries(v as Record<string, unknown>)) {
        if (!isChannel(channel)) continue;
        if (Array.isArray(m)) for (const x of m as Record<string, unknown>[]) out.push(message(channel, x ?? {}));
        else if (m && typeof m === 'object') {
          const inner = m as Record<string, unknown>;
          // { SMS: { "+8190...": {...} } } keyed by recipient, or one message object.
          const nested = Object.entries(inner).filter(([, x]) => x && typeof x === 'object' && !Array.isArray(x));
          if (nested.length > 0 && !('status' in inner) && !('messageId' in inner)) {
            for (const [recipient, x] of nested) out.push(message(channel, { recipient, ...(x as Record<string, unknown>) }));
          } else out.push(message(channel, inner));
        }
      }
    }
    if (out.length > 0) break;
  }
  return out;
}

export function toAlertItem(item: Record<string, unknown>): AlertItem | undefined {
  const alertId = str(item.alertId);
  const customerId = str(item.customerId);
  const sentAt = str(item.sentAt) ?? str(item.createdAt) ?? str(item.at);
  if (!alertId || !customerId || !sentAt) return undefined;
  const accountId = str(item.accountId);
  const linkId = str(item.linkId) ?? str((item.subject as Record<string, unknown> | undefined)?.linkId);
  const reported = str(item.undeliveredReportedAt) ?? str(item.undeliveredAt);
  return {
    alertId,
    customerId,
    ...(accountId ? { accountId } : {}),
    ...(linkId ? { linkId } : {}),
    sentAt,
    messages: messagesOf(item),
    ...(reported ? { undeliveredReportedAt: reported } : {}),
    raw: item,
  };
}

/** Alerts kept under one partition (an account's or, for alerts with no account, the customer's). */
async function alertsUnder(pk: string, since: string): Promise<AlertItem[]> {
  const out: AlertItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': pk, ':p': 'ALERT#' },
        ExclusiveStartKey: start,
      }),
    );
    for (const i of page.Items ?? []) {
      const a = toAlertItem(i);
      if (a && a.sentAt >= since) out.push(a);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** The customer's alerts (all their accounts and their own partition) sent at or after `since`. */
export async function recentAlertsOf(customer: { customerId: string; accountIds: string[] }, since: Date): Promise<AlertItem[]> {
  const s = since.toISOString();
  const pks = [...customer.accountIds.map((a) => key.account(a).pk), key.customer(customer.customerId).pk];
  return (await Promise.all(pks.map((pk) => alertsUnder(pk, s)))).flat();
}
