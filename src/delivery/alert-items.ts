/**
 * Alerts of a customer within a time window, for replies ("which alert does this reply answer?").
 * Alert records are the alert function's (src/store/alerts.ts); this only queries the partitions
 * they live in: each account of the customer, and the customer's own (contact changes).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../store/db.ts';
import { key } from '../store/table.ts';
import type { AlertRecord } from '../store/alerts.ts';

/** The link an alert offers to revoke, if any. */
export const revocableLinkOf = (a: AlertRecord): string | undefined => {
  const act = (a.actions ?? []).find((x) => x.kind === 'REVOKE_LINK');
  return act && act.kind === 'REVOKE_LINK' ? act.linkId : undefined;
};

async function alertsUnder(pk: string, since: string): Promise<AlertRecord[]> {
  const out: AlertRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        FilterExpression: 'createdAt >= :since OR sentAt >= :since',
        ExpressionAttributeValues: { ':pk': pk, ':p': 'ALERT#', ':since': since },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const i of page.Items ?? []) {
      const { pk: _pk, sk: _sk, ...rest } = i;
      out.push(rest as unknown as AlertRecord);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** The customer's alerts (all their accounts and their own partition) sent at or after `since`. */
export async function recentAlertsOf(customer: { customerId: string; accountIds: string[] }, since: Date): Promise<AlertRecord[]> {
  const s = since.toISOString();
  const pks = [...customer.accountIds.map((a) => key.account(a).pk), key.customer(customer.customerId).pk];
  return (await Promise.all(pks.map((pk) => alertsUnder(pk, s)))).flat();
}
