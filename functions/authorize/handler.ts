/**
 * POST /v1/authorize: the core bank asks, before every debit, whether it may go through.
 * Authenticated by API Gateway (IAM/SigV4 in AWS; the local server checks x-api-key), so the
 * handler trusts its caller. Reads are strongly consistent: the moment freezeAccount returns,
 * every decision sees the freeze. The rules are in src/domain/authorize.ts.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { WithdrawalChannel } from '../../events/core.ts';
import { runtimeConfig } from '../../src/config.ts';
import { getAccount } from '../../src/store/customers.ts';
import { getLink } from '../../src/store/links.ts';
import { authorizeDebit, type DebitDecision } from '../../src/domain/authorize.ts';
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
    /** The core's reference, echoed back. */
    requestId: id.optional(),
  })
  .strict();
export type AuthorizeRequest = z.infer<typeof AuthorizeRequest>;

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
  const parsed = AuthorizeRequest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'body';
    return { ok: false, response: badRequest(field, issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message) };
  }
  return { ok: true, request: parsed.data };
}

async function authorize(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const parsed = parseAuthorizeBody(event);
  if (!parsed.ok) {
    metrics.addMetric('AuthorizeBadRequests', MetricUnit.Count, 1);
    return parsed.response;
  }
  const req = parsed.request;
  const now = new Date();
  const cfg = runtimeConfig();
  let d: DebitDecision;
  try {
    const [account, link] = await Promise.all([
      getAccount(req.accountId, true),
      req.linkId === undefined ? Promise.resolve(undefined) : getLink(req.accountId, req.linkId, true),
    ]);
    d = authorizeDebit(req, account, link, { limitMinor: cfg.HOLD_LIMIT_MINOR, limitCurrency: HOLD_LIMIT_CURRENCY }, now);
  } catch (e) {
    // No decision without the latest state: the core treats 503 as "not authorised, retry".
    logger.error('state unavailable', { accountId: req.accountId, requestId: req.requestId, error: e instanceof Error ? e.name : 'unknown' });
    metrics.addMetric('AuthorizeUnavailable', MetricUnit.Count, 1);
    return json(503, { error: 'UNAVAILABLE', message: 'state could not be read; retry' });
  }
  // Holds are decisions, not stored changes: counted for the operations overview (never fails us).
  if (d.decision === 'HOLD') await countEvent('hold', 'API', now, req.requestId ? { dedupeKey: `hold#${req.accountId}#${req.requestId}` } : {});
  logger.info('debit decision', { accountId: req.accountId, linkId: req.linkId, requestId: req.requestId, channel: req.channel, ...d });
  metrics.addDimension('decision', d.decision);
  metrics.addMetric('AuthorizeDecisions', MetricUnit.Count, 1);
  return json(200, {
    decision: d.decision,
    reason: d.reason,
    accountId: req.accountId,
    ...(req.linkId ? { linkId: req.linkId } : {}),
    ...(req.requestId ? { requestId: req.requestId } : {}),
    decidedAt: now.toISOString(),
  });
}

export const handler = middy(authorize).use(injectLambdaContext(logger)).use(logMetrics(metrics));
