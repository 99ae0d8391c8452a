/**
 * The detection counters in DynamoDB, written and read once per batch of events rather than per
 * event, so detection stays cheap beside the alert path (bench/fraud.ts):
 *
 *   FRAUDB#{dim}#{key} / B{len}#{bucket}   what was seen under an origin (dim ip | device) or on an
 *                                           account (dim account, the contact-then-link rule) in one
 *                                           bucket of `len` minutes (twice the rule's window). Origins: per
 *                                           account a number set of times `t:{account}` and a string
 *                                           set of links `l:{account}`, `n` entries. Accounts: each
 *                                           link `k:{linkId}` = its time, contact changes `c`
 *   FRAUDP#{providerId} / M#{minute}        links created through the provider that minute (`n`)
 *
 * One batch = one TransactWriteItems per (at most) 100 items: the set additions of every bucket
 * the batch's events touch, merged per item. Set additions are idempotent, so a duplicate or a
 * retried event changes no set. A link is written into its account's bucket on the condition that
 * it is not there yet: that condition is what tells a redelivered LinkCreated, so the provider's
 * minute count takes each link once without a marker item of its own. Then one BatchGetItem
 * (strongly consistent) reads every bucket the batch's rules look at. Each event is stored before
 * it is checked, so whichever batch stores the last event of a crossing window sees all of it.
 *
 * An origin's bucket is capped at FRAUD_BUCKET_CAP entries (an item is at most 400 KB): a key that
 * floods its bucket is reported as saturated and the rule treats it as firing, so flooding cannot
 * blind it.
 * Everything expires (TTL) a few hours after the rules stop looking at it.
 */
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, db, isConditionFailure, tableName } from '../../store/db.ts';
import { TTL_ATTRIBUTE } from '../../store/table.ts';
import { fraudConfig } from '../config.ts';

export type BucketDim = 'ip' | 'device' | 'account';
const KEEP_SECONDS = 3 * 3600;
const MAX_ITEMS_PER_TRANSACTION = 100;
const pad = (n: number) => String(n).padStart(10, '0');

export interface BucketKey {
  dim: BucketDim;
  key: string;
  /** Bucket length in minutes. */
  len: number;
  bucket: number;
}

export const bucketOf = (at: number, len: number) => Math.floor(at / (len * 60_000));
const bucketItemKey = (b: BucketKey) => ({ pk: `FRAUDB#${b.dim}#${b.key}`, sk: `B${b.len}#${pad(b.bucket)}` });
const providerItemKey = (providerId: string, minute: number) => ({ pk: `FRAUDP#${providerId}`, sk: `M#${pad(minute)}` });
const keyString = (k: { pk: string; sk: string }) => `${k.pk}\u0000${k.sk}`;

/** What an event adds to an origin's bucket: its account at a time, with its link; or, to an account's bucket, a contact change. */
export type BucketEntry = { kind: 'ACCOUNT'; account: string; at: number; linkId?: string | undefined } | { kind: 'CONTACT'; at: number };

export interface EventWrites {
  eventId: string;
  entries: { bucket: BucketKey; entry: BucketEntry }[];
  /** A LinkCreated: the link goes into its account's bucket (once), and then into its provider's minute count. */
  link?: { bucket: BucketKey; linkId: string; at: number; providerId: string; minute: number } | undefined;
}

export interface WriteResult {
  /** Link events whose link was stored before (a redelivery, or the same link in another event). */
  duplicates: Set<string>;
  /** Buckets at their cap: entries not added; the rule treats the key as firing. */
  saturated: Set<string>;
}

interface ItemUpdate {
  key: { pk: string; sk: string };
  capped: boolean;
  times: Map<string, Set<number>>;
  links: Map<string, Set<string>>;
  contacts: Set<number>;
  /** Account buckets: linkId -> time and the event that brings it (conditional: not there yet). */
  newLinks: Map<string, { at: number; eventId: string }>;
  entries: number;
  ttl: number;
}

const ttlOf = (b: BucketKey) => Math.floor(((b.bucket + 1) * b.len * 60_000) / 1000) + KEEP_SECONDS;

function mergeUpdates(events: readonly EventWrites[]): Map<string, ItemUpdate> {
  const out = new Map<string, ItemUpdate>();
  const itemFor = (b: BucketKey) => {
    const k = bucketItemKey(b);
    const id = keyString(k);
    const u = out.get(id) ?? { key: k, capped: b.dim !== 'account', times: new Map(), links: new Map(), contacts: new Set<number>(), newLinks: new Map(), entries: 0, ttl: ttlOf(b) };
    out.set(id, u);
    return u;
  };
  for (const e of events) {
    for (const { bucket, entry } of e.entries) {
      const u = itemFor(bucket);
      if (entry.kind === 'CONTACT') u.contacts.add(entry.at);
      else {
        u.times.set(entry.account, (u.times.get(entry.account) ?? new Set()).add(entry.at));
        if (entry.linkId) u.links.set(entry.account, (u.links.get(entry.account) ?? new Set()).add(entry.linkId));
      }
      u.entries++;
    }
    if (e.link && !itemFor(e.link.bucket).newLinks.has(e.link.linkId)) itemFor(e.link.bucket).newLinks.set(e.link.linkId, { at: e.link.at, eventId: e.eventId });
  }
  return out;
}

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

function updateItem(u: ItemUpdate): TransactItem {
  const names: Record<string, string> = { '#ttl': TTL_ATTRIBUTE };
  const values: Record<string, unknown> = { ':ttl': u.ttl };
  const adds: string[] = [];
  const sets = ['#ttl = :ttl'];
  const conditions: string[] = [];
  if (u.capped) {
    names['#n'] = 'n';
    values[':n'] = u.entries;
    values[':cap'] = fraudConfig().FRAUD_BUCKET_CAP;
    adds.push('#n :n');
    conditions.push('(attribute_not_exists(#n) OR #n < :cap)');
  }
  let i = 0;
  for (const [account, times] of u.times) {
    names[`#t${i}`] = `t:${account}`;
    values[`:t${i}`] = times;
    adds.push(`#t${i} :t${i}`);
    const links = u.links.get(account);
    if (links) {
      names[`#l${i}`] = `l:${account}`;
      values[`:l${i}`] = links;
      adds.push(`#l${i} :l${i}`);
    }
    i++;
  }
  let j = 0;
  for (const [linkId, { at }] of u.newLinks) {
    names[`#k${j}`] = `k:${linkId}`;
    values[`:k${j}`] = at;
    sets.push(`#k${j} = :k${j}`);
    conditions.push(`attribute_not_exists(#k${j})`);
    j++;
  }
  if (u.contacts.size > 0) {
    names['#c'] = 'c';
    values[':c'] = u.contacts;
    adds.push('#c :c');
  }
  return {
    Update: {
      TableName: tableName(),
      Key: u.key,
      UpdateExpression: `SET ${sets.join(', ')}${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
      ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Buckets this instance has seen at their cap (read back full, or refusing entries): cap and
 * bucket id -> the bucket's expiry (epoch seconds). A full bucket stays full for its life
 * (entries are only ever added), so later batches leave it out of their transaction from the
 * start instead of having a transaction cancelled on it and sent again: under a flood from one
 * address, that is one transaction per batch instead of two, and no more writes against the
 * largest item of the table. At most one entry per FRAUD_BUCKET_CAP entries stored; expired ones
 * are dropped.
 */
const knownFull = new Map<string, number>();
const fullKey = (id: string) => `${fraudConfig().FRAUD_BUCKET_CAP}\u0000${id}`;

function markFull(result: WriteResult, id: string, u: ItemUpdate): void {
  result.saturated.add(id);
  knownFull.set(fullKey(id), u.ttl);
}

/** The batch's buckets already known to be full. */
function knownFullOf(events: readonly EventWrites[]): Set<string> {
  const now = Date.now() / 1000;
  for (const [k, expiry] of knownFull) if (expiry <= now) knownFull.delete(k);
  const out = new Set<string>();
  if (knownFull.size === 0) return out;
  for (const e of events) {
    for (const { bucket } of e.entries) {
      const id = bucketId(bucket);
      if (knownFull.has(fullKey(id))) out.add(id);
    }
  }
  return out;
}

/** Which of an account bucket's new links are stored already (a redelivery): their events are duplicates. */
async function markDuplicateLinks(u: ItemUpdate, group: readonly EventWrites[], result: WriteResult): Promise<void> {
  const item = (await db().send(new GetCommand({ TableName: tableName(), Key: u.key, ConsistentRead: true }))).Item ?? {};
  for (const [linkId, { eventId }] of u.newLinks) if (`k:${linkId}` in item) result.duplicates.add(eventId);
  // Events of the same link in this batch, other than the one that carried it, are duplicates as well.
  for (const ev of group) if (ev.link && `k:${ev.link.linkId}` in item) result.duplicates.add(ev.eventId);
}

const plan = (group: readonly EventWrites[], result: WriteResult) =>
  [...mergeUpdates(group.map((e) => (e.link && result.duplicates.has(e.eventId) ? { ...e, link: undefined } : e)))].filter(([id]) => !result.saturated.has(id));

/**
 * The same writes item by item, for when other batches keep holding items of the transaction (a
 * busy origin under attack, concurrent consumers). Each update is atomic and idempotent on its
 * own: the transaction only saves requests, so this path is as correct, just dearer.
 */
async function commitItemByItem(group: readonly EventWrites[], puts: readonly Record<string, unknown>[], result: WriteResult): Promise<void> {
  await Promise.all(puts.map((Item) => db().send(new PutCommand({ TableName: tableName(), Item }))));
  for (let round = 0; ; round++) {
    const buckets = plan(group, result);
    const before = result.duplicates.size + result.saturated.size;
    const failed: [string, ItemUpdate][] = [];
    await Promise.all(
      buckets.map(async ([id, u]) => {
        try {
          await db().send(new UpdateCommand(updateItem(u).Update!));
        } catch (e) {
          if (!isConditionFailure(e)) throw e;
          failed.push([id, u]);
        }
      }),
    );
    if (failed.length === 0) return;
    for (const [id, u] of failed) {
      if (u.newLinks.size === 0) markFull(result, id, u);
      else await markDuplicateLinks(u, group, result);
    }
    // Nothing learned from the failures: something else is wrong; let the batch be retried.
    if (result.duplicates.size + result.saturated.size === before || round > 5) throw new Error('detection counters: a conditional write kept failing');
  }
}

/**
 * One transaction for a group of events and the blind puts riding with it. A failed condition on
 * an account's bucket means one of its links was stored before: the events bringing links already
 * there are duplicates, and the group is retried without their links. A failed cap means the
 * origin's bucket is full: retried without that bucket. When other transactions keep holding its
 * items, the group is written item by item instead.
 */
async function commit(group: readonly EventWrites[], puts: readonly Record<string, unknown>[], result: WriteResult): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const buckets = plan(group, result);
    if (buckets.length === 0 && puts.length === 0) return;
    try {
      const items = [...buckets.map(([, u]) => updateItem(u)), ...puts.map((Item) => ({ Put: { TableName: tableName(), Item } }))];
      await db().send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (e) {
      const err = e as { name?: string; CancellationReasons?: { Code?: string }[] };
      if (err.name !== 'TransactionCanceledException' && err.name !== 'TransactionConflictException') throw e;
      const failed = (err.CancellationReasons ?? []).flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' && i < buckets.length ? [buckets[i]!] : []));
      for (const [id, u] of failed) {
        if (u.newLinks.size === 0) markFull(result, id, u);
        else await markDuplicateLinks(u, group, result);
      }
      if (failed.length > 0) continue;
      // Another batch held one of the items: retry once after a short pause, then item by item.
      if (attempt >= 1) return commitItemByItem(group, puts, result);
      await sleep(20 * (0.5 + Math.random()));
    }
  }
}

/**
 * Stores what a batch of events saw, once per event. Returns the link events that were stored
 * before and the buckets that are full. The provider minute counts are added after the commit, for
 * the links stored now only: a crash in between leaves that batch's links out of their minute's
 * count for good (the redelivery finds them stored). The rate seen then is lower by one batch, and
 * so is the baseline an hour later; a crash at that point is rare and its effect one batch.
 */
export async function storeSightings(events: readonly EventWrites[], puts: readonly Record<string, unknown>[] = []): Promise<WriteResult> {
  const unique = [...new Map(events.filter((e) => e.entries.length > 0 || e.link).map((e) => [e.eventId, e])).values()];
  const result: WriteResult = { duplicates: new Set(), saturated: knownFullOf(unique) };
  // Transactions of at most 100 items (an event touches at most entries + 1 items).
  const groups: EventWrites[][] = [];
  let group: EventWrites[] = [];
  let size = 0;
  for (const e of unique) {
    const cost = (e.link ? 1 : 0) + e.entries.length;
    if (group.length > 0 && size + cost > MAX_ITEMS_PER_TRANSACTION) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(e);
    size += cost;
  }
  if (group.length > 0) groups.push(group);
  // Other blind puts of the batch (the debits kept for reimbursement cases) ride in the same transactions.
  const rides: Record<string, unknown>[][] = groups.map(() => []);
  let room = groups.length > 0 ? MAX_ITEMS_PER_TRANSACTION - size : 0;
  for (const item of puts) {
    if (room <= 0) {
      groups.push([]);
      rides.push([]);
      room = MAX_ITEMS_PER_TRANSACTION;
    }
    rides[rides.length - 1]!.push(item);
    room--;
  }
  for (const [i, g] of groups.entries()) await commit(g, rides[i]!, result);
  // Provider minute counts: one ADD per (provider, minute) for the links stored now, each link once.
  const counted = new Set<string>();
  const perMinute = new Map<string, { providerId: string; minute: number; n: number }>();
  for (const e of unique) {
    if (!e.link || result.duplicates.has(e.eventId) || counted.has(e.link.linkId)) continue;
    counted.add(e.link.linkId);
    const k = `${e.link.providerId}\u0000${e.link.minute}`;
    const cur = perMinute.get(k) ?? { providerId: e.link.providerId, minute: e.link.minute, n: 0 };
    cur.n++;
    perMinute.set(k, cur);
  }
  await Promise.all(
    [...perMinute.values()].map((p) =>
      db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: providerItemKey(p.providerId, p.minute),
          UpdateExpression: 'ADD #n :n SET #ttl = :ttl',
          ExpressionAttributeNames: { '#n': 'n', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':n': p.n, ':ttl': Math.floor((p.minute + 1) * 60) + KEEP_SECONDS },
        }),
      ),
    ),
  );
  return result;
}

/** What a bucket holds, read back. */
export interface BucketContent {
  /** Origins: per account, the times it was seen and its links. */
  accounts: Map<string, { times: number[]; links: string[] }>;
  /** Accounts: the links made, each with its time; the contact changes. */
  links: { linkId: string; at: number }[];
  contacts: number[];
  entries: number;
}

export const bucketId = (b: BucketKey) => keyString(bucketItemKey(b));
export const providerMinuteId = (providerId: string, minute: number) => keyString(providerItemKey(providerId, minute));

function parseBucket(item: Record<string, unknown>): BucketContent {
  const accounts = new Map<string, { times: number[]; links: string[] }>();
  const links: { linkId: string; at: number }[] = [];
  const entry = (a: string) => accounts.get(a) ?? accounts.set(a, { times: [], links: [] }).get(a)!;
  for (const [name, v] of Object.entries(item)) {
    if (name.startsWith('t:') && v instanceof Set) entry(name.slice(2)).times.push(...[...(v as Set<unknown>)].map(Number));
    else if (name.startsWith('l:') && v instanceof Set) entry(name.slice(2)).links.push(...[...(v as Set<unknown>)].map(String));
    else if (name.startsWith('k:')) links.push({ linkId: name.slice(2), at: Number(v) });
  }
  const contacts = item.c instanceof Set ? [...(item.c as Set<unknown>)].map(Number) : [];
  return { accounts, links, contacts, entries: Number(item.n ?? 0) };
}

export interface ReadKeys {
  buckets: BucketKey[];
  providerMinutes: { providerId: string; minute: number }[];
  /** Any other items the caller needs in the same read (pk/sk). */
  others: readonly { pk: string; sk: string }[];
}

export interface ReadResult {
  buckets: Map<string, BucketContent>;
  providerMinutes: Map<string, number>;
  others: Map<string, Record<string, unknown>>;
}

/** One strongly consistent BatchGetItem (per 100 keys, in parallel) for everything the batch's rules read. */
export async function readSightings(keys: ReadKeys): Promise<ReadResult> {
  const wanted = new Map<string, { pk: string; sk: string }>();
  for (const b of keys.buckets) wanted.set(bucketId(b), bucketItemKey(b));
  for (const p of keys.providerMinutes) wanted.set(providerMinuteId(p.providerId, p.minute), providerItemKey(p.providerId, p.minute));
  for (const o of keys.others) wanted.set(keyString(o), o);
  const found = new Map<string, Record<string, unknown>>();
  for (const item of await batchGetItems([...wanted.values()], { consistent: true })) found.set(keyString({ pk: String(item.pk), sk: String(item.sk) }), item);
  const buckets = new Map<string, BucketContent>();
  for (const b of keys.buckets) {
    const item = found.get(bucketId(b));
    if (!item) continue;
    const content = parseBucket(item);
    buckets.set(bucketId(b), content);
    if (b.dim !== 'account' && content.entries >= fraudConfig().FRAUD_BUCKET_CAP) knownFull.set(fullKey(bucketId(b)), ttlOf(b));
  }
  const providerMinutes = new Map<string, number>();
  for (const p of keys.providerMinutes) {
    const item = found.get(providerMinuteId(p.providerId, p.minute));
    if (item) providerMinutes.set(providerMinuteId(p.providerId, p.minute), Number(item.n ?? 0));
  }
  const others = new Map<string, Record<string, unknown>>();
  for (const o of keys.others) {
    const item = found.get(keyString(o));
    if (item) others.set(keyString(o), item);
  }
  return { buckets, providerMinutes, others };
}

export const itemId = keyString;
