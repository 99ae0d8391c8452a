/**
 * Reimbursement cases ("not me" -> what did they lose?), one per revoked link:
 *   CASEDEBITS#{accountId}#{linkId} / W#{withdrawalId}   every debit through the link (WithdrawalPosted),
 *                                                        recorded whether or not a case exists yet
 *   CASES / CASE#{accountId}#{linkId}                    the case: state, totals, timeline, who did what
 * Opening is a conditional put (idempotent: a LinkRevoked delivered twice opens one case). A debit
 * joins an open case by an update conditioned on its id not being in the case's debit set, so it
 * counts once. The two race safely: the debit is written before it looks for the case, and the
 * case is written before it reads the debits a second time, so one of them always sees the other.
 * Transitions are one transaction each (case + the account's audit entry [+ ReimbursementDue in
 * the outbox]), conditioned on the state and version read.
 *
 * The timeline's alert part (sent, first delivery, opened) is kept with the case when it opens and
 * read again from the alert record whenever the case is read (getCase, listCases: one BatchGet per
 * 100 cases), so a delivery receipt or a page opening recorded after the case opened still shows.
 */
import { BatchGetCommand, type BatchGetCommandOutput, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LinkRevoked } from '../../../events/alerting.ts';
import type { WithdrawalPosted } from '../../../events/core.ts';
import { auditPut } from '../../store/audit.ts';
import { db, isConditionFailure, queryByPrefix, tableName } from '../../store/db.ts';
import { getLink } from '../../store/links.ts';
import { key } from '../../store/table.ts';
import { FraudRefusedError, outboxed, publishCommitted, transact, type TransactItem } from '../common.ts';
import { caseTransition, totalsOf, type CaseState, type CaseVerb } from './rules.ts';

export interface CaseDebit {
  withdrawalId: string;
  amount: number;
  currency: string;
  occurredAt: string;
  channel: string;
  counterparty?: string;
}

export interface CaseTimeline {
  alertId?: string;
  /** First message accepted by a provider. */
  sentAt?: string;
  /** First delivery receipt. */
  deliveredAt?: string;
  /**
   * First time a browser displayed one of the alert's action pages and ran its beacon (the alert
   * record's openedAt; a GET alone records nothing). Evidence the page was shown, not proof that
   * the customer read it. Absent when no page was shown that way (a reply, no JavaScript).
   */
  openedAt?: string;
  /** The revocation. */
  actedAt: string;
  actedBy: string;
}

export interface ReimbursementCase {
  caseId: string;
  accountId: string;
  linkId: string;
  providerId: string;
  providerName?: string;
  customerId?: string;
  state: CaseState;
  openedAt: string;
  linkCreatedAt?: string;
  timeline: CaseTimeline;
  totals: Record<string, number>;
  debitCount: number;
  debitIds: string[];
  reviewedBy?: string;
  reviewedAt?: string;
  reviewNote?: string;
  repaidBy?: string;
  repaidAt?: string;
  paymentRef?: string;
  rejectedBy?: string;
  rejectedAt?: string;
  rejectReason?: string;
  version: number;
}

export const caseIdOf = (accountId: string, linkId: string) => `${accountId}~${linkId}`;
/** The case item of a link (also read by cases/debits.ts, a batch at a time). */
export const caseItemKey = (accountId: string, linkId: string) => ({ pk: 'CASES', sk: `CASE#${accountId}#${linkId}` });
const debitsPk = (accountId: string, linkId: string) => `CASEDEBITS#${accountId}#${linkId}`;

function fromItem(i: Record<string, unknown>): ReimbursementCase {
  const { pk: _p, sk: _s, kind: _k, debitIds, ...rest } = i;
  return { ...(rest as unknown as ReimbursementCase), debitIds: debitIds instanceof Set ? [...(debitIds as Set<string>)].sort() : [] };
}

type AlertPart = Pick<CaseTimeline, 'sentAt' | 'deliveredAt' | 'openedAt'>;

/** sent, first delivery and opened, as the alert record has them now. */
function alertPartOf(alert: Record<string, unknown>): AlertPart {
  const deliveries = Object.values((alert.deliveries ?? {}) as Record<string, { status?: string; updatedAt?: string }>);
  const delivered = deliveries.filter((x) => x.status === 'DELIVERED' && x.updatedAt).map((x) => x.updatedAt!).sort()[0];
  return {
    ...(typeof alert.sentAt === 'string' ? { sentAt: alert.sentAt } : {}),
    ...(delivered ? { deliveredAt: delivered } : {}),
    ...(typeof alert.openedAt === 'string' ? { openedAt: alert.openedAt } : {}),
  };
}

/** The cases with their timeline's alert part as the alert records have it now (kept values otherwise). */
async function withCurrentAlertPart(cases: ReimbursementCase[]): Promise<ReimbursementCase[]> {
  const keyOf = (c: ReimbursementCase) => key.alert({ accountId: c.accountId, customerId: c.customerId ?? '' }, c.timeline.alertId!);
  const wanted = new Map<string, { pk: string; sk: string }>();
  for (const c of cases) {
    if (!c.timeline?.alertId) continue;
    const k = keyOf(c);
    wanted.set(`${k.pk}\u0000${k.sk}`, k);
  }
  if (wanted.size === 0) return cases;
  const found = new Map<string, AlertPart>();
  const keys = [...wanted.values()];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
    for (let attempt = 0; pending?.length && attempt < 5; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out: BatchGetCommandOutput = await db().send(
        new BatchGetCommand({
          RequestItems: { [tableName()]: { Keys: pending, ProjectionExpression: 'pk, sk, sentAt, deliveries, openedAt' } },
        }),
      );
      for (const item of out.Responses?.[tableName()] ?? []) found.set(`${String(item.pk)}\u0000${String(item.sk)}`, alertPartOf(item));
      pending = out.UnprocessedKeys?.[tableName()]?.Keys;
    }
  }
  return cases.map((c) => {
    if (!c.timeline?.alertId) return c;
    const k = keyOf(c);
    const now = found.get(`${k.pk}\u0000${k.sk}`);
    return now ? { ...c, timeline: { ...c.timeline, ...now } } : c;
  });
}

async function readCase(accountId: string, linkId: string): Promise<ReimbursementCase | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: caseItemKey(accountId, linkId), ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

/** One case, its timeline's alert part read from the alert record now. */
export async function getCase(accountId: string, linkId: string): Promise<ReimbursementCase | undefined> {
  const c = await readCase(accountId, linkId);
  return c ? (await withCurrentAlertPart([c]))[0] : undefined;
}

export async function listCaseDebits(accountId: string, linkId: string): Promise<CaseDebit[]> {
  const items = await queryByPrefix(debitsPk(accountId, linkId), 'W#', { consistent: true });
  return items.map(({ pk: _p, sk: _s, ...rest }) => rest as unknown as CaseDebit).sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
}

export async function listCases(): Promise<ReimbursementCase[]> {
  const items = await queryByPrefix('CASES', 'CASE#');
  return withCurrentAlertPart(items.map(fromItem).sort((a, b) => a.openedAt.localeCompare(b.openedAt)));
}

/** Adds a debit to the link's case if it has one and the debit is not in it yet. */
async function joinCase(accountId: string, linkId: string, d: CaseDebit): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: caseItemKey(accountId, linkId),
        UpdateExpression: 'ADD debitIds :ids, debitCount :one SET totals.#c = if_not_exists(totals.#c, :zero) + :amt',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(debitIds) OR NOT contains(debitIds, :wid)) AND #s IN (:open, :reviewed)',
        ExpressionAttributeNames: { '#c': d.currency, '#s': 'state' },
        ExpressionAttributeValues: { ':ids': new Set([d.withdrawalId]), ':wid': d.withdrawalId, ':one': 1, ':zero': 0, ':amt': d.amount, ':open': 'OPEN', ':reviewed': 'REVIEWED' },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

/** The item that keeps a debit through a link for its case (keyed by the withdrawal: writing it again changes nothing). */
export function debitItem(w: WithdrawalPosted & { linkId?: string | undefined }): CaseDebit & { pk: string; sk: string } {
  const d: CaseDebit = { withdrawalId: w.withdrawalId, amount: w.amount, currency: w.currency, occurredAt: w.occurredAt, channel: w.channel, ...(w.counterparty ? { counterparty: w.counterparty } : {}) };
  return { pk: debitsPk(w.accountId, w.linkId ?? ''), sk: `W#${w.withdrawalId}`, ...d };
}

/** A debit through a link: kept for its case (now or later); joins the case when one is open. */
export async function recordLinkDebit(w: WithdrawalPosted): Promise<{ recorded: boolean; joined: boolean }> {
  if (!w.linkId) return { recorded: false, joined: false };
  const item = debitItem(w);
  const { pk: _p, sk: _s, ...d } = item;
  let recorded = true;
  try {
    await db().send(new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
    recorded = false;
  }
  const joined = await joinCase(w.accountId, w.linkId, d);
  return { recorded, joined };
}

async function alertTimeline(accountId: string, linkId: string): Promise<Omit<CaseTimeline, 'actedAt' | 'actedBy'>> {
  const alerts = await queryByPrefix(key.account(accountId).pk, 'ALERT#');
  const alert = alerts.find(
    (a) => a.sourceEventType === 'LinkCreated' && Array.isArray(a.actions) && (a.actions as { kind?: string; linkId?: string }[]).some((x) => x.kind === 'REVOKE_LINK' && x.linkId === linkId),
  );
  if (!alert) return {};
  return { alertId: String(alert.alertId), ...alertPartOf(alert) };
}

/** "Not me" by the customer (link or reply) or an operator: opens the link's case, once. */
export async function openCase(r: LinkRevoked, now = new Date()): Promise<{ opened: boolean; caseId: string }> {
  const caseId = caseIdOf(r.accountId, r.linkId);
  const existing = await readCase(r.accountId, r.linkId);
  if (existing) return { opened: false, caseId };
  const [link, debits, alertPart] = await Promise.all([getLink(r.accountId, r.linkId, true), listCaseDebits(r.accountId, r.linkId), alertTimeline(r.accountId, r.linkId)]);
  const at = now.toISOString();
  const timeline: CaseTimeline = {
    ...alertPart,
    actedAt: r.at,
    actedBy: r.actor === 'OPERATOR' ? `OPERATOR ${r.operatorId ?? ''}`.trim() : r.actor,
  };
  const c: ReimbursementCase = {
    caseId,
    accountId: r.accountId,
    linkId: r.linkId,
    providerId: r.providerId,
    ...(link?.providerName ? { providerName: link.providerName } : {}),
    ...(link?.customerId ? { customerId: link.customerId } : {}),
    ...(link?.createdAt ? { linkCreatedAt: link.createdAt } : {}),
    state: 'OPEN',
    openedAt: at,
    timeline,
    totals: totalsOf(debits),
    debitCount: debits.length,
    debitIds: debits.map((d) => d.withdrawalId),
    version: 0,
  };
  const { debitIds, ...rest } = c;
  const ok = await transact([
    {
      Put: {
        TableName: tableName(),
        Item: { ...caseItemKey(r.accountId, r.linkId), kind: 'CASE', ...rest, ...(debitIds.length ? { debitIds: new Set(debitIds) } : {}) },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    auditPut({ accountId: r.accountId, at, action: 'openReimbursementCase', actor: 'SYSTEM', target: `CASE#${caseId}`, oldState: 'NONE', newState: 'OPEN' }) as TransactItem,
  ]);
  if (!ok) return { opened: false, caseId };
  // A debit written while we read: it may have missed the case; add it now (idempotent).
  for (const d of await listCaseDebits(r.accountId, r.linkId)) if (!debitIds.includes(d.withdrawalId)) await joinCase(r.accountId, r.linkId, d);
  return { opened: true, caseId };
}

export interface TransitionInput {
  verb: CaseVerb;
  operatorId: string;
  /** review: a note; repay: the payment reference; reject: the reason. */
  text: string;
  at?: Date;
}

export async function transitionCase(accountId: string, linkId: string, input: TransitionInput): Promise<{ case: ReimbursementCase; eventPublished?: boolean }> {
  const at = (input.at ?? new Date()).toISOString();
  const c = await getCase(accountId, linkId);
  if (!c) throw new FraudRefusedError(404, 'CASE_NOT_FOUND', 'no such case');
  const t = caseTransition(input.verb, c.state, input.operatorId, c.reviewedBy);
  if (!t.ok) throw new FraudRefusedError(t.code === 'SAME_OPERATOR' ? 403 : 409, t.code, t.message);
  const fields =
    input.verb === 'review'
      ? { reviewedBy: input.operatorId, reviewedAt: at, reviewNote: input.text }
      : input.verb === 'repay'
        ? { repaidBy: input.operatorId, repaidAt: at, paymentRef: input.text }
        : { rejectedBy: input.operatorId, rejectedAt: at, rejectReason: input.text };
  const names: Record<string, string> = { '#s': 'state' };
  const values: Record<string, unknown> = { ':new': t.to, ':old': t.from, ':v': c.version, ':next': c.version + 1 };
  const sets = ['#s = :new', 'version = :next'];
  Object.entries(fields).forEach(([k, v], i) => {
    names[`#f${i}`] = k;
    values[`:f${i}`] = v;
    sets.push(`#f${i} = :f${i}`);
  });
  const event =
    input.verb === 'review'
      ? outboxed(
          {
            detailType: 'ReimbursementDue',
            detail: { caseId: c.caseId, accountId, linkId, providerId: c.providerId, amounts: c.totals, debits: c.debitCount, reviewedBy: input.operatorId, at },
          },
          at,
        )
      : undefined;
  const ok = await transact([
    {
      Update: {
        TableName: tableName(),
        Key: caseItemKey(accountId, linkId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: '#s = :old AND version = :v',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    },
    auditPut({
      accountId,
      at,
      action: `${input.verb}ReimbursementCase`,
      actor: 'OPERATOR',
      operatorId: input.operatorId,
      ...(input.verb === 'repay' && c.reviewedBy ? { approverId: input.operatorId, operatorId: c.reviewedBy } : {}),
      target: `CASE#${c.caseId}`,
      oldState: t.from,
      newState: t.to,
    }) as TransactItem,
    ...(event ? [event.put] : []),
  ]);
  if (!ok) throw new FraudRefusedError(409, 'CONFLICT', 'the case changed meanwhile; reload and try again');
  const eventPublished = event ? await publishCommitted(event.o) : undefined;
  return { case: { ...c, ...fields, state: t.to, version: c.version + 1 }, ...(eventPublished !== undefined ? { eventPublished } : {}) };
}
