/**
 * Fraud operations, two entry points in one function:
 *   - SQS (routes CoreEventsToFraud, LinkRevokedToFraud): detection counters and incidents, the
 *     per-link debits, reimbursement cases; a batch's detection work is done together (one
 *     transaction and one read), failures are reported per record;
 *   - EventBridge schedule (FraudJobsSweep, every minute): provider bulk jobs left unfinished.
 * The metric IncidentsOpened is what the incident alarm (infra/fraud-ops.ts) watches.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { processFraudBatch } from '../../src/fraud/consumer.ts';
import { sweepProviderJobs } from '../../src/fraud/providers/bulk.ts';

const logger = new Logger({ serviceName: 'fraud' });
const metrics = new Metrics({ serviceName: 'fraud' });

type FraudEvent = { Records?: SQSRecord[]; source?: string; 'detail-type'?: string };

async function batch(records: SQSRecord[], context: Context): Promise<SQSBatchResponse> {
  // The batch's detection events are stored and checked together (one transaction, one read);
  // the processor then reports each record's own outcome, and an Error sends that record back.
  const outcomes = await processFraudBatch(
    records.map((r) => {
      try {
        return JSON.parse(r.body) as unknown;
      } catch {
        return undefined;
      }
    }),
  );
  // Always one metric per batch (throughput, and no "no metrics to publish" warning per invocation).
  metrics.addMetric('FraudRecords', MetricUnit.Count, records.length);
  const byId = new Map(records.map((r, i) => [r.messageId, outcomes[i]!]));
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    { Records: records },
    async (record: SQSRecord) => {
      const out = byId.get(record.messageId)!;
      if (out instanceof Error) throw out;
      if (out.kind === 'INVALID') {
        // Consumed, not retried: the alert function parks malformed core events with the reason.
        logger.warn('fraud record rejected', { reason: out.reason, messageId: record.messageId });
        metrics.addMetric('FraudRecordRejected', MetricUnit.Count, 1);
      } else if (out.kind === 'DETECTED') {
        for (const i of out.outcome.incidents) {
          if (i.opened) {
            logger.warn('incident opened', { incidentId: i.incidentId, joined: i.joined });
            metrics.addMetric('IncidentsOpened', MetricUnit.Count, 1);
          }
          metrics.addMetric('IncidentHoldsExtended', MetricUnit.Count, i.holdsExtended);
        }
      } else if (out.kind === 'CASE' && out.opened) {
        logger.info('reimbursement case opened', { caseId: out.caseId });
        metrics.addMetric('ReimbursementCasesOpened', MetricUnit.Count, 1);
      }
    },
    processor,
    { context },
  );
}

async function fraud(event: FraudEvent, context: Context): Promise<unknown> {
  if (event?.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
    const results = await sweepProviderJobs(Math.max(5_000, context.getRemainingTimeInMillis() - 10_000));
    if (results.length > 0) logger.info('provider jobs swept', { jobs: results.map((r) => ({ requestId: r.requestId, status: r.status, changed: r.changed })) });
    return { jobs: results };
  }
  if (Array.isArray(event?.Records)) return batch(event.Records, context);
  logger.warn('fraud event rejected', { reason: 'neither SQS records nor a scheduled event' });
  return { rejected: true };
}

export const handler = middy(fraud).use(injectLambdaContext(logger)).use(logMetrics(metrics));
