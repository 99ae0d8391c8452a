/**
 * Two-way SMS replies: End User Messaging publishes each inbound text to an SNS topic, which
 * invokes this function. Malformed notifications are rejected with the reason and not retried;
 * a failure of our own (the table, the SMS service) throws, so Lambda retries the invocation and
 * then hands it to the on-failure destination. The flow: src/replies/service.ts.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { smsReplyFrom } from '../../src/replies/inbound.ts';
import { replyPorts, tokenTtlDays } from '../../src/replies/ports.ts';
import { runReplies, type RecordResult } from '../../src/replies/run.ts';

const logger = new Logger({ serviceName: 'sms-reply' });
const metrics = new Metrics({ serviceName: 'sms-reply' });

async function smsReply(event: unknown, context: Context): Promise<{ results: RecordResult[] }> {
  const records = (event as { Records?: unknown })?.Records;
  if (!Array.isArray(records)) {
    logger.warn('reply rejected', { reason: 'MALFORMED_NOTIFICATION', detail: 'event has no Records array' });
    return { results: [{ outcome: 'REJECTED', reason: 'MALFORMED_NOTIFICATION' }] };
  }
  return { results: await runReplies(records, smsReplyFrom, { ports: replyPorts(), tokenTtlDays: tokenTtlDays(), logger, metrics, context }) };
}

export const handler = middy(smsReply).use(injectLambdaContext(logger)).use(logMetrics(metrics));
