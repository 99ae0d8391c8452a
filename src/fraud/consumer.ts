/**
 * The fraud function's work per SQS record (an EventBridge envelope): core events feed detection
 * and the per-link debits; LinkRevoked opens a reimbursement case. Anything that must be retried
 * throws; the handler reports that record as a batch item failure (counters and cases are
 * idempotent, so the rerun changes nothing twice).
 */
import { ALERTING_SOURCE, LinkRevoked } from '../../events/alerting.ts';
import { CORE_SOURCE, EventBridgeEnvelope, coreEvents } from '../../events/core.ts';
import { openCase, recordLinkDebit } from './cases/store.ts';
import { detect, type DetectionOutcome } from './detection/service.ts';

export type FraudOutcome =
  | { kind: 'INVALID'; reason: string }
  | { kind: 'IGNORED'; detailType: string }
  | { kind: 'DETECTED'; detailType: string; outcome: DetectionOutcome }
  | { kind: 'DEBIT'; recorded: boolean; joined: boolean }
  | { kind: 'CASE'; opened: boolean; caseId: string };

export class FraudRetryError extends Error {
  override readonly name = 'FraudRetryError';
}

export async function processFraudRecord(body: unknown): Promise<FraudOutcome> {
  const env = EventBridgeEnvelope.safeParse(body);
  if (!env.success) return { kind: 'INVALID', reason: 'envelope' };
  const type = env.data['detail-type'];
  if (env.data.source === ALERTING_SOURCE && type === 'LinkRevoked') {
    const r = LinkRevoked.safeParse(env.data.detail);
    if (!r.success) return { kind: 'INVALID', reason: 'LinkRevoked detail' };
    return { kind: 'CASE', ...(await openCase(r.data)) };
  }
  if (env.data.source !== CORE_SOURCE) return { kind: 'IGNORED', detailType: type };
  if (type === 'WithdrawalPosted') {
    const w = coreEvents.WithdrawalPosted.safeParse(env.data.detail);
    if (!w.success) return { kind: 'INVALID', reason: 'WithdrawalPosted detail' };
    return { kind: 'DEBIT', ...(await recordLinkDebit(w.data)) };
  }
  if (type === 'LinkCreated' || type === 'AppActivated' || type === 'ContactChanged') {
    const p = coreEvents[type].safeParse(env.data.detail);
    if (!p.success) return { kind: 'INVALID', reason: `${type} detail` };
    const outcome = await detect({ detailType: type, detail: p.data } as Parameters<typeof detect>[0]);
    // A link involved in an incident but not stored yet (the alert function stores it): retry later so its hold is extended.
    if (outcome.incidents.some((i) => i.linksMissing > 0)) throw new FraudRetryError('incident links not stored yet');
    return { kind: 'DETECTED', detailType: type, outcome };
  }
  return { kind: 'IGNORED', detailType: type };
}
