/**
 * Debits through links, for reimbursement cases, a batch at a time. Every WithdrawalPosted that
 * names a link is kept under the link (CASEDEBITS#{account}#{link} / W#{withdrawalId}: a blind put
 * keyed by the withdrawal, so a redelivery writes the same item again); the puts ride in the
 * batch's detection transaction and the links' case items in its read (src/fraud/consumer.ts).
 * A link that has a case gets the debit joined (rare: cases are opened by "not me"), through
 * recordLinkDebit's conditional path. The debit is written before the case is read, and openCase
 * reads the debits after creating the case, so a debit racing a case opening joins it from one
 * side or the other.
 */
import type { WithdrawalPosted } from '../../../events/core.ts';
import { itemId } from '../detection/sightings.ts';
import { caseItemKey, debitItem, recordLinkDebit } from './store.ts';

/** The items that keep the batch's linked debits (one per withdrawal). */
export function debitPuts(ws: readonly WithdrawalPosted[]): Record<string, unknown>[] {
  // An interface has no index signature: spread into a plain record.
  return [...new Map(ws.filter((w) => w.linkId).map((w) => [`${w.accountId}\u0000${w.linkId}\u0000${w.withdrawalId}`, { ...debitItem(w) }])).values()];
}

/** The case items to read: one per link named. */
export function caseReads(ws: readonly WithdrawalPosted[]): { pk: string; sk: string }[] {
  return [...new Map(ws.filter((w) => w.linkId).map((w) => [`${w.accountId}\u0000${w.linkId}`, caseItemKey(w.accountId, w.linkId!)])).values()];
}

/** After the debits are stored and the cases read: each debit whose link has a case joins it. */
export async function joinCases(ws: readonly WithdrawalPosted[], read: ReadonlyMap<string, Record<string, unknown>>): Promise<{ recorded: boolean; joined: boolean }[]> {
  return Promise.all(
    ws.map(async (w) => {
      if (!w.linkId) return { recorded: false, joined: false };
      if (!read.has(itemId(caseItemKey(w.accountId, w.linkId)))) return { recorded: true, joined: false };
      return { recorded: true, joined: (await recordLinkDebit(w)).joined };
    }),
  );
}
