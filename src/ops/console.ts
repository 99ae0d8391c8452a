/**
 * The operations console's read API, mounted in the ops function's router:
 *   GET /ops/whoami                         the signed-in operator (from the authorizer)
 *   GET /ops/overview?range=hour|day|week   counters and chart series (src/console-data/metrics.ts)
 *   GET /ops/accounts/{accountId}           state, links, alerts with per-channel delivery, audit
 *                                           timeline, unfreeze requests; contacts masked
 *   GET /ops/audit/export?from=&to=&format=csv|jsonl[&cursor=]
 *                                           audit entries of a UTC date range, oldest first
 *
 * The export is produced by an async generator of text chunks (AuditByDay index, a k-way merge
 * of its shards per day), so memory is one page per shard whatever the range. Behind API
 * Gateway's HTTP API a Lambda answer is buffered (6 MB), so one response carries at most
 * EXPORT_PAGE_ROWS rows and an `x-next-cursor` header; the console follows the cursor and joins
 * the pages into one file. A function URL with Lambda response streaming could pipe the same
 * generator in one response; for multi-million-row ranges the same generator can write to S3.
 *
 * Operators see what they need to help a customer and no more: contacts are masked, tokens are
 * shown only as the 8-character reference the audit keeps.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName, queryByPrefix } from '../store/db.ts';
import { AUDIT_DAY_SHARDS, key } from '../store/table.ts';
import { getAccount, getCustomer } from '../store/customers.ts';
import { listLinks } from '../store/links.ts';
import { listAudit } from '../store/audit.ts';
import { effectiveLinkState } from '../domain/account.ts';
import { listUnfreezeRequests } from '../store/actions.ts';
import type { AuditEntry } from '../store/types.ts';
import { readMetrics, type MetricRange } from '../console-data/metrics.ts';

export interface ConsoleRequest {
  method: string;
  /** Path as received, e.g. /ops/accounts/acc-1 (API Gateway's rawPath). */
  path: string;
  query: Record<string, string | undefined>;
  /** The operator's id from the authorizer (Cognito sub / dev login). */
  operatorId: string;
}

export interface ConsoleResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export const EXPORT_PAGE_ROWS = 5_000;
const MAX_EXPORT_DAYS = 400;
const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

const json = (statusCode: number, body: unknown): ConsoleResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});
const problem = (statusCode: number, error: string, field?: string) => json(statusCode, field ? { error, field } : { error });

/**
 * Answers the console's read routes; undefined for any other route, so the ops router can try
 * its other modules (campaigns, unfreeze).
 */
export async function handleConsoleRequest(req: ConsoleRequest): Promise<ConsoleResponse | undefined> {
  if (req.method !== 'GET') return undefined;
  const path = req.path.replace(/\/+$/, '');
  if (path === '/ops/whoami') return json(200, { operatorId: req.operatorId });
  if (path === '/ops/overview') return overview(req.query.range);
  if (path === '/ops/audit/export') return auditExport(req.query);
  const m = /^\/ops\/accounts\/([^/]+)$/.exec(path);
  if (m) return accountView(decodeURIComponent(m[1]!));
  return undefined;
}

/** The same, for an API Gateway HTTP API (payload 2.0) event with a JWT authorizer. */
export function consoleRequestFromEvent(event: {
  rawPath?: string;
  requestContext?: { http?: { method?: string; path?: string }; authorizer?: { jwt?: { claims?: Record<string, unknown> } } };
  queryStringParameters?: Record<string, string | undefined> | null;
}): ConsoleRequest | undefined {
  const operatorId = event.requestContext?.authorizer?.jwt?.claims?.sub;
  if (typeof operatorId !== 'string' || operatorId === '') return undefined;
  return {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? event.requestContext?.http?.path ?? '',
    query: event.queryStringParameters ?? {},
    operatorId,
  };
}

async function overview(range: string | undefined): Promise<ConsoleResponse> {
  const r = (range ?? 'day') as MetricRange;
  if (!['hour', 'day', 'week'].includes(r)) return problem(400, 'range must be hour, day or week', 'range');
  const metrics = await readMetrics(r);
  const sum = (pred: (name: string) => boolean) =>
    Object.entries(metrics.totals).reduce((a, [name, n]) => (pred(name) ? a + n : a), 0);
  return json(200, {
    ...metrics,
    summary: {
      alertsSent: sum((n) => n.startsWith('alert:')),
      alertsByChannel: { EMAIL: sum((n) => n.startsWith('alert:') && n.endsWith('|EMAIL')), SMS: sum((n) => n.startsWith('alert:') && n.endsWith('|SMS')) },
      freezes: sum((n) => n.startsWith('freeze|')),
      revokes: sum((n) => n.startsWith('revoke|')),
      confirmations: sum((n) => n.startsWith('confirm|')),
      holds: sum((n) => n.startsWith('hold|')),
      undelivered: sum((n) => n.startsWith('undelivered|')),
      unfreezes: sum((n) => n.startsWith('unfreeze|')),
    },
  });
}

/** a•••@example.com: enough to confirm with the customer on the phone, not enough to use. */
export function maskEmail(email: string | undefined): string | undefined {
  if (!email) return undefined;
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${email[0]}•••@${email.slice(at + 1)}`;
}

/** +81 •••• 5678: country code and last four digits. */
export function maskPhone(phone: string | undefined): string | undefined {
  if (!phone) return undefined;
  const cc = /^\+(1|7|\d{2})/.exec(phone)?.[0] ?? '+';
  return `${cc} •••• ${phone.slice(-4)}`;
}

/**
 * Alert items belong to the alert pipeline (src/store/alerts.ts): `deliveries` maps
 * "{channel}#{recipientRef}" to the message's status. Only ids, kinds, roles and statuses are
 * shown: never the recipient address or the message content.
 */
export function alertSummary(a: Record<string, unknown>) {
  const delivery: { channel: string; status: string; role?: string; at?: string; reason?: string }[] = [];
  const deliveries = a.deliveries;
  if (deliveries && typeof deliveries === 'object') {
    for (const [k, v] of Object.entries(deliveries as Record<string, unknown>)) {
      const d = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
      const at = d.updatedAt ?? d.sentAt;
      delivery.push({
        channel: String(d.channel ?? k.split('#')[0]),
        status: String(d.status ?? 'UNKNOWN'),
        ...(typeof d.role === 'string' ? { role: d.role } : {}),
        ...(typeof at === 'string' ? { at } : {}),
        ...(typeof d.detail === 'string' ? { reason: d.detail } : {}),
      });
    }
  }
  delivery.sort((x, y) => x.channel.localeCompare(y.channel) || (x.role ?? '').localeCompare(y.role ?? ''));
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    alertId: str(a.alertId) ?? '',
    kind: str(a.sourceEventType) ?? '',
    createdAt: str(a.occurredAt) ?? str(a.createdAt) ?? '',
    ...(str(a.sentAt) ? { sentAt: str(a.sentAt) } : {}),
    ...(str(a.undeliveredReportedAt) ? { undeliveredReportedAt: str(a.undeliveredReportedAt) } : {}),
    delivery,
  };
}

async function accountView(accountId: string): Promise<ConsoleResponse> {
  if (!ID_RE.test(accountId)) return problem(400, 'account id: letters, digits and . _ : - only, at most 64', 'accountId');
  const account = await getAccount(accountId);
  if (!account) return problem(404, `no account ${accountId}`);
  const now = new Date();
  const [customer, links, accountAlerts, customerAlerts, audit, unfreeze] = await Promise.all([
    getCustomer(account.customerId),
    listLinks(accountId),
    queryByPrefix(key.account(accountId).pk, 'ALERT#'),
    // Contact-change alerts belong to the customer, not to one account.
    queryByPrefix(key.customer(account.customerId).pk, 'ALERT#'),
    listAudit(accountId),
    listUnfreezeRequests(accountId),
  ]);
  const alerts = [...accountAlerts, ...customerAlerts];
  return json(200, {
    account: { accountId, last4: account.last4, state: account.state, updatedAt: account.updatedAt, version: account.version },
    customer: customer
      ? {
          customerId: customer.customerId,
          locale: customer.locale,
          email: maskEmail(customer.email),
          phone: maskPhone(customer.phone),
          suppressedEmail: customer.suppressedEmail === true,
          suppressedPhone: customer.suppressedPhone === true,
        }
      : { customerId: account.customerId },
    links: links.map((l) => ({
      linkId: l.linkId,
      providerId: l.providerId,
      providerName: l.providerName,
      linkType: l.linkType,
      state: l.state,
      effectiveState: effectiveLinkState(l, now),
      createdAt: l.createdAt,
      holdUntil: l.holdUntil,
      updatedAt: l.updatedAt,
    })),
    alerts: alerts.map(alertSummary).sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    audit: audit.map(auditRow).reverse(),
    unfreezeRequests: unfreeze,
  });
}

const AUDIT_COLUMNS = ['at', 'accountId', 'action', 'actor', 'target', 'oldState', 'newState', 'alertId', 'tokenRef', 'operatorId', 'approverId', 'verificationRef', 'entryId'] as const;

function auditRow(e: AuditEntry | Record<string, unknown>): Record<string, string> {
  const r: Record<string, string> = {};
  for (const c of AUDIT_COLUMNS) {
    const v = (e as Record<string, unknown>)[c];
    if (v !== undefined && v !== null) r[c] = String(v);
  }
  return r;
}

/** RFC 4180 quoting, and a leading ' on cells a spreadsheet would run as a formula. */
export function csvCell(v: string | undefined): string {
  if (v === undefined) return '';
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const AUDIT_CSV_HEADER = `${AUDIT_COLUMNS.join(',')}\r\n`;

interface Cursor {
  /** UTC day being exported. */
  d: string;
  /** Last sort key emitted that day. */
  s: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}
function decodeCursor(s: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(c.d) && typeof c.s === 'string' && c.s.startsWith('AUDIT#')) return c;
  } catch {
    // fall through
  }
  return undefined;
}

/** One shard's entries of a day after `afterSk`, oldest first, page by page. */
async function* shardEntries(day: string, shard: number, afterSk: string): AsyncGenerator<Record<string, unknown>> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'AuditByDay',
        KeyConditionExpression: 'auditDay = :d AND sk > :s',
        ExpressionAttributeValues: { ':d': `${day}#${shard}`, ':s': afterSk },
        ExclusiveStartKey: start,
        Limit: 500,
      }),
    );
    for (const i of out.Items ?? []) yield i;
    start = out.LastEvaluatedKey;
  } while (start);
}

/** Every audit entry of a UTC day in time order: a k-way merge of the day's index shards. */
async function* dayEntries(day: string, afterSk: string): AsyncGenerator<Record<string, unknown>> {
  const heads = await Promise.all(
    Array.from({ length: AUDIT_DAY_SHARDS }, async (_, s) => {
      const it = shardEntries(day, s, afterSk);
      const first = await it.next();
      return { it, cur: first.done ? undefined : first.value };
    }),
  );
  for (;;) {
    let best: (typeof heads)[number] | undefined;
    for (const h of heads) if (h.cur && (!best || String(h.cur.sk) < String(best.cur!.sk))) best = h;
    if (!best) return;
    yield best.cur!;
    const next = await best.it.next();
    best.cur = next.done ? undefined : next.value;
  }
}

function* days(from: string, to: string): Generator<string> {
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) yield new Date(t).toISOString().slice(0, 10);
}

export interface AuditExportOptions {
  from: string;
  to: string;
  format: 'csv' | 'jsonl';
  cursor?: string;
  /** Stop after this many rows and report where to continue. */
  maxRows?: number;
}

/**
 * The export as text chunks (one per row, the CSV header first when starting). The generator's
 * return value is the cursor to continue from, or undefined when the range is complete.
 */
export async function* exportAuditChunks(opts: AuditExportOptions): AsyncGenerator<string, string | undefined> {
  const cursor = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  if (opts.format === 'csv' && !cursor) yield AUDIT_CSV_HEADER;
  let rows = 0;
  for (const day of days(cursor?.d ?? opts.from, opts.to)) {
    let lastSk = cursor && cursor.d === day ? cursor.s : 'AUDIT#';
    for await (const item of dayEntries(day, lastSk)) {
      if (opts.maxRows !== undefined && rows >= opts.maxRows) return encodeCursor({ d: day, s: lastSk });
      const row = auditRow(item);
      yield opts.format === 'csv' ? `${AUDIT_COLUMNS.map((c) => csvCell(row[c])).join(',')}\r\n` : `${JSON.stringify(row)}\n`;
      rows++;
      lastSk = String(item.sk);
    }
  }
  return undefined;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

async function auditExport(q: Record<string, string | undefined>): Promise<ConsoleResponse> {
  const { from, to } = q;
  const format = q.format ?? 'csv';
  if (!from || !DAY_RE.test(from) || Number.isNaN(Date.parse(`${from}T00:00:00Z`))) return problem(400, 'from must be a date YYYY-MM-DD (UTC)', 'from');
  if (!to || !DAY_RE.test(to) || Number.isNaN(Date.parse(`${to}T00:00:00Z`))) return problem(400, 'to must be a date YYYY-MM-DD (UTC)', 'to');
  if (to < from) return problem(400, 'to must not be before from', 'to');
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_EXPORT_DAYS) return problem(400, `at most ${MAX_EXPORT_DAYS} days per export`, 'to');
  if (format !== 'csv' && format !== 'jsonl') return problem(400, 'format must be csv or jsonl', 'format');
  if (q.cursor !== undefined && !decodeCursor(q.cursor)) return problem(400, 'cursor is not one this export issued', 'cursor');

  const gen = exportAuditChunks({ from, to, format, maxRows: EXPORT_PAGE_ROWS, ...(q.cursor ? { cursor: q.cursor } : {}) });
  const chunks: string[] = [];
  let next: IteratorResult<string, string | undefined>;
  while (!(next = await gen.next()).done) chunks.push(next.value);
  const headers: Record<string, string> = {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'content-disposition': `attachment; filename="audit-${from}-${to}.${format === 'csv' ? 'csv' : 'jsonl'}"`,
    'cache-control': 'no-store',
    'access-control-expose-headers': 'x-next-cursor',
  };
  if (next.value) headers['x-next-cursor'] = next.value;
  return { statusCode: 200, headers, body: chunks.join('') };
}
