/**
 * "May this debit go through?" asked by the core bank before every withdrawal, e-payment charge
 * and transfer out. The answer depends only on the latest account and link state (read strongly
 * consistent by the caller) and the hold rules.
 *
 * Decisions, in order (the first that applies wins):
 *   unknown account                        DENY  UNKNOWN_ACCOUNT
 *   account FROZEN                         DENY  ACCOUNT_FROZEN
 *   linkId given, no such link on account  DENY  UNKNOWN_LINK
 *   link REVOKED                           DENY  LINK_REVOKED
 *   link PENDING (inside its hold window):
 *     currency other than the limit's      HOLD  LINK_PENDING_OVER_LIMIT (cannot be compared)
 *     amount > limit                       HOLD  LINK_PENDING_OVER_LIMIT
 *     amount <= limit                      ALLOW LINK_PENDING_UNDER_LIMIT (the withdrawal alert tells them)
 *   otherwise                              ALLOW OK
 *
 * Why an unknown link is DENY, not HOLD: HOLD means "wait for the customer's answer", but no
 * alert (and so no "it was me") exists for a link this system has never seen, so nobody could
 * release it. The 2020 pattern was exactly "link, then drain at once"; failing closed costs a
 * genuine customer a retry a few seconds later, once the core's LinkCreated event has landed.
 * A link id belonging to another account is unknown on this one (links are keyed by account).
 */
import type { WithdrawalChannel } from '../../events/core.ts';
import type { AccountState, LinkState } from '../store/types.ts';
import { effectiveLinkState } from './account.ts';

export type Decision = 'ALLOW' | 'DENY' | 'HOLD';
export type DecisionReason =
  | 'OK'
  | 'UNKNOWN_ACCOUNT'
  | 'ACCOUNT_FROZEN'
  | 'UNKNOWN_LINK'
  | 'LINK_REVOKED'
  | 'LINK_PENDING_OVER_LIMIT'
  | 'LINK_PENDING_UNDER_LIMIT';

export interface DebitRequest {
  accountId: string;
  channel: WithdrawalChannel;
  /** Minor units (JPY has none). */
  amount: number;
  currency: string;
  linkId?: string | undefined;
  requestId?: string | undefined;
}

export interface HoldPolicy {
  /** Debits through a PENDING link above this are held. */
  limitMinor: number;
  /** The currency the limit is expressed in. */
  limitCurrency: string;
}

export interface DebitDecision {
  decision: Decision;
  reason: DecisionReason;
}

export function authorizeDebit(
  req: DebitRequest,
  account: { state: AccountState } | undefined,
  link: { state: LinkState; holdUntil: string } | undefined,
  policy: HoldPolicy,
  now: Date,
): DebitDecision {
  if (!account) return { decision: 'DENY', reason: 'UNKNOWN_ACCOUNT' };
  if (account.state === 'FROZEN') return { decision: 'DENY', reason: 'ACCOUNT_FROZEN' };
  if (req.linkId === undefined) return { decision: 'ALLOW', reason: 'OK' };
  if (!link) return { decision: 'DENY', reason: 'UNKNOWN_LINK' };
  const state = effectiveLinkState(link, now);
  if (state === 'REVOKED') return { decision: 'DENY', reason: 'LINK_REVOKED' };
  if (state === 'PENDING') {
    if (req.currency !== policy.limitCurrency || req.amount > policy.limitMinor) {
      return { decision: 'HOLD', reason: 'LINK_PENDING_OVER_LIMIT' };
    }
    return { decision: 'ALLOW', reason: 'LINK_PENDING_UNDER_LIMIT' };
  }
  return { decision: 'ALLOW', reason: 'OK' };
}
