/**
 * Campaign state in the single table (see src/store/table.ts):
 *   CAMPAIGN#{id}          / CAMPAIGN                 definition, state, version
 *   CAMPAIGN#{id}          / SHARD#{channel}#{seg}    planning segment: cursor, done, counters
 *   CAMPAIGN#{id}          / LEASE#{channel}          which worker sends this channel now
 *   CAMPAIGNS              / {createdAt}#{id}         list of campaigns for the console
 *   CAMPAIGN#{id}#L#{hh}   / R#{channel}#{accountId}  per-recipient ledger, 256 hashed partitions
 *   CAMPAIGN#{id}#L#{hh}   / S#{channel}#{accountId}  provider message ids from the send events (src/delivery/campaign-sends.ts)
 *   CAMPAIGN#{id}#A#{seg}  / {accountId}              supplied audience list, by segment
 *   CAMPAIGN#{id}#A#{seg}  / C#{customerId}           list entry of one customer: one recipient (its first account
 *                                                    added) whose message covers every account added for it
 * Counters live on the shard items and move in the same conditional write as the shard's cursor,
 * so a page is counted exactly once however often it is reprocessed.
 */
import {
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetItems, db, tableName, isConditionFailure, queryByPrefix } from '../store/db.ts';
import { key, TTL_ATTRIBUTE } from '../store/table.ts';
import type { AccountRecord, CustomerRecord, LinkRecord } from '../store/types.ts';
import { tokenExpiry, type TokenAction } from '../domain/tokens.ts';
import type { AudienceSpec, Campaign, CampaignState, Channel, Counters, LedgerEntry, LedgerStatus, Shard } from './types.ts';
import { CampaignError, counterNames, zeroCounters } from './types.ts';
import { LEDGER_PARTITIONS, ledgerKey, ledgerPartition, sendRecordKey } from './ledger-key.ts';

export { LEDGER_PARTITIONS, ledgerPartition } from './ledger-key.ts';

export const ckey = {
  campaign: (id: string) => ({ pk: `CAMPAIGN#${id}`, sk: 'CAMPAIGN' }),
  index: (createdAt: string, id: string) => ({ pk: 'CAMPAIGNS', sk: `${createdAt}#${id}` }),
  shard: (id: string, channel: Channel, segment: number) => ({ pk: `CAMPAIGN#${id}`, sk: `SHARD#${channel}#${String(segment).padStart(4, '0')}` }),
  lease: (id: string, channel: Channel) => ({ pk: `CAMPAIGN#${id}`, sk: `LEASE#${channel}` }),
  ledger: ledgerKey,
  sendRecord: sendRecordKey,
  listEntry: (id: string, segment: number, accountId: string) => ({ pk: `CAMPAIGN#${id}#A#${segment}`, sk: accountId }),
  /** `C#`: account ids never hold `#`, so a customer entry cannot collide with an account entry. */
  customerListEntry: (id: string, segment: number, customerId: string) => ({ pk: `CAMPAIGN#${id}#A#${segment}`, sk: `C#${customerId}` }),
};

export const listSegment = (accountId: string, segments: number) => ledgerPartition(accountId) % segments;

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

// ---------- campaigns ----------

export function shardCount(a: AudienceSpec): number {
  return a.kind === 'provider' ? 1 : a.segments;
}

export async function putNewCampaign(c: Campaign): Promise<void> {
  const channelsUsed = (Object.keys(c.rates) as Channel[]).filter((ch) => c.rates[ch] !== undefined);
  const shards = channelsUsed.flatMap((channel) =>
    Array.from({ length: shardCount(c.audience) }, (_, segment) => ({
      Put: {
        TableName: tableName(),
        Item: { ...ckey.shard(c.campaignId, channel, segment), channel, segment, totalSegments: shardCount(c.audience), done: false, ...zeroCounters(), version: 0 },
      },
    })),
  );
  const head: NonNullable<TransactWriteCommandInput['TransactItems']> = [
    { Put: { TableName: tableName(), Item: { ...ckey.campaign(c.campaignId), ...c }, ConditionExpression: 'attribute_not_exists(pk)' } },
    { Put: { TableName: tableName(), Item: { ...ckey.index(c.createdAt, c.campaignId), campaignId: c.campaignId } } },
  ];
  // The campaign item first, alone with the index item: shards (up to 2 x 1024) follow in chunks;
  // a campaign whose shards are missing cannot start (startCampaign checks).
  try {
    await db().send(new TransactWriteCommand({ TransactItems: head }));
  } catch (e) {
    if (isConditionFailure(e)) throw new CampaignError('CONFLICT', `campaign ${c.campaignId} already exists`);
    throw e;
  }
  for (let i = 0; i < shards.length; i += 25) {
    await batchWrite(shards.slice(i, i + 25).map((s) => ({ PutRequest: { Item: s.Put.Item } })));
  }
}

async function batchWrite(requests: { PutRequest: { Item: Record<string, unknown> } }[]): Promise<void> {
  let pending = requests;
  for (let attempt = 0; pending.length > 0; attempt++) {
    const out = await db().send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
    pending = (out.UnprocessedItems?.[tableName()] ?? []) as typeof pending;
    if (pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
  }
}

export async function getCampaign(id: string, consistent = true): Promise<Campaign | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: ckey.campaign(id), ConsistentRead: consistent }));
  return out.Item ? strip<Campaign>(out.Item) : undefined;
}

let controlClient: DynamoDBDocumentClient | undefined;
/**
 * The campaign's state for a running worker's once-per-500-ms check, on a client of its own:
 * never queued behind the worker's own bulk reads and writes, so pause and cancel are seen at once.
 */
export async function pollCampaignState(id: string): Promise<CampaignState | undefined> {
  controlClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 2 }));
  const out = await controlClient.send(
    new GetCommand({ TableName: tableName(), Key: ckey.campaign(id), ConsistentRead: true, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': 'state' } }),
  );
  return out.Item?.state as CampaignState | undefined;
}

export async function listCampaigns(limit = 50): Promise<Campaign[]> {
  const out = await db().send(
    new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'CAMPAIGNS' }, ScanIndexForward: false, Limit: limit }),
  );
  const ids = (out.Items ?? []).map((i) => String(i.campaignId));
  const found = await Promise.all(ids.map((id) => getCampaign(id, false)));
  return found.filter((c): c is Campaign => c !== undefined);
}

/** Moves a campaign between states; fails with CONFLICT (changing nothing) from any other state. */
export async function transitionCampaign(
  id: string,
  from: readonly CampaignState[],
  to: CampaignState,
  set: Partial<Pick<Campaign, 'startedAt' | 'finishedAt'>> & { bumpRun?: boolean } = {},
  now = new Date(),
): Promise<Campaign> {
  const names: Record<string, string> = { '#s': 'state' };
  const values: Record<string, unknown> = { ':to': to, ':u': now.toISOString(), ':one': 1 };
  from.forEach((f, i) => (values[`:f${i}`] = f));
  let expr = 'SET #s = :to, updatedAt = :u, version = version + :one';
  if (set.startedAt) {
    expr += ', startedAt = if_not_exists(startedAt, :st)';
    values[':st'] = set.startedAt;
  }
  if (set.finishedAt) {
    expr += ', finishedAt = :fin';
    values[':fin'] = set.finishedAt;
  }
  if (set.bumpRun) expr += ', runNumber = runNumber + :one';
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: ckey.campaign(id),
        UpdateExpression: expr,
        ConditionExpression: `attribute_exists(pk) AND #s IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return strip<Campaign>(out.Attributes!);
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
    const current = await getCampaign(id);
    if (!current) throw new CampaignError('NOT_FOUND', `no campaign ${id}`);
    throw new CampaignError('CONFLICT', `campaign ${id} is ${current.state}; cannot move it to ${to}`);
  }
}

export async function setCampaignFields(id: string, fields: Partial<Pick<Campaign, 'listSize' | 'audienceEstimate'>>): Promise<void> {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return;
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: ckey.campaign(id),
      UpdateExpression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: Object.fromEntries(entries.map(([k]) => [`#${k}`, k])),
      ExpressionAttributeValues: Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
    }),
  );
}

// ---------- shards and leases ----------

export async function listShards(id: string, channel?: Channel): Promise<(Shard & { sk: string })[]> {
  const out: (Shard & { sk: string })[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':p': `CAMPAIGN#${id}`, ':s': channel ? `SHARD#${channel}#` : 'SHARD#' },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    for (const i of page.Items ?? []) {
      const counters = zeroCounters();
      for (const n of counterNames) counters[n] = Number(i[n] ?? 0);
      out.push({
        sk: String(i.sk),
        channel: i.channel as Channel,
        segment: Number(i.segment),
        totalSegments: Number(i.totalSegments),
        ...(typeof i.cursor === 'string' ? { cursor: i.cursor } : {}),
        done: Boolean(i.done),
        counters,
        version: Number(i.version),
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/**
 * Advances a shard past the pages just finished and adds their counts, in one write conditional
 * on the version this worker last saw: a worker that lost its lease cannot move the cursor.
 */
export async function commitShard(
  id: string,
  shard: { channel: Channel; segment: number },
  expectVersion: number,
  next: { cursor: string | undefined; done: boolean; add: Counters },
): Promise<boolean> {
  const values: Record<string, unknown> = { ':v': expectVersion, ':one': 1, ':d': next.done };
  let set = 'SET version = version + :one, done = :d';
  if (next.cursor !== undefined) {
    set += ', #c = :c';
    values[':c'] = next.cursor;
  }
  const adds: string[] = [];
  for (const n of counterNames) {
    if (next.add[n] !== 0) {
      adds.push(`${n} :${n}`);
      values[`:${n}`] = next.add[n];
    }
  }
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: ckey.shard(id, shard.channel, shard.segment),
        UpdateExpression: `${set}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
        ConditionExpression: 'version = :v',
        ...(next.cursor !== undefined ? { ExpressionAttributeNames: { '#c': 'cursor' } } : {}),
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

/** Takes or renews the channel's lease; false while another live worker holds it. */
export async function acquireLease(id: string, channel: Channel, workerId: string, seconds: number, now = Date.now()): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: ckey.lease(id, channel),
        UpdateExpression: 'SET #o = :me, #u = :until',
        ConditionExpression: 'attribute_not_exists(#o) OR #o = :me OR #u < :now',
        ExpressionAttributeNames: { '#o': 'owner', '#u': 'until' },
        ExpressionAttributeValues: { ':me': workerId, ':until': now + seconds * 1000, ':now': now },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

export async function releaseLease(id: string, channel: Channel, workerId: string): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: ckey.lease(id, channel),
        UpdateExpression: 'REMOVE #o, #u',
        ConditionExpression: '#o = :me',
        ExpressionAttributeNames: { '#o': 'owner', '#u': 'until' },
        ExpressionAttributeValues: { ':me': workerId },
      }),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
}

// ---------- audience ----------

export interface AudienceEntry {
  /** The recipient's key in the ledger (and the account the message is about, unless frozen: see planRecipient). */
  accountId: string;
  customerId?: string;
  /** A customer list entry: the customer's other accounts the one message also covers. */
  alsoAccounts?: string[];
  /** Identifies the index entry, so that reprocessing the same page recognises its own claims. */
  origin: string;
}

export interface AudiencePage {
  entries: AudienceEntry[];
  next?: string;
}

/** One page of a shard: never the base table, only the sparse index or the campaign's own list. */
export async function readAudiencePage(c: Campaign, segment: number, cursor: string | undefined, limit: number): Promise<AudiencePage> {
  const start = cursor ? (JSON.parse(cursor) as Record<string, unknown>) : undefined;
  const a = c.audience;
  let out;
  if (a.kind === 'all') {
    out = await db().send(
      new ScanCommand({ TableName: tableName(), IndexName: 'Audience', Segment: segment, TotalSegments: a.segments, Limit: limit, ExclusiveStartKey: start }),
    );
  } else if (a.kind === 'provider') {
    out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'Audience',
        KeyConditionExpression: 'audiencePk = :p',
        ExpressionAttributeValues: { ':p': a.providerId },
        Limit: limit,
        ExclusiveStartKey: start,
      }),
    );
  } else {
    out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': `CAMPAIGN#${c.campaignId}#A#${segment}` },
        Limit: limit,
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
  }
  const entries = (out.Items ?? []).map((i): AudienceEntry =>
    a.kind === 'list'
      ? listAudienceEntry(i, segment)
      : { accountId: String(i.accountId), customerId: String(i.customerId), origin: `${String(i.audiencePk)}#${String(i.audienceSk)}` },
  );
  return { entries, ...(out.LastEvaluatedKey ? { next: JSON.stringify(out.LastEvaluatedKey) } : {}) };
}

/** An account entry of a list (sk = the account id) or a customer entry (sk = C#{customerId}, see addCustomerToList). */
function listAudienceEntry(i: Record<string, unknown>, segment: number): AudienceEntry {
  const origin = `list#${segment}`;
  if (typeof i.customerId !== 'string' || typeof i.accountId !== 'string') return { accountId: String(i.sk), origin };
  const accounts = i.accounts instanceof Set ? [...(i.accounts as Set<string>)] : [];
  const also = accounts.filter((a) => a !== i.accountId).sort();
  return { accountId: i.accountId, customerId: i.customerId, ...(also.length ? { alsoAccounts: also } : {}), origin };
}

/** True when the audience has no one at all (a start on it is refused). */
export async function audienceIsEmpty(c: Campaign): Promise<boolean> {
  if (c.audience.kind === 'list') return !c.listSize;
  const out =
    c.audience.kind === 'all'
      ? await db().send(new ScanCommand({ TableName: tableName(), IndexName: 'Audience', Limit: 1 }))
      : await db().send(
          new QueryCommand({
            TableName: tableName(),
            IndexName: 'Audience',
            KeyConditionExpression: 'audiencePk = :p',
            ExpressionAttributeValues: { ':p': c.audience.providerId },
            Limit: 1,
          }),
        );
  return (out.Items ?? []).length === 0;
}

/** Index entries in the audience (links, so an upper bound on recipients), counted in parallel. */
export async function countAudience(c: Campaign): Promise<number> {
  if (c.audience.kind === 'list') return c.listSize ?? 0;
  const segments = c.audience.kind === 'all' ? c.audience.segments : 1;
  const counts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let n = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const out =
          c.audience.kind === 'provider'
            ? await db().send(
                new QueryCommand({
                  TableName: tableName(),
                  IndexName: 'Audience',
                  KeyConditionExpression: 'audiencePk = :p',
                  ExpressionAttributeValues: { ':p': c.audience.providerId },
                  Select: 'COUNT',
                  ExclusiveStartKey: start,
                }),
              )
            : await db().send(
                new ScanCommand({ TableName: tableName(), IndexName: 'Audience', Segment: segment, TotalSegments: segments, Select: 'COUNT', ExclusiveStartKey: start }),
              );
        n += out.Count ?? 0;
        start = out.LastEvaluatedKey;
      } while (start);
      return n;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** Loads a supplied list of account ids into the campaign's audience partitions, streaming. */
export async function loadAudienceList(c: Campaign, accountIds: AsyncIterable<string> | Iterable<string>): Promise<number> {
  if (c.audience.kind !== 'list') throw new CampaignError('INVALID', 'this campaign does not take a list audience');
  const segments = c.audience.segments;
  let chunk: { PutRequest: { Item: Record<string, unknown> } }[] = [];
  const seen = new Set<string>();
  let n = 0;
  for await (const raw of accountIds) {
    const accountId = raw.trim();
    if (!accountId) continue;
    if (!/^[\w.:-]{1,64}$/.test(accountId)) throw new CampaignError('INVALID', `not an account id: line ${n + 1}`);
    // A chunk of BatchWriteItem must not name the same key twice; across chunks a repeat overwrites.
    if (seen.has(accountId)) continue;
    seen.add(accountId);
    chunk.push({ PutRequest: { Item: { ...ckey.listEntry(c.campaignId, listSegment(accountId, segments), accountId) } } });
    n++;
    if (chunk.length === 25) {
      await batchWrite(chunk);
      chunk = [];
      seen.clear();
    }
  }
  if (chunk.length) await batchWrite(chunk);
  return n;
}

/**
 * Adds one account of a customer to a list audience as that customer's entry: the first account
 * added for a customer becomes its recipient (its ledger key), every later one joins the entry's
 * `accounts`, so the customer gets one message per channel that covers all of them. Idempotent
 * (a repeat changes nothing), and only while the campaign is DRAFT (CampaignError CONFLICT
 * otherwise); `listSize` counts customers, moved in the same transaction as a new entry.
 * Returns true when the customer is new to the list.
 */
export async function addCustomerToList(c: Campaign, customerId: string, accountId: string): Promise<boolean> {
  if (c.audience.kind !== 'list') throw new CampaignError('INVALID', 'this campaign does not take a list audience');
  if (!/^[\w.:-]{1,64}$/.test(accountId) || !/^[\w.:-]{1,64}$/.test(customerId)) throw new CampaignError('INVALID', `not an account/customer id: ${accountId}/${customerId}`);
  const k = ckey.customerListEntry(c.campaignId, listSegment(customerId, c.audience.segments), customerId);
  const draft = { TableName: tableName(), Key: ckey.campaign(c.campaignId), ConditionExpression: '#s = :draft', ExpressionAttributeNames: { '#s': 'state' } };
  const attempt = async (items: NonNullable<TransactWriteCommandInput['TransactItems']>): Promise<'ok' | 'exists' | 'not-draft' | 'again'> => {
    try {
      await db().send(new TransactWriteCommand({ TransactItems: items }));
      return 'ok';
    } catch (e) {
      const reasons = (e as { name?: string; CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if ((e as { name?: string }).name !== 'TransactionCanceledException' || !reasons) throw e;
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'not-draft';
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'exists';
      if (reasons.some((r) => r.Code === 'TransactionConflict')) return 'again';
      throw e;
    }
  };
  for (let round = 0; round < 6; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
    const added = await attempt([
      { Put: { TableName: tableName(), Item: { ...k, customerId, accountId, accounts: new Set([accountId]) }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Update: { ...draft, UpdateExpression: 'SET listSize = if_not_exists(listSize, :zero) + :one', ExpressionAttributeValues: { ':draft': 'DRAFT', ':zero': 0, ':one': 1 } } },
    ]);
    if (added === 'ok') return true;
    if (added === 'not-draft') break;
    const joined = await attempt([
      { Update: { TableName: tableName(), Key: k, UpdateExpression: 'ADD accounts :a', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':a': new Set([accountId]) } } },
      { ConditionCheck: { ...draft, ExpressionAttributeValues: { ':draft': 'DRAFT' } } },
    ]);
    if (joined === 'ok') return false;
    if (joined === 'not-draft') break;
  }
  const now = await getCampaign(c.campaignId);
  throw new CampaignError('CONFLICT', `campaign ${c.campaignId} is ${now?.state ?? 'gone'}; its audience can change only while DRAFT`);
}

// ---------- recipients ----------

export interface ResolvedRecipient {
  accountId: string;
  account?: AccountRecord;
  customer?: CustomerRecord;
  /** The links of the account and of `otherAccounts`. */
  links: LinkRecord[];
  /** A customer list entry's other accounts (AudienceEntry.alsoAccounts) that were found. */
  otherAccounts?: AccountRecord[];
}

const batchGet = (keys: { pk: string; sk: string }[], consistent = false) => batchGetItems(keys, { consistent });

/**
 * The links of each account: one Query per account (its LINK# items), at most
 * CAMPAIGN_LINK_QUERY_CONCURRENCY in flight per process. (A PartiQL `pk IN [...]` SELECT would
 * make it ~7 calls per page in DynamoDB, but DynamoDB Local serves it as a table scan, 10x slower
 * than the 50 Queries: measured, see docs/campaigns.md.)
 */
export async function readLinks(accountIds: readonly string[]): Promise<Map<string, LinkRecord[]>> {
  const ids = [...new Set(accountIds)];
  const lists = await Promise.all(ids.map((a) => linkQueries.run(async () => (await queryByPrefix(key.account(a).pk, 'LINK#')).map((i) => strip<LinkRecord>(i)))));
  return new Map(ids.map((a, n) => [a, lists[n]!]));
}

/**
 * Caps the link queries in flight per process: a deep queue of them would delay everything else
 * the worker asks (the state poll above all) behind it, locally and on a busy connection pool.
 */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await f();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
const linkQueries = new Limiter(Number(process.env.CAMPAIGN_LINK_QUERY_CONCURRENCY ?? 32));

/** Account, customer and links of each entry: one BatchGet (two for list audiences) and the batched link reads. */
export async function resolveRecipients(entries: readonly AudienceEntry[]): Promise<ResolvedRecipient[]> {
  const accountIds = [...new Set(entries.flatMap((e) => [e.accountId, ...(e.alsoAccounts ?? [])]))];
  const accountKeys = accountIds.map((a) => key.account(a));
  const knownCustomers = entries.filter((e) => e.customerId).map((e) => e.customerId!);
  const first = await batchGet([...accountKeys, ...[...new Set(knownCustomers)].map((c) => key.customer(c))]);
  const accounts = new Map<string, AccountRecord>();
  const customers = new Map<string, CustomerRecord>();
  for (const i of first) {
    if (i.sk === 'ACCOUNT') accounts.set(String(i.accountId), strip<AccountRecord>(i));
    else if (i.sk === 'PROFILE') customers.set(String(i.customerId), strip<CustomerRecord>(i));
  }
  const missing = [...new Set([...accounts.values()].map((a) => a.customerId).filter((c) => !customers.has(c)))];
  if (missing.length) {
    for (const i of await batchGet(missing.map((c) => key.customer(c)))) customers.set(String(i.customerId), strip<CustomerRecord>(i));
  }
  const links = await readLinks(accountIds);
  return entries.map((e) => {
    const account = accounts.get(e.accountId);
    const customer = customers.get(account?.customerId ?? e.customerId ?? '');
    const others = (e.alsoAccounts ?? []).flatMap((a) => accounts.get(a) ?? []);
    return {
      accountId: e.accountId,
      ...(account ? { account } : {}),
      ...(customer ? { customer } : {}),
      links: [e.accountId, ...others.map((o) => o.accountId)].flatMap((a) => links.get(a) ?? []),
      ...(others.length ? { otherAccounts: others } : {}),
    };
  });
}

// ---------- ledger ----------

export interface Claim {
  entry: LedgerEntry;
  /** The token to store with the claim (hash only), when the claim is a send. */
  token?: { hash: string; grant: { accountId: string; customerId: string; alertId: string; actions: TokenAction[] }; ttlDays: number };
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: LedgerEntry };

/** Keep expired tokens a while so a late tap gets "expired" rather than "unknown" (as src/store/tokens.ts). */
const TOKEN_TTL_GRACE_SECONDS = 30 * 86_400;

function tokenPut(t: NonNullable<Claim['token']>, now: Date) {
  const expiresAt = tokenExpiry(now, t.ttlDays).toISOString();
  return {
    Put: {
      TableName: tableName(),
      Item: {
        ...key.token(t.hash),
        tokenHash: t.hash,
        ...t.grant,
        issuedAt: now.toISOString(),
        expiresAt,
        used: {},
        [TTL_ATTRIBUTE]: Math.floor(Date.parse(expiresAt) / 1000) + TOKEN_TTL_GRACE_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

export { newToken } from './token-source.ts';

function ledgerItem(e: LedgerEntry) {
  return { ...ckey.ledger(e.campaignId, e.channel, e.accountId), ...e };
}

/**
 * Claims recipients in one transaction with their tokens: each ledger entry only if none exists.
 * Entries that already exist come back with what is there (another link of the same account, or
 * this shard's own earlier attempt); the rest are claimed together.
 */
export async function claimRecipients(claims: readonly Claim[], now = new Date()): Promise<ClaimResult[]> {
  const results: (ClaimResult | undefined)[] = claims.map(() => undefined);
  let pending = claims.map((c, i) => ({ c, i }));
  for (let round = 0; pending.length > 0; round++) {
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    const owner: number[] = [];
    for (const { c, i } of pending) {
      items.push({
        Put: { TableName: tableName(), Item: ledgerItem(c.entry), ConditionExpression: 'attribute_not_exists(pk)' },
      });
      owner.push(i);
      if (c.token) {
        items.push(tokenPut(c.token, now));
        owner.push(-1);
      }
    }
    try {
      await db().send(new TransactWriteCommand({ TransactItems: items }));
      for (const { i } of pending) results[i] = { claimed: true };
      pending = [];
    } catch (e) {
      const reasons = (e as { name?: string; CancellationReasons?: { Code?: string }[] }).CancellationReasons;
      if ((e as { name?: string }).name !== 'TransactionCanceledException' || !reasons || round > 5) throw e;
      const conflicted = new Set<number>();
      reasons.forEach((r, n) => {
        const i = owner[n]!;
        if (r.Code === 'ConditionalCheckFailed' && i >= 0) conflicted.add(i);
      });
      const retryable = reasons.some((r) => r.Code && r.Code !== 'None' && r.Code !== 'ConditionalCheckFailed');
      if (conflicted.size === 0 && !retryable) throw e;
      // What is there (read back: the items in CancellationReasons come unconverted from the wire).
      const keys = [...conflicted].map((i) => ckey.ledger(claims[i]!.entry.campaignId, claims[i]!.entry.channel, claims[i]!.entry.accountId));
      const found = new Map<string, LedgerEntry>();
      for (const item of await batchGet(keys, true)) found.set(`${String(item.pk)}|${String(item.sk)}`, strip<LedgerEntry>(item));
      for (const i of conflicted) {
        const k = ckey.ledger(claims[i]!.entry.campaignId, claims[i]!.entry.channel, claims[i]!.entry.accountId);
        const existing = found.get(`${k.pk}|${k.sk}`);
        if (existing) results[i] = { claimed: false, existing };
        else conflicted.delete(i);
      }
      pending = pending.filter(({ i }) => !conflicted.has(i));
      if (retryable) await new Promise((r) => setTimeout(r, 20 * 2 ** round));
    }
  }
  return results.map((r) => r!);
}

/** Starts a new attempt on this shard's own entry (after a crash or a known-unsent stop). */
export async function reattempt(existing: LedgerEntry, attempt: string, token: NonNullable<Claim['token']>, now = new Date()): Promise<boolean> {
  const k = ckey.ledger(existing.campaignId, existing.channel, existing.accountId);
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName(),
              Key: k,
              UpdateExpression: 'SET #s = :s, attempt = :a, tokenHash = :h, updatedAt = :u',
              ConditionExpression: existing.attempt ? 'attempt = :old' : 'attribute_not_exists(attempt)',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: {
                ':s': 'SENDING',
                ':a': attempt,
                ':h': token.hash,
                ':u': now.toISOString(),
                ...(existing.attempt ? { ':old': existing.attempt } : {}),
              },
            },
          },
          tokenPut(token, now),
        ],
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

export interface Outcome {
  campaignId: string;
  channel: Channel;
  accountId: string;
  attempt: string;
  status: Extract<LedgerStatus, 'SENT' | 'FAILED' | 'UNSENT' | 'IN_DOUBT' | 'SKIPPED' | 'SUPPRESSED'>;
  messageId?: string;
  reason?: string;
}

/** Records what happened to an attempt: conditional on the attempt, so a stale worker cannot overwrite. */
export async function recordOutcomes(outcomes: readonly Outcome[], now = new Date()): Promise<void> {
  for (let i = 0; i < outcomes.length; i += 100) {
    const chunk = outcomes.slice(i, i + 100);
    await db().send(
      new TransactWriteCommand({
        TransactItems: chunk.map((o) => ({
          Update: {
            TableName: tableName(),
            Key: ckey.ledger(o.campaignId, o.channel, o.accountId),
            UpdateExpression: `SET #s = :s, updatedAt = :u${o.messageId ? ', messageId = :m, sentAt = :u' : ''}${o.reason ? ', reason = :r' : ''}`,
            ConditionExpression: 'attempt = :a',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: {
              ':s': o.status,
              ':u': now.toISOString(),
              ':a': o.attempt,
              ...(o.messageId ? { ':m': o.messageId } : {}),
              ...(o.reason ? { ':r': o.reason } : {}),
            },
          },
        })),
      }),
    );
  }
}

/** Every ledger entry of a campaign, partition by partition (verification and reports). */
export async function* ledgerEntries(id: string): AsyncGenerator<LedgerEntry> {
  for (let p = 0; p < LEDGER_PARTITIONS; p++) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await db().send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :r)',
          ExpressionAttributeValues: { ':p': `CAMPAIGN#${id}#L#${p.toString(16).padStart(2, '0')}`, ':r': 'R#' },
          ExclusiveStartKey: start,
        }),
      );
      for (const i of out.Items ?? []) yield strip<LedgerEntry>(i);
      start = out.LastEvaluatedKey;
    } while (start);
  }
}

export async function getLedgerEntry(id: string, channel: Channel, accountId: string): Promise<LedgerEntry | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: ckey.ledger(id, channel, accountId), ConsistentRead: true }));
  return out.Item ? strip<LedgerEntry>(out.Item) : undefined;
}


/**
 * What the providers' send events recorded for these recipients (src/delivery/campaign-sends.ts):
 * account id -> the provider message ids seen. One strongly consistent BatchGet per 100.
 */
export async function sendRecords(id: string, channel: Channel, accountIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (accountIds.length === 0) return out;
  for (const item of await batchGet(accountIds.map((a) => ckey.sendRecord(id, channel, a)), true)) {
    const ids = item.messageIds instanceof Set ? [...(item.messageIds as Set<string>)] : Array.isArray(item.messageIds) ? (item.messageIds as string[]) : [];
    if (ids.length > 0) out.set(String(item.accountId), ids.sort());
  }
  return out;
}

/** Every send record of a campaign (verification and reports): account id and message ids, per channel. */
export async function* sendRecordEntries(id: string): AsyncGenerator<{ channel: Channel; accountId: string; messageIds: string[] }> {
  for (let p = 0; p < LEDGER_PARTITIONS; p++) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await db().send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':p': `CAMPAIGN#${id}#L#${p.toString(16).padStart(2, '0')}`, ':s': 'S#' },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const i of out.Items ?? []) {
        const ids = i.messageIds instanceof Set ? [...(i.messageIds as Set<string>)] : [];
        yield { channel: i.channel as Channel, accountId: String(i.accountId), messageIds: ids.sort() };
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
}
