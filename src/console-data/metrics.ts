/**
 * Time-bucketed counters for the operations console's overview: alerts sent by kind and
 * channel, freezes, revokes, confirmations, holds, undelivered alerts, unfreezes.
 *
 * Why counters and not a query over alerts and audit entries: the overview must answer in one
 * round of small queries whatever the volume (a campaign or an incident can produce millions of
 * alerts a day), and holds are decisions, not stored changes. Each event adds 1 to two items in
 * the single table:
 *   METRIC#M#{yyyy-mm-ddTHH}#{shard} / {mm}   per minute (the last-hour chart)
 *   METRIC#H#{yyyy-mm-dd}#{shard}    / {HH}   per hour (the day and week charts)
 * with one attribute per series, named `{kind}|{channel}`. The shard spreads a burst over
 * several partitions; reading queries every shard and adds up. Minute items expire after
 * 8 days, hour items after 400 days (TTL).
 *
 * Counting never fails the caller: a metric is worth less than the freeze that produced it.
 * When the caller passes a dedupe key (e.g. alert id + channel), a retried call counts once.
 */
import { QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName, isConditionFailure } from '../store/db.ts';
import { TTL_ATTRIBUTE } from '../store/table.ts';
import type { AlertingEvent } from '../../events/alerting.ts';

export const METRIC_KINDS = ['alert', 'freeze', 'revoke', 'confirm', 'hold', 'undelivered', 'unfreeze', 'contactFix'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

/**
 * The channel a counted event came through: EMAIL/SMS for alerts; WEB, SMS_REPLY, EMAIL_REPLY,
 * OPERATOR for customer and operator actions; API for the core bank's authorise calls.
 */
export type MetricChannel = string;

const SHARDS = 4;
const MINUTE_TTL_SECONDS = 8 * 86_400;
const HOUR_TTL_SECONDS = 400 * 86_400;
const DEDUPE_TTL_SECONDS = 8 * 86_400;
const NAME_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface CountOptions {
  /** Alert kind (e.g. LinkCreated) for `alert`: the series is `alert:LinkCreated|EMAIL`. */
  detail?: string;
  /** Makes the count idempotent: the same key counts once (kept 8 days). */
  dedupeKey?: string;
  /** How many to add (default 1). */
  by?: number;
}

export function seriesName(kind: MetricKind, channel: MetricChannel, detail?: string): string {
  return `${detail ? `${kind}:${detail}` : kind}|${channel}`;
}

function buckets(at: Date, shard: number) {
  const iso = at.toISOString();
  return {
    minute: { pk: `METRIC#M#${iso.slice(0, 13)}#${shard}`, sk: iso.slice(14, 16) },
    hour: { pk: `METRIC#H#${iso.slice(0, 10)}#${shard}`, sk: iso.slice(11, 13) },
  };
}

function increment(Key: Record<string, string>, series: string, by: number, ttl: number) {
  return {
    TableName: tableName(),
    Key,
    UpdateExpression: 'ADD #s :n SET #ttl = if_not_exists(#ttl, :ttl)',
    ExpressionAttributeNames: { '#s': series, '#ttl': TTL_ATTRIBUTE },
    ExpressionAttributeValues: { ':n': by, ':ttl': ttl },
  };
}

/** What one count did: added, already counted (dedupe key seen), or refused (bad name or time). */
export type CountOutcome = 'COUNTED' | 'DUPLICATE' | 'INVALID';

/**
 * Adds to the counters of `kind` on `channel` at time `at`. Returns false (and counts nothing)
 * on a duplicate dedupe key, an invalid name or a store error; never throws.
 */
export async function countEvent(kind: MetricKind, channel: MetricChannel, at: Date | string = new Date(), opts: CountOptions = {}): Promise<boolean> {
  try {
    return (await addCount(kind, channel, at, opts)) === 'COUNTED';
  } catch (e) {
    console.warn(JSON.stringify({ level: 'WARN', message: 'metric count failed', kind, error: (e as Error).name }));
    return false;
  }
}

/** countEvent that says why nothing was counted and throws on a store error (so the caller retries). */
async function addCount(kind: MetricKind, channel: MetricChannel, at: Date | string, opts: CountOptions): Promise<CountOutcome> {
  const when = typeof at === 'string' ? new Date(at) : at;
  if (!METRIC_KINDS.includes(kind) || !NAME_RE.test(channel) || (opts.detail !== undefined && !NAME_RE.test(opts.detail))) return 'INVALID';
  if (Number.isNaN(when.getTime())) return 'INVALID';
  const by = opts.by ?? 1;
  if (!Number.isInteger(by) || by < 1) return 'INVALID';
  const series = seriesName(kind, channel, opts.detail);
  const shard = Math.floor(Math.random() * SHARDS);
  const { minute, hour } = buckets(when, shard);
  const epoch = Math.floor(when.getTime() / 1000);
  const updates = [increment(minute, series, by, epoch + MINUTE_TTL_SECONDS), increment(hour, series, by, epoch + HOUR_TTL_SECONDS)];
  if (!opts.dedupeKey) {
    await Promise.all(updates.map((u) => db().send(new UpdateCommand(u))));
    return 'COUNTED';
  }
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName(),
              Item: { pk: `METRICSEEN#${opts.dedupeKey}`, sk: 'SEEN', [TTL_ATTRIBUTE]: epoch + DEDUPE_TTL_SECONDS },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ...updates.map((u) => ({ Update: u })),
        ],
      }),
    );
    return 'COUNTED';
  } catch (e) {
    if (isConditionFailure(e)) return 'DUPLICATE';
    throw e;
  }
}

/** Counts an outbound event: what partners are told is exactly what the overview shows. Never throws. */
export async function countAlertingEvent(e: AlertingEvent): Promise<boolean> {
  try {
    return (await countPublishedEvent(e)) === 'COUNTED';
  } catch (err) {
    console.warn(JSON.stringify({ level: 'WARN', message: 'metric count failed', detailType: e.detailType, error: (err as Error).name }));
    return false;
  }
}

/**
 * For the counter function (functions/counter): counts one published bank.alerting event once,
 * however often it is delivered or republished (the dedupe key names the change, not the
 * delivery). Throws on a store error, so the event comes back and is counted later.
 */
export function countPublishedEvent(e: AlertingEvent): Promise<CountOutcome> {
  // Cardless-app answers count with the link answers they stand beside on the overview.
  const type: string = e.detailType;
  if (type === 'AppDeactivated' || type === 'AppConfirmed') {
    const d = e.detail as unknown as { activationId: string; at: string; actor: string };
    return addCount(type === 'AppDeactivated' ? 'revoke' : 'confirm', actorChannel(d.actor), d.at, { dedupeKey: `${type}#${d.activationId}#${d.at}` });
  }
  switch (e.detailType) {
    case 'AlertSent':
      return addCount('alert', e.detail.channel, e.detail.sentAt, {
        detail: e.detail.sourceEventType,
        dedupeKey: `AlertSent#${e.detail.alertId}#${e.detail.channel}`,
      });
    case 'AccountFrozen':
      return addCount('freeze', actorChannel(e.detail.actor), e.detail.at, { dedupeKey: `AccountFrozen#${e.detail.accountId}#${e.detail.at}` });
    case 'AccountUnfrozen':
      return addCount('unfreeze', actorChannel(e.detail.actor), e.detail.at, { dedupeKey: `AccountUnfrozen#${e.detail.accountId}#${e.detail.at}` });
    case 'LinkRevoked':
      return addCount('revoke', actorChannel(e.detail.actor), e.detail.at, { dedupeKey: `LinkRevoked#${e.detail.linkId}#${e.detail.at}` });
    case 'LinkConfirmed':
      return addCount('confirm', actorChannel(e.detail.actor), e.detail.at, { dedupeKey: `LinkConfirmed#${e.detail.linkId}#${e.detail.at}` });
    case 'AlertUndelivered':
      return addCount('undelivered', 'ANY', e.detail.at, { dedupeKey: `AlertUndelivered#${e.detail.alertId}` });
    case 'ContactNeedsFixing':
      return addCount('contactFix', e.detail.channel, e.detail.at, { dedupeKey: `ContactNeedsFixing#${e.detail.customerId}#${e.detail.channel}#${e.detail.at}` });
    default:
      return Promise.resolve('INVALID');
  }
}

function actorChannel(actor: string): string {
  switch (actor) {
    case 'CUSTOMER_WEB':
      return 'WEB';
    case 'CUSTOMER_SMS_REPLY':
      return 'SMS_REPLY';
    case 'CUSTOMER_EMAIL_REPLY':
      return 'EMAIL_REPLY';
    default:
      return actor;
  }
}

export type MetricRange = 'hour' | 'day' | 'week';

export interface MetricSeries {
  range: MetricRange;
  /** Start of each bucket (ISO), oldest first. */
  buckets: string[];
  bucketSeconds: number;
  /** series name -> count per bucket (same length as buckets). */
  series: Record<string, number[]>;
  /** series name -> total over the range. */
  totals: Record<string, number>;
}

async function queryPartition(pk: string, fromSk: string, toSk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':pk': pk, ':a': fromSk, ':b': toSk },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * The counters over the last hour (60 one-minute buckets), day (24 hourly) or week (28 buckets
 * of 6 hours), ending with the bucket that holds `now`.
 */
export async function readMetrics(range: MetricRange, now: Date = new Date()): Promise<MetricSeries> {
  const minuteMs = 60_000;
  const hourMs = 3_600_000;
  const unit = range === 'hour' ? minuteMs : hourMs;
  const count = range === 'hour' ? 60 : range === 'day' ? 24 : 168;
  const end = Math.floor(now.getTime() / unit) * unit; // start of the current bucket
  const first = end - (count - 1) * unit;

  // Partitions to read: one per hour (minute items) or per day (hour items), times shards.
  const partitions: { pk: string; from: string; to: string; base: number }[] = [];
  const partUnit = range === 'hour' ? hourMs : 86_400_000;
  for (let p = Math.floor(first / partUnit) * partUnit; p <= end; p += partUnit) {
    const iso = new Date(p).toISOString();
    for (let s = 0; s < SHARDS; s++) {
      partitions.push(
        range === 'hour'
          ? { pk: `METRIC#M#${iso.slice(0, 13)}#${s}`, from: '00', to: '59', base: p }
          : { pk: `METRIC#H#${iso.slice(0, 10)}#${s}`, from: '00', to: '23', base: p },
      );
    }
  }
  const results = await Promise.all(partitions.map((p) => queryPartition(p.pk, p.from, p.to).then((items) => ({ p, items }))));

  const fine: Record<string, number[]> = {};
  for (const { p, items } of results) {
    for (const item of items) {
      const t = p.base + Number(item.sk) * unit;
      if (t < first || t > end) continue;
      const idx = (t - first) / unit;
      for (const [name, value] of Object.entries(item)) {
        if (!name.includes('|') || typeof value !== 'number') continue;
        (fine[name] ??= new Array<number>(count).fill(0))[idx]! += value;
      }
    }
  }

  // The week is drawn in 6-hour buckets: 28 bars stay readable on a narrow screen.
  const group = range === 'week' ? 6 : 1;
  const firstGroup = range === 'week' ? Math.floor(first / (6 * hourMs)) * 6 * hourMs : first;
  const groups = range === 'week' ? Math.floor((end - firstGroup) / (6 * hourMs)) + 1 : count;
  const bucketStarts = Array.from({ length: groups }, (_, i) => new Date(firstGroup + i * unit * group).toISOString());
  const series: Record<string, number[]> = {};
  const totals: Record<string, number> = {};
  for (const [name, values] of Object.entries(fine)) {
    const out = new Array<number>(groups).fill(0);
    values.forEach((v, i) => {
      const t = first + i * unit;
      out[Math.floor((t - firstGroup) / (unit * group))]! += v;
    });
    series[name] = out;
    totals[name] = values.reduce((a, b) => a + b, 0);
  }
  return { range, buckets: bucketStarts, bucketSeconds: (unit * group) / 1000, series, totals };
}
