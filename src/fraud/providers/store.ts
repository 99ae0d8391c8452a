/**
 * Provider controls, by two operators like unfreeze: operator A asks (POST .../requests), a
 * different operator B in the approvers group approves, and only then does anything change.
 *
 *   SUSPEND             new links of the provider start SUSPENDED (src/store/links.ts createLink)
 *   RESUME              new links start PENDING again; links made while suspended stay SUSPENDED
 *   EXTEND_HOLD         every pending link of the provider held until createdAt + holdHours
 *   REVOKE_UNCONFIRMED  every link of the provider still unconfirmed (PENDING) revoked, each once,
 *                       and each account told once by the campaign engine
 *
 * SUSPEND/RESUME are one transaction on approval (control + request + audit + event). The bulk
 * ones mark the request RUNNING and list it under FRAUDJOBS in the approval's transaction; the
 * work then runs in pages (src/fraud/providers/bulk.ts), from the approval request while time
 * allows and from the minute's sweep after that, each link changed at most once whatever reruns.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../../store/db.ts';
import { key, TTL_ATTRIBUTE } from '../../store/table.ts';
import { fraudConfig } from '../config.ts';
import { FraudRefusedError, outboxed, providerAuditPut, publishCommitted, transact, type TransactItem } from '../common.ts';

export const providerActions = ['SUSPEND', 'RESUME', 'EXTEND_HOLD', 'REVOKE_UNCONFIRMED'] as const;
export type ProviderAction = (typeof providerActions)[number];

export interface ProviderControl {
  providerId: string;
  suspended: boolean;
  suspendedAt?: string;
  resumedAt?: string;
  version: number;
  updatedAt?: string;
}

export type RequestStatus = 'PENDING' | 'RUNNING' | 'DONE';

export interface ProviderRequest {
  providerId: string;
  requestId: string;
  action: ProviderAction;
  reason: string;
  /** EXTEND_HOLD: links held until at least createdAt + holdHours. */
  holdHours?: number;
  status: RequestStatus;
  requestedBy: string;
  requestedAt: string;
  expiresAt: string;
  approvedBy?: string;
  approvedAt?: string;
  finishedAt?: string;
  /**
   * Bulk jobs: the Audience index page to continue from (JSON), links looked at and changed.
   * While RUNNING these are progress; once DONE `changed` is the count of the job's CHANGED#
   * records (see changedLinkPut), exact whatever crashed or reran.
   */
  cursor?: string;
  seen?: number;
  changed?: number;
  campaignId?: string;
}

export const requestKey = (providerId: string, requestId: string) => ({ pk: `PROVIDER#${providerId}`, sk: `REQUEST#${requestId}` });
export const jobKey = (requestId: string) => ({ pk: 'FRAUDJOBS', sk: requestId });
export const directoryKey = (providerId: string) => ({ pk: 'PROVIDERS', sk: providerId });

/**
 * PROVIDER#{providerId} / CHANGED#{requestId}#{accountId}#{linkId}: a link a bulk job changed
 * (revoked, or its hold extended), written in that change's own transaction, so it exists exactly
 * when the change committed, whichever run made it and whether or not that run lived to save its
 * progress. The job's counts come from these (countChanged). The suffix is the link's Audience
 * index sort key (audienceSk), so these sort in the order the job pages the index. Kept 90 days
 * (TTL) as the list of what the request changed.
 */
const CHANGED_TTL_SECONDS = 90 * 86_400;
const changedPrefix = (requestId: string) => `CHANGED#${requestId}#`;

export function changedLinkPut(providerId: string, requestId: string, link: { accountId: string; linkId: string }, change: 'REVOKED' | 'EXTENDED', at: string): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        pk: `PROVIDER#${providerId}`,
        sk: `${changedPrefix(requestId)}${link.accountId}#${link.linkId}`,
        kind: 'PROVIDER_JOB_CHANGE',
        requestId,
        accountId: link.accountId,
        linkId: link.linkId,
        change,
        at,
        [TTL_ATTRIBUTE]: Math.floor(Date.now() / 1000) + CHANGED_TTL_SECONDS,
      },
    },
  };
}

/**
 * The links the request changed and their distinct accounts: all of them, or (`after`, an
 * Audience index audienceSk: the job's saved cursor) only those after that point of the index.
 */
export async function countChanged(providerId: string, requestId: string, after?: string): Promise<{ links: number; accounts: number }> {
  const prefix = changedPrefix(requestId);
  // BETWEEN is inclusive: the cursor's own link (counted with its page) is skipped below; nothing sorts at the upper bound.
  const from = after === undefined ? prefix : `${prefix}${after}`;
  const accounts = new Set<string>();
  let links = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': `PROVIDER#${providerId}`, ':from': from, ':to': `${prefix.slice(0, -1)}$` },
        ProjectionExpression: 'sk, accountId',
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      if (after !== undefined && item.sk === from) continue;
      links++;
      accounts.add(String(item.accountId));
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return { links, accounts: accounts.size };
}

const strip = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, kind: _k, ...rest } = item;
  return rest as T;
};

export async function getControl(providerId: string): Promise<ProviderControl> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.providerControl(providerId), ConsistentRead: true }));
  return out.Item ? strip<ProviderControl>(out.Item) : { providerId, suspended: false, version: 0 };
}

export async function getRequest(providerId: string, requestId: string): Promise<ProviderRequest | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: requestKey(providerId, requestId), ConsistentRead: true }));
  return out.Item ? strip<ProviderRequest>(out.Item) : undefined;
}

export async function listRequests(providerId: string): Promise<ProviderRequest[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': `PROVIDER#${providerId}`, ':p': 'REQUEST#' },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((i) => strip<ProviderRequest>(i)).sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
}

/** Remembers a provider seen in a LinkCreated, for the console's Providers page (name, last link). */
export async function noteProvider(providerId: string, providerName: string, at: string): Promise<void> {
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: directoryKey(providerId),
      UpdateExpression: 'SET providerId = :id, providerName = :n, lastLinkAt = if_not_exists(lastLinkAt, :at)',
      ExpressionAttributeValues: { ':id': providerId, ':n': providerName, ':at': at },
    }),
  );
}

export interface ProviderSummary {
  providerId: string;
  providerName?: string;
  control: ProviderControl;
  pending: ProviderRequest[];
  recent: ProviderRequest[];
}

/** The Providers page: every provider seen or controlled, its state and its open requests. */
export async function listProviders(): Promise<ProviderSummary[]> {
  const out = await db().send(new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'PROVIDERS' } }));
  const dir = (out.Items ?? []).map((i) => ({ providerId: String(i.providerId ?? i.sk), providerName: typeof i.providerName === 'string' ? i.providerName : undefined }));
  return Promise.all(
    dir.map(async (d) => {
      const [control, requests] = await Promise.all([getControl(d.providerId), listRequests(d.providerId)]);
      return {
        providerId: d.providerId,
        ...(d.providerName ? { providerName: d.providerName } : {}),
        control,
        pending: requests.filter((r) => r.status === 'PENDING' && r.expiresAt > new Date().toISOString()),
        recent: requests.slice(0, 5),
      };
    }),
  );
}

/** Operator A asks for a control. Nothing changes until a second operator approves. */
export async function requestProviderControl(
  providerId: string,
  input: { action: ProviderAction; reason: string; holdHours?: number; operatorId: string; at?: Date },
): Promise<ProviderRequest> {
  const now = input.at ?? new Date();
  const at = now.toISOString();
  const request: ProviderRequest = {
    providerId,
    requestId: randomUUID(),
    action: input.action,
    reason: input.reason,
    ...(input.holdHours !== undefined ? { holdHours: input.holdHours } : {}),
    status: 'PENDING',
    requestedBy: input.operatorId,
    requestedAt: at,
    expiresAt: new Date(now.getTime() + fraudConfig().FRAUD_REQUEST_TTL_HOURS * 3_600_000).toISOString(),
  };
  const ok = await transact([
    { Put: { TableName: tableName(), Item: { ...requestKey(providerId, request.requestId), kind: 'PROVIDER_REQUEST', ...request }, ConditionExpression: 'attribute_not_exists(pk)' } },
    // The directory entry exists for any provider an operator has acted on, seen in a link or not.
    {
      Update: {
        TableName: tableName(),
        Key: directoryKey(providerId),
        UpdateExpression: 'SET providerId = :id',
        ExpressionAttributeValues: { ':id': providerId },
      },
    },
    providerAuditPut(providerId, {
      at,
      action: `requestProvider${input.action}`,
      actor: 'OPERATOR',
      operatorId: input.operatorId,
      oldState: 'NONE',
      newState: 'REQUESTED',
    }),
  ]);
  if (!ok) throw new FraudRefusedError(409, 'CONFLICT', 'the request could not be recorded; try again');
  return request;
}

/**
 * Operator B approves. Refusals: 404 unknown request, 403 same operator, 409 not pending /
 * expired / already in that state. SUSPEND and RESUME take effect here; bulk actions start.
 */
export async function approveProviderControl(providerId: string, requestId: string, approverId: string, at = new Date()): Promise<{ request: ProviderRequest; eventPublished?: boolean }> {
  const iso = at.toISOString();
  const request = await getRequest(providerId, requestId);
  if (!request) throw new FraudRefusedError(404, 'REQUEST_NOT_FOUND', 'no such provider request');
  if (request.requestedBy === approverId) throw new FraudRefusedError(403, 'SAME_OPERATOR', 'the approver must be a different operator from the one who asked');
  if (request.status !== 'PENDING') throw new FraudRefusedError(409, 'REQUEST_NOT_PENDING', 'this request was already approved');
  if (request.expiresAt <= iso) throw new FraudRefusedError(409, 'REQUEST_EXPIRED', 'this request expired; ask again');
  const approveRequest = (status: RequestStatus): TransactItem => ({
    Update: {
      TableName: tableName(),
      Key: requestKey(providerId, requestId),
      UpdateExpression: `SET #st = :status, approvedBy = :b, approvedAt = :at${status === 'DONE' ? ', finishedAt = :at' : ', seen = :z, changed = :z'}`,
      ConditionExpression: '#st = :pending AND requestedBy <> :b AND expiresAt > :at',
      ExpressionAttributeNames: { '#st': 'status' },
      ExpressionAttributeValues: { ':status': status, ':pending': 'PENDING', ':b': approverId, ':at': iso, ...(status === 'DONE' ? {} : { ':z': 0 }) },
    },
  });
  const audit = (oldState: string, newState: string) =>
    providerAuditPut(providerId, { at: iso, action: `provider${request.action}`, actor: 'OPERATOR', operatorId: request.requestedBy, approverId, oldState, newState });

  if (request.action === 'SUSPEND' || request.action === 'RESUME') {
    const suspend = request.action === 'SUSPEND';
    const control = await getControl(providerId);
    if (control.suspended === suspend) throw new FraudRefusedError(409, suspend ? 'ALREADY_SUSPENDED' : 'NOT_SUSPENDED', suspend ? 'new links to this provider are already suspended' : 'new links to this provider are not suspended');
    const detail = { providerId, at: iso, requestId, operatorId: request.requestedBy, approverId, reason: request.reason };
    const { o, put } = outboxed(suspend ? { detailType: 'ProviderSuspended', detail } : { detailType: 'ProviderResumed', detail }, iso);
    const ok = await transact([
      {
        Update: {
          TableName: tableName(),
          Key: key.providerControl(providerId),
          UpdateExpression: `SET providerId = :id, suspended = :s, version = :next, updatedAt = :at, ${suspend ? 'suspendedAt' : 'resumedAt'} = :at`,
          // Conditioned on the state and version just read: a concurrent approval makes one change.
          ConditionExpression: control.version === 0 ? 'attribute_not_exists(pk) OR (suspended = :old AND version = :v)' : 'suspended = :old AND version = :v',
          ExpressionAttributeValues: { ':id': providerId, ':s': suspend, ':old': !suspend, ':v': control.version, ':next': control.version + 1, ':at': iso },
        },
      },
      approveRequest('DONE'),
      audit(suspend ? 'LINKS_ALLOWED' : 'NEW_LINKS_SUSPENDED', suspend ? 'NEW_LINKS_SUSPENDED' : 'LINKS_ALLOWED'),
      put,
    ]);
    if (!ok) throw new FraudRefusedError(409, 'CONFLICT', 'the provider or the request changed meanwhile; reload and try again');
    const eventPublished = await publishCommitted(o);
    return { request: { ...request, status: 'DONE', approvedBy: approverId, approvedAt: iso, finishedAt: iso }, eventPublished };
  }

  const ok = await transact([
    approveRequest('RUNNING'),
    { Put: { TableName: tableName(), Item: { ...jobKey(requestId), providerId, requestId, action: request.action, approvedAt: iso } } },
    audit('REQUESTED', 'RUNNING'),
  ]);
  if (!ok) throw new FraudRefusedError(409, 'CONFLICT', 'the request changed meanwhile; reload and try again');
  return { request: { ...request, status: 'RUNNING', approvedBy: approverId, approvedAt: iso, seen: 0, changed: 0 } };
}
