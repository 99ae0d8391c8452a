/**
 * The bulk provider jobs, in pages of the provider's partition of the Audience index (links
 * PENDING or ACTIVE). A job holds a lease on its request while it runs, saves its cursor after
 * every page, and reruns a page after a crash: each link changes at most once (extending a hold
 * is conditioned on the link's state and version; revoking on the link being still PENDING, in
 * the revoke's transaction, so a revoked link, or one confirmed since the job read it, is left
 * alone), so rerunning is safe. The approval request runs it while it has time; the minute's sweep
 * (functions/fraud, schedule FraudJobsSweep) continues what is left. Each change writes the job's
 * record of it in its own transaction (store.ts changedLinkPut): the final `changed` and the
 * LinksBulkRevoked counts are counted from those records, so a crash after a change and before
 * the page's progress was saved loses nothing (a revoked link leaves the index: no rerun sees it).
 *
 * REVOKE_UNCONFIRMED creates its campaign (template provider-links-revoked, a list audience)
 * before the first revocation and starts it when the last page is done. Each page first adds the
 * customers of its unconfirmed links to the list, by customer (one entry per customer, keyed by
 * the customer id: a customer's accounts on different pages, or a page run again, join the same
 * entry), and only then revokes the links: a crash between the two leaves the links unconfirmed
 * and in the index, so the rerun finds them again, and a revoked link has always been listed
 * before (a revoked link leaves the index: a rerun would never see it). Each customer is told
 * once (one ledger entry per customer and channel), in one message naming every account, paced,
 * and operations can pause or cancel it from the Campaigns page.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { auditPut } from '../../store/audit.ts';
import { db, isConditionFailure, tableName } from '../../store/db.ts';
import { getLink } from '../../store/links.ts';
import { revokeLink } from '../../store/actions.ts';
import { key } from '../../store/table.ts';
import { campaignConfig } from '../../campaign/config.ts';
import { createCampaign, loadCustomerList, startCampaign } from '../../campaign/service.ts';
import { CampaignError } from '../../campaign/types.ts';
import { outboxed, providerAuditPut, publishCommitted, transact, type TransactItem } from '../common.ts';
import { changedLinkPut, countChanged, getRequest, jobKey, requestKey, type ProviderRequest } from './store.ts';

const PAGE = 25;
const LEASE_MS = 60_000;

export interface JobOptions {
  /** Index entries per page (default 25). */
  pageSize?: number;
  /** Test hook, called after a page's customers were listed and after each link is revoked or its hold extended: a crash test throws here. */
  afterStep?: (step: 'listed' | 'revoked' | 'extended', linkId?: string) => void | Promise<void>;
}

export interface JobOutcome {
  requestId: string;
  status: 'DONE' | 'RUNNING' | 'BUSY' | 'GONE';
  seen: number;
  changed: number;
}

/**
 * Holds links involved in an incident or a provider control until createdAt + hours (never
 * shortens). `alsoWrite` joins the extension's transaction (the bulk job's record of the change).
 */
export async function extendLinkHold(
  accountId: string,
  linkId: string,
  hours: number,
  who: { actor: 'OPERATOR' | 'SYSTEM'; operatorId?: string | undefined; approverId?: string | undefined },
  now = new Date(),
  alsoWrite: TransactItem[] = [],
): Promise<'EXTENDED' | 'UNCHANGED' | 'MISSING'> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const link = await getLink(accountId, linkId, true);
    if (!link) return 'MISSING';
    const target = new Date(Date.parse(link.createdAt) + hours * 3_600_000).toISOString();
    // Only a link still in its hold: a confirmed, revoked, suspended or matured one is left alone.
    if (link.state !== 'PENDING' || Date.parse(link.holdUntil) <= now.getTime() || link.holdUntil >= target) return 'UNCHANGED';
    const at = now.toISOString();
    const ok = await transact([
      {
        Update: {
          TableName: tableName(),
          Key: key.link(accountId, linkId),
          UpdateExpression: 'SET holdUntil = :h, version = :next, updatedAt = :at',
          ConditionExpression: '#s = :pending AND version = :v',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':h': target, ':pending': 'PENDING', ':v': link.version, ':next': link.version + 1, ':at': at },
        },
      },
      auditPut({
        accountId,
        at,
        action: 'extendHold',
        actor: who.actor,
        ...(who.operatorId ? { operatorId: who.operatorId } : {}),
        ...(who.approverId ? { approverId: who.approverId } : {}),
        target: `LINK#${linkId}`,
        oldState: `PENDING until ${link.holdUntil}`,
        newState: `PENDING until ${target}`,
      }) as TransactItem,
      ...alsoWrite,
    ]);
    if (ok) return 'EXTENDED';
  }
  return 'UNCHANGED';
}

async function takeLease(r: ProviderRequest, owner: string, now: Date): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: requestKey(r.providerId, r.requestId),
        UpdateExpression: 'SET leaseOwner = :o, leaseUntil = :u',
        ConditionExpression: '#st = :running AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#st': 'status' },
        ExpressionAttributeValues: { ':o': owner, ':u': new Date(now.getTime() + LEASE_MS).toISOString(), ':now': now.toISOString(), ':running': 'RUNNING' },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

async function saveProgress(r: ProviderRequest, owner: string, fields: { cursor?: string; seen: number; changed: number; campaignId?: string }): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: requestKey(r.providerId, r.requestId),
      UpdateExpression: `SET seen = :seen, changed = :changed, leaseUntil = :u${fields.cursor ? ', #c = :c' : ''}${fields.campaignId ? ', campaignId = :cid' : ''}`,
      ConditionExpression: 'leaseOwner = :o',
      ExpressionAttributeNames: fields.cursor ? { '#c': 'cursor' } : undefined,
      ExpressionAttributeValues: {
        ':seen': fields.seen,
        ':changed': fields.changed,
        ':u': new Date(Date.now() + LEASE_MS).toISOString(),
        ':o': owner,
        ...(fields.cursor ? { ':c': fields.cursor } : {}),
        ...(fields.campaignId ? { ':cid': fields.campaignId } : {}),
      },
    }),
  );
}

async function ensureCampaign(r: ProviderRequest, owner: string, seen: number, changed: number): Promise<string> {
  if (r.campaignId) return r.campaignId;
  const q = campaignConfig();
  const c = await createCampaign({
    name: `Links revoked: ${r.providerId} (${r.requestId.slice(0, 8)})`,
    templateId: 'provider-links-revoked',
    rates: { email: q.CAMPAIGN_EMAIL_QUOTA_PER_SECOND, sms: q.CAMPAIGN_SMS_QUOTA_PER_SECOND },
    audience: { kind: 'list', segments: 8 },
    createdBy: r.approvedBy ?? r.requestedBy,
  });
  await saveProgress(r, owner, { seen, changed, campaignId: c.campaignId });
  return c.campaignId;
}

/** Runs (or continues) one bulk job until it is done or `deadline` (epoch ms) is near. */
export async function runProviderJob(providerId: string, requestId: string, deadline: number, now = () => new Date(), opts: JobOptions = {}): Promise<JobOutcome> {
  let r = await getRequest(providerId, requestId);
  if (!r || r.status !== 'RUNNING') return { requestId, status: 'GONE', seen: r?.seen ?? 0, changed: r?.changed ?? 0 };
  const owner = randomUUID();
  if (!(await takeLease(r, owner, now()))) return { requestId, status: 'BUSY', seen: r.seen ?? 0, changed: r.changed ?? 0 };
  let cursor: Record<string, unknown> | undefined = r.cursor ? (JSON.parse(r.cursor) as Record<string, unknown>) : undefined;
  let seen = r.seen ?? 0;
  let changed = r.changed ?? 0;
  const campaignId = r.action === 'REVOKE_UNCONFIRMED' ? await ensureCampaign(r, owner, seen, changed) : undefined;
  r = { ...r, ...(campaignId ? { campaignId } : {}) };
  // A run that stopped mid-page (crashed, or lost its lease) may have changed links after its last
  // saved progress: their records sort after the saved cursor. Revoked ones also left the index,
  // so this run will not see them again: seen too. (Only counted into progress saved with a cursor.)
  const unsaved = (await countChanged(r.providerId, r.requestId, cursor ? String(cursor.audienceSk) : undefined)).links;
  changed += unsaved;
  if (r.action === 'REVOKE_UNCONFIRMED') seen += unsaved;
  /** False once the campaign left DRAFT (an operator cancelled the notice): links are still revoked, untold. */
  let telling = campaignId !== undefined;
  const who = { actor: 'OPERATOR' as const, operatorId: r.requestedBy, ...(r.approvedBy ? { approverId: r.approvedBy } : {}), reason: r.reason };
  for (;;) {
    if (Date.now() > deadline) return { requestId, status: 'RUNNING', seen, changed };
    const page = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'Audience',
        KeyConditionExpression: 'audiencePk = :p',
        ExpressionAttributeValues: { ':p': providerId },
        ExclusiveStartKey: cursor,
        Limit: opts.pageSize ?? PAGE,
      }),
    );
    const unconfirmed: { accountId: string; linkId: string; customerId: string }[] = [];
    for (const item of page.Items ?? []) {
      const accountId = String(item.accountId);
      const linkId = String(item.linkId);
      seen++;
      if (r.action === 'EXTEND_HOLD') {
        const at = now();
        if ((await extendLinkHold(accountId, linkId, r.holdHours ?? 168, who, at, [changedLinkPut(providerId, requestId, { accountId, linkId }, 'EXTENDED', at.toISOString())])) === 'EXTENDED') {
          changed++;
          await opts.afterStep?.('extended', linkId);
        }
      } else {
        // Unconfirmed: still PENDING (never "it was me"), whether or not its window has passed.
        const link = await getLink(accountId, linkId, true);
        if (link?.state === 'PENDING') unconfirmed.push({ accountId, linkId, customerId: link.customerId });
      }
    }
    // Listed before revoked (see the top of this file); listing again on a rerun changes nothing.
    if (campaignId && telling && unconfirmed.length > 0) {
      try {
        await loadCustomerList(campaignId, unconfirmed);
      } catch (e) {
        if (!(e instanceof CampaignError && e.code === 'CONFLICT')) throw e;
        telling = false;
      }
    }
    if (unconfirmed.length > 0) await opts.afterStep?.('listed');
    for (const l of unconfirmed) {
      const at = new Date();
      // Only while still PENDING, in the revoke's transaction: a link confirmed since it was read
      // above ("it was me" won the race) keeps its confirmation and counts as unchanged.
      const out = await revokeLink(l.accountId, l.linkId, {
        actor: 'OPERATOR',
        operatorId: r.requestedBy,
        ...(r.approvedBy ? { approverId: r.approvedBy } : {}),
        at,
        onlyFrom: 'PENDING',
        // The job's record of this revocation, committed with it (what the counts are made of).
        alsoWrite: [changedLinkPut(providerId, requestId, l, 'REVOKED', at.toISOString())],
      });
      if (out.changed) changed++;
      await opts.afterStep?.('revoked', l.linkId);
    }
    cursor = page.LastEvaluatedKey;
    if (!cursor) break;
    await saveProgress(r, owner, { cursor: JSON.stringify(cursor), seen, changed });
  }
  return finishJob(r, owner, seen, now());
}

async function finishJob(r: ProviderRequest, owner: string, seen: number, now: Date): Promise<JobOutcome> {
  const at = now.toISOString();
  // Counted from the records, not the runs: exact whatever crashed, reran or lost its lease.
  const total = await countChanged(r.providerId, r.requestId);
  const changed = total.links;
  let campaignStarted: string | undefined;
  if (r.campaignId) {
    try {
      await startCampaign(r.campaignId);
      campaignStarted = r.campaignId;
    } catch (e) {
      // Nobody to tell (no unconfirmed link) or already started by an earlier run of this job.
      if (!(e instanceof CampaignError)) throw e;
      if (e.code !== 'INVALID') campaignStarted = r.campaignId;
    }
  }
  const bulk = r.action === 'REVOKE_UNCONFIRMED';
  const event = bulk
    ? outboxed(
        {
          detailType: 'LinksBulkRevoked',
          detail: {
            providerId: r.providerId,
            at,
            requestId: r.requestId,
            operatorId: r.requestedBy,
            approverId: r.approvedBy ?? r.requestedBy,
            reason: r.reason,
            revoked: total.links,
            accounts: total.accounts,
            ...(campaignStarted ? { campaignId: campaignStarted } : {}),
          },
        },
        at,
      )
    : undefined;
  const ok = await transact([
    {
      Update: {
        TableName: tableName(),
        Key: requestKey(r.providerId, r.requestId),
        UpdateExpression: 'SET #st = :done, finishedAt = :at, seen = :seen, changed = :changed REMOVE leaseOwner, leaseUntil, #c',
        ConditionExpression: '#st = :running AND leaseOwner = :o',
        ExpressionAttributeNames: { '#st': 'status', '#c': 'cursor' },
        ExpressionAttributeValues: { ':done': 'DONE', ':running': 'RUNNING', ':o': owner, ':at': at, ':seen': seen, ':changed': changed },
      },
    },
    { Delete: { TableName: tableName(), Key: jobKey(r.requestId) } },
    providerAuditPut(r.providerId, {
      at,
      action: `provider${r.action}Done`,
      actor: 'OPERATOR',
      operatorId: r.requestedBy,
      ...(r.approvedBy ? { approverId: r.approvedBy } : {}),
      oldState: 'RUNNING',
      newState: `DONE ${changed}/${seen} links changed`,
    }),
    ...(event ? [event.put] : []),
  ]);
  if (ok && event) await publishCommitted(event.o);
  return { requestId: r.requestId, status: ok ? 'DONE' : 'BUSY', seen, changed };
}

/** The minute's sweep: continue every running job for at most `budgetMs`. */
export async function sweepProviderJobs(budgetMs: number): Promise<JobOutcome[]> {
  const deadline = Date.now() + budgetMs;
  const out = await db().send(new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'FRAUDJOBS' }, ConsistentRead: true }));
  const results: JobOutcome[] = [];
  for (const j of out.Items ?? []) {
    if (Date.now() > deadline) break;
    results.push(await runProviderJob(String(j.providerId), String(j.requestId), deadline));
  }
  return results;
}
