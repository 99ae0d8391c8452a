/**
 * The alert function: bank.core events from EventBridge, buffered in SQS, in batches with
 * partial batch failures. Each record is one event (see src/alerts/process-event.ts).
 *
 * Failures:
 * - An event that fails its schema can never succeed: it is logged with the reason (field names
 *   and event id only), counted (InvalidEvent) and not retried: it goes straight to the queue's
 *   dead-letter queue (ALERT_DLQ_URL) with the reason, where a redrive after a contract fix
 *   delivers it (src/alerts/dead-letter.ts). Without a DLQ URL it is consumed. If parking fails,
 *   the record fails and SQS's own redrive takes it there after maxReceiveCount: never a loop.
 * - Unknown account or customer: no alert, counted (UnknownAccount), logged, consumed.
 * - A message that could not go out yet (throttling or 5xx after the SDK's own retries, a claim
 *   still in flight, no answer): only that record is reported in batchItemFailures; SQS brings it
 *   back after the visibility timeout and the send ledger makes sure nothing already sent is sent
 *   again. After maxReceiveCount receives it goes to the DLQ (src/routing.ts).
 * Powertools idempotency is not used here: exactly-once is per recipient, which the send ledger
 * gives; caching a whole record's result would block the retry of a half-sent event.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AlertRetryError, processCoreEvent, type DeliveryResult } from '../../src/alerts/process-event.ts';
import { parkRejectedEvent } from '../../src/alerts/dead-letter.ts';

export const logger = new Logger({ serviceName: 'alert' });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'BankAlerting', serviceName: 'alert' });
const processor = new BatchProcessor(EventType.SQS);

function countDeliveries(deliveries: DeliveryResult[]): void {
  for (const d of deliveries) {
    const ch = d.channel === 'EMAIL' ? 'Email' : 'Sms';
    if (d.result === 'SENT') metrics.addMetric(`${ch}Sent`, MetricUnit.Count, 1);
    else if (d.result === 'ALREADY_SENT') metrics.addMetric('DuplicateSendSuppressed', MetricUnit.Count, 1);
    else if (d.result === 'FAILED') metrics.addMetric(`${ch}Rejected`, MetricUnit.Count, 1);
    else metrics.addMetric(`${ch}Deferred`, MetricUnit.Count, 1);
  }
}

/**
 * Seconds from the event at the core to the provider accepting each message sent now: the
 * figure customers feel ("within seconds"), alarmed on at p99 (infra/monitoring.ts).
 */
function recordLatency(occurredAt: string, deliveries: DeliveryResult[]): void {
  for (const d of deliveries) {
    if (d.result !== 'SENT' || !d.sentAt) continue;
    const ms = Date.parse(d.sentAt) - Date.parse(occurredAt);
    if (Number.isFinite(ms) && ms >= 0) metrics.addMetric('AlertLatency', MetricUnit.Milliseconds, ms);
  }
}

/** A permanent failure: counted, logged with ids and the reason, parked in the DLQ, not retried. */
async function reject(record: SQSRecord, o: { reason: string; eventId?: string; detailType?: string }): Promise<void> {
  metrics.addMetric('InvalidEvent', MetricUnit.Count, 1);
  const parked = await parkRejectedEvent(record.body, { ...o, messageId: record.messageId });
  logger.error(`event rejected by its schema; ${parked ? 'parked in the dead-letter queue' : 'consumed'}, not retried`, {
    messageId: record.messageId,
    eventId: o.eventId,
    detailType: o.detailType,
    reason: o.reason,
  });
}

export async function handleRecord(record: SQSRecord): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return reject(record, { reason: 'body is not JSON' });
  }
  try {
    const o = await processCoreEvent(body);
    switch (o.status) {
      case 'INVALID':
        return reject(record, o);
      case 'UNKNOWN_ACCOUNT':
        metrics.addMetric('UnknownAccount', MetricUnit.Count, 1);
        logger.warn('event for an unknown account or customer; no alert', { eventId: o.eventId, detailType: o.detailType, accountId: o.accountId, customerId: o.customerId });
        return;
      case 'PROFILE_APPLIED':
      case 'PROFILE_STALE':
        metrics.addMetric(o.status === 'PROFILE_APPLIED' ? 'ProfileApplied' : 'ProfileStale', MetricUnit.Count, 1);
        logger.info('customer profile event', { eventId: o.eventId, customerId: o.customerId, applied: o.status === 'PROFILE_APPLIED' });
        return;
      case 'NO_ALERT':
        metrics.addMetric('AlertNotNeeded', MetricUnit.Count, 1);
        logger.info('no alert by the customer preference', { eventId: o.eventId, detailType: o.detailType, reason: o.reason });
        return;
      case 'ALERTED':
        countDeliveries(o.deliveries);
        recordLatency(o.occurredAt, o.deliveries);
        if (o.deliveries.length === 0) metrics.addMetric('AlertWithoutContact', MetricUnit.Count, 1);
        logger.info('alert processed', {
          eventId: o.eventId,
          detailType: o.detailType,
          alertId: o.alertId,
          deliveries: o.deliveries.map((d) => ({ channel: d.channel, recipientRef: d.recipientRef, result: d.result, messageId: d.messageId, error: d.error })),
        });
        return;
    }
  } catch (e) {
    if (e instanceof AlertRetryError) {
      countDeliveries(e.deliveries);
      logger.warn('alert incomplete; the record will be retried', {
        eventId: e.eventId,
        alertId: e.alertId,
        deliveries: e.deliveries.map((d) => ({ channel: d.channel, recipientRef: d.recipientRef, result: d.result, error: d.error })),
      });
    } else {
      metrics.addMetric('AlertError', MetricUnit.Count, 1);
      // The error's name only: SDK messages can quote input (addresses) and must not reach logs.
      logger.error('alert processing failed; the record will be retried', { messageId: record.messageId, error: (e as Error)?.name ?? 'Error' });
    }
    throw e;
  }
}

export const handler = middy(
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
