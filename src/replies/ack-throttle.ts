/**
 * A cap on acknowledgements per contact and hour. Sender numbers can be spoofed: without a cap,
 * anyone could make the bank text a customer over and over by "replying" from their number. The
 * reply is still acted on (protective actions only); past the cap it is just not answered.
 * Counted per hour in the table under a hash of the contact (no number or address in keys).
 */
import { createHash } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, isConditionFailure, tableName } from '../store/db.ts';
import { TTL_ATTRIBUTE } from '../store/table.ts';

export const ACKS_PER_CONTACT_PER_HOUR = 10;

export async function mayAcknowledge(contact: string, now = new Date()): Promise<boolean> {
  const ref = createHash('sha256').update(`ack:${contact}`, 'utf8').digest('base64url').slice(0, 22);
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { pk: `ACKRATE#${ref}`, sk: now.toISOString().slice(0, 13) },
        UpdateExpression: 'SET n = if_not_exists(n, :zero) + :one, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(n) OR n < :max',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':max': ACKS_PER_CONTACT_PER_HOUR, ':ttl': Math.floor(now.getTime() / 1000) + 7200 },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
