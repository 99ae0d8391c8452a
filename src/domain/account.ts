/**
 * The account and link state machines, and the hold on new links.
 *
 * Account: ACTIVE <-> FROZEN. Customers (web token, SMS/email reply) can only freeze; only
 * operations can unfreeze, with two people (see src/ops/unfreeze.ts).
 * Link: PENDING -> ACTIVE -> REVOKED (and PENDING -> REVOKED). REVOKED is final.
 * A PENDING link counts as ACTIVE once its hold window has passed; that is computed whenever a
 * decision is made, so no scheduled job has to flip it.
 */
import type { AccountState, LinkState } from '../store/types.ts';

export type { AccountState, LinkState };

/** The link state a decision should use: PENDING after its hold window counts as ACTIVE. */
export function effectiveLinkState(link: { state: LinkState; holdUntil: string }, now: Date): LinkState {
  if (link.state === 'PENDING' && now.getTime() >= Date.parse(link.holdUntil)) return 'ACTIVE';
  return link.state;
}

/** End of the hold window of a link created at `createdAt`. */
export function holdUntil(createdAt: Date, holdWindowHours: number): Date {
  return new Date(createdAt.getTime() + holdWindowHours * 3_600_000);
}

/** What a transition does: change the state, leave it (already there), or refuse. */
export type Transition<S extends string> =
  | { kind: 'CHANGE'; from: S; to: S }
  | { kind: 'UNCHANGED'; state: S }
  | { kind: 'REFUSED'; state: S; reason: RefusalReason };

export type RefusalReason = 'ACCOUNT_FROZEN' | 'LINK_REVOKED' | 'ACCOUNT_NOT_FROZEN' | 'LINK_SUSPENDED';

/** Freezing is always allowed; freezing a frozen account is a success that changes nothing. */
export function freezeTransition(state: AccountState): Transition<AccountState> {
  return state === 'FROZEN' ? { kind: 'UNCHANGED', state } : { kind: 'CHANGE', from: state, to: 'FROZEN' };
}

/** Operations only. Unfreezing an active account is refused rather than silently ignored. */
export function unfreezeTransition(state: AccountState): Transition<AccountState> {
  return state === 'FROZEN' ? { kind: 'CHANGE', from: state, to: 'ACTIVE' } : { kind: 'REFUSED', state, reason: 'ACCOUNT_NOT_FROZEN' };
}

/** "Not me": a PENDING or ACTIVE link is revoked; a revoked one stays revoked. */
export function revokeTransition(state: LinkState): Transition<LinkState> {
  return state === 'REVOKED' ? { kind: 'UNCHANGED', state } : { kind: 'CHANGE', from: state, to: 'REVOKED' };
}

/**
 * "It was me". Refused on a revoked link (REVOKED is final) and on a frozen account: a freeze
 * says the customer suspects fraud, so a confirmation arriving after it (from the same alert or
 * any other) is not trusted; operations sort it out when they unfreeze. Confirming an ACTIVE
 * link (already confirmed, or its window passed) changes nothing.
 */
export function confirmTransition(link: LinkState, account: AccountState): Transition<LinkState> {
  if (link === 'REVOKED') return { kind: 'REFUSED', state: link, reason: 'LINK_REVOKED' };
  // A link made while its provider was suspended cannot be released by "it was me".
  if (link === 'SUSPENDED') return { kind: 'REFUSED', state: link, reason: 'LINK_SUSPENDED' };
  if (account === 'FROZEN') return { kind: 'REFUSED', state: link, reason: 'ACCOUNT_FROZEN' };
  return link === 'PENDING' ? { kind: 'CHANGE', from: link, to: 'ACTIVE' } : { kind: 'UNCHANGED', state: link };
}
