/**
 * The detection counters in DynamoDB, written and read once per batch of events rather than per
 * event, so detection stays cheap beside the alert path (bench/fraud.ts):
 *
 *   FRAUDB#{dim}#{key} / B{len}#{bucket}   what was seen under an origin (dim ip | device) or on an
 *                                           account (dim account, the contact-then-link rule) in one
 *                                           bucket of `len` minutes (the rule's window): per account
 *                                           a number set of times `t:{account}` and a string set of
 *                                           links `l:{account}`; contact changes `c`; `n` entries
 *   FRAUDP#{providerId} / M#{minute}        links created through the provider that minute (`n`)
 *   FRAUDSEEN#{eventId} / SEEN              the event was counted (so `n` above counts it once)
 *
 * One batch = one TransactWriteItems per (at most) 100 items: each link event's marker (conditional:
 * not seen yet) and the set additions of every bucket it touches, merged per item. Set additions
 * are idempotent, so a duplicate or retried event changes no set; its marker tells us not to add
 * its links to the provider's minute count again. Then one BatchGetItem (strongly consistent) reads
 * every bucket the batch's rules look at. Each event is stored before it is checked, so whichever
 * batch stores the last event of a crossing window sees all of it.
 *
 * A bucket is capped at FRAUD_BUCKET_CAP entries (an item is at most 400 KB): a key that floods its
 * bucket is reported as saturated and the rule treats it as firing, so flooding cannot blind it.
 * Everything expires (TTL) a few hours after the rules stop looking at it.
 */
import { BatchGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../../store/db.ts';
import { TTL_ATTRIBUTE } from '../../store/table.ts';
import { fraudConfig } from '../config.ts';

export type BucketDim = 'ip' | 'device' | 'account';
const KEEP_SECONDS = 3 * 3600;
const SEEN_KEEP_SECONDS = 2 * 86_400;
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
const seenKey = (eventId: string) => ({ pk: `FRAUDSEEN#${eventId}`, sk: 'SEEN' });
const keyString = (k: { pk: string; sk: string }) => `${k.pk}\u0000${k.sk}`;

/** One thing an event adds to a bucket: an account seen at a time (with its link), or a contact change. */
export type BucketEntry = { kind: 'ACCOUNT'; account: string; at: number; linkId?: string | undefined } | { kind: 'CONTACT'; at: number };

export interface EventWrites {
  eventId: string;
  entries: { bucket: BucketKey; entry: BucketEntry }[];
  /** Links this event adds to a provider's minute count (once, guarded by the event's marker). */
  providerLinks?: { providerId: string; minute: number } | undefined;
}

export interface WriteResult {
  /** Events already counted by an earlier delivery (their marker existed). */
  duplicates: Set<string>;
  /** Buckets at their cap: entries not added; the rule treats the key as firing. */
  saturated: Set<string>;
}

interface ItemUpdate {
  key: { pk: string; sk: string };
  times: Map<string, Set<number>>;
  links: Map<string, Set<string>>;
  contacts: Set<number>;
  entries: number;
  ttl: number;
}

function mergeUpdates(events: readonly EventWrites[]): Map<string, ItemUpdate> {
  const out = new Map<string, ItemUpdate>();
  for (const e of events) {
    for (const { bucket, entry } of e.entries) {
      const k = bucketItemKey(bucket);
      const id = keyString(k);
      const ttl = Math.floor(((bucket.bucket + 1) * bucket.len * 60_000) / 1000) + KEEP_SECONDS;
      const u = out.get(id) ?? { key: k, times: new Map(), links: new Map(), contacts: new Set(), entries: 0, ttl };
      if (entry.kind === 'CONTACT') u.contacts.add(entry.at);
      else {
        u.times.set(entry.account, (u.times.get(entry.account) ?? new Set()).add(entry.at));
        if (entry.linkId) u.links.set(entry.account, (u.links.get(entry.account) ?? new Set()).add(entry.linkId));
      }
      u.entries++;
      u.ttl = Math.max(u.ttl, ttl);
      out.set(id, u);
    }
  }
  return out;
}

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

function updateItem(u: ItemUpdate): TransactItem {
  const names: Record<string, string> = { '#n': 'n', '#ttl': TTL_ATTRIBUTE };
  const values: Record<string, unknown> = { ':n': u.entries, ':ttl': u.ttl, ':cap': fraudConfig().FRAUD_BUCKET_CAP };
  const adds = ['#n :n'];
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
  if (u.contacts.size > 0) {
    names['#c'] = 'c';
    values[':c'] = u.contacts;
    adds.push('#c :c');
  }
  return {
    Update: {
      TableName: tableName(),
      Key: u.key,
      UpdateExpression: `ADD ${adds.join(', ')} SET #ttl = :ttl`,
      ConditionExpression: 'attribute_not_exists(#n) OR #n < :cap',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One transaction for a group of events: each event's marker and the merged set additions. A
 * failed marker means the event was stored before (marker and additions commit together), so the
 * group is retried without it; a failed cap means the bucket is full, retried without that bucket.
 */
async function commit(group: readonly EventWrites[], puts: readonly Record<string, unknown>[], result: WriteResult, ttlSeen: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const events = group.filter((e) => !result.duplicates.has(e.eventId));
    if (events.length === 0 && puts.length === 0) return;
    // Only events that add to a provider's count need a marker: set additions are idempotent by themselves.
    const marked = events.filter((e) => e.providerLinks);
    const markers: TransactItem[] = marked.map((e) => ({
      Put: { TableName: tableName(), Item: { ...seenKey(e.eventId), [TTL_ATTRIBUTE]: ttlSeen }, ConditionExpression: 'attribute_not_exists(pk)' },
    }));
    const buckets = [...mergeUpdates(events)].filter(([id]) => !result.saturated.has(id));
    try {
      const items = [...markers, ...buckets.map(([, u]) => updateItem(u)), ...puts.map((Item) => ({ Put: { TableName: tableName(), Item } }))];
      await db().send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (e) {
      const err = e as { name?: string; CancellationReasons?: { Code?: string }[] };
      if (err.name !== 'TransactionCanceledException' && err.name !== 'TransactionConflictException') throw e;
      const reasons = err.CancellationReasons ?? [];
      let conditions = 0;
      reasons.forEach((r, i) => {
        if (r.Code !== 'ConditionalCheckFailed') return;
        conditions++;
        if (i < marked.length) result.duplicates.add(marked[i]!.eventId);
        else if (i < marked.length + buckets.length) result.saturated.add(buckets[i - marked.length]![0]);
      });
      if (conditions > 0) continue;
      // Another batch held one of the items (a busy origin under attack): back off and retry.
      if (attempt >= 8) throw e;
      await sleep(10 * 2 ** Math.min(attempt, 5) * (0.5 + Math.random()));
    }
  }
}

/**
 * Stores what a batch of events saw, once per event. Returns the events that were counted before
 * and the buckets that are full. The provider minute counts are added after the commit, for the
 * events counted now only (a crash in between under-counts that batch: the rate rule compares
 * against a baseline, so a missed batch makes it fire later, never wrongly).
 */
export async function storeSightings(events: readonly EventWrites[], puts: readonly Record<string, unknown>[] = []): Promise<WriteResult> {
  const result: WriteResult = { duplicates: new Set(), saturated: new Set() };
  const unique = [...new Map(events.filter((e) => e.entries.length > 0 || e.providerLinks).map((e) => [e.eventId, e])).values()];
  // Transactions of at most 100 items; each event's marker and its buckets' additions in the same one.
  const groups: EventWrites[][] = [];
  let group: EventWrites[] = [];
  let size = 0;
  for (const e of unique) {
    const cost = (e.providerLinks ? 1 : 0) + e.entries.length;
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
  const ttlSeen = Math.floor(Date.now() / 1000) + SEEN_KEEP_SECONDS;
  for (const [i, g] of groups.entries()) await commit(g, rides[i]!, result, ttlSeen);
  // Provider minute counts: one ADD per (provider, minute) for the newly counted links.
  const perMinute = new Map<string, { providerId: string; minute: number; n: number }>();
  for (const e of unique) {
    if (!e.providerLinks || result.duplicates.has(e.eventId)) continue;
    const k = `${e.providerLinks.providerId}\u0000${e.providerLinks.minute}`;
    const cur = perMinute.get(k) ?? { ...e.providerLinks, n: 0 };
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
  /** Per account: the times it was seen and its links. */
  accounts: Map<string, { times: number[]; links: string[] }>;
  contacts: number[];
  entries: number;
}

export const bucketId = (b: BucketKey) => keyString(bucketItemKey(b));
export const providerMinuteId = (providerId: string, minute: number) => keyString(providerItemKey(providerId, minute));

function parseBucket(item: Record<string, unknown>): BucketContent {
  const accounts = new Map<string, { times: number[]; links: string[] }>();
  const entry = (a: string) => accounts.get(a) ?? accounts.set(a, { times: [], links: [] }).get(a)!;
  for (const [name, v] of Object.entries(item)) {
    if (name.startsWith('t:') && v instanceof Set) entry(name.slice(2)).times.push(...[...(v as Set<unknown>)].map(Number));
    else if (name.startsWith('l:') && v instanceof Set) entry(name.slice(2)).links.push(...[...(v as Set<unknown>)].map(String));
  }
  const contacts = item.c instanceof Set ? [...(item.c as Set<unknown>)].map(Number) : [];
  return { accounts, contacts, entries: Number(item.n ?? 0) };
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
  const all = [...wanted.values()];
  const chunks: { pk: string; sk: string }[][] = [];
  for (let i = 0; i < all.length; i += 100) chunks.push(all.slice(i, i + 100));
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending: Record<string, unknown>[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(10 * 2 ** Math.min(attempt, 5));
        if (attempt > 10) throw new Error('BatchGetItem kept returning unprocessed keys');
        const out = await db().send(new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of out.Responses?.[tableName()] ?? []) found.set(keyString({ pk: String(item.pk), sk: String(item.sk) }), item);
        pending = (out.UnprocessedKeys?.[tableName()]?.Keys ?? []) as Record<string, unknown>[];
      }
    }),
  );
  const buckets = new Map<string, BucketContent>();
  for (const b of keys.buckets) {
    const item = found.get(bucketId(b));
    if (item) buckets.set(bucketId(b), parseBucket(item));
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
