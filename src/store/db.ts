/** The table name and document client every store module uses. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../adapters/dynamodb-client.ts';
import { runtimeConfig } from '../config.ts';

export const db = documentClient;
export const tableName = () => runtimeConfig().TABLE_NAME;

/** True for a failed condition, alone or inside a cancelled transaction. */
export function isConditionFailure(e: unknown): boolean {
  const err = e as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (err?.name === 'ConditionalCheckFailedException') return true;
  return err?.name === 'TransactionCanceledException' && (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}

/** Every item of one partition whose sort key starts with `prefix`, following the pages. */
export async function queryByPrefix(pk: string, prefix: string, opts: { consistent?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
        ExclusiveStartKey: start,
        ConsistentRead: opts.consistent ?? false,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
