/**
 * Campaign messages' send events into the campaign ledger. Every campaign message carries its
 * ledger key (SES message tags; End User Messaging Context: src/campaign/ledger-key.ts). When the
 * provider's event for it arrives (SES `Send`, or any later SES event; any End User Messaging
 * SMS status event), the message id is added to the recipient's send record. A campaign worker
 * that restarts after a crash reads those records to tell "the provider took it" from "it never
 * left", instead of guessing (src/campaign/engine.ts, in-doubt resolution).
 *
 * Events of one message may come more than once and in any order: the write is an ADD to a set,
 * so repeats change nothing.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SesEventRecord, SmsDeliveryEvent } from '../../events/aws-notifications.ts';
import { campaignKeyFromTags, sendRecordKey, type CampaignMessageKey } from '../campaign/ledger-key.ts';
import { db, tableName } from '../store/db.ts';

export interface CampaignSend extends CampaignMessageKey {
  messageId: string;
  /** When the provider says it happened (the event's time), ISO. */
  at: string;
}

/** SES events that prove the message was accepted for sending (Reject / Rendering Failure do not). */
const SES_ACCEPTED = new Set(['Send', 'Delivery', 'Bounce', 'Complaint', 'DeliveryDelay', 'Open', 'Click']);

/** The campaign send a provider event reports, if it is about a campaign message. */
export function campaignSendOf(payload: unknown): CampaignSend | undefined {
  const type = (payload as { eventType?: unknown } | null)?.eventType;
  if (typeof type !== 'string') return undefined;
  if (type.startsWith('TEXT_')) {
    const e = SmsDeliveryEvent.safeParse(payload);
    if (!e.success || !e.data.context) return undefined;
    const ctx = e.data.context;
    const k = campaignKeyFromTags((n) => ctx[n]);
    return k && { ...k, messageId: e.data.messageId, at: new Date(e.data.eventTimestamp).toISOString() };
  }
  const e = SesEventRecord.safeParse(payload);
  if (!e.success || !SES_ACCEPTED.has(e.data.eventType)) return undefined;
  const tags = e.data.mail.tags ?? {};
  const k = campaignKeyFromTags((n) => tags[n]?.[0]);
  const at = Date.parse(e.data.mail.timestamp);
  return k && { ...k, messageId: e.data.mail.messageId, at: new Date(Number.isFinite(at) ? at : Date.now()).toISOString() };
}

/** Adds the message id to the recipient's send record (idempotent). */
export async function recordCampaignSend(s: CampaignSend, now = new Date()): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: sendRecordKey(s.campaignId, s.channel, s.accountId),
      UpdateExpression: 'ADD messageIds :m SET campaignId = :c, channel = :ch, accountId = :a, firstEventAt = if_not_exists(firstEventAt, :at), recordedAt = if_not_exists(recordedAt, :now)',
      ExpressionAttributeValues: { ':m': new Set([s.messageId]), ':c': s.campaignId, ':ch': s.channel, ':a': s.accountId, ':at': s.at, ':now': now.toISOString() },
    }),
  );
}

/** The delivery function's hook: true (and recorded) when the event is about a campaign message. */
export async function recordIfCampaignSend(payload: unknown, now = new Date()): Promise<boolean> {
  const s = campaignSendOf(payload);
  if (!s) return false;
  await recordCampaignSend(s, now);
  return true;
}
