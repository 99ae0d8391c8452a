/**
 * Delivery tracking, three entry points in one function:
 *   - SNS (the delivery topic): SES configuration-set events and End User Messaging SMS events;
 *     malformed ones are rejected with the reason and not retried; one about a message not known
 *     yet is parked until its AlertSent arrives;
 *   - SQS (route AlertSentToDelivery): AlertSent events, in batches with partial failures;
 *   - EventBridge schedule ("Scheduled Event", every minute): the undelivered-deadline sweep, and
 *     the partner events still waiting in the outbox.
 * The flows: src/delivery/service.ts.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { snsPayload } from '../../src/replies/inbound.ts';
import { deliveryConfig, deliveryPorts } from '../../src/delivery/ports.ts';
import { handleAlertSent, handleProviderEvent, sweepDeadlines, type ProviderEventResult } from '../../src/delivery/service.ts';
import { republishPendingEvents } from '../../src/store/actions.ts';

const logger = new Logger({ serviceName: 'delivery' });
const metrics = new Metrics({ serviceName: 'delivery' });

type DeliveryEvent = { Records?: unknown[]; source?: string; 'detail-type'?: string };

async function providerEvents(records: unknown[]): Promise<{ results: ProviderEventResult[] }> {
  const ports = deliveryPorts();
  const cfg = deliveryConfig();
  const results: ProviderEventResult[] = [];
  for (const record of records) {
    const p = snsPayload(record);
    const r: ProviderEventResult = p.ok ? await handleProviderEvent(p.payload, ports, cfg) : { kind: 'REJECTED', reason: p.detail };
    if (r.kind === 'REJECTED') {
      logger.warn('delivery event rejected', { reason: r.reason, snsMessageId: p.ok ? p.sns.Sns.MessageId : undefined });
      metrics.addMetric('DeliveryEventRejected', MetricUnit.Count, 1);
    } else if (r.kind === 'IGNORED') {
      metrics.addMetric(`DeliveryEvent_${r.reason}`, MetricUnit.Count, 1);
    } else {
      logger.info('delivery event applied', { ...r });
      metrics.addMetric('DeliveryStatusUpdated', MetricUnit.Count, r.updated);
      for (const f of r.fallback) metrics.addMetric(`Fallback_${f.channel}_${f.result}`, MetricUnit.Count, 1);
      if (r.undeliveredReported) metrics.addMetric('AlertUndelivered', MetricUnit.Count, 1);
      if (r.contactNeedsFixing) metrics.addMetric('ContactNeedsFixing', MetricUnit.Count, 1);
    }
    results.push(r);
  }
  return { results };
}

async function alertSentBatch(event: { Records: SQSRecord[] }, context: Context): Promise<SQSBatchResponse> {
  const ports = deliveryPorts();
  const cfg = deliveryConfig();
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const r = await handleAlertSent(record.body, ports, cfg);
      metrics.addMetric('AlertSentIndexed', MetricUnit.Count, r.ok ? 1 : 0);
      // A malformed AlertSent is our own bug: logged and counted, never retried forever.
      if (!r.ok) {
        logger.error('AlertSent rejected', { reason: r.reason, messageId: record.messageId });
        metrics.addMetric('AlertSentRejected', MetricUnit.Count, 1);
      }
    },
    processor,
    { context },
  );
}

async function delivery(event: DeliveryEvent, context: Context): Promise<unknown> {
  if (event?.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
    const r = await sweepDeadlines(deliveryPorts(), deliveryConfig());
    logger.info('undelivered sweep', r);
    metrics.addMetric('UndeliveredSweepChecked', MetricUnit.Count, r.checked);
    // Partner events (AccountFrozen, LinkRevoked, ...) whose publish failed after their change
    // committed wait in the outbox; the same minute's sweep sends them even on an idle system.
    const outboxPublished = await republishPendingEvents({ max: 500 });
    if (outboxPublished > 0) logger.warn('outbox events published late', { count: outboxPublished });
    metrics.addMetric('OutboxRepublished', MetricUnit.Count, outboxPublished);
    return { ...r, outboxPublished };
  }
  const records = Array.isArray(event?.Records) ? event.Records : undefined;
  const first = records?.[0] as { EventSource?: string; eventSource?: string } | undefined;
  if (records && first?.eventSource === 'aws:sqs') return alertSentBatch({ Records: records as SQSRecord[] }, context);
  if (records && records.length > 0) return providerEvents(records);
  logger.warn('delivery event rejected', { reason: 'neither SNS/SQS records nor a scheduled event' });
  metrics.addMetric('DeliveryEventRejected', MetricUnit.Count, 1);
  return { results: [{ kind: 'REJECTED', reason: 'neither SNS/SQS records nor a scheduled event' }] };
}

export const handler = middy(delivery).use(injectLambdaContext(logger)).use(logMetrics(metrics));
