/**
 * POST /v1/authorize and /v1/authorize/release as plain functions over the store (the handler
 * parses and answers HTTP). DynamoDB only: no publisher, no SES/SNS.
 *
 * authorize: one strongly consistent read of the account item (state, app holds, allowance) and,
 * when a link is named, of the link item, in parallel; the rules decide; a debit through a
 * pending hold that fits is reserved by one conditional UpdateItem. A lost race (a concurrent
 * reservation took what was left, a freeze committed, a period started) reads again and decides
 * again, so 100 concurrent ¥9,999 debits through a new link give one ALLOW and 99 HOLD.
 *
 * requestId: an authorisation that reserved is remembered under its requestId. A retry of it
 * (same account, amount, channel and link) gets the same ALLOW and reserves nothing again,
 * unless a protective change came since (freeze, revoke, "not me" to the app): then DENY, and
 * the reservation stays counted until released. The same requestId for a different debit, or
 * after its reservation was released, is refused (409). Answers that reserved nothing (ALLOW OK,
 * HOLD, DENY) are decided again on the latest state: a retry can only differ if the state did,
 * which is what the core wants when it asks again after the customer's "it was me".
 */
import { allowanceNow, reservationKey, sameDebit, type AllowanceEntry, type AllowancePolicy } from '../domain/allowance.ts';
import { planDebit, underLimit, type DebitDecision, type DebitRequest } from '../domain/authorize.ts';
import { entryKeyFor, readDebitState, releaseReservation, reserveAllowance } from './allowance-store.ts';

const MAX_ATTEMPTS = 6;

export interface AllowanceView {
  limit: number;
  remaining: number;
  currency: string;
  /** End of the account's hold period, while one runs. */
  until?: string;
}

export type AuthorizeOutcome =
  | ({ kind: 'DECISION'; allowance: AllowanceView; replayed?: boolean } & DebitDecision)
  /** The requestId was used for another debit, or its reservation was given back. */
  | { kind: 'REQUEST_ID_CONFLICT'; error: 'REQUEST_ID_REUSED' | 'REQUEST_ID_RELEASED'; message: string };

export class AllowanceContentionError extends Error {
  override readonly name = 'AllowanceContentionError';
}

function view(a: Parameters<typeof allowanceNow>[0], policy: AllowancePolicy, now: Date, remaining?: number): AllowanceView {
  const s = allowanceNow(a, policy, now);
  return { limit: policy.limitMinor, remaining: remaining ?? s.remaining, currency: policy.limitCurrency, ...(s.until ? { until: s.until } : {}) };
}

export async function authorizeWithAllowance(req: DebitRequest, policy: AllowancePolicy, now = new Date()): Promise<AuthorizeOutcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { account, link } = await readDebitState(req.accountId, req.linkId);
    const plan = planDebit(req, account, link, policy, now);
    const running = account?.allowance && allowanceNow(account.allowance, policy, now).active ? account.allowance : undefined;
    const earlier = req.requestId ? running?.entries?.[reservationKey(req.requestId)] : undefined;
    if (earlier) {
      if (!sameDebit(earlier, req)) {
        return { kind: 'REQUEST_ID_CONFLICT', error: 'REQUEST_ID_REUSED', message: 'this requestId was used for another debit on this account; use a new requestId' };
      }
      if (earlier.status === 'RELEASED') {
        return { kind: 'REQUEST_ID_CONFLICT', error: 'REQUEST_ID_RELEASED', message: 'the reservation of this requestId was given back; ask again with a new requestId' };
      }
      // A protective change since the reservation wins; otherwise the same answer as the first time.
      if (plan.decision === 'DENY') return { kind: 'DECISION', decision: plan.decision, reason: plan.reason, allowance: view(account?.allowance, policy, now) };
      return { kind: 'DECISION', decision: 'ALLOW', reason: underLimit(earlier.holdKind), allowance: view(account?.allowance, policy, now), replayed: true };
    }
    if (!plan.reserve) return { kind: 'DECISION', decision: plan.decision, reason: plan.reason, allowance: view(account?.allowance, policy, now, plan.remaining) };
    const entry: AllowanceEntry = {
      amount: req.amount,
      status: 'RESERVED',
      at: now.toISOString(),
      holdKind: plan.reserve.through.holdKind,
      holdId: plan.reserve.through.holdId,
      channel: req.channel,
      ...(req.linkId ? { linkId: req.linkId } : {}),
    };
    if (await reserveAllowance(req.accountId, plan.reserve.write, entryKeyFor(req.requestId), entry, policy)) {
      const until = plan.reserve.write.until;
      return { kind: 'DECISION', decision: plan.decision, reason: plan.reason, allowance: { limit: policy.limitMinor, remaining: plan.remaining, currency: policy.limitCurrency, until } };
    }
  }
  // Every attempt lost a race: heavy contention on one account, itself suspicious. Not authorised.
  throw new AllowanceContentionError('allowance: too many concurrent changes');
}

export type ReleaseAnswer =
  | { kind: 'RELEASED' | 'ALREADY_RELEASED'; amount: number; allowance: AllowanceView }
  | { kind: 'ALREADY_POSTED'; amount: number; allowance: AllowanceView }
  | { kind: 'UNKNOWN_RESERVATION' | 'UNKNOWN_ACCOUNT' };

export async function releaseAuthorization(accountId: string, requestId: string, policy: AllowancePolicy, now = new Date()): Promise<ReleaseAnswer> {
  const r = await releaseReservation(accountId, requestId, now);
  switch (r.kind) {
    case 'UNKNOWN_ACCOUNT':
    case 'UNKNOWN_RESERVATION':
      return { kind: r.kind };
    case 'RELEASE':
      return { kind: 'RELEASED', amount: r.amount, allowance: view(r.account.allowance, policy, now) };
    case 'ALREADY_RELEASED':
    case 'ALREADY_POSTED':
      return { kind: r.kind, amount: r.amount, allowance: view(r.account.allowance, policy, now) };
  }
}
