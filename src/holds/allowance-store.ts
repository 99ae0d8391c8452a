/**
 * The allowance and the app holds in DynamoDB: attributes `allowance` and `apps` of the account
 * item (ACCT#{accountId} / ACCOUNT). Why there: a decision already reads the account item
 * (strongly consistent) for the freeze, so the allowance costs no extra read, and the check and
 * the reservation are ONE conditional UpdateItem on it ("spent <= limit - amount AND this
 * request not yet counted AND the account ACTIVE AND the period as read"). The alternative, a
 * reservation item per debit in a transaction with a counter, is also one write request but two
 * items (twice the write units, and a transaction's latency) on the hot path; the bound on the
 * map's size is in src/domain/allowance.ts.
 *
 * These writes never touch the account's `state` or `version`, so a freeze's condition ("state
 * and version as read") is not disturbed by concurrent reservations; DynamoDB rejects a plain
 * UpdateItem that collides with a running transaction (TransactionConflict), which we treat as
 * a lost race: read again, decide again.
 *
 * DynamoDB only: the authorize function loads this, and nothing here publishes.
 */
import { randomUUID } from 'node:crypto';
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AppActivated, WithdrawalPosted } from '../../events/core.ts';
import { db, isConditionFailure, tableName } from '../store/db.ts';
import { key } from '../store/table.ts';
import { getAccount } from '../store/customers.ts';
import { getLink } from '../store/links.ts';
import type { AccountRecord, LinkRecord } from '../store/types.ts';
import {
  MAX_ALLOWANCE_ENTRIES,
  appHoldsToPrune,
  planHoldOpening,
  planPosting,
  planRelease,
  postingKey,
  reservationKey,
  type AllowanceEntry,
  type AllowancePolicy,
  type AllowanceWrite,
  type AppHold,
  type ReleaseOutcome,
} from '../domain/allowance.ts';
import { assessDebit } from '../domain/authorize.ts';

/** A conditional write lost to a concurrent one (or to a running transaction on the item). */
export function lostRace(e: unknown): boolean {
  if (isConditionFailure(e)) return true;
  const err = e as { name?: string; CancellationReasons?: { Code?: string }[] };
  return err?.name === 'TransactionConflictException' || (err?.name === 'TransactionCanceledException' && (err.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict'));
}

const MAX_ATTEMPTS = 6;

const NAMES = { '#al': 'allowance', '#u': 'until', '#sp': 'spent', '#en': 'entries', '#s': 'state' } as const;

/**
 * The account item (with its allowance and app holds) and the named link, strongly consistent.
 * Both in one BatchGetItem: one request, so a debit through a link costs one read request and
 * one write, like the floor it is measured against (a GetItem and an UpdateItem).
 */
export async function readDebitState(accountId: string, linkId: string | undefined): Promise<{ account: AccountRecord | undefined; link: LinkRecord | undefined }> {
  if (linkId === undefined) return { account: await getAccount(accountId, true), link: undefined };
  const table = tableName();
  const accountKey = key.account(accountId);
  const linkKey = key.link(accountId, linkId);
  const out = await db().send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [accountKey, linkKey], ConsistentRead: true } } }));
  if ((out.UnprocessedKeys?.[table]?.Keys ?? []).length > 0) {
    // Throttled in part: read both again one by one (still strongly consistent).
    const [account, link] = await Promise.all([getAccount(accountId, true), getLink(accountId, linkId, true)]);
    return { account, link };
  }
  const items = out.Responses?.[table] ?? [];
  const find = (k: { pk: string; sk: string }) => items.find((i) => i.pk === k.pk && i.sk === k.sk);
  return { account: withoutKeys<AccountRecord>(find(accountKey)), link: withoutKeys<LinkRecord>(find(linkKey)) };
}

/** The record without its key and index attributes, as getAccount / getLink return it. */
function withoutKeys<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, phoneKey: _p, emailKey: _e, audiencePk: _a, audienceSk: _s, ttl: _t, ...rest } = item;
  return rest as T;
}

interface WriteParts {
  set: string[];
  conditions: string[];
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/**
 * The allowance part of an update: a fresh period holding `entryKey`, or an addition to the
 * running one (conditioned on the period read, and on `maxSpentBefore` when given).
 */
function allowanceParts(write: AllowanceWrite, add: number, entryKey: string | undefined, entry: AllowanceEntry | undefined, maxSpentBefore: number | undefined): WriteParts {
  const names: Record<string, string> = { '#al': NAMES['#al'], '#u': NAMES['#u'], '#sp': NAMES['#sp'], '#en': NAMES['#en'] };
  const values: Record<string, unknown> = {};
  if (write.kind === 'FRESH') {
    values[':fresh'] = { until: write.until, spent: add, entries: entryKey && entry ? { [entryKey]: entry } : {} };
    const conditions = [write.readUntil === undefined ? 'attribute_not_exists(#al)' : '#al.#u = :readUntil'];
    if (write.readUntil !== undefined) values[':readUntil'] = write.readUntil;
    return { set: ['#al = :fresh'], conditions, names, values };
  }
  values[':readUntil'] = write.readUntil;
  values[':add'] = add;
  const set = ['#al.#sp = #al.#sp + :add'];
  const conditions = ['#al.#u = :readUntil'];
  if (write.until !== write.readUntil) {
    set.push('#al.#u = :until');
    values[':until'] = write.until;
  }
  if (entryKey && entry) {
    names['#k'] = entryKey;
    values[':entry'] = entry;
    set.push('#al.#en.#k = :entry');
    conditions.push('attribute_not_exists(#al.#en.#k)');
  }
  if (maxSpentBefore !== undefined) {
    values[':max'] = maxSpentBefore;
    values[':cap'] = MAX_ALLOWANCE_ENTRIES;
    conditions.push('#al.#sp <= :max', 'size(#al.#en) < :cap');
  }
  return { set, conditions, names, values };
}

/** DynamoDB refuses names and values an expression does not use: keep only those it does. */
function used<T>(all: Record<string, T>, text: string): Record<string, T> | undefined {
  const out = Object.fromEntries(Object.entries(all).filter(([k]) => new RegExp(`${k}(?![A-Za-z0-9_])`).test(text)));
  return Object.keys(out).length ? out : undefined;
}

async function update(accountId: string, p: WriteParts, remove: string[] = []): Promise<boolean> {
  const UpdateExpression = `SET ${p.set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`;
  const ConditionExpression = ['attribute_exists(pk)', ...p.conditions].join(' AND ');
  const text = `${UpdateExpression} ${ConditionExpression}`;
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.account(accountId),
        UpdateExpression,
        ConditionExpression,
        ExpressionAttributeNames: used(p.names, text),
        ExpressionAttributeValues: used(p.values, text),
      }),
    );
    return true;
  } catch (e) {
    if (lostRace(e)) return false;
    throw e;
  }
}

/**
 * The check and the reservation, one conditional UpdateItem: only while the account is ACTIVE,
 * the period is the one read, this entry is not counted yet, and the amount still fits.
 * False: a concurrent change won; the caller reads again and decides again.
 */
export async function reserveAllowance(
  accountId: string,
  write: AllowanceWrite,
  entryKey: string,
  entry: AllowanceEntry,
  policy: AllowancePolicy,
): Promise<boolean> {
  const p = allowanceParts(write, entry.amount, entryKey, entry, write.kind === 'ADD' ? policy.limitMinor - entry.amount : undefined);
  p.names['#s'] = 'state';
  p.values[':active'] = 'ACTIVE';
  p.conditions.push('#s = :active');
  return update(accountId, p);
}

/** The key of a reservation: the core's requestId, or a one-off key when it sent none. */
export const entryKeyFor = (requestId: string | undefined) => (requestId ? reservationKey(requestId) : `A#${randomUUID()}`);

/**
 * POST /v1/authorize/release: gives a reservation back, once. Never below zero (the condition
 * says so too), never one whose debit was posted, and an unknown requestId changes nothing.
 */
export async function releaseReservation(accountId: string, requestId: string, now = new Date()): Promise<(ReleaseOutcome & { account: AccountRecord }) | { kind: 'UNKNOWN_ACCOUNT' }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const account = await getAccount(accountId, true);
    if (!account) return { kind: 'UNKNOWN_ACCOUNT' };
    const outcome = planRelease(account.allowance, requestId, now);
    if (outcome.kind !== 'RELEASE') return { ...outcome, account };
    const ok = await update(accountId, {
      set: ['#al.#sp = #al.#sp - :a', '#al.#en.#k.#st = :released', '#al.#en.#k.releasedAt = :at'],
      conditions: ['#al.#u = :readUntil', '#al.#en.#k.#st = :reserved', '#al.#sp >= :a'],
      names: { '#al': 'allowance', '#u': 'until', '#sp': 'spent', '#en': 'entries', '#k': reservationKey(requestId), '#st': 'status' },
      values: { ':a': outcome.amount, ':released': 'RELEASED', ':reserved': 'RESERVED', ':at': now.toISOString(), ':readUntil': account.allowance!.until },
    });
    if (ok) return { ...outcome, account: { ...account, allowance: { ...account.allowance!, spent: account.allowance!.spent - outcome.amount } } };
  }
  throw new Error('allowance release: too many concurrent changes');
}

/**
 * A link or app hold starts: open the account's hold period or extend it to the hold's end, so
 * that the allowance spans every pending hold (a new link cannot bring a fresh allowance while
 * the period runs). Idempotent: an end already reached or passed changes nothing.
 */
export async function openHoldPeriod(accountId: string, holdUntil: string, now = new Date()): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const account = await getAccount(accountId, true);
    if (!account) return;
    const write = planHoldOpening(account.allowance, holdUntil, now);
    if (!write) return;
    if (await update(accountId, allowanceParts(write, 0, undefined, undefined, undefined))) return;
  }
  throw new Error('hold period: too many concurrent changes');
}

/**
 * AppActivated: a PENDING app hold for the window, and the allowance period opened or extended,
 * in one conditional write on the account item. The same activation seen again changes nothing
 * (and never reopens a hold the customer deactivated or confirmed). Returns false when the
 * account is unknown or the activation was already recorded.
 */
export async function openAppHold(a: AppActivated, holdUntil: string, now = new Date()): Promise<boolean> {
  const hold: AppHold = {
    activationId: a.eventId,
    appId: a.appId,
    appName: a.appName,
    ...(a.deviceName ? { deviceName: a.deviceName } : {}),
    ...(a.linkId ? { linkId: a.linkId } : {}),
    state: 'PENDING',
    activatedAt: a.occurredAt,
    holdUntil,
    updatedAt: now.toISOString(),
  };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const account = await getAccount(a.accountId, true);
    if (!account) return false;
    if (account.apps?.[hold.activationId]) return false;
    const p: WriteParts = { set: [], conditions: [], names: { '#apps': 'apps' }, values: {} };
    const prune = appHoldsToPrune(account.apps, now);
    const remove: string[] = [];
    if (!account.apps) {
      p.set.push('#apps = :apps');
      p.conditions.push('attribute_not_exists(#apps)');
      p.values[':apps'] = { [hold.activationId]: hold };
    } else {
      p.names['#h'] = hold.activationId;
      p.values[':hold'] = hold;
      p.set.push('#apps.#h = :hold');
      p.conditions.push('attribute_exists(#apps)', 'attribute_not_exists(#apps.#h)');
      prune.forEach((id, i) => {
        p.names[`#p${i}`] = id;
        remove.push(`#apps.#p${i}`);
      });
    }
    const write = planHoldOpening(account.allowance, holdUntil, now);
    if (write) {
      const w = allowanceParts(write, 0, undefined, undefined, undefined);
      p.set.push(...w.set);
      p.conditions.push(...w.conditions);
      Object.assign(p.names, w.names);
      Object.assign(p.values, w.values);
    }
    if (await update(a.accountId, p, remove)) return true;
  }
  throw new Error('app hold: too many concurrent changes');
}

export type PostingOutcome = 'NOT_THROUGH_A_HOLD' | 'ALREADY_COUNTED' | 'RESERVATION_POSTED' | 'COUNTED' | 'UNKNOWN_ACCOUNT';

/**
 * WithdrawalPosted: money left through a pending link or app. If the core reserved it (the event
 * carries the authorise `requestId` of a reservation), the reservation is marked POSTED (no
 * longer releasable) and nothing is counted again; otherwise the amount is counted now, keyed by
 * the withdrawal id so a redelivered event counts once. The next authorisation sees it.
 */
export async function recordPostedWithdrawal(w: WithdrawalPosted, policy: AllowancePolicy, now = new Date()): Promise<PostingOutcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { account, link } = await readDebitState(w.accountId, w.linkId);
    if (!account) return 'UNKNOWN_ACCOUNT';
    // Judged at the time of the debit: was it through a pending hold then? Cardless debits on an
    // account whose app was deactivated are denied, so one posted anyway still counts.
    const at = new Date(Math.min(Date.parse(w.occurredAt), now.getTime()));
    const assessed = assessDebit(w, { ...account, state: 'ACTIVE', apps: withoutDeactivation(account.apps) }, link, at);
    if (!('through' in assessed)) return 'NOT_THROUGH_A_HOLD';
    const a = account.allowance;
    const running = a !== undefined && Date.parse(a.until) > now.getTime();
    const reserved = running && w.authorizeRequestId ? a.entries?.[reservationKey(w.authorizeRequestId)] : undefined;
    if (running && a.entries?.[postingKey(w.withdrawalId)]) return 'ALREADY_COUNTED';
    if (reserved && reserved.status === 'POSTED') return 'ALREADY_COUNTED';
    if (reserved) {
      const back = reserved.status === 'RELEASED' ? reserved.amount : 0;
      const ok = await update(w.accountId, {
        set: ['#al.#en.#k.#st = :posted', '#al.#en.#k.postedAt = :at', '#al.#en.#k.withdrawalId = :w', '#al.#sp = #al.#sp + :back'],
        conditions: ['#al.#u = :readUntil', '#al.#en.#k.#st = :was'],
        names: { '#al': 'allowance', '#u': 'until', '#sp': 'spent', '#en': 'entries', '#k': reservationKey(w.authorizeRequestId!), '#st': 'status' },
        values: { ':posted': 'POSTED', ':at': now.toISOString(), ':w': w.withdrawalId, ':back': back, ':readUntil': a!.until, ':was': reserved.status },
      });
      if (ok) return 'RESERVATION_POSTED';
      continue;
    }
    // A period that ended while its hold is still pending (a link older than the allowance): a new one.
    const plan = planPosting(a, assessed.through.holdUntil, w.amount, w.currency, policy, now);
    const entry: AllowanceEntry = {
      amount: plan.counted,
      status: 'POSTED',
      at: now.toISOString(),
      holdKind: assessed.through.holdKind,
      holdId: assessed.through.holdId,
      channel: w.channel,
      ...(w.linkId ? { linkId: w.linkId } : {}),
    };
    const full = running && Object.keys(a.entries ?? {}).length >= MAX_ALLOWANCE_ENTRIES;
    // Over the entry cap the amount is still counted (a redelivery may count it twice: the safe side).
    const ok = await update(w.accountId, allowanceParts(plan.write, plan.counted, full ? undefined : postingKey(w.withdrawalId), full ? undefined : entry, undefined));
    if (ok) return 'COUNTED';
  }
  throw new Error('allowance posting: too many concurrent changes');
}

/** For judging a posting: a deactivation does not make a debit "not through a hold". */
function withoutDeactivation(apps: Record<string, AppHold> | undefined): Record<string, AppHold> | undefined {
  if (!apps) return apps;
  return Object.fromEntries(Object.entries(apps).map(([k, h]) => [k, h.state === 'DEACTIVATED' ? { ...h, state: 'PENDING' as const } : h]));
}
