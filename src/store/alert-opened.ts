/**
 * "Opened" on the alert record: `openedAt`, the first time a browser displayed one of the alert's
 * action pages and ran its beacon (POST /a/{token}/opened). Evidence that the page was shown, not
 * proof that the customer read it.
 *
 * Written once, by an update conditioned on the alert existing and having no `openedAt` yet: it
 * never creates an item (a campaign's token has no alert record), never touches anything else on
 * the alert, and a repeat (the other message's page, a reload, a replayed beacon) writes nothing:
 * it is answered from the read before any write is tried.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, isConditionFailure, tableName } from './db.ts';
import { key, type AlertOwner } from './table.ts';

export type OpenedOutcome = 'RECORDED' | 'ALREADY_OPENED' | 'NO_ALERT';

/** The token's grant: its alert sits under the account, or under the customer (contact changes). */
export async function recordAlertOpened(grant: { accountId: string; customerId: string; alertId: string }, at: Date): Promise<OpenedOutcome> {
  const owners: AlertOwner[] = [{ accountId: grant.accountId, customerId: grant.customerId }, { customerId: grant.customerId }];
  const found = await Promise.all(
    owners.map(async (owner) => {
      const k = key.alert(owner, grant.alertId);
      const out = await db().send(new GetCommand({ TableName: tableName(), Key: k, ProjectionExpression: 'pk, openedAt' }));
      return out.Item ? { k, openedAt: out.Item.openedAt as unknown } : undefined;
    }),
  );
  const alert = found.find((f) => f !== undefined);
  if (!alert) return 'NO_ALERT';
  if (alert.openedAt !== undefined) return 'ALREADY_OPENED';
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: alert.k,
        UpdateExpression: 'SET openedAt = :t',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(openedAt)',
        ExpressionAttributeValues: { ':t': at.toISOString() },
      }),
    );
    return 'RECORDED';
  } catch (e) {
    // Another beacon (the other message's page) won the race: one openedAt, the first.
    if (isConditionFailure(e)) return 'ALREADY_OPENED';
    throw e;
  }
}
