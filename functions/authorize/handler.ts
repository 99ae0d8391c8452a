/**
 * POST /v1/authorize: the core bank asks, before every debit, whether it may go through; a debit
 * through a pending link or cardless-ATM app reserves from the account's one allowance.
 * POST /v1/authorize/release: the core gives back the reservation of a debit that did not happen.
 * Authenticated by API Gateway (IAM/SigV4 in AWS; the local server checks x-api-key), so the
 * handler trusts its caller. Reads are strongly consistent: the moment freezeAccount returns,
 * every decision sees the freeze. The rules are in src/domain/authorize.ts and
 * src/domain/allowance.ts, the orchestration in src/holds/authorize-service.ts; the contract for
 * the core's developers in docs/authorize.md. Loads DynamoDB only.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { WithdrawalChannel } from '../../events/core.ts';
import { runtimeConfig } from '../../src/config.ts';
import { authorizeWithAllowance, releaseAuthorization, type AuthorizeOutcome, type ReleaseAnswer } from '../../src/holds/authorize-service.ts';
import { countEvent } from '../../src/console-data/metrics.ts';

const logger = new Logger({ serviceName: 'authorize' });
const metrics = new Metrics({ serviceName: 'authorize' });

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

export const AuthorizeRequest = z
  .object({
    accountId: id,
    channel: WithdrawalChannel,
    /** Minor units, a positive integer (JPY has none: 10000 = ¥10,000). */
    amount: z.number().int().positive().max(1e13),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code such as JPY'),
    /** Set when the debit goes through a link (e-payment charge, cardless app). */
    linkId: id.optional(),
    /**
     * The core's reference for this debit, echoed back. Makes the call idempotent: a retry with
     * the same requestId reserves nothing twice; send it on the WithdrawalPosted as
     * authorizeRequestId, and to /v1/authorize/release if the debit does not happen.
     */
    requestId: id.optional(),
  })
  .strict();
export type AuthorizeRequest = z.infer<typeof AuthorizeRequest>;

export const ReleaseRequest = z.object({ accountId: id, requestId: id }).strict();
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

/** The hold limit is configured in yen. */
const HOLD_LIMIT_CURRENCY = 'JPY';
const MAX_BODY_BYTES = 4096;

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** 400 naming the first offending field (an unknown field is named too). */
export function badRequest(field: string, message: string): APIGatewayProxyStructuredResultV2 {
  return json(400, { error: 'INVALID_REQUEST', field, message });
}

export function parseAuthorizeBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>):
  | { ok: true; request: AuthorizeRequest }
  | { ok: false; response: APIGatewayProxyStructuredResultV2 } {
  return parseBody(event, AuthorizeRequest);
}

function parseBody<T>(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, schema: z.ZodType<T>):
  | { ok: true; request: T }
  | { ok: false; response: APIGatewayProxyStructuredResultV2 } {
  if (!event.body) return { ok: false, response: badRequest('body', 'a JSON object is required') };
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) return { ok: false, response: badRequest('body', `at most ${MAX_BODY_BYTES} bytes`) };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, response: badRequest('body', 'not valid JSON') };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, response: badRequest('body', 'a JSON object is required') };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'body';
    return { ok: false, response: badRequest(field, issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message) };
  }
  return { ok: true, request: parsed.data };
}

const unavailable = () => json(503, { error: 'UNAVAILABLE', message: 'state could not be read or changed; not authorised, retry' });

async function authorize(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const parsed = parseAuthorizeBody(event);
  if (!parsed.ok) {
    metrics.addMetric('AuthorizeBadRequests', MetricUnit.Count, 1);
    return parsed.response;
  }
  const req = parsed.request;
  const now = new Date();
  const cfg = runtimeConfig();
  let d: AuthorizeOutcome;
  try {
    d = await authorizeWithAllowance(req, { limitMinor: cfg.HOLD_LIMIT_MINOR, limitCurrency: HOLD_LIMIT_CURRENCY }, now);
  } catch (e) {
    // No decision without the latest state: the core treats 503 as "not authorised, retry".
    logger.error('state unavailable', { accountId: req.accountId, requestId: req.requestId, error: e instanceof Error ? e.name : 'unknown' });
    metrics.addMetric('AuthorizeUnavailable', MetricUnit.Count, 1);
    return unavailable();
  }
  if (d.kind === 'REQUEST_ID_CONFLICT') {
    logger.warn('requestId conflict', { accountId: req.accountId, requestId: req.requestId, error: d.error });
    metrics.addMetric('AuthorizeRequestIdConflicts', MetricUnit.Count, 1);
    return json(409, { error: d.error, field: 'requestId', message: d.message });
  }
  // Holds are decisions, not stored changes: counted for the operations overview (never fails us).
  if (d.decision === 'HOLD') await countEvent('hold', 'API', now, req.requestId ? { dedupeKey: `hold#${req.accountId}#${req.requestId}` } : {});
  logger.info('debit decision', { accountId: req.accountId, linkId: req.linkId, requestId: req.requestId, channel: req.channel, decision: d.decision, reason: d.reason, remaining: d.allowance.remaining, replayed: d.replayed });
  metrics.addDimension('decision', d.decision);
  metrics.addMetric('AuthorizeDecisions', MetricUnit.Count, 1);
  return json(200, {
    decision: d.decision,
    reason: d.reason,
    accountId: req.accountId,
    ...(req.linkId ? { linkId: req.linkId } : {}),
    ...(req.requestId ? { requestId: req.requestId } : {}),
    allowance: d.allowance,
    ...(d.replayed ? { replayed: true } : {}),
    decidedAt: now.toISOString(),
  });
}

/** The answers of POST /v1/authorize/release: HTTP status and body. */
function releaseResponse(req: ReleaseRequest, r: ReleaseAnswer): APIGatewayProxyStructuredResultV2 {
  const ids = { accountId: req.accountId, requestId: req.requestId };
  switch (r.kind) {
    case 'UNKNOWN_ACCOUNT':
      return json(404, { error: 'UNKNOWN_ACCOUNT', field: 'accountId', message: 'no such account; nothing changed' });
    case 'UNKNOWN_RESERVATION':
      return json(404, { error: 'UNKNOWN_RESERVATION', field: 'requestId', message: 'nothing is reserved under this requestId on this account; nothing changed' });
    case 'ALREADY_POSTED':
      return json(409, { error: 'ALREADY_POSTED', field: 'requestId', message: 'the debit was posted (WithdrawalPosted); its reservation cannot be given back', ...ids, amount: r.amount, allowance: r.allowance });
    case 'RELEASED':
    case 'ALREADY_RELEASED':
      return json(200, { released: r.kind === 'RELEASED', ...(r.kind === 'ALREADY_RELEASED' ? { alreadyReleased: true } : {}), ...ids, amount: r.amount, allowance: r.allowance });
  }
}

async function release(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const parsed = parseBody(event, ReleaseRequest);
  if (!parsed.ok) {
    metrics.addMetric('AuthorizeBadRequests', MetricUnit.Count, 1);
    return parsed.response;
  }
  const req = parsed.request;
  const cfg = runtimeConfig();
  let r: ReleaseAnswer;
  try {
    r = await releaseAuthorization(req.accountId, req.requestId, { limitMinor: cfg.HOLD_LIMIT_MINOR, limitCurrency: HOLD_LIMIT_CURRENCY });
  } catch (e) {
    logger.error('release failed', { accountId: req.accountId, requestId: req.requestId, error: e instanceof Error ? e.name : 'unknown' });
    metrics.addMetric('AuthorizeUnavailable', MetricUnit.Count, 1);
    return unavailable();
  }
  logger.info('reservation release', { accountId: req.accountId, requestId: req.requestId, outcome: r.kind });
  metrics.addDimension('outcome', r.kind);
  metrics.addMetric('AuthorizeReleases', MetricUnit.Count, 1);
  return releaseResponse(req, r);
}

export const RELEASE_ROUTE = 'POST /v1/authorize/release';

/** One function, two routes (src/routing.ts): told apart by API Gateway's route key. */
const route = (event: APIGatewayProxyEventV2) => (event.routeKey === RELEASE_ROUTE ? release(event) : authorize(event));

export const handler = middy(route).use(injectLambdaContext(logger)).use(logMetrics(metrics));
