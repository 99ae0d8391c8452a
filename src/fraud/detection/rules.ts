/**
 * The detection rules, in plain TypeScript (no AWS): what counts as an attack across accounts.
 *
 * ACCOUNTS_PER_IP / ACCOUNTS_PER_DEVICE: at least `threshold` distinct accounts with a link
 *   creation, app activation or contact change from one origin IP (or device) within any window
 *   of `windowMs` (a window [s, s + windowMs)). Checked for the windows that contain the event
 *   just seen: every crossing window contains some event, and the batch that stores the last
 *   of its events sees all the others (each batch is stored before it is checked), so none is missed.
 * PROVIDER_LINK_RATE: a provider's links in the last window (each LinkCreated once) at
 *   least `multiplier` times its trailing baseline (the hour before that window, scaled to the
 *   window) and at least `minLinks`.
 * CONTACT_CHANGE_THEN_LINK: a link on an account within `withinMs` after a contact change of its
 *   customer (the 2020 pattern: take over the contact, then link a wallet).
 *
 * The store (sightings.ts) keeps every time an account was seen under a key, in buckets twice as
 * long as the window: the windows containing an event at t lie within (t - window, t + window), so
 * the event's bucket and at most one neighbour hold everything a check needs (service.ts `around`).
 */

export type Dimension = 'ip' | 'device' | 'provider';
export type RuleName = 'ACCOUNTS_PER_IP' | 'ACCOUNTS_PER_DEVICE' | 'PROVIDER_LINK_RATE' | 'CONTACT_CHANGE_THEN_LINK';

export const MINUTE_MS = 60_000;
export const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS);

/** An account seen under a key at a time. */
export interface Sighting {
  account: string;
  at: number;
}

export interface WindowHit {
  fires: boolean;
  /** Distinct accounts in the fullest window containing `t`. */
  count: number;
  /** The accounts (and their links) of that window, when it fires. */
  accounts: string[];
  start: number;
}

/** The fullest window [s, s + windowMs) containing `t`, over the sightings. */
export function fullestWindow(sightings: readonly Sighting[], t: number, windowMs: number, threshold: number): WindowHit {
  // The best window can be slid right until its start meets a sighting without losing any, as
  // long as it still contains t: so the candidate starts are sighting times in (t - windowMs, t].
  // (or t itself, when the event is stored only as its minute's first and last time).
  const starts = [...new Set([t, ...sightings.map((s) => s.at).filter((a) => a > t - windowMs && a <= t)])];
  let best: WindowHit = { fires: false, count: 0, accounts: [], start: t };
  for (const s of starts) {
    const inside = new Set<string>();
    for (const x of sightings) if (x.at >= s && x.at < s + windowMs) inside.add(x.account);
    if (inside.size > best.count) best = { fires: inside.size >= threshold, count: inside.size, accounts: [...inside].sort(), start: s };
  }
  return best;
}

export interface RateVerdict {
  fires: boolean;
  current: number;
  baseline: number;
}

/**
 * Provider link rate at the window ending with minute `m` (inclusive): current = links in the
 * last `windowMinutes` minutes; baseline = links in the 60 minutes before that, per window.
 */
export function providerRate(countsByMinute: ReadonlyMap<number, number>, m: number, windowMinutes: number, multiplier: number, minLinks: number): RateVerdict {
  let current = 0;
  for (let k = m - windowMinutes + 1; k <= m; k++) current += countsByMinute.get(k) ?? 0;
  let before = 0;
  for (let k = m - windowMinutes - 59; k <= m - windowMinutes; k++) before += countsByMinute.get(k) ?? 0;
  const baseline = (before * windowMinutes) / 60;
  return { fires: current >= minLinks && current >= multiplier * baseline, current, baseline };
}

export interface CustomerEvent {
  kind: 'CONTACT' | 'LINK';
  at: number;
  accountId?: string;
  linkId?: string;
}

/** The links made within `withinMs` after a contact change (the events of one account). */
export function linksAfterContactChange(events: readonly CustomerEvent[], withinMs: number): CustomerEvent[] {
  const changes = events.filter((e) => e.kind === 'CONTACT').map((e) => e.at);
  return events.filter((e) => e.kind === 'LINK' && changes.some((c) => e.at >= c && e.at < c + withinMs));
}

/** Normalised key of an origin value: trimmed, lower-cased, bounded (it is part of a table key). */
export function originKey(v: string | undefined): string | undefined {
  const k = v?.trim().toLowerCase();
  return k ? k.slice(0, 120) : undefined;
}

export const ruleFor = (d: Exclude<Dimension, 'provider'>): RuleName => (d === 'ip' ? 'ACCOUNTS_PER_IP' : 'ACCOUNTS_PER_DEVICE');
