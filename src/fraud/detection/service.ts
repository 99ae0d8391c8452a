/**
 * Detection on a batch of core events (LinkCreated, AppActivated, ContactChanged): store what each
 * event saw (src/fraud/detection/sightings.ts: one transaction, then one read, per batch), check
 * the rules for every event (pure, src/fraud/detection/rules.ts), open or join incidents. Returns,
 * per event, the incidents it opened or joined, for the handler to count (IncidentsOpened is what
 * the alarm watches).
 */
import type { AppActivated, ContactChanged, LinkCreated } from '../../../events/core.ts';
import { batchGetItems } from '../../store/db.ts';
import { key as tableKey } from '../../store/table.ts';
import { fraudConfig } from '../config.ts';
import { noteProvider } from '../providers/store.ts';
import { openOrJoinIncident, type IncidentOutcome, type Member } from './incidents.ts';
import { fullestWindow, linksAfterContactChange, minuteOf, originKey, providerRate, ruleFor, type CustomerEvent, type RuleName, type Sighting } from './rules.ts';
import { bucketId, bucketOf, providerMinuteId, readSightings, storeSightings, type BucketContent, type BucketKey, type EventWrites, type ReadResult } from './sightings.ts';

export type DetectableEvent =
  | { detailType: 'LinkCreated'; detail: LinkCreated }
  | { detailType: 'AppActivated'; detail: AppActivated }
  | { detailType: 'ContactChanged'; detail: ContactChanged };

export interface DetectionOutcome {
  incidents: IncidentOutcome[];
  /** The subject account could not be found (unknown customer): nothing counted. */
  skipped?: boolean;
}

/** A contact change is counted on each of the customer's accounts (at most this many). */
const MAX_ACCOUNTS_PER_CUSTOMER = 20;
const BASELINE_CACHE_MS = 60_000;
const PROVIDER_NOTE_MS = 10 * 60_000;

/** A provider's trailing-hour minute counts change only with late events: cached per instance for a minute. */
const baselineCache = new Map<string, { n: number; until: number }>();
/** The Providers page needs each provider once, not once per link. */
const providersNoted = new Map<string, number>();

interface Prepared {
  event: DetectableEvent;
  at: number;
  /** The account counted under the event's origin (a contact change: the customer's first account). */
  account?: string;
  /** Accounts whose contact-then-link bucket the event touches. */
  ruleAccounts: string[];
  linkId?: string;
  providerId?: string;
  ip?: string;
  device?: string;
}

/**
 * Buckets are twice as long as the rule's window. The sightings a check of an event at t needs lie
 * within (t - window, t + window), so besides its own bucket it reads the one before only when t
 * is in the first window of its bucket, and the one after only when t is in the last window and
 * that bucket can already hold anything (its start within FUTURE_SKEW_MS of now: core events carry
 * the core's clock, which may run a little ahead of ours). On the everyday path most checks read
 * one bucket per key.
 */
const FUTURE_SKEW_MS = 5 * 60_000;
const bucketMinutes = (windowMinutes: number) => 2 * windowMinutes;
export const bucketFor = (dim: BucketKey['dim'], key: string, windowMinutes: number, at: number): BucketKey => {
  const len = bucketMinutes(windowMinutes);
  return { dim, key, len, bucket: bucketOf(at, len) };
};
export const around = (dim: BucketKey['dim'], key: string, windowMinutes: number, at: number): BucketKey[] => {
  const own = bucketFor(dim, key, windowMinutes, at);
  const start = own.bucket * own.len * 60_000;
  const end = start + own.len * 60_000;
  const w = windowMinutes * 60_000;
  const out = [own];
  if (at - w < start) out.push({ ...own, bucket: own.bucket - 1 });
  if (at + w > end && end <= Date.now() + FUTURE_SKEW_MS) out.push({ ...own, bucket: own.bucket + 1 });
  return out;
};

/** The accounts of the customers whose contact details changed: one consistent read of their profiles. */
async function accountsOfCustomers(customerIds: readonly string[]): Promise<Map<string, string[]>> {
  const items = await batchGetItems([...new Set(customerIds)].map((id) => tableKey.customer(id)), { consistent: true, projection: 'customerId, accountIds' });
  return new Map(items.map((i) => [String(i.customerId), Array.isArray(i.accountIds) ? i.accountIds.map(String) : []]));
}

function prepare(event: DetectableEvent, accountsOf: ReadonlyMap<string, string[]>): Prepared {
  const at = Date.parse(event.detail.occurredAt);
  const origin = event.detail.origin;
  const base = { event, at, ...(originKey(origin?.ip) ? { ip: originKey(origin?.ip)! } : {}), ...(originKey(origin?.device) ? { device: originKey(origin?.device)! } : {}) };
  if (event.detailType === 'ContactChanged') {
    const accounts = (accountsOf.get(event.detail.customerId) ?? []).slice(0, MAX_ACCOUNTS_PER_CUSTOMER);
    return { ...base, ...(accounts[0] ? { account: accounts[0] } : {}), ruleAccounts: accounts };
  }
  if (event.detailType === 'LinkCreated') {
    const d = event.detail;
    return { ...base, account: d.accountId, ruleAccounts: [d.accountId], linkId: d.linkId, providerId: d.provider.id };
  }
  return { ...base, account: event.detail.accountId, ruleAccounts: [], ...(event.detail.linkId ? { linkId: event.detail.linkId } : {}) };
}

function writesOf(p: Prepared, W: number, C: number): EventWrites {
  const entries: EventWrites['entries'] = [];
  if (p.account) {
    const seen = { kind: 'ACCOUNT' as const, account: p.account, at: p.at, linkId: p.linkId };
    if (p.ip) entries.push({ bucket: bucketFor('ip', p.ip, W, p.at), entry: seen });
    if (p.device) entries.push({ bucket: bucketFor('device', p.device, W, p.at), entry: seen });
  }
  if (p.event.detailType === 'ContactChanged') for (const a of p.ruleAccounts) entries.push({ bucket: bucketFor('account', a, C, p.at), entry: { kind: 'CONTACT', at: p.at } });
  const link =
    p.event.detailType === 'LinkCreated'
      ? { bucket: bucketFor('account', p.account!, C, p.at), linkId: p.linkId!, at: p.at, providerId: p.providerId!, minute: minuteOf(p.at) }
      : undefined;
  return { eventId: p.event.detail.eventId, entries, ...(link ? { link } : {}) };
}

interface Candidate {
  rule: RuleName;
  key: string;
  members: Map<string, Member>;
  providerIds: Set<string>;
  /** The first event of the batch that fired it: the incident's outcome is reported (and retried) on it. */
  first: number;
}

function contents(read: ReadResult, keys: readonly BucketKey[]): { merged: BucketContent[]; saturated: boolean } {
  const merged = keys.map((k) => read.buckets.get(bucketId(k))).filter((b): b is BucketContent => b !== undefined);
  return { merged, saturated: merged.some((b) => b.entries >= fraudConfig().FRAUD_BUCKET_CAP) };
}

/** Accounts per origin: the fullest window containing the event; a saturated bucket counts as firing. */
function checkOrigin(read: ReadResult, saturatedIds: ReadonlySet<string>, dim: 'ip' | 'device', key: string, at: number, W: number, threshold: number): Member[] | undefined {
  const keys = around(dim, key, W, at);
  const { merged, saturated } = contents(read, keys);
  const sightings: Sighting[] = [];
  const linksOf = new Map<string, Set<string>>();
  for (const b of merged)
    for (const [account, s] of b.accounts) {
      for (const t of s.times) sightings.push({ account, at: t });
      for (const l of s.links) linksOf.set(account, (linksOf.get(account) ?? new Set()).add(l));
    }
  const flooded = saturated || keys.some((k) => saturatedIds.has(bucketId(k)));
  let accounts: string[];
  if (flooded) accounts = [...new Set(sightings.map((s) => s.account))];
  else {
    const hit = fullestWindow(sightings, at, W * 60_000, threshold);
    if (!hit.fires) return undefined;
    accounts = hit.accounts;
  }
  const members: Member[] = [];
  for (const a of accounts) {
    const links = [...(linksOf.get(a) ?? [])];
    if (links.length === 0) members.push({ accountId: a });
    for (const l of links) members.push({ accountId: a, linkId: l });
  }
  return members;
}

/** Contact change then link on the same account: the links made within the window after a change. */
function checkContactThenLink(read: ReadResult, account: string, at: number, C: number): Member[] {
  const events: CustomerEvent[] = [];
  for (const b of contents(read, around('account', account, C, at)).merged) {
    for (const t of b.contacts) events.push({ kind: 'CONTACT', at: t });
    for (const l of b.links) events.push({ kind: 'LINK', at: l.at, accountId: account, linkId: l.linkId });
  }
  const links = linksAfterContactChange(events, C * 60_000);
  return [...new Map(links.map((l) => [l.linkId!, { accountId: account, linkId: l.linkId }])).values()];
}

function providerCounts(read: ReadResult, providerId: string, m: number, W: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (let k = m - W - 59; k <= m; k++) {
    const fresh = read.providerMinutes.get(providerMinuteId(providerId, k));
    const cached = baselineCache.get(providerMinuteId(providerId, k));
    const n = fresh ?? (cached && cached.until > Date.now() ? cached.n : 0);
    if (n > 0) counts.set(k, n);
  }
  return counts;
}

/**
 * The batch's other work that rides along (the reimbursement debits, src/fraud/cases/debits.ts):
 * blind puts committed in the detection transaction, keys read in the detection read.
 */
export interface Riders {
  puts: readonly Record<string, unknown>[];
  reads: readonly { pk: string; sk: string }[];
}

export async function detectBatch(events: readonly DetectableEvent[], riders: Riders = { puts: [], reads: [] }): Promise<{ outcomes: DetectionOutcome[]; read: ReadonlyMap<string, Record<string, unknown>> }> {
  const cfg = fraudConfig();
  const W = cfg.FRAUD_ACCOUNTS_WINDOW_MINUTES;
  const C = cfg.FRAUD_CONTACT_LINK_MINUTES;
  const changed = events.flatMap((e) => (e.detailType === 'ContactChanged' ? [e.detail.customerId] : []));
  const accountsOf = changed.length > 0 ? await accountsOfCustomers(changed) : new Map<string, string[]>();
  const prepared = events.map((e) => prepare(e, accountsOf));

  const now = Date.now();
  const notes: Promise<void>[] = [];
  for (const p of prepared) {
    if (p.event.detailType !== 'LinkCreated' || (providersNoted.get(p.providerId!) ?? 0) > now) continue;
    providersNoted.set(p.providerId!, now + PROVIDER_NOTE_MS);
    notes.push(noteProvider(p.providerId!, p.event.detail.provider.displayName, p.event.detail.occurredAt));
  }

  const writes = prepared.map((p) => writesOf(p, W, C));
  const [stored] = await Promise.all([storeSightings(writes, riders.puts), ...notes]);

  // One read for every bucket and provider minute the rules look at; a provider's baseline minutes from the cache when fresh.
  const buckets: BucketKey[] = [];
  const providerMinutes: { providerId: string; minute: number }[] = [];
  for (const p of prepared) {
    if (!p.account) continue;
    if (p.ip) buckets.push(...around('ip', p.ip, W, p.at));
    if (p.device) buckets.push(...around('device', p.device, W, p.at));
    for (const a of p.event.detailType === 'LinkCreated' || p.event.detailType === 'ContactChanged' ? p.ruleAccounts : []) buckets.push(...around('account', a, C, p.at));
    if (p.providerId) {
      const m = minuteOf(p.at);
      for (let k = m - W - 59; k <= m; k++) {
        const cached = baselineCache.get(providerMinuteId(p.providerId, k));
        if (k > m - W || !cached || cached.until <= now) providerMinutes.push({ providerId: p.providerId, minute: k });
      }
    }
  }
  const read = await readSightings({ buckets, providerMinutes, others: riders.reads });
  for (const { providerId, minute } of providerMinutes) {
    const id = providerMinuteId(providerId, minute);
    // Only minutes well before the window are cached: the window's own minutes are read every time.
    if (minute <= minuteOf(now) - W) baselineCache.set(id, { n: read.providerMinutes.get(id) ?? 0, until: now + BASELINE_CACHE_MS });
  }

  const candidates = new Map<string, Candidate>();
  const hit = (i: number, rule: RuleName, key: string, members: readonly Member[], providerIds: readonly string[]) => {
    const id = `${rule}\u0000${key}`;
    const c = candidates.get(id) ?? { rule, key, members: new Map(), providerIds: new Set(), first: i };
    for (const m of members) c.members.set(`${m.accountId}#${m.linkId ?? '-'}`, m);
    for (const pid of providerIds) c.providerIds.add(pid);
    candidates.set(id, c);
  };
  // A provider's rate is the same for every link of the batch in the same minute.
  const verdicts = new Map<string, ReturnType<typeof providerRate>>();
  prepared.forEach((p, i) => {
    if (!p.account) return;
    const providerIds = p.providerId ? [p.providerId] : [];
    for (const dim of ['ip', 'device'] as const) {
      const k = p[dim];
      if (!k) continue;
      const members = checkOrigin(read, stored.saturated, dim, k, p.at, W, cfg.FRAUD_ACCOUNTS_THRESHOLD);
      if (members) hit(i, ruleFor(dim), k, members, providerIds);
    }
    if (p.providerId) {
      const m = minuteOf(p.at);
      const vk = `${p.providerId}\u0000${m}`;
      const verdict = verdicts.get(vk) ?? providerRate(providerCounts(read, p.providerId, m, W), m, W, cfg.FRAUD_PROVIDER_RATE_MULTIPLIER, cfg.FRAUD_PROVIDER_RATE_MIN_LINKS);
      verdicts.set(vk, verdict);
      if (verdict.fires) hit(i, 'PROVIDER_LINK_RATE', p.providerId, [{ accountId: p.account, linkId: p.linkId }], providerIds);
    }
    if (p.event.detailType === 'LinkCreated' || p.event.detailType === 'ContactChanged')
      for (const a of p.ruleAccounts) {
        const members = checkContactThenLink(read, a, p.at, C);
        if (members.length > 0) hit(i, 'CONTACT_CHANGE_THEN_LINK', a, members, providerIds);
      }
  });

  const outcomes: DetectionOutcome[] = prepared.map((p) => (p.account ? { incidents: [] } : { incidents: [], skipped: true }));
  // Different (rule, key) pairs are different incidents: opened side by side (a link in two of them
  // has its hold extended by whichever comes first; the other finds it done).
  const opened = await Promise.all([...candidates.values()].map(async (c) => ({ c, o: await openOrJoinIncident(c.rule, c.key, [...c.members.values()], [...c.providerIds]) })));
  for (const { c, o } of opened) outcomes[c.first]!.incidents.push(o);
  return { outcomes, read: read.others };
}
