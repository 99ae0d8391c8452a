/**
 * The detection counters in DynamoDB, cheap and idempotent:
 *   FRAUD#{dim}#{key} / M#{minute}#{account}  first and last time the account was seen under the
 *                                              key that minute, and its links (a set)
 *   FRAUD#{dim}#{key} / C#{minute}             distinct accounts seen under the key that minute
 * The first sighting of (key, minute, account) is one transaction: the member put (conditional:
 * not there yet) and the counter's increment; so a duplicate or a retried event never counts
 * twice, and an out-of-order one only widens the member's first/last times. Everything expires
 * after a few hours (TTL): the rules look back at most an hour and ten minutes.
 * Checking costs one Query of the key's counters (at most 70 small items); the members are read
 * only when the counters say a window could cross the threshold.
 */
import { QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, isConditionFailure, tableName } from '../../store/db.ts';
import { TTL_ATTRIBUTE } from '../../store/table.ts';
import { minuteOf, type Dimension, type Sighting } from './rules.ts';

const KEEP_SECONDS = 3 * 3600;
const pad = (m: number) => String(m).padStart(10, '0');
export const counterPk = (dim: Dimension, k: string) => `FRAUD#${dim}#${k}`;

/** Records that `account` was seen under (dim, key) at `at` (ms); true on the first sighting that minute. */
export async function recordSighting(dim: Dimension, k: string, account: string, at: number, linkId?: string): Promise<boolean> {
  const pk = counterPk(dim, k);
  const m = minuteOf(at);
  const ttl = Math.floor(at / 1000) + KEEP_SECONDS;
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName(),
              Item: { pk, sk: `M#${pad(m)}#${account}`, account, first: at, last: at, ...(linkId ? { links: new Set([linkId]) } : {}), [TTL_ATTRIBUTE]: ttl },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: tableName(),
              Key: { pk, sk: `C#${pad(m)}` },
              UpdateExpression: 'ADD #n :one SET #ttl = :ttl, #m = :m',
              ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE, '#n': 'n', '#m': 'minute' },
              ExpressionAttributeValues: { ':one': 1, ':ttl': ttl, ':m': m },
            },
          },
        ],
      }),
    );
    return true;
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
  // Seen already this minute: widen its times, add the link (a set: idempotent). A failed condition means nothing to widen.
  const key = { pk, sk: `M#${pad(m)}#${account}` };
  const update = async (expr: string, cond: string | undefined, names: Record<string, string>, values: Record<string, unknown>) => {
    try {
      await db().send(new UpdateCommand({ TableName: tableName(), Key: key, UpdateExpression: expr, ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  };
  await Promise.all([
    update('SET #f = :t', '#f > :t', { '#f': 'first' }, { ':t': at }),
    update('SET #l = :t', '#l < :t', { '#l': 'last' }, { ':t': at }),
    ...(linkId ? [update('ADD #k :l', undefined, { '#k': 'links' }, { ':l': new Set([linkId]) })] : []),
  ]);
  return false;
}

/** Distinct accounts per minute under (dim, key), for minutes [from, to]. */
export async function minuteCounts(dim: Dimension, k: string, from: number, to: number): Promise<Map<number, number>> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':pk': counterPk(dim, k), ':a': `C#${pad(from)}`, ':b': `C#${pad(to)}` },
      ConsistentRead: true,
    }),
  );
  return new Map((out.Items ?? []).map((i) => [Number(i.minute), Number(i.n)]));
}

/** The sightings (first and last time per account and minute) under (dim, key), for minutes [from, to]. */
export async function sightings(dim: Dimension, k: string, from: number, to: number): Promise<Sighting[]> {
  const list: Sighting[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':pk': counterPk(dim, k), ':a': `M#${pad(from)}`, ':b': `M#${pad(to)}#\uffff` },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const i of out.Items ?? []) {
      const links = i.links instanceof Set ? [...(i.links as Set<string>)] : [];
      list.push({ account: String(i.account), at: Number(i.first), links }, { account: String(i.account), at: Number(i.last), links });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return list;
}
