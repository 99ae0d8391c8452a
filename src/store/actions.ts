/**
 * The protective actions (freeze, revoke, confirm) and the operations-only unfreeze, each one
 * DynamoDB transaction: the state change conditioned on the state and version just read, the
 * token's use (conditional: that action not used yet, token unexpired and for this account) when
 * the change came from an action link, the audit entry, and the partner event in an outbox item.
 * The event is published after the commit (see the outbox below: none is lost if that fails).
 *
 * A lost race (another request changed the item between our read and our write) re-reads and
 * decides again, so two concurrent freezes make one change and one audit entry, and the second
 * sees "already frozen".
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Actor, AlertingEvent } from '../../events/alerting.ts';
import { publishEvents } from '../adapters/publisher.ts';
import { confirmTransition, freezeTransition, revokeTransition, unfreezeTransition } from '../domain/account.ts';
import { auditPut } from './audit.ts';
import { getAccount } from './customers.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { getLink } from './links.ts';
import { findAlert } from './alerts.ts';
import { key, TTL_ATTRIBUTE } from './table.ts';
import type { AccountRecord, AuditEntry, LinkRecord, LinkState } from './types.ts';

export interface ActionContext {
  actor: Actor;
  alertId?: string;
  /** Marks the token's action used in the same transaction. */
  token?: { tokenHash: string; actionKey: string };
  at?: Date;
  /** Operator changes (e.g. a provider's bulk revoke, src/fraud/providers): who asked and who approved, for the audit. */
  operatorId?: string;
  approverId?: string;
  /**
   * A releasing action's step-up (src/stepup): its writes (the code spent, or the passkey's
   * challenge and counter) join the change's transaction, so a code is never spent without the
   * change nor the change made without the code; `stillValid` is asked again before a retry.
   * A releasing action from a token without one is refused.
   */
  stepUp?: StepUpProof;
  /**
   * Change the link only while it is in this state (a provider's bulk revoke of unconfirmed links
   * passes 'PENDING', src/fraud/providers/bulk.ts): the change's transaction is conditioned on
   * that state and the version read, and a link found (or re-read after a lost race) in another
   * state is left alone, `{ changed: false }`. Without it, revoking revokes whatever the state.
   */
  onlyFrom?: LinkState;
  /** Written in the change's transaction, only when the link changes (the bulk job's record of what it changed). */
  alsoWrite?: TransactItem[];
}

export interface StepUpProof {
  method: 'CODE' | 'PASSKEY';
  items: TransactItem[];
  stillValid(): Promise<boolean>;
}

export interface ActionResult {
  changed: boolean;
  /** False when the change committed but the partner event could not be published (logged by the caller). */
  eventPublished?: boolean;
}

export type ActionRefusal =
  | 'UNKNOWN_ACCOUNT'
  | 'UNKNOWN_LINK'
  | 'ACCOUNT_FROZEN'
  | 'LINK_REVOKED'
  /** "It was me" on a link made while its provider was suspended (src/fraud/providers). */
  | 'LINK_SUSPENDED'
  | 'ACCOUNT_NOT_FROZEN'
  /** The token is missing, expired or for another account. */
  | 'TOKEN_UNUSABLE'
  /** This action of the token was used already (possibly by a concurrent request). */
  | 'TOKEN_ALREADY_USED'
  /** "It was me" after a freeze or revoke from the same alert. */
  | 'ACTION_NOT_AVAILABLE'
  | 'UNFREEZE_REQUEST_NOT_FOUND'
  | 'UNFREEZE_REQUEST_NOT_PENDING'
  | 'UNFREEZE_REQUEST_EXPIRED'
  | 'SAME_OPERATOR'
  /** Lost the race too many times in a row; safe to retry. */
  | 'CONFLICT';

export class ActionRefusedError extends Error {
  override readonly name = 'ActionRefusedError';
  constructor(readonly reason: ActionRefusal) {
    super(`action refused: ${reason}`);
  }
}

const MAX_ATTEMPTS = 5;
export const FREEZE_KEY = 'FREEZE_ACCOUNT';
const revokeKey = (linkId: string) => `REVOKE_LINK:${linkId}`;

/** Identifies the token in the audit trail without being usable as one. */
export const tokenRef = (tokenHash: string) => tokenHash.slice(0, 8);

export type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/**
 * The token's part of the transaction. `alsoUnused` lists other actions of the same token that
 * must not have been used either ("it was me" after "freeze" from the same alert).
 */
export function tokenUse(accountId: string, token: NonNullable<ActionContext['token']>, at: string, alsoUnused: string[] = []): TransactItem {
  const names: Record<string, string> = { '#used': 'used', '#k': token.actionKey };
  const unused = ['attribute_not_exists(#used.#k)'];
  alsoUnused.forEach((k, i) => {
    names[`#o${i}`] = k;
    unused.push(`attribute_not_exists(#used.#o${i})`);
  });
  return {
    Update: {
      TableName: tableName(),
      Key: key.token(token.tokenHash),
      UpdateExpression: 'SET #used.#k = :at',
      ConditionExpression: `attribute_exists(pk) AND accountId = :acct AND expiresAt > :at AND ${unused.join(' AND ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':at': at, ':acct': accountId },
    },
  };
}

/** Why the token part failed, read back after a cancelled transaction. */
export async function tokenProblem(accountId: string, token: NonNullable<ActionContext['token']>, at: string, alsoUnused: string[]): Promise<ActionRefusal | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.token(token.tokenHash), ConsistentRead: true }));
  const item = out.Item;
  if (!item || item.accountId !== accountId || String(item.expiresAt) <= at) return 'TOKEN_UNUSABLE';
  const used = (item.used ?? {}) as Record<string, string>;
  if (used[token.actionKey]) return 'TOKEN_ALREADY_USED';
  if (alsoUnused.some((k) => used[k])) return 'ACTION_NOT_AVAILABLE';
  return undefined;
}

export function auditFor(
  accountId: string,
  ctx: ActionContext,
  at: string,
  action: string,
  target: string,
  oldState: string,
  newState: string,
): TransactItem {
  const entry: Omit<AuditEntry, 'entryId'> = {
    accountId,
    at,
    action,
    actor: ctx.actor,
    target,
    oldState,
    newState,
    ...(ctx.alertId ? { alertId: ctx.alertId } : {}),
    ...(ctx.token ? { tokenRef: tokenRef(ctx.token.tokenHash) } : {}),
    ...(ctx.stepUp ? { stepUp: ctx.stepUp.method } : {}),
    ...(ctx.operatorId ? { operatorId: ctx.operatorId } : {}),
    ...(ctx.approverId ? { approverId: ctx.approverId } : {}),
  };
  return auditPut(entry) as TransactItem;
}

export async function transact(items: TransactItem[]): Promise<boolean> {
  try {
    await db().send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (e) {
    if (isConditionFailure(e) || (e as { name?: string }).name === 'TransactionConflictException') return false;
    // A transaction cancelled because another transaction held the item is a lost race too.
    const err = e as { name?: string; CancellationReasons?: { Code?: string }[] };
    if (err.name === 'TransactionCanceledException' && (err.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict')) return false;
    throw e;
  }
}

// --- Outbox: no partner event is lost when EventBridge fails after the commit -----------------
//
// OUTBOX#{shard} / {at}#{id}: the event of a state change, written in the change's transaction and
// deleted once published. If publishing fails (or the function dies in between), the item stays;
// the scheduled sweep (every minute, functions/delivery) publishes what is older than a minute.
// Delivery is at least once, as EventBridge's own is: a partner keys its cut-off on
// (accountId, linkId, at), and the console counts each change once (its dedupe key).
// The delete after a successful publish is not waited for: the customer's answer depends on the
// commit and the publish only. A delete that never ran (the container froze or died) leaves the
// item to the sweep, which publishes it once more: a duplicate the partners and the counters
// already absorb, never a lost event. Items expire after 14 days whatever happens.

const OUTBOX_SHARDS = 4;
const OUTBOX_TTL_SECONDS = 14 * 86_400;
const OUTBOX_SWEEP_EVERY_MS = 60_000;
const OUTBOX_CLAIM_STALE_MS = 60_000;

export interface Outboxed {
  event: AlertingEvent;
  key: { pk: string; sk: string };
}

export function outboxed(event: AlertingEvent, at: string): Outboxed {
  const id = randomUUID();
  return { event, key: { pk: `OUTBOX#${parseInt(id.slice(0, 2), 16) % OUTBOX_SHARDS}`, sk: `${at}#${id}` } };
}

export function outboxPut(o: Outboxed): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: { ...o.key, detailType: o.event.detailType, detail: o.event.detail, [TTL_ATTRIBUTE]: Math.floor(Date.now() / 1000) + OUTBOX_TTL_SECONDS },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Deletes of published outbox items still under way in this container (see outboxSettled). */
const pendingDeletes = new Set<Promise<void>>();

/** Publishes a committed change's event; false when it stays pending in the outbox. */
export async function publishAfterCommit(o: Outboxed): Promise<boolean> {
  try {
    await publishEvents([o.event]);
  } catch {
    // Committed and audited; the outbox keeps the event and the caller logs and counts the miss.
    return false;
  }
  // Not waited for (see above); a failed delete leaves the item to the sweep.
  const done: Promise<void> = db()
    .send(new DeleteCommand({ TableName: tableName(), Key: o.key }))
    .then(
      () => undefined,
      () => undefined,
    )
    .finally(() => pendingDeletes.delete(done));
  pendingDeletes.add(done);
  return true;
}

/** Resolves once every outbox delete this container started has finished (tests, the sweep). */
export async function outboxSettled(): Promise<void> {
  while (pendingDeletes.size > 0) await Promise.all([...pendingDeletes]);
}

/**
 * Publishes the outbox items older than `olderThanMs` (their first attempt failed or died), each
 * claimed first so that two containers do not publish the same one at once. Returns how many.
 */
export async function republishPendingEvents(opts: { olderThanMs?: number; now?: Date; max?: number } = {}): Promise<number> {
  const now = opts.now ?? new Date();
  const max = opts.max ?? Number.POSITIVE_INFINITY;
  const before = new Date(now.getTime() - (opts.olderThanMs ?? OUTBOX_SWEEP_EVERY_MS)).toISOString();
  // This container's own deletes land first: it does not republish what it has just published.
  await outboxSettled();
  let published = 0;
  for (let shard = 0; shard < OUTBOX_SHARDS; shard++) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await db().send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'pk = :pk AND sk < :before',
          ExpressionAttributeValues: { ':pk': `OUTBOX#${shard}`, ':before': before },
          ExclusiveStartKey: start,
          Limit: 100,
        }),
      );
      for (const item of out.Items ?? []) {
        if (published >= max) return published;
        const k = { pk: String(item.pk), sk: String(item.sk) };
        try {
          await db().send(
            new UpdateCommand({
              TableName: tableName(),
              Key: k,
              UpdateExpression: 'SET claimedAt = :now',
              ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(claimedAt) OR claimedAt < :stale)',
              ExpressionAttributeValues: { ':now': now.toISOString(), ':stale': new Date(now.getTime() - OUTBOX_CLAIM_STALE_MS).toISOString() },
            }),
          );
        } catch (e) {
          if (isConditionFailure(e)) continue;
          throw e;
        }
        await publishEvents([{ detailType: item.detailType, detail: item.detail } as AlertingEvent]);
        await db().send(new DeleteCommand({ TableName: tableName(), Key: k }));
        published++;
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return published;
}

/** The account as we read it: if anything changed it since, the transaction fails and we decide again. */
function accountCondition(a: AccountRecord): Pick<NonNullable<TransactItem['Update']>, 'ConditionExpression' | 'ExpressionAttributeNames'> & { values: Record<string, unknown> } {
  return {
    ConditionExpression: '#s = :old AND version = :v',
    ExpressionAttributeNames: { '#s': 'state' },
    values: { ':old': a.state, ':v': a.version },
  };
}

/** A transaction item that holds only while the account is FROZEN. */
function accountIsFrozen(accountId: string) {
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: key.account(accountId),
      ConditionExpression: '#s = :frozen',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':frozen': 'FROZEN' },
    },
  };
}

/** Freezes the account. Already frozen: `{ changed: false }`, and the token's use is still marked. */
export async function freezeAccount(accountId: string, ctx: ActionContext): Promise<ActionResult> {
  const at = (ctx.at ?? new Date()).toISOString();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0 && ctx.token) {
      const problem = await tokenProblem(accountId, ctx.token, at, []);
      if (problem) throw new ActionRefusedError(problem);
    }
    const account = await getAccount(accountId, true);
    if (!account) throw new ActionRefusedError('UNKNOWN_ACCOUNT');
    const t = freezeTransition(account.state);
    const tokenItems = ctx.token ? [tokenUse(accountId, ctx.token, at)] : [];
    if (t.kind === 'UNCHANGED') {
      if (tokenItems.length === 0) return { changed: false };
      const ok = await transact([
        accountIsFrozen(accountId),
        ...tokenItems,
      ]);
      if (ok) return { changed: false };
      continue;
    }
    if (t.kind !== 'CHANGE') throw new ActionRefusedError('CONFLICT');
    const cond = accountCondition(account);
    const event = outboxed({ detailType: 'AccountFrozen', detail: { accountId, at, actor: ctx.actor, ...(ctx.alertId ? { alertId: ctx.alertId } : {}) } }, at);
    const ok = await transact([
      {
        Update: {
          TableName: tableName(),
          Key: key.account(accountId),
          UpdateExpression: 'SET #s = :new, version = :next, updatedAt = :at, frozenAt = :at',
          ConditionExpression: cond.ConditionExpression,
          ExpressionAttributeNames: cond.ExpressionAttributeNames,
          ExpressionAttributeValues: { ...cond.values, ':new': t.to, ':next': account.version + 1, ':at': at },
        },
      },
      ...tokenItems,
      auditFor(accountId, ctx, at, 'freezeAccount', `ACCOUNT#${accountId}`, t.from, t.to),
      outboxPut(event),
    ]);
    if (!ok) continue;
    const eventPublished = await publishAfterCommit(event);
    return { changed: true, eventPublished };
  }
  throw new ActionRefusedError('CONFLICT');
}

type LinkVerb = 'revokeLink' | 'confirmLink';

async function changeLink(verb: LinkVerb, accountId: string, linkId: string, ctx: ActionContext): Promise<ActionResult> {
  const at = (ctx.at ?? new Date()).toISOString();
  // "It was me" must not follow a freeze or a revoke carried by the same alert.
  const alsoUnused = verb === 'confirmLink' ? [FREEZE_KEY, revokeKey(linkId)] : [];
  // "It was me" from a link releases money: never without the step-up (a scanner has none).
  if (verb === 'confirmLink' && ctx.token && !ctx.stepUp) throw new ActionRefusedError('ACTION_NOT_AVAILABLE');
  const stepUpItems = verb === 'confirmLink' ? (ctx.stepUp?.items ?? []) : [];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0 && stepUpItems.length > 0 && !(await ctx.stepUp!.stillValid())) throw new ActionRefusedError('ACTION_NOT_AVAILABLE');
    if (ctx.token && (attempt > 0 || alsoUnused.length > 0)) {
      const problem = await tokenProblem(accountId, ctx.token, at, alsoUnused);
      if (problem) throw new ActionRefusedError(problem);
    }
    const [account, link] = await Promise.all([getAccount(accountId, true), getLink(accountId, linkId, true)]);
    if (!account) throw new ActionRefusedError('UNKNOWN_ACCOUNT');
    if (!link) throw new ActionRefusedError('UNKNOWN_LINK');
    if (ctx.onlyFrom !== undefined && link.state !== ctx.onlyFrom) return { changed: false };
    const t = verb === 'revokeLink' ? revokeTransition(link.state) : confirmTransition(link.state, account.state);
    if (t.kind === 'REFUSED') throw new ActionRefusedError(t.reason);
    const tokenItems = ctx.token ? [tokenUse(accountId, ctx.token, at, alsoUnused)] : [];
    // Confirming depends on the account not being frozen meanwhile; revoking depends on nothing else.
    const accountCheck: TransactItem[] =
      verb === 'confirmLink'
        ? [
            {
              ConditionCheck: {
                TableName: tableName(),
                Key: key.account(accountId),
                ConditionExpression: '#s = :active',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: { ':active': 'ACTIVE' },
              },
            },
          ]
        : [];
    if (t.kind === 'UNCHANGED') {
      if (tokenItems.length === 0) return { changed: false };
      const ok = await transact([
        ...accountCheck,
        {
          ConditionCheck: {
            TableName: tableName(),
            Key: key.link(accountId, linkId),
            ConditionExpression: '#s = :s',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: { ':s': t.state },
          },
        },
        ...tokenItems,
        ...stepUpItems,
      ]);
      if (ok) return { changed: false };
      continue;
    }
    const update =
      verb === 'revokeLink'
        ? // Leaving the sparse Audience index: a revoked link gets no campaign messages.
          'SET #s = :new, version = :next, updatedAt = :at, revokedAt = :at REMOVE audiencePk, audienceSk'
        : 'SET #s = :new, version = :next, updatedAt = :at, confirmedAt = :at';
    const detail = { accountId, at, actor: ctx.actor, linkId, providerId: link.providerId, ...(ctx.alertId ? { alertId: ctx.alertId } : {}), ...(ctx.operatorId ? { operatorId: ctx.operatorId } : {}) };
    const event = outboxed(verb === 'revokeLink' ? { detailType: 'LinkRevoked', detail } : { detailType: 'LinkConfirmed', detail }, at);
    const ok = await transact([
      ...accountCheck,
      {
        Update: {
          TableName: tableName(),
          Key: key.link(accountId, linkId),
          UpdateExpression: update,
          ConditionExpression: '#s = :old AND version = :v',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':old': link.state, ':v': link.version, ':new': t.to, ':next': link.version + 1, ':at': at },
        },
      },
      ...tokenItems,
      ...stepUpItems,
      ...(ctx.alsoWrite ?? []),
      auditFor(accountId, ctx, at, verb, `LINK#${linkId}`, t.from, t.to),
      outboxPut(event),
    ]);
    if (!ok) continue;
    const eventPublished = await publishAfterCommit(event);
    return { changed: true, eventPublished };
  }
  throw new ActionRefusedError('CONFLICT');
}

/** "Not me": the link is revoked and leaves the campaign audience. Already revoked: `{ changed: false }`. */
export function revokeLink(accountId: string, linkId: string, ctx: ActionContext): Promise<ActionResult> {
  return changeLink('revokeLink', accountId, linkId, ctx);
}

/**
 * "It was me": PENDING -> ACTIVE, lifting the hold. Refused (ActionRefusedError) on a revoked
 * link, a frozen account, or after a freeze/revoke from the same token.
 */
export function confirmLink(accountId: string, linkId: string, ctx: ActionContext): Promise<ActionResult> {
  return changeLink('confirmLink', accountId, linkId, ctx);
}

// ---------------------------------------------------------------------------------------------
// Unfreeze: operations only, two people. Never reachable from a token or a reply.

/** An unfreeze request waits this long for its approval. */
export const UNFREEZE_REQUEST_TTL_HOURS = 24;

export interface UnfreezeRequest {
  accountId: string;
  requestId: string;
  status: 'PENDING' | 'APPROVED';
  requestedBy: string;
  verificationRef: string;
  requestedAt: string;
  expiresAt: string;
  approvedBy?: string;
  approvedAt?: string;
}

/** ACCT#{accountId} / UNFREEZE#{requestId}: next to the account, so the console lists them with it. */
const unfreezeKey = (accountId: string, requestId: string) => ({ pk: key.account(accountId).pk, sk: `UNFREEZE#${requestId}` });

/** Operator A asks to unfreeze a frozen account, citing the identity verification they did. */
export async function requestUnfreeze(
  accountId: string,
  req: { operatorId: string; verificationRef: string; at?: Date },
): Promise<UnfreezeRequest> {
  const now = req.at ?? new Date();
  const at = now.toISOString();
  const account = await getAccount(accountId, true);
  if (!account) throw new ActionRefusedError('UNKNOWN_ACCOUNT');
  if (account.state !== 'FROZEN') throw new ActionRefusedError('ACCOUNT_NOT_FROZEN');
  const request: UnfreezeRequest = {
    accountId,
    requestId: randomUUID(),
    status: 'PENDING',
    requestedBy: req.operatorId,
    verificationRef: req.verificationRef,
    requestedAt: at,
    expiresAt: new Date(now.getTime() + UNFREEZE_REQUEST_TTL_HOURS * 3_600_000).toISOString(),
  };
  const ok = await transact([
    accountIsFrozen(accountId),
    {
      Put: {
        TableName: tableName(),
        Item: { ...unfreezeKey(accountId, request.requestId), kind: 'UNFREEZE_REQUEST', ...request },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    auditPut({
      accountId,
      at,
      action: 'requestUnfreeze',
      actor: 'OPERATOR',
      operatorId: req.operatorId,
      verificationRef: req.verificationRef,
      target: `ACCOUNT#${accountId}`,
      oldState: 'FROZEN',
      newState: 'FROZEN',
    }) as TransactItem,
  ]);
  if (!ok) throw new ActionRefusedError('ACCOUNT_NOT_FROZEN');
  return request;
}

export async function getUnfreezeRequest(accountId: string, requestId: string): Promise<UnfreezeRequest | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: unfreezeKey(accountId, requestId), ConsistentRead: true }));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, kind: _k, ...rest } = out.Item;
  return rest as UnfreezeRequest;
}

export async function listUnfreezeRequests(accountId: string): Promise<UnfreezeRequest[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': key.account(accountId).pk, ':p': 'UNFREEZE#' },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((i) => {
    const { pk: _pk, sk: _sk, kind: _k, ...rest } = i;
    return rest as UnfreezeRequest;
  });
}

/**
 * Operator B (never the requester) approves: FROZEN -> ACTIVE, the request marked approved and
 * the audit entry naming both operators and the verification, in one transaction.
 */
export async function approveUnfreeze(
  accountId: string,
  requestId: string,
  req: { approverId: string; at?: Date },
): Promise<ActionResult & { request: UnfreezeRequest }> {
  const at = (req.at ?? new Date()).toISOString();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [request, account] = await Promise.all([getUnfreezeRequest(accountId, requestId), getAccount(accountId, true)]);
    if (!request) throw new ActionRefusedError('UNFREEZE_REQUEST_NOT_FOUND');
    if (request.requestedBy === req.approverId) throw new ActionRefusedError('SAME_OPERATOR');
    if (request.status !== 'PENDING') throw new ActionRefusedError('UNFREEZE_REQUEST_NOT_PENDING');
    if (request.expiresAt <= at) throw new ActionRefusedError('UNFREEZE_REQUEST_EXPIRED');
    if (!account) throw new ActionRefusedError('UNKNOWN_ACCOUNT');
    const t = unfreezeTransition(account.state);
    if (t.kind !== 'CHANGE') throw new ActionRefusedError('ACCOUNT_NOT_FROZEN');
    const cond = accountCondition(account);
    const event = outboxed(
      { detailType: 'AccountUnfrozen', detail: { accountId, at, actor: 'OPERATOR', operatorId: req.approverId, verificationRef: request.verificationRef } },
      at,
    );
    const ok = await transact([
      {
        Update: {
          TableName: tableName(),
          Key: key.account(accountId),
          UpdateExpression: 'SET #s = :new, version = :next, updatedAt = :at, unfrozenAt = :at',
          ConditionExpression: cond.ConditionExpression,
          ExpressionAttributeNames: cond.ExpressionAttributeNames,
          ExpressionAttributeValues: { ...cond.values, ':new': t.to, ':next': account.version + 1, ':at': at },
        },
      },
      {
        Update: {
          TableName: tableName(),
          Key: unfreezeKey(accountId, requestId),
          UpdateExpression: 'SET #st = :approved, approvedBy = :b, approvedAt = :at',
          ConditionExpression: '#st = :pending AND requestedBy <> :b AND expiresAt > :at',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: { ':approved': 'APPROVED', ':pending': 'PENDING', ':b': req.approverId, ':at': at },
        },
      },
      auditPut({
        accountId,
        at,
        action: 'unfreezeAccount',
        actor: 'OPERATOR',
        operatorId: request.requestedBy,
        approverId: req.approverId,
        verificationRef: request.verificationRef,
        target: `ACCOUNT#${accountId}`,
        oldState: t.from,
        newState: t.to,
      }) as TransactItem,
      outboxPut(event),
    ]);
    if (!ok) continue;
    const eventPublished = await publishAfterCommit(event);
    return { changed: true, eventPublished, request: { ...request, status: 'APPROVED', approvedBy: req.approverId, approvedAt: at } };
  }
  throw new ActionRefusedError('CONFLICT');
}

// ---------------------------------------------------------------------------------------------
// What the action page shows.

export interface ActionSubject {
  account?: AccountRecord;
  links: LinkRecord[];
  locale?: 'ja' | 'en';
  /** The alert record as the alert function wrote it, when present (fields read defensively). */
  alert?: Record<string, unknown>;
}

/** Loads, strongly consistent, what the page needs to say what happened and what is still possible. */
export async function loadActionSubject(
  grant: { accountId: string; customerId: string; alertId: string; linkIds: string[] },
  opts: { withAlert: boolean } = { withAlert: true },
): Promise<ActionSubject> {
  // Alerts live under the account, or under the customer when they concern no account (contact changes).
  const alertAt = (owner: { accountId?: string; customerId: string }) =>
    findAlert(owner, grant.alertId, false).then((a) => a as unknown as Record<string, unknown> | undefined);
  const [account, links, customer, alertItems] = await Promise.all([
    getAccount(grant.accountId, true),
    Promise.all([...new Set(grant.linkIds)].map((l) => getLink(grant.accountId, l, true))),
    db().send(new GetCommand({ TableName: tableName(), Key: key.customer(grant.customerId), ProjectionExpression: '#l', ExpressionAttributeNames: { '#l': 'locale' } })),
    opts.withAlert ? Promise.all([alertAt({ accountId: grant.accountId, customerId: grant.customerId }), alertAt({ customerId: grant.customerId })]) : Promise.resolve([]),
  ]);
  const alert = { Item: alertItems.find((i) => i !== undefined) };
  const locale = customer.Item?.locale;
  return {
    ...(account ? { account } : {}),
    links: links.filter((l): l is LinkRecord => l !== undefined),
    ...(locale === 'ja' || locale === 'en' ? { locale } : {}),
    ...(alert.Item ? { alert: alert.Item } : {}),
  };
}
