/**
 * Alert records: one per source event (the alert id derives from the event id), with the status
 * of every message sent for it, per channel and recipient.
 *
 * Item (key.alert(owner, alertId): pk ACCT#{accountId}, or CUST#{customerId} for contact
 * changes; sk ALERT#{alertId}):
 *   alertId, sourceEventId, sourceEventType, accountId?, customerId
 *   tokenAccountId    the account the alert's token protects
 *   actions           the protective actions offered (TokenAction[])
 *   locale, content   what the message said (AlertContent, no names of the customer), so a
 *                     fallback channel can be rendered the same way later
 *   occurredAt        when the source event happened; createdAt: first recorded
 *   sentAt            first time any message was accepted (the undelivered clock starts here)
 *   deliveries        map "{channel}#{recipientRef}" -> AlertDelivery:
 *       channel, recipientRef, recipient (address: the delivery function matches provider
 *       events by it), role PROFILE | PREVIOUS | CURRENT,
 *       status  PENDING (not accepted yet) | SENT | FAILED (refused when sending), then the
 *               delivery statuses of src/domain/delivery.ts (DELAYED, DELIVERED, BOUNCED, ...)
 *       messageId?, sentAt?, updatedAt, detail? (short reason, no personal data)
 *   undeliveredReportedAt?   set by the delivery function
 *   openedAt?         first time a browser showed one of the alert's action pages and ran its
 *                     "opened" beacon (POST /a/{token}/opened); set once, by src/store/alert-opened.ts
 *                     only. Evidence the page was shown, not proof the customer read it
 *
 * The alert function writes deliveries only while they are PENDING (or absent); afterwards only
 * recordDeliveryStatus moves them, following mayReplace (final statuses are never undone).
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertChannel } from '../../events/alerting.ts';
import type { Locale } from '../../events/core.ts';
import { db, tableName, isConditionFailure } from './db.ts';
import { key, type AlertOwner } from './table.ts';
import type { TokenAction } from '../domain/tokens.ts';
import type { AlertContent } from '../domain/messages/content.ts';
import type { RecipientRole } from '../domain/alert-decision.ts';
import { mayReplace, type DeliveryStatus } from '../domain/delivery.ts';
import { recipientRef } from './send-ledger.ts';

export type AlertDeliveryStatus = 'PENDING' | DeliveryStatus;

export interface AlertDelivery {
  channel: AlertChannel;
  recipientRef: string;
  recipient: string;
  role: RecipientRole;
  status: AlertDeliveryStatus;
  messageId?: string;
  sentAt?: string;
  updatedAt: string;
  detail?: string;
}

export interface AlertRecord {
  alertId: string;
  sourceEventId: string;
  sourceEventType: string;
  accountId?: string;
  customerId: string;
  tokenAccountId: string;
  actions: TokenAction[];
  locale: Locale;
  content: AlertContent;
  occurredAt: string;
  createdAt: string;
  sentAt?: string;
  deliveries: Record<string, AlertDelivery>;
  undeliveredReportedAt?: string;
  /** First time a browser displayed one of the alert's action pages (its beacon; a GET records nothing). */
  openedAt?: string;
}

export const deliveryKey = (channel: AlertChannel, ref: string) => `${channel}#${ref}`;

function strip(item: Record<string, unknown>): AlertRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as AlertRecord;
}

export async function findAlert(owner: AlertOwner, alertId: string, consistent = true): Promise<AlertRecord | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.alert(owner, alertId), ConsistentRead: consistent }));
  return out.Item ? strip(out.Item) : undefined;
}

/** Newest first (alert ids are hashes, so this sorts by sentAt in memory over one page). */
export async function listAlerts(owner: AlertOwner, limit = 50): Promise<AlertRecord[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': key.alert(owner, 'x').pk, ':p': 'ALERT#' },
      Limit: limit,
    }),
  );
  return (out.Items ?? []).map(strip).sort((a, b) => (b.occurredAt ?? '').localeCompare(a.occurredAt ?? ''));
}

/**
 * Records the alert with the deliveries this attempt knows about. The first write creates the
 * item; later ones (a retry) set only deliveries that are absent or still PENDING, so a status
 * the delivery function recorded meanwhile is never overwritten.
 */
export async function recordAlert(alert: AlertRecord): Promise<void> {
  const k = key.alert({ accountId: alert.accountId, customerId: alert.customerId }, alert.alertId);
  try {
    await db().send(new PutCommand({ TableName: tableName(), Item: { ...k, ...alert }, ConditionExpression: 'attribute_not_exists(pk)' }));
    return;
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
  await Promise.all(
    Object.entries(alert.deliveries).map(async ([dk, d]) => {
      try {
        await db().send(
          new UpdateCommand({
            TableName: tableName(),
            Key: k,
            UpdateExpression: alert.sentAt && d.status === 'SENT' ? 'SET deliveries.#d = :d, sentAt = if_not_exists(sentAt, :t)' : 'SET deliveries.#d = :d',
            ConditionExpression: 'attribute_not_exists(deliveries.#d) OR deliveries.#d.#st = :pending',
            ExpressionAttributeNames: { '#d': dk, '#st': 'status' },
            ExpressionAttributeValues: {
              ':d': d,
              ':pending': 'PENDING',
              ...(alert.sentAt && d.status === 'SENT' ? { ':t': alert.sentAt } : {}),
            },
          }),
        );
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }),
  );
}

export type DeliveryUpdateResult = 'UPDATED' | 'UNCHANGED' | 'NOT_FOUND';

/**
 * For the delivery function: a provider event moved one message to `status`. `recipient` is the
 * address the message went to. Follows mayReplace (src/domain/delivery.ts): late or out-of-order
 * events never undo a final status. NOT_FOUND when the alert or that message is not recorded
 * (yet): the caller retries later.
 */
export async function recordDeliveryStatus(
  alertId: string,
  owner: AlertOwner,
  channel: AlertChannel,
  recipient: string,
  status: DeliveryStatus,
  detail?: { reason?: string; messageId?: string; at?: string },
): Promise<DeliveryUpdateResult> {
  const ref = recipientRef(channel, recipient);
  const dk = deliveryKey(channel, ref);
  const k = key.alert(owner, alertId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const alert = await findAlert(owner, alertId);
    const current = alert?.deliveries?.[dk];
    if (!current) return 'NOT_FOUND';
    const from = current.status === 'PENDING' ? undefined : current.status;
    if (current.status !== 'PENDING' && !mayReplace(from, status)) return 'UNCHANGED';
    try {
      await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: k,
          UpdateExpression: `SET deliveries.#d.#st = :s, deliveries.#d.updatedAt = :t${detail?.reason ? ', deliveries.#d.detail = :r' : ''}${
            detail?.messageId && !current.messageId ? ', deliveries.#d.messageId = :m' : ''
          }`,
          ConditionExpression: 'deliveries.#d.#st = :from',
          ExpressionAttributeNames: { '#d': dk, '#st': 'status' },
          ExpressionAttributeValues: {
            ':s': status,
            ':t': detail?.at ?? new Date().toISOString(),
            ':from': current.status,
            ...(detail?.reason ? { ':r': detail.reason.slice(0, 120) } : {}),
            ...(detail?.messageId && !current.messageId ? { ':m': detail.messageId } : {}),
          },
        }),
      );
      return 'UPDATED';
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      // Someone else moved it meanwhile: read again and re-decide.
    }
  }
  return 'UNCHANGED';
}

/** For the delivery function: AlertUndelivered was emitted (once). */
export async function markUndeliveredReported(owner: AlertOwner, alertId: string, at = new Date()): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.alert(owner, alertId),
        UpdateExpression: 'SET undeliveredReportedAt = :t',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(undeliveredReportedAt)',
        ExpressionAttributeValues: { ':t': at.toISOString() },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
