/**
 * The per-recipient send ledger: what makes an alert go out exactly once per (alert, channel,
 * recipient) although the event may be delivered several times and the function may crash at
 * any point.
 *
 * Item (key.send(alertId, channel, recipientRef)):
 *   alertId, channel, recipientRef, owner {accountId?, customerId}
 *   state        SENDING | SENT | FAILED
 *   attemptId    the attempt holding the claim (random per attempt)
 *   claimedAt    ISO time of the claim
 *   messageId    provider message id once SENT
 *   sentAt       when the provider accepted it
 *   providerMessageId / providerAcceptedAt   set by recordProviderAccepted (SES 'Send' event
 *                tagged with the alert id): proof that a claim whose attempt vanished did reach
 *                the provider
 *   failure      short reason when FAILED (the provider refused it for good)
 *   ttl          removed 30 days later (longer than any SQS retention)
 *
 * Protocol: claim (conditional put) BEFORE calling the provider; right after the provider
 * accepts, mark SENT with the message id. A later attempt that finds SENT reuses the message id;
 * one that finds a fresh SENDING claim does not send (its event is retried later); a claim older
 * than SEND_CLAIM_STALE_SECONDS counts as SENT when the provider confirmed it, and otherwise is
 * taken over and sent again (its attempt never reached the provider, or we cannot know better).
 * When the provider answered with an error (throttling, 5xx, rejection) nothing was sent, so the
 * claim is released (or FAILED for good) at once.
 *
 * The recipient in the key is a hash (recipientRef), keeping addresses out of keys and logs.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertChannel } from '../../events/alerting.ts';
import { db, tableName, isConditionFailure } from './db.ts';
import { key, TTL_ATTRIBUTE, type AlertOwner } from './table.ts';
import { normaliseAddress } from '../domain/alert-decision.ts';

export type SendState = 'SENDING' | 'SENT' | 'FAILED';

export interface SendRecord {
  alertId: string;
  channel: AlertChannel;
  recipientRef: string;
  owner: AlertOwner;
  state: SendState;
  attemptId: string;
  claimedAt: string;
  messageId?: string;
  sentAt?: string;
  providerMessageId?: string;
  providerAcceptedAt?: string;
  failure?: string;
}

export type ClaimResult =
  | { kind: 'CLAIMED'; attemptId: string; tookOverStale: boolean }
  | { kind: 'ALREADY_SENT'; messageId: string; sentAt: string }
  | { kind: 'IN_FLIGHT'; claimedAt: string }
  | { kind: 'FAILED'; failure: string };

const LEDGER_TTL_SECONDS = 30 * 86_400;

/** 16 base64url characters of SHA-256 of the normalised address: tag- and key-safe, not the address. */
export function recipientRef(channel: AlertChannel, address: string): string {
  return createHash('sha256').update(`${channel}:${normaliseAddress(channel, address)}`, 'utf8').digest('base64url').slice(0, 16);
}

function strip(item: Record<string, unknown>): SendRecord {
  const { pk: _pk, sk: _sk, [TTL_ATTRIBUTE]: _ttl, ...rest } = item;
  return rest as unknown as SendRecord;
}

export async function getSend(alertId: string, channel: AlertChannel, ref: string): Promise<SendRecord | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.send(alertId, channel, ref), ConsistentRead: true }));
  return out.Item ? strip(out.Item) : undefined;
}

/** Promotes a claim the provider confirmed (recordProviderAccepted) to SENT. */
async function promoteConfirmed(r: SendRecord): Promise<ClaimResult> {
  const messageId = r.providerMessageId!;
  const sentAt = r.providerAcceptedAt ?? new Date().toISOString();
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.send(r.alertId, r.channel, r.recipientRef),
        UpdateExpression: 'SET #s = :sent, messageId = :m, sentAt = :t',
        ConditionExpression: '#s = :sending',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':sent': 'SENT', ':sending': 'SENDING', ':m': messageId, ':t': sentAt },
      }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
  return { kind: 'ALREADY_SENT', messageId, sentAt };
}

/**
 * Claims the right to send. Only a CLAIMED result may call the provider, and must then call
 * markSendSent, releaseSend or markSendFailed with its attemptId.
 */
export async function claimSend(
  alertId: string,
  channel: AlertChannel,
  ref: string,
  owner: AlertOwner,
  opts: { staleSeconds: number; now?: Date },
): Promise<ClaimResult> {
  const now = opts.now ?? new Date();
  const attemptId = randomUUID();
  const staleBefore = new Date(now.getTime() - opts.staleSeconds * 1000).toISOString();
  const record: SendRecord = {
    alertId,
    channel,
    recipientRef: ref,
    owner: { ...(owner.accountId ? { accountId: owner.accountId } : {}), customerId: owner.customerId },
    state: 'SENDING',
    attemptId,
    claimedAt: now.toISOString(),
  };
  try {
    const out = await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...key.send(alertId, channel, ref), ...record, [TTL_ATTRIBUTE]: Math.floor(now.getTime() / 1000) + LEDGER_TTL_SECONDS },
        ReturnValues: 'ALL_OLD',
        ConditionExpression: 'attribute_not_exists(pk) OR (#s = :sending AND claimedAt < :stale AND attribute_not_exists(providerMessageId))',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':sending': 'SENDING', ':stale': staleBefore },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { kind: 'CLAIMED', attemptId, tookOverStale: out.Attributes !== undefined };
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
    const old = (e as { Item?: Record<string, unknown> }).Item;
    const current = old ? strip(unmarshalIfNeeded(old)) : await getSend(alertId, channel, ref);
    if (!current) return claimSend(alertId, channel, ref, owner, opts); // released meanwhile
    if (current.state === 'SENT') return { kind: 'ALREADY_SENT', messageId: current.messageId!, sentAt: current.sentAt ?? current.claimedAt };
    if (current.state === 'FAILED') return { kind: 'FAILED', failure: current.failure ?? 'failed' };
    if (current.providerMessageId) return promoteConfirmed(current);
    return { kind: 'IN_FLIGHT', claimedAt: current.claimedAt };
  }
}

/** The document client hands back ALL_OLD in wire format ({S: ...}); flatten it. */
function unmarshalIfNeeded(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttr(v);
  return out;
}
function fromAttr(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const a = v as Record<string, unknown>;
  if ('S' in a) return a.S;
  if ('N' in a) return Number(a.N);
  if ('BOOL' in a) return a.BOOL;
  if ('NULL' in a) return null;
  if ('M' in a) return unmarshalIfNeeded(a.M as Record<string, unknown>);
  if ('L' in a) return (a.L as unknown[]).map(fromAttr);
  return v;
}

/** Right after the provider accepted. Idempotent: a confirmation that got there first is fine. */
export async function markSendSent(alertId: string, channel: AlertChannel, ref: string, attemptId: string, messageId: string, now = new Date()): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.send(alertId, channel, ref),
        UpdateExpression: 'SET #s = :sent, messageId = :m, sentAt = :t',
        ConditionExpression: 'attemptId = :a AND #s = :sending',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':sent': 'SENT', ':sending': 'SENDING', ':m': messageId, ':t': now.toISOString(), ':a': attemptId },
      }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
    const current = await getSend(alertId, channel, ref);
    if (current?.state === 'SENT' && current.messageId === messageId) return;
    // Another attempt took over a claim we still held: both reached the provider. Record ours
    // anyway (the message went out) and let the caller know the ledger disagreed.
    throw new LedgerConflictError(`send ledger for ${alertId}/${channel}/${ref} was taken over before SENT could be recorded`);
  }
}

export class LedgerConflictError extends Error {
  override readonly name = 'LedgerConflictError';
}

/** The provider answered with an error: nothing was sent, another attempt may claim at once. */
export async function releaseSend(alertId: string, channel: AlertChannel, ref: string, attemptId: string): Promise<void> {
  try {
    await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: key.send(alertId, channel, ref),
        ConditionExpression: 'attemptId = :a AND #s = :sending',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':a': attemptId, ':sending': 'SENDING' },
      }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
}

/** The provider refused this recipient for good (invalid address, rejected): never retried. */
export async function markSendFailed(alertId: string, channel: AlertChannel, ref: string, attemptId: string, failure: string): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.send(alertId, channel, ref),
        UpdateExpression: 'SET #s = :failed, failure = :f',
        ConditionExpression: 'attemptId = :a AND #s = :sending',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':failed': 'FAILED', ':sending': 'SENDING', ':a': attemptId, ':f': failure.slice(0, 200) },
      }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
}

/**
 * For the delivery function: the provider says it accepted this message (SES 'Send' event with
 * the alertId/channel/recipient tags, or an SMS event matched to it). A claim whose attempt
 * crashed before recording SENT then counts as sent instead of being sent again.
 * `recipient` is the address (or pass `{ ref }` when only the tag is known).
 * Returns false when the ledger has no such entry (nothing to confirm).
 */
export async function recordProviderAccepted(
  alertId: string,
  channel: AlertChannel,
  recipient: string | { ref: string },
  messageId: string,
  at = new Date(),
): Promise<boolean> {
  const ref = typeof recipient === 'string' ? recipientRef(channel, recipient) : recipient.ref;
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.send(alertId, channel, ref),
        UpdateExpression: 'SET providerMessageId = :m, providerAcceptedAt = :t',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':m': messageId, ':t': at.toISOString() },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
