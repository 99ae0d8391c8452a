/**
 * The hold allowance and the cardless-ATM app holds: plain rules, no AWS (the store is
 * src/holds/allowance-store.ts).
 *
 * One allowance per account. While any of its links or cardless-ATM app activations is PENDING
 * (inside its hold window), debits through those pending holds share ONE allowance of
 * HOLD_LIMIT_MINOR yen in total: five new wallets do not make five allowances, and twenty debits
 * of ¥9,999 do not make twenty. The allowance runs for a *hold period*: it opens when a hold
 * starts on an account with no period running, and lasts until the latest window of the holds
 * opened during it ends (a new hold inside a running period extends it; it never resets it). A
 * hold confirmed or revoked early does not end the period: what was spent stays spent, which
 * errs on the side of the customer's money. When the period ends, the next hold starts afresh.
 *
 * What the allowance counts (entries, keyed so that nothing is counted twice):
 *   R#{requestId}   an authorisation that reserved (ALLOW through a pending hold)
 *                   RESERVED -> RELEASED (the core gave it back: the debit did not happen)
 *                   RESERVED -> POSTED (its WithdrawalPosted arrived: it can no longer be released)
 *   A#{uuid}        the same without a requestId (cannot be released or replayed)
 *   W#{withdrawalId} a WithdrawalPosted through a pending hold that was never reserved
 *
 * Item size: the entries live in the account item, which DynamoDB caps at 400 KB. An entry is
 * about 150 bytes, and a period holds at most MAX_ALLOWANCE_ENTRIES of them (about 60 KB);
 * beyond that the allowance counts as spent (HOLD): hundreds of debits through a day-old link
 * are themselves the split-debit pattern. Postings are always counted, whatever the cap.
 */
import type { WithdrawalChannel } from '../../events/core.ts';

export const MAX_ALLOWANCE_ENTRIES = 400;

export type AllowanceEntryStatus = 'RESERVED' | 'RELEASED' | 'POSTED';
export type HoldKind = 'LINK' | 'APP';

export interface AllowanceEntry {
  amount: number;
  status: AllowanceEntryStatus;
  at: string;
  /** What it went through: LINK or APP, and the link id / activation id. */
  holdKind: HoldKind;
  holdId: string;
  channel: WithdrawalChannel;
  /** For a replayed requestId: the linkId the core named (to refuse a reuse for another debit). */
  linkId?: string;
}

export interface Allowance {
  /** End of the hold period; after it, the allowance no longer applies and the next hold starts afresh. */
  until: string;
  /** Minor units (yen) counted in this period: reserved + posted, never below zero. */
  spent: number;
  entries: Record<string, AllowanceEntry>;
}

export interface AllowancePolicy {
  /** The allowance of one hold period (minor units). */
  limitMinor: number;
  /** The currency it is expressed in (JPY). */
  limitCurrency: string;
}

/** The allowance as it stands at `now` (a period that ended counts as none). */
export function allowanceNow(a: Allowance | undefined, policy: AllowancePolicy, now: Date): { active: boolean; spent: number; remaining: number; until?: string } {
  if (!a || Date.parse(a.until) <= now.getTime()) return { active: false, spent: 0, remaining: policy.limitMinor };
  const full = Object.keys(a.entries ?? {}).length >= MAX_ALLOWANCE_ENTRIES;
  return { active: true, spent: a.spent, remaining: full ? 0 : Math.max(0, policy.limitMinor - a.spent), until: a.until };
}

/**
 * How a write to the allowance must look, given what was read:
 *   FRESH  no period running: start one (spent = amount, until = the hold's end), conditioned on
 *          the period read (`readUntil`, or no allowance at all)
 *   ADD    a period runs: add to it (and extend its end to `until` when the hold ends later)
 */
export type AllowanceWrite =
  | { kind: 'FRESH'; readUntil: string | undefined; until: string }
  | { kind: 'ADD'; readUntil: string; until: string };

function writeFor(a: Allowance | undefined, holdUntil: string, now: Date): AllowanceWrite {
  if (!a || Date.parse(a.until) <= now.getTime()) return { kind: 'FRESH', readUntil: a?.until, until: holdUntil };
  return { kind: 'ADD', readUntil: a.until, until: a.until >= holdUntil ? a.until : holdUntil };
}

export type ReservationPlan =
  | { ok: true; write: AllowanceWrite; remainingAfter: number }
  | { ok: false; remaining: number };

/**
 * Whether `amount` fits what is left, and how to reserve it. The store makes the write
 * conditional on "spent <= limit - amount" as well, so two concurrent reservations cannot both
 * take the last yen: the check and the reservation are one conditional write.
 */
export function planReservation(a: Allowance | undefined, holdUntil: string, amount: number, currency: string, policy: AllowancePolicy, now: Date): ReservationPlan {
  const state = allowanceNow(a, policy, now);
  // Another currency cannot be compared with a yen allowance: held, not guessed.
  if (currency !== policy.limitCurrency || amount > state.remaining) return { ok: false, remaining: state.remaining };
  return { ok: true, write: writeFor(a, holdUntil, now), remainingAfter: state.remaining - amount };
}

/**
 * A posted withdrawal through a pending hold that nobody reserved: counted whatever it takes the
 * total to (the money has left). Another currency counts as the whole allowance.
 */
export function planPosting(a: Allowance | undefined, holdUntil: string, amount: number, currency: string, policy: AllowancePolicy, now: Date): { write: AllowanceWrite; counted: number } {
  return { write: writeFor(a, holdUntil, now), counted: currency === policy.limitCurrency ? amount : policy.limitMinor };
}

/**
 * A new hold (link created, app activated) on the account: start a period, extend the running
 * one, or nothing (it ends before the running period does, or its window has already passed).
 */
export function planHoldOpening(a: Allowance | undefined, holdUntil: string, now: Date): AllowanceWrite | undefined {
  if (Date.parse(holdUntil) <= now.getTime()) return undefined;
  const w = writeFor(a, holdUntil, now);
  if (w.kind === 'ADD' && w.until === w.readUntil) return undefined;
  return w;
}

export const reservationKey = (requestId: string) => `R#${requestId}`;
export const postingKey = (withdrawalId: string) => `W#${withdrawalId}`;

/** A retry of an authorisation that reserved: the same debit, or a reuse of its id for another. */
export function sameDebit(e: AllowanceEntry, req: { amount: number; channel: WithdrawalChannel; linkId?: string | undefined }): boolean {
  return e.amount === req.amount && e.channel === req.channel && (e.linkId ?? undefined) === (req.linkId ?? undefined);
}

export type ReleaseOutcome =
  | { kind: 'RELEASE'; amount: number }
  | { kind: 'ALREADY_RELEASED'; amount: number }
  | { kind: 'ALREADY_POSTED'; amount: number }
  | { kind: 'UNKNOWN_RESERVATION' };

/** Giving back a reservation: once, and never one whose debit was posted. */
export function planRelease(a: Allowance | undefined, requestId: string, now: Date): ReleaseOutcome {
  if (!a || Date.parse(a.until) <= now.getTime()) return { kind: 'UNKNOWN_RESERVATION' };
  const e = a.entries?.[reservationKey(requestId)];
  if (!e) return { kind: 'UNKNOWN_RESERVATION' };
  if (e.status === 'RELEASED') return { kind: 'ALREADY_RELEASED', amount: e.amount };
  if (e.status === 'POSTED') return { kind: 'ALREADY_POSTED', amount: e.amount };
  return { kind: 'RELEASE', amount: e.amount };
}

// --- Cardless-ATM app holds ------------------------------------------------------------------

/**
 * An AppActivated opens a hold on the account for HOLD_WINDOW_HOURS, like a new link:
 *   PENDING -> CONFIRMED ("it was me", with the step-up)      cardless debits no longer held by it
 *   PENDING | CONFIRMED -> DEACTIVATED ("not me", one tap)   every cardless debit on the account is
 *                                                             DENY until operations re-enable
 *   DEACTIVATED -> REENABLED (operations, after checking the customer's identity: reenableCardless)
 * DEACTIVATED is kept (never pruned). A PENDING hold whose window passed counts as CONFIRMED.
 * The hold is keyed by the activation (the event's id): the same app activated again on another
 * device is a new hold that an older alert's "it was me" cannot release.
 */
export type AppHoldState = 'PENDING' | 'CONFIRMED' | 'DEACTIVATED' | 'REENABLED';

export interface AppHold {
  activationId: string;
  appId: string;
  appName: string;
  deviceName?: string;
  /** The link the core said the activation belongs to, if any: a debit naming it is this app's. */
  linkId?: string;
  state: AppHoldState;
  activatedAt: string;
  holdUntil: string;
  updatedAt: string;
}

export function effectiveAppState(h: Pick<AppHold, 'state' | 'holdUntil'>, now: Date): AppHoldState {
  return h.state === 'PENDING' && now.getTime() >= Date.parse(h.holdUntil) ? 'CONFIRMED' : h.state;
}

/** Whether the customer said "not me" to any app of the account (cardless debits are then denied). */
export function cardlessDenied(apps: Record<string, AppHold> | undefined): AppHold | undefined {
  return Object.values(apps ?? {}).find((h) => h.state === 'DEACTIVATED');
}

/** The app holds a debit naming `id` (as linkId) goes through: by app id or by the activation's link. */
export function appHoldsNamed(apps: Record<string, AppHold> | undefined, id: string): AppHold[] {
  return Object.values(apps ?? {}).filter((h) => h.appId === id || h.linkId === id || h.activationId === id);
}

/** Of these, the pending one ending last (the allowance's period must reach its end). */
export function latestPending(holds: readonly AppHold[], now: Date): AppHold | undefined {
  return holds.filter((h) => effectiveAppState(h, now) === 'PENDING').sort((x, y) => (x.holdUntil < y.holdUntil ? 1 : -1))[0];
}

/**
 * Entries to drop when a new activation is added: every hold whose window has passed (it counts
 * as confirmed, and a debit naming an app with no hold left is decided like an unnamed cardless
 * one), never a DEACTIVATED one. Activations come from the core, one per device set-up, so what
 * remains is a handful of entries.
 */
export function appHoldsToPrune(apps: Record<string, AppHold> | undefined, now: Date): string[] {
  return Object.values(apps ?? {})
    .filter((h) => h.state !== 'DEACTIVATED' && now.getTime() >= Date.parse(h.holdUntil))
    .map((h) => h.activationId);
}

export type AppTransition = { kind: 'CHANGE'; from: AppHoldState; to: AppHoldState } | { kind: 'UNCHANGED'; state: AppHoldState } | { kind: 'REFUSED'; reason: 'APP_DEACTIVATED' | 'ACCOUNT_FROZEN' | 'NOT_DEACTIVATED' };

/** "Not me" to the app: protective, allowed on a frozen account too; twice changes nothing. */
export function deactivateAppTransition(state: AppHoldState): AppTransition {
  return state === 'DEACTIVATED' ? { kind: 'UNCHANGED', state } : { kind: 'CHANGE', from: state, to: 'DEACTIVATED' };
}

/** Operations lift a "not me" after checking the customer's identity; anything else is refused. */
export function reenableTransition(state: AppHoldState): AppTransition {
  return state === 'DEACTIVATED' ? { kind: 'CHANGE', from: state, to: 'REENABLED' } : { kind: 'REFUSED', reason: 'NOT_DEACTIVATED' };
}

/** "It was me" to the app: refused after "not me" and on a frozen account (as for links). */
export function confirmAppTransition(state: AppHoldState, account: 'ACTIVE' | 'FROZEN'): AppTransition {
  if (state === 'DEACTIVATED') return { kind: 'REFUSED', reason: 'APP_DEACTIVATED' };
  if (account === 'FROZEN') return { kind: 'REFUSED', reason: 'ACCOUNT_FROZEN' };
  return state === 'PENDING' ? { kind: 'CHANGE', from: state, to: 'CONFIRMED' } : { kind: 'UNCHANGED', state };
}
