/**
 * Incidents: what a rule that fires opens. One open incident per (rule, key): the pointer
 * FRAUDOPEN#{rule}#{key} is created with the incident in one transaction (conditional), so two
 * events firing at once open one; later hits join it. Each account/link joins once (a
 * conditional member put with the incident's counters in one transaction). The links involved are
 * held for longer (FRAUD_INCIDENT_HOLD_HOURS after their creation), audited as SYSTEM.
 * Opening publishes SuspiciousActivityDetected through the outbox, in the opening transaction.
 */
import { createHash } from 'node:crypto';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../../store/db.ts';
import { outboxed, publishCommitted, transact, FraudRefusedError } from '../common.ts';
import { fraudConfig } from '../config.ts';
import { extendLinkHold } from '../providers/bulk.ts';
import type { RuleName } from './rules.ts';

export interface Member {
  accountId: string;
  linkId?: string | undefined;
}

export interface Incident {
  incidentId: string;
  rule: RuleName;
  key: string;
  state: 'OPEN' | 'CLOSED';
  openedAt: string;
  lastHitAt: string;
  accounts: number;
  links: number;
  providerIds: string[];
  closedAt?: string;
  closedBy?: string;
  closeReason?: string;
}

export interface IncidentMember extends Member {
  joinedAt: string;
  holdExtended?: boolean;
}

const incidentKey = (id: string) => ({ pk: 'INCIDENTS', sk: `INC#${id}` });
const pointerKey = (rule: RuleName, k: string) => ({ pk: `FRAUDOPEN#${rule}#${k}`, sk: 'OPEN' });
const memberKey = (id: string, m: Member) => ({ pk: `INCIDENT#${id}`, sk: `M#${m.accountId}#${m.linkId ?? '-'}` });

function newIncidentId(rule: RuleName, k: string, at: string): string {
  return `inc-${at.slice(0, 10).replaceAll('-', '')}-${createHash('sha256').update(`${rule}|${k}|${at}`).digest('hex').slice(0, 10)}`;
}

export interface IncidentOutcome {
  incidentId: string;
  opened: boolean;
  joined: number;
  holdsExtended: number;
  /** Links not stored yet (their LinkCreated still on its way through the alert function): retry. */
  linksMissing: number;
}

export async function openOrJoinIncident(rule: RuleName, k: string, members: readonly Member[], providerIds: readonly string[], now = new Date()): Promise<IncidentOutcome> {
  const at = now.toISOString();
  let incidentId: string | undefined;
  let opened = false;
  for (let attempt = 0; attempt < 3 && !incidentId; attempt++) {
    const pointer = await db().send(new GetCommand({ TableName: tableName(), Key: pointerKey(rule, k), ConsistentRead: true }));
    if (pointer.Item) {
      incidentId = String(pointer.Item.incidentId);
      break;
    }
    const id = newIncidentId(rule, k, at);
    const accounts = new Set(members.map((m) => m.accountId)).size;
    const links = members.filter((m) => m.linkId).length;
    const event = outboxed(
      { detailType: 'SuspiciousActivityDetected', detail: { incidentId: id, rule, key: k.slice(0, 200), providerIds: [...providerIds].slice(0, 50), accounts, links, at } },
      at,
    );
    const incident: Incident = { incidentId: id, rule, key: k, state: 'OPEN', openedAt: at, lastHitAt: at, accounts: 0, links: 0, providerIds: [...providerIds] };
    const ok = await transact([
      { Put: { TableName: tableName(), Item: { ...pointerKey(rule, k), incidentId: id }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: tableName(), Item: { ...incidentKey(id), kind: 'INCIDENT', ...incident }, ConditionExpression: 'attribute_not_exists(pk)' } },
      event.put,
    ]);
    if (ok) {
      incidentId = id;
      opened = true;
      await publishCommitted(event.o);
    }
  }
  if (!incidentId) throw new FraudRefusedError(409, 'CONFLICT', 'could not open or find the incident');

  // One query of the members, then writes only for what is new: a burst of hits stays linear.
  const known = new Map((await listMembers(incidentId)).map((x) => [`${x.accountId}#${x.linkId ?? '-'}`, x]));
  let joined = 0;
  for (const m of members) {
    if (known.has(`${m.accountId}#${m.linkId ?? '-'}`)) continue;
    // Concurrent hits update the same incident item: a lost race (or a member added meanwhile) is retried briefly.
    const join = () => transact([
      { Put: { TableName: tableName(), Item: { ...memberKey(incidentId, m), ...m, joinedAt: at }, ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Update: {
          TableName: tableName(),
          Key: incidentKey(incidentId),
          UpdateExpression: 'ADD accounts :one, links :l SET lastHitAt = :at',
          ExpressionAttributeValues: { ':one': 1, ':l': m.linkId ? 1 : 0, ':at': at },
        },
      },
    ]);
    let ok = await join();
    for (let attempt = 1; !ok && attempt < 3; attempt++) {
      await new Promise((r) => setTimeout(r, 20 * attempt));
      ok = await join();
    }
    if (ok) joined++;
  }

  // Hold the links involved for longer; a member whose hold is done is not read again.
  let holdsExtended = 0;
  let linksMissing = 0;
  for (const m of members) {
    if (!m.linkId || known.get(`${m.accountId}#${m.linkId}`)?.holdExtended) continue;
    const r = await extendLinkHold(m.accountId, m.linkId, fraudConfig().FRAUD_INCIDENT_HOLD_HOURS, { actor: 'SYSTEM' }, now);
    if (r === 'MISSING') {
      linksMissing++;
      continue;
    }
    if (r === 'EXTENDED') holdsExtended++;
    await db().send(new UpdateCommand({ TableName: tableName(), Key: memberKey(incidentId, m), UpdateExpression: 'SET holdExtended = :t', ExpressionAttributeValues: { ':t': true } }));
  }
  return { incidentId, opened, joined, holdsExtended, linksMissing };
}

export async function getIncident(incidentId: string): Promise<Incident | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: incidentKey(incidentId), ConsistentRead: true }));
  if (!out.Item) return undefined;
  const { pk: _p, sk: _s, kind: _k, ...rest } = out.Item;
  return rest as Incident;
}

export async function listMembers(incidentId: string): Promise<IncidentMember[]> {
  const items: IncidentMember[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}` }, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const i of out.Items ?? []) {
      const { pk: _p, sk: _s, ...rest } = i;
      items.push(rest as IncidentMember);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Newest first. */
export async function listIncidents(): Promise<Incident[]> {
  const items: Incident[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'INCIDENTS' }, ExclusiveStartKey: start }));
    for (const i of out.Items ?? []) {
      const { pk: _p, sk: _s, kind: _k, ...rest } = i;
      items.push(rest as Incident);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => b.openedAt.localeCompare(a.openedAt));
}

/** An operator closes an incident (with a reason); the next hit of its rule and key opens a new one. */
export async function closeIncident(incidentId: string, operatorId: string, reason: string, now = new Date()): Promise<Incident> {
  const incident = await getIncident(incidentId);
  if (!incident) throw new FraudRefusedError(404, 'INCIDENT_NOT_FOUND', 'no such incident');
  if (incident.state !== 'OPEN') throw new FraudRefusedError(409, 'INCIDENT_NOT_OPEN', 'the incident is already closed');
  const at = now.toISOString();
  const ok = await transact([
    {
      Update: {
        TableName: tableName(),
        Key: incidentKey(incidentId),
        UpdateExpression: 'SET #s = :closed, closedAt = :at, closedBy = :by, closeReason = :r',
        ConditionExpression: '#s = :open',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':closed': 'CLOSED', ':open': 'OPEN', ':at': at, ':by': operatorId, ':r': reason },
      },
    },
    { Delete: { TableName: tableName(), Key: pointerKey(incident.rule, incident.key), ConditionExpression: 'incidentId = :id', ExpressionAttributeValues: { ':id': incidentId } } },
  ]);
  if (!ok) throw new FraudRefusedError(409, 'INCIDENT_NOT_OPEN', 'the incident changed meanwhile');
  return { ...incident, state: 'CLOSED', closedAt: at, closedBy: operatorId, closeReason: reason };
}
