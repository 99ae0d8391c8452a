/**
 * "May this debit go through?" asked by the core bank before every withdrawal, e-payment charge
 * and transfer out. The answer depends only on the latest account, link and app-hold state (read
 * strongly consistent by the caller), the allowance (src/domain/allowance.ts) and these rules.
 *
 * Decisions, in order (the first that applies wins):
 *   unknown account                        DENY  UNKNOWN_ACCOUNT
 *   account FROZEN                         DENY  ACCOUNT_FROZEN
 *   an app of the account "not me"-ed:
 *     any cardless debit (ATM_CARDLESS)    DENY  APP_DEACTIVATED
 *     any debit naming that app / its link DENY  APP_DEACTIVATED
 *   linkId names a link of the account:
 *     link REVOKED                         DENY  LINK_REVOKED
 *     link SUSPENDED (provider suspended)  DENY  PROVIDER_SUSPENDED
 *     link PENDING (inside its window)     through the allowance (below), LINK_PENDING_*
 *     link ACTIVE                          ALLOW OK
 *   linkId names an app activation (its app id or the link the activation belongs to):
 *     one PENDING (inside its window)      through the allowance, APP_PENDING_*
 *     all confirmed / window passed        ALLOW OK
 *   linkId names nothing we know:
 *     cardless debit                       as if unnamed (next rule): the genuine customer's app
 *                                          may predate this system, so naming it must not refuse them
 *     any other debit                      DENY  UNKNOWN_LINK
 *   cardless debit, app hold PENDING       through the allowance, APP_PENDING_*
 *   otherwise                              ALLOW OK
 * Through the allowance: the amount fits what is left of the account's one allowance (in its
 * currency) -> ALLOW *_PENDING_UNDER_LIMIT, reserved in the same conditional write; else HOLD
 * *_PENDING_OVER_LIMIT (another currency cannot be compared: HOLD).
 *
 * Why an unknown link is DENY, not HOLD: HOLD means "wait for the customer's answer", but no
 * alert (and so no "it was me") exists for a link this system has never seen, so nobody could
 * release it. The 2020 pattern was exactly "link, then drain at once"; failing closed costs a
 * genuine customer a retry a few seconds later, once the core's LinkCreated event has landed.
 * A link id belonging to another account is unknown on this one (links are keyed by account).
 * Why one "not me" on an app denies every cardless debit: the customer has said someone else can
 * withdraw cash in their name; a careful bank stops that channel until operations have spoken to
 * them, rather than guess which device is the impostor's.
 */
import type { WithdrawalChannel } from '../../events/core.ts';
import type { AccountState, LinkState } from '../store/types.ts';
import { effectiveLinkState } from './account.ts';
import {
  allowanceNow,
  appHoldsNamed,
  cardlessDenied,
  latestPending,
  planReservation,
  type Allowance,
  type AllowancePolicy,
  type AllowanceWrite,
  type AppHold,
  type HoldKind,
} from './allowance.ts';

export type Decision = 'ALLOW' | 'DENY' | 'HOLD';
export type DecisionReason =
  | 'OK'
  | 'UNKNOWN_ACCOUNT'
  | 'ACCOUNT_FROZEN'
  | 'UNKNOWN_LINK'
  | 'LINK_REVOKED'
  | 'PROVIDER_SUSPENDED'
  | 'APP_DEACTIVATED'
  | 'LINK_PENDING_OVER_LIMIT'
  | 'LINK_PENDING_UNDER_LIMIT'
  | 'APP_PENDING_OVER_LIMIT'
  | 'APP_PENDING_UNDER_LIMIT';

export interface DebitRequest {
  accountId: string;
  channel: WithdrawalChannel;
  /** Minor units (JPY has none). */
  amount: number;
  currency: string;
  linkId?: string | undefined;
  requestId?: string | undefined;
}

/** Kept under its old name: the allowance policy is the hold policy. */
export type HoldPolicy = AllowancePolicy;

export interface DebitDecision {
  decision: Decision;
  reason: DecisionReason;
}

/** What the decision needs of the account item. */
export interface AccountView {
  state: AccountState;
  apps?: Record<string, AppHold> | undefined;
  allowance?: Allowance | undefined;
}

/** A debit that goes through a pending hold: which one, and until when it is held. */
export interface ThroughHold {
  holdKind: HoldKind;
  holdId: string;
  holdUntil: string;
}

/** The rules before the allowance: a final answer, or "through this pending hold". */
export type Assessment = { final: DebitDecision } | { through: ThroughHold };

const final = (decision: Decision, reason: DecisionReason): Assessment => ({ final: { decision, reason } });

export function assessDebit(
  req: Pick<DebitRequest, 'channel' | 'linkId'>,
  account: AccountView | undefined,
  link: { state: LinkState; holdUntil: string } | undefined,
  now: Date,
): Assessment {
  if (!account) return final('DENY', 'UNKNOWN_ACCOUNT');
  if (account.state === 'FROZEN') return final('DENY', 'ACCOUNT_FROZEN');
  const cardless = req.channel === 'ATM_CARDLESS';
  if (cardless && cardlessDenied(account.apps)) return final('DENY', 'APP_DEACTIVATED');
  const named = req.linkId === undefined ? [] : appHoldsNamed(account.apps, req.linkId);
  if (named.some((h) => h.state === 'DEACTIVATED')) return final('DENY', 'APP_DEACTIVATED');
  if (req.linkId !== undefined) {
    if (link) {
      const state = effectiveLinkState(link, now);
      if (state === 'REVOKED') return final('DENY', 'LINK_REVOKED');
      // Created while operations had suspended the provider's new links: nothing goes through it.
      if (state === 'SUSPENDED') return final('DENY', 'PROVIDER_SUSPENDED');
      if (state === 'PENDING') return { through: { holdKind: 'LINK', holdId: req.linkId, holdUntil: link.holdUntil } };
      return final('ALLOW', 'OK');
    }
    if (named.length > 0) {
      const pending = latestPending(named, now);
      return pending ? { through: { holdKind: 'APP', holdId: pending.activationId, holdUntil: pending.holdUntil } } : final('ALLOW', 'OK');
    }
    if (!cardless) return final('DENY', 'UNKNOWN_LINK');
  }
  if (cardless) {
    const pending = latestPending(Object.values(account.apps ?? {}), now);
    if (pending) return { through: { holdKind: 'APP', holdId: pending.activationId, holdUntil: pending.holdUntil } };
  }
  return final('ALLOW', 'OK');
}

export const underLimit = (k: HoldKind): DecisionReason => (k === 'LINK' ? 'LINK_PENDING_UNDER_LIMIT' : 'APP_PENDING_UNDER_LIMIT');
export const overLimit = (k: HoldKind): DecisionReason => (k === 'LINK' ? 'LINK_PENDING_OVER_LIMIT' : 'APP_PENDING_OVER_LIMIT');

/** The full decision: the answer, what is left of the allowance, and the write that reserves. */
export interface DebitPlan extends DebitDecision {
  remaining: number;
  reserve?: { through: ThroughHold; write: AllowanceWrite };
}

export function planDebit(
  req: Pick<DebitRequest, 'channel' | 'linkId' | 'amount' | 'currency'>,
  account: AccountView | undefined,
  link: { state: LinkState; holdUntil: string } | undefined,
  policy: AllowancePolicy,
  now: Date,
): DebitPlan {
  const remainingNow = allowanceNow(account?.allowance, policy, now).remaining;
  const a = assessDebit(req, account, link, now);
  if ('final' in a) return { ...a.final, remaining: remainingNow };
  const plan = planReservation(account?.allowance, a.through.holdUntil, req.amount, req.currency, policy, now);
  if (!plan.ok) return { decision: 'HOLD', reason: overLimit(a.through.holdKind), remaining: plan.remaining };
  return { decision: 'ALLOW', reason: underLimit(a.through.holdKind), remaining: plan.remainingAfter, reserve: { through: a.through, write: plan.write } };
}

/** The answer alone (what the allowance's write would make of it is the store's to commit). */
export function authorizeDebit(
  req: DebitRequest,
  account: AccountView | undefined,
  link: { state: LinkState; holdUntil: string } | undefined,
  policy: HoldPolicy,
  now: Date,
): DebitDecision {
  const { decision, reason } = planDebit(req, account, link, policy, now);
  return { decision, reason };
}
