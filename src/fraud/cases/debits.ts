/**
 * Debits through links, for reimbursement cases, a batch at a time: every WithdrawalPosted that
 * names a link is kept under the link (CASEDEBITS#{account}#{link} / W#{withdrawalId}, a blind put
 * keyed by the withdrawal, so a redelivery writes the same item again), then one consistent read
 * of the links' cases. A link that has a case gets the debit joined (rare: cases are opened by "not
 * me"), through recordLinkDebit's conditional path. The debit is written before the case is read,
 * and openCase reads the debits after creating the case, so a debit racing a case opening joins it
 * from one side or the other.
 */
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { WithdrawalPosted } from '../../../events/core.ts';
import { db, tableName } from '../../store/db.ts';
import { caseItemKey, debitItem, recordLinkDebit } from './store.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function recordLinkDebits(ws: readonly WithdrawalPosted[]): Promise<{ recorded: boolean; joined: boolean }[]> {
  const linked = ws.filter((w) => w.linkId);
  const items = [...new Map(linked.map((w) => [`${w.accountId}\u0000${w.linkId}\u0000${w.withdrawalId}`, debitItem(w)])).values()];
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 10) throw new Error('BatchWriteItem kept returning unprocessed items');
      if (attempt > 0) await sleep(10 * 2 ** Math.min(attempt, 5));
      const out = await db().send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
      pending = (out.UnprocessedItems?.[tableName()] ?? []) as typeof pending;
    }
  }
  const keys = [...new Map(linked.map((w) => [`${w.accountId}\u0000${w.linkId}`, caseItemKey(w.accountId, w.linkId!)])).values()];
  const withCase = new Set<string>();
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + 100);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 10) throw new Error('BatchGetItem kept returning unprocessed keys');
      if (attempt > 0) await sleep(10 * 2 ** Math.min(attempt, 5));
      const out = await db().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: true, ProjectionExpression: 'pk, sk' } } }));
      for (const item of out.Responses?.[tableName()] ?? []) withCase.add(`${String(item.pk)}\u0000${String(item.sk)}`);
      pending = (out.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return Promise.all(
    ws.map(async (w) => {
      if (!w.linkId) return { recorded: false, joined: false };
      const k = caseItemKey(w.accountId, w.linkId);
      if (!withCase.has(`${k.pk}\u0000${k.sk}`)) return { recorded: true, joined: false };
      return { recorded: true, joined: (await recordLinkDebit(w)).joined };
    }),
  );
}
