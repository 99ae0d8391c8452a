/**
 * The counter function: every bank.alerting event the system publishes (AlertSent, AccountFrozen,
 * LinkRevoked, ...), routed here by its own EventBridge rule through an SQS buffer (route
 * AlertingEventsToCounter in src/routing.ts), adds to the operations console's overview counters
 * (src/console-data/metrics.ts). Counting used to run inside the publisher, so a customer's
 * freeze and every alert waited for a second transaction; now nothing on those paths waits for it.
 *
 * Exactly once on the overview: each event carries a dedupe key naming the change (account and
 * time of a freeze, alert and channel of an AlertSent), so the outbox sweep republishing an event,
 * an alert retry publishing AlertSent again, or SQS redelivering a record counts nothing twice.
 * A store error fails only that record (partial batch failure) and SQS brings it back; an event
 * that fails its contract is logged with ids and reasons only and consumed (it can never count).
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { countPublishedEnvelope } from '../../src/console-data/counting.ts';

export const logger = new Logger({ serviceName: 'counter' });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'BankAlerting', serviceName: 'counter' });
const processor = new BatchProcessor(EventType.SQS);

export async function handleRecord(record: SQSRecord): Promise<void> {
  const r = await countPublishedEnvelope(record.body);
  if (r.outcome === 'INVALID') {
    metrics.addMetric('CounterEventRejected', MetricUnit.Count, 1);
    logger.warn('event not counted: it fails its contract', { messageId: record.messageId, reason: r.reason });
    return;
  }
  metrics.addMetric(r.outcome === 'COUNTED' ? 'EventCounted' : r.outcome === 'DUPLICATE' ? 'EventAlreadyCounted' : 'EventNotCounted', MetricUnit.Count, 1);
}

export const handler = middy(
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
