/**
 * The fraud function's work per SQS batch (EventBridge envelopes): core events feed detection
 * (all of a batch's detection events stored and checked together, src/fraud/detection/service.ts)
 * and the per-link debits; LinkRevoked opens a reimbursement case. A record that must be retried
 * gets an Error as its outcome; the handler reports it as a batch item failure (counters and cases
 * are idempotent, so the rerun changes nothing twice). When the batch's shared detection step
 * fails, every detection record of the batch is retried.
 */
import { ALERTING_SOURCE, LinkRevoked } from '../../events/alerting.ts';
import { CORE_SOURCE, EventBridgeEnvelope, coreEvents, type WithdrawalPosted } from '../../events/core.ts';
import { openCase } from './cases/store.ts';
import { caseReads, debitPuts, joinCases } from './cases/debits.ts';
import { detectBatch, type DetectableEvent, type DetectionOutcome } from './detection/service.ts';

export type FraudOutcome =
  | { kind: 'INVALID'; reason: string }
  | { kind: 'IGNORED'; detailType: string }
  | { kind: 'DETECTED'; detailType: string; outcome: DetectionOutcome }
  | { kind: 'DEBIT'; recorded: boolean; joined: boolean }
  | { kind: 'CASE'; opened: boolean; caseId: string };

export class FraudRetryError extends Error {
  override readonly name = 'FraudRetryError';
}

/** Every record gets its own outcome below; this only stands in until then (one instance: an Error costs a stack trace). */
const NOT_PROCESSED = new FraudRetryError('not processed');

type Parsed =
  | { kind: 'DONE'; outcome: FraudOutcome }
  | { kind: 'DETECT'; event: DetectableEvent }
  | { kind: 'DEBIT'; withdrawal: WithdrawalPosted }
  | { kind: 'CASE'; revoked: LinkRevoked };

function parse(body: unknown): Parsed {
  const env = EventBridgeEnvelope.safeParse(body);
  if (!env.success) return { kind: 'DONE', outcome: { kind: 'INVALID', reason: 'envelope' } };
  const type = env.data['detail-type'];
  if (env.data.source === ALERTING_SOURCE && type === 'LinkRevoked') {
    const r = LinkRevoked.safeParse(env.data.detail);
    return r.success ? { kind: 'CASE', revoked: r.data } : { kind: 'DONE', outcome: { kind: 'INVALID', reason: 'LinkRevoked detail' } };
  }
  if (env.data.source !== CORE_SOURCE) return { kind: 'DONE', outcome: { kind: 'IGNORED', detailType: type } };
  if (type === 'WithdrawalPosted') {
    const w = coreEvents.WithdrawalPosted.safeParse(env.data.detail);
    return w.success ? { kind: 'DEBIT', withdrawal: w.data } : { kind: 'DONE', outcome: { kind: 'INVALID', reason: 'WithdrawalPosted detail' } };
  }
  if (type === 'LinkCreated' || type === 'AppActivated' || type === 'ContactChanged') {
    const p = coreEvents[type].safeParse(env.data.detail);
    if (!p.success) return { kind: 'DONE', outcome: { kind: 'INVALID', reason: `${type} detail` } };
    return { kind: 'DETECT', event: { detailType: type, detail: p.data } as DetectableEvent };
  }
  return { kind: 'DONE', outcome: { kind: 'IGNORED', detailType: type } };
}

/** Every record's outcome, or the Error that sends it back to the queue. */
export async function processFraudBatch(bodies: readonly unknown[]): Promise<(FraudOutcome | Error)[]> {
  const parsed = bodies.map(parse);
  const out: (FraudOutcome | Error)[] = parsed.map((p) => (p.kind === 'DONE' ? p.outcome : NOT_PROCESSED));
  const detectIdx = parsed.flatMap((p, i) => (p.kind === 'DETECT' ? [i] : []));
  const debitIdx = parsed.flatMap((p, i) => (p.kind === 'DEBIT' ? [i] : []));
  const caseIdx = parsed.flatMap((p, i) => (p.kind === 'CASE' ? [i] : []));
  const settle = async (idx: number[], work: () => Promise<(FraudOutcome | Error)[]>) => {
    try {
      const results = await work();
      idx.forEach((i, k) => (out[i] = results[k]!));
    } catch (e) {
      for (const i of idx) out[i] = e instanceof Error ? e : new Error(String(e));
    }
  };
  // Detection and the linked debits share one transaction and one read (src/fraud/detection/sightings.ts).
  const withdrawals = debitIdx.map((i) => (parsed[i] as { withdrawal: WithdrawalPosted }).withdrawal);
  const shared = [...detectIdx, ...debitIdx];
  await Promise.all([
    shared.length > 0 &&
      settle(shared, async () => {
        const { outcomes, read } = await detectBatch(
          detectIdx.map((i) => (parsed[i] as { event: DetectableEvent }).event),
          { puts: debitPuts(withdrawals), reads: caseReads(withdrawals) },
        );
        const detected = outcomes.map((o, k): FraudOutcome | Error => {
          // A link involved in an incident but not stored yet (the alert function stores it): retry later so its hold is extended.
          if (o.incidents.some((x) => x.linksMissing > 0)) return new FraudRetryError('incident links not stored yet');
          return { kind: 'DETECTED' as const, detailType: (parsed[detectIdx[k]!] as { event: DetectableEvent }).event.detailType, outcome: o };
        });
        const debits = (await joinCases(withdrawals, read)).map((r): FraudOutcome => ({ kind: 'DEBIT', ...r }));
        return [...detected, ...debits];
      }),
    ...caseIdx.map(async (i) => {
      try {
        out[i] = { kind: 'CASE', ...(await openCase((parsed[i] as { revoked: LinkRevoked }).revoked)) };
      } catch (e) {
        out[i] = e instanceof Error ? e : new Error(String(e));
      }
    }),
  ]);
  return out;
}

/** One record (tests, tools): a batch of one; a record to retry throws. */
export async function processFraudRecord(body: unknown): Promise<FraudOutcome> {
  const [r] = await processFraudBatch([body]);
  if (r instanceof Error) throw r;
  return r!;
}
