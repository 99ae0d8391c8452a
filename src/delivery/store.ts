/**
 * What the delivery function keeps besides the alert records (which the alert function owns and
 * src/store/alerts.ts updates):
 *
 *   MSGID#{providerMessageId} / MSGID        which alert a provider message id belongs to: SMS
 *                                            delivery events carry only the message id
 *   DUE#{yyyy-mm-ddThh:mm}    / {alertId}    the alert's undelivered deadline falls in this minute;
 *                                            the scheduled sweep reads the buckets that have passed
 *   ORPHAN#{providerMessageId} / ORPHAN      provider events that arrived before their AlertSent
 * The first two are written when the delivery function receives the AlertSent event of a message
 * (routed to it through SQS), as idempotent puts; all expire with the table's TTL.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertChannel } from '../../events/alerting.ts';
import { db, isConditionFailure, tableName } from '../store/db.ts';
import { key, TTL_ATTRIBUTE, type AlertOwner } from '../store/table.ts';

const KEEP_SECONDS = 30 * 86_400;
const ttlFrom = (d: Date) => Math.floor(d.getTime() / 1000) + KEEP_SECONDS;

export const deliveryKey = {
  messageId: (messageId: string) => ({ pk: `MSGID#${messageId}`, sk: 'MSGID' }),
  due: (bucket: string, alertId: string) => ({ pk: `DUE#${bucket}`, sk: alertId }),
  orphan: (messageId: string) => ({ pk: `ORPHAN#${messageId}`, sk: 'ORPHAN' }),
};

/** An event about a message we cannot place is kept this long for its AlertSent to arrive. */
const ORPHAN_KEEP_SECONDS = 86_400;

/**
 * Parks a provider event whose message is not indexed yet (its AlertSent is still on its way, or
 * it is not an alert message at all: a reply acknowledgement, a campaign). The AlertSent handler
 * replays it; otherwise it expires. Several events of one message are kept side by side.
 */
export async function parkOrphan(messageId: string, payload: string, at: Date): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: deliveryKey.orphan(messageId),
      UpdateExpression: 'SET events = list_append(if_not_exists(events, :empty), :e), #ttl = :ttl',
      ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ':empty': [], ':e': [payload], ':ttl': Math.floor(at.getTime() / 1000) + ORPHAN_KEEP_SECONDS },
    }),
  );
}

export async function orphansOf(messageId: string): Promise<string[]> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: deliveryKey.orphan(messageId), ConsistentRead: true }));
  return Array.isArray(out.Item?.events) ? (out.Item.events as unknown[]).map(String) : [];
}

export async function forgetOrphans(messageId: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: deliveryKey.orphan(messageId) }));
}

/** The minute bucket (UTC, yyyy-mm-ddThh:mm) a time falls in. */
export const minuteBucket = (d: Date) => d.toISOString().slice(0, 16);

async function putIfAbsent(item: Record<string, unknown>): Promise<boolean> {
  try {
    await db().send(new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

export interface MessageRef {
  alertId: string;
  channel: AlertChannel;
  owner: AlertOwner;
}

/** A provider accepted a message of this alert (from AlertSent); idempotent. */
export async function rememberMessage(messageId: string, ref: MessageRef, at: Date): Promise<void> {
  await putIfAbsent({
    ...deliveryKey.messageId(messageId),
    alertId: ref.alertId,
    channel: ref.channel,
    customerId: ref.owner.customerId,
    ...(ref.owner.accountId ? { accountId: ref.owner.accountId } : {}),
    [TTL_ATTRIBUTE]: ttlFrom(at),
  });
}

export async function findMessage(messageId: string): Promise<MessageRef | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: deliveryKey.messageId(messageId), ConsistentRead: true }));
  const i = out.Item;
  if (!i) return undefined;
  return {
    alertId: String(i.alertId),
    channel: i.channel as AlertChannel,
    owner: { customerId: String(i.customerId), ...(i.accountId ? { accountId: String(i.accountId) } : {}) },
  };
}

/** Starts the undelivered clock of an alert (the first AlertSent wins; repeats change nothing). */
export async function watchDeadline(ref: Omit<MessageRef, 'channel'>, dueAt: Date): Promise<void> {
  await putIfAbsent({
    ...deliveryKey.due(minuteBucket(dueAt), ref.alertId),
    alertId: ref.alertId,
    customerId: ref.owner.customerId,
    ...(ref.owner.accountId ? { accountId: ref.owner.accountId } : {}),
    dueAt: dueAt.toISOString(),
    [TTL_ATTRIBUTE]: ttlFrom(dueAt),
  });
}

/** The alerts whose deadline falls in this minute bucket. */
export async function dueIn(bucket: string): Promise<Omit<MessageRef, 'channel'>[]> {
  const out: Omit<MessageRef, 'channel'>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `DUE#${bucket}` }, ExclusiveStartKey: start }),
    );
    for (const i of page.Items ?? []) {
      out.push({ alertId: String(i.alertId), owner: { customerId: String(i.customerId), ...(i.accountId ? { accountId: String(i.accountId) } : {}) } });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

export async function forgetDue(bucket: string, alertId: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: deliveryKey.due(bucket, alertId) }));
}

/**
 * Suppresses the customer's email after a hard bounce or complaint, but only while the bounced
 * address is still the one on file (a contact change alert also goes to the OLD address, whose
 * bounce must not silence the new one). True when this call suppressed it.
 */
export async function suppressCustomerEmail(customerId: string, address: string, reason: string, at: Date): Promise<boolean> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.customer(customerId), ConsistentRead: true }));
  const current = out.Item?.email;
  if (typeof current !== 'string' || current.trim().toLowerCase() !== address.trim().toLowerCase()) return false;
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.customer(customerId),
        UpdateExpression: 'SET suppressedEmail = :t, suppressedEmailAt = :at, suppressedEmailReason = :r',
        ConditionExpression: 'email = :addr AND (attribute_not_exists(suppressedEmail) OR suppressedEmail = :f)',
        ExpressionAttributeValues: { ':t': true, ':f': false, ':at': at.toISOString(), ':r': reason, ':addr': current },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
