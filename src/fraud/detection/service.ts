/**
 * Detection on one core event (LinkCreated, AppActivated, ContactChanged): record the sightings,
 * check the rules, open or join incidents. Returns what happened for the handler to count (the
 * IncidentsOpened metric is what the alarm watches).
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AppActivated, ContactChanged, LinkCreated } from '../../../events/core.ts';
import { getAccount, getCustomer } from '../../store/customers.ts';
import { db, isConditionFailure, tableName } from '../../store/db.ts';
import { TTL_ATTRIBUTE } from '../../store/table.ts';
import { fraudConfig } from '../config.ts';
import { noteProvider } from '../providers/store.ts';
import { minuteCounts, recordSighting, sightings } from './counters.ts';
import { openOrJoinIncident, type IncidentOutcome } from './incidents.ts';
import { fullestWindow, linksAfterContactChange, minuteOf, originKey, providerRate, ruleFor, windowUpperBound, type CustomerEvent, type Dimension } from './rules.ts';

export type DetectableEvent =
  | { detailType: 'LinkCreated'; detail: LinkCreated }
  | { detailType: 'AppActivated'; detail: AppActivated }
  | { detailType: 'ContactChanged'; detail: ContactChanged };

export interface DetectionOutcome {
  incidents: IncidentOutcome[];
  /** The subject account could not be found (unknown customer): nothing counted. */
  skipped?: boolean;
}

/** Accounts per IP / device: record, then check the windows containing this event. */
async function checkOrigin(dim: Exclude<Dimension, 'provider'>, k: string, account: string, at: number, linkId: string | undefined, providerIds: string[]): Promise<IncidentOutcome | undefined> {
  const cfg = fraudConfig();
  await recordSighting(dim, k, account, at, linkId);
  const W = cfg.FRAUD_ACCOUNTS_WINDOW_MINUTES;
  const m = minuteOf(at);
  const counts = await minuteCounts(dim, k, m - W, m + W);
  // Cheap path: the per-minute counts bound every window containing this event from above.
  if (windowUpperBound(counts, m, W) < cfg.FRAUD_ACCOUNTS_THRESHOLD) return undefined;
  const seen = await sightings(dim, k, m - W, m + W);
  const hit = fullestWindow(seen, at, W * 60_000, cfg.FRAUD_ACCOUNTS_THRESHOLD);
  if (!hit.fires) return undefined;
  const windowEnd = hit.start + W * 60_000;
  const members = new Map<string, { accountId: string; linkId?: string }>();
  for (const s of seen) {
    if (s.at < hit.start || s.at >= windowEnd) continue;
    if ((s.links ?? []).length === 0) members.set(`${s.account}#-`, { accountId: s.account });
    for (const l of s.links ?? []) members.set(`${s.account}#${l}`, { accountId: s.account, linkId: l });
  }
  return openOrJoinIncident(ruleFor(dim), k, [...members.values()], providerIds);
}

async function checkProviderRate(providerId: string, account: string, at: number, linkId: string): Promise<IncidentOutcome | undefined> {
  const cfg = fraudConfig();
  await recordSighting('provider', providerId, account, at, linkId);
  const W = cfg.FRAUD_ACCOUNTS_WINDOW_MINUTES;
  const m = minuteOf(at);
  const counts = await minuteCounts('provider', providerId, m - W - 60, m);
  const verdict = providerRate(counts, m, W, cfg.FRAUD_PROVIDER_RATE_MULTIPLIER, cfg.FRAUD_PROVIDER_RATE_MIN_LINKS);
  if (!verdict.fires) return undefined;
  const seen = await sightings('provider', providerId, m - W + 1, m);
  const members = new Map<string, { accountId: string; linkId: string }>();
  for (const s of seen) for (const l of s.links ?? []) members.set(`${s.account}#${l}`, { accountId: s.account, linkId: l });
  return openOrJoinIncident('PROVIDER_LINK_RATE', providerId, [...members.values()], [providerId]);
}

/** Contact changes and links of one customer, for the hour rule: FRAUDCC#{customerId} / E#{time}#{eventId}. */
async function checkContactThenLink(customerId: string, e: CustomerEvent & { eventId: string }, providerIds: string[]): Promise<IncidentOutcome | undefined> {
  const cfg = fraudConfig();
  const within = cfg.FRAUD_CONTACT_LINK_MINUTES * 60_000;
  const pk = `FRAUDCC#${customerId}`;
  const iso = (ms: number) => new Date(ms).toISOString();
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { pk, sk: `E#${iso(e.at)}#${e.eventId}`, kind: e.kind, at: e.at, ...(e.accountId ? { accountId: e.accountId } : {}), ...(e.linkId ? { linkId: e.linkId } : {}), [TTL_ATTRIBUTE]: Math.floor((e.at + within) / 1000) + 3600 },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':pk': pk, ':a': `E#${iso(e.at - within)}`, ':b': `E#${iso(e.at + within)}~` },
      ConsistentRead: true,
    }),
  );
  const events: CustomerEvent[] = (out.Items ?? []).map((i) => ({
    kind: i.kind === 'CONTACT' ? 'CONTACT' : 'LINK',
    at: Number(i.at),
    ...(typeof i.accountId === 'string' ? { accountId: i.accountId } : {}),
    ...(typeof i.linkId === 'string' ? { linkId: i.linkId } : {}),
  }));
  const links = linksAfterContactChange(events, within);
  if (links.length === 0) return undefined;
  return openOrJoinIncident('CONTACT_CHANGE_THEN_LINK', customerId, links.map((l) => ({ accountId: l.accountId!, linkId: l.linkId })), providerIds);
}

export async function detect(event: DetectableEvent): Promise<DetectionOutcome> {
  const incidents: IncidentOutcome[] = [];
  const d = event.detail;
  const at = Date.parse(d.occurredAt);
  let account: string | undefined;
  let customerId: string | undefined;
  let linkId: string | undefined;
  let providerIds: string[] = [];
  if (event.detailType === 'ContactChanged') {
    customerId = event.detail.customerId;
    const c = await getCustomer(customerId, true);
    account = c?.accountIds[0];
  } else {
    account = event.detail.accountId;
    linkId = event.detail.linkId;
  }
  if (!account) return { incidents, skipped: true };
  if (event.detailType === 'LinkCreated') {
    providerIds = [event.detail.provider.id];
    await noteProvider(event.detail.provider.id, event.detail.provider.displayName, event.detail.occurredAt);
  }
  const origin = d.origin;
  const checks: Promise<IncidentOutcome | undefined>[] = [];
  const ip = originKey(origin?.ip);
  const device = originKey(origin?.device);
  if (ip) checks.push(checkOrigin('ip', ip, account, at, linkId, providerIds));
  if (device) checks.push(checkOrigin('device', device, account, at, linkId, providerIds));
  if (event.detailType === 'LinkCreated') {
    checks.push(checkProviderRate(event.detail.provider.id, account, at, event.detail.linkId));
    customerId = (await getAccount(account, false))?.customerId;
    if (customerId) checks.push(checkContactThenLink(customerId, { kind: 'LINK', at, accountId: account, linkId: event.detail.linkId, eventId: d.eventId }, providerIds));
  }
  if (event.detailType === 'ContactChanged' && customerId) checks.push(checkContactThenLink(customerId, { kind: 'CONTACT', at, eventId: d.eventId }, providerIds));
  for (const r of await Promise.all(checks)) if (r) incidents.push(r);
  return { incidents };
}
