/**
 * The whole table, as one comparable string: every item of every kind (accounts, links, tokens,
 * alerts, audit, outbox, counters, ledgers ...), read with a consistent parallel-free scan and
 * sorted by key. Tests that claim "this changed nothing" compare two of these, so a write to an
 * item nobody thought of listing still shows.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../../src/store/db.ts';
import { canonicalJson } from './canonical-json.ts';

export async function scanTable(): Promise<{ items: Record<string, unknown>[]; text: string }> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(new ScanCommand({ TableName: tableName(), ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const keyOf = (i: Record<string, unknown>) => `${String(i.pk)}\u0000${String(i.sk)}`;
  items.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  return { items, text: canonicalJson(items) };
}

/** The keys of the items that differ between two scans (added, removed or changed). */
export function changedKeys(before: Record<string, unknown>[], after: Record<string, unknown>[]): string[] {
  const index = (items: Record<string, unknown>[]) => new Map(items.map((i) => [`${String(i.pk)} ${String(i.sk)}`, canonicalJson(i)]));
  const a = index(before);
  const b = index(after);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}
