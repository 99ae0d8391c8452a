/**
 * Email replies: an SES receipt rule (SNS action, BASE64 encoding) publishes each inbound mail,
 * with its SPF/DKIM/DMARC verdicts, to an SNS topic that invokes this function. Malformed or
 * unauthenticated mail is rejected with the reason and not retried; a failure of our own (the
 * table, SES) throws, so Lambda retries the invocation and then hands it to the on-failure
 * destination. The flow: src/replies/service.ts.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { emailReplyFrom } from '../../src/replies/inbound.ts';
import { replyPorts, tokenTtlDays } from '../../src/replies/ports.ts';
import { runReplies, type RecordResult } from '../../src/replies/run.ts';

const logger = new Logger({ serviceName: 'email-reply' });
const metrics = new Metrics({ serviceName: 'email-reply' });

async function emailReply(event: unknown, context: Context): Promise<{ results: RecordResult[] }> {
  const records = (event as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) {
    logger.warn('reply rejected', { reason: 'MALFORMED_NOTIFICATION', detail: 'event has no Records array' });
    return { results: [{ outcome: 'REJECTED', reason: 'MALFORMED_NOTIFICATION' }] };
  }
  return { results: await runReplies(records, emailReplyFrom, { ports: replyPorts(), tokenTtlDays: tokenTtlDays(), logger, metrics, context }) };
}

export const handler = middy(emailReply).use(injectLambdaContext(logger)).use(logMetrics(metrics));
