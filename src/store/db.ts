/** The table name and document client every store module uses. */
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
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

/**
 * The items of `keys` (absent ones are simply missing), by BatchGetItem: 100 keys a request, the
 * requests in parallel, unprocessed keys asked again with a growing pause; after 10 tries the
 * read fails (so a batch consumer's record is retried rather than decided on part of its data).
 */
export async function batchGetItems(keys: readonly { pk: string; sk: string }[], opts: { consistent?: boolean; projection?: string } = {}): Promise<Record<string, unknown>[]> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
  const pages = await Promise.all(
    chunks.map(async (chunk) => {
      const items: Record<string, unknown>[] = [];
      let pending = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 10) throw new Error('BatchGetItem kept returning unprocessed keys');
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await db().send(
          new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: opts.consistent ?? false, ...(opts.projection ? { ProjectionExpression: opts.projection } : {}) } } }),
        );
        items.push(...(out.Responses?.[tableName()] ?? []));
        pending = out.UnprocessedKeys?.[tableName()]?.Keys ?? [];
      }
      return items;
    }),
  );
  return pages.flat();
}
