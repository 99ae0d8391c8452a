/**
 * The campaign worker in AWS: one SQS message = one time slice of one campaign. It runs the
 * engine (src/campaign/engine.ts) until ~90 s before the Lambda timeout, then puts the
 * continuation on the queue; outside the send window it puts it back with a delay. A message
 * from an older run (before a pause/resume) or for a campaign no longer RUNNING is consumed.
 * A failure fails only this record: SQS redelivers it after the visibility timeout, the ledger
 * keeps the retry from sending twice, and the DLQ takes it after the configured receives.
 */
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { engineDepsFromEnv } from '../../src/campaign/deps.ts';
import { runCampaignWorker, type EngineDeps } from '../../src/campaign/engine.ts';
import { kickWorker } from '../../src/campaign/service.ts';
import { getCampaign } from '../../src/campaign/store.ts';

const logger = new Logger({ serviceName: 'campaign' });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'BankAlerting', serviceName: 'campaign' });
const processor = new BatchProcessor(EventType.SQS);

const WorkMessage = z.object({ campaignId: z.string().min(1).max(64), runNumber: z.number().int().nonnegative(), busyRetries: z.number().int().nonnegative().optional() });

/** Stop this long before the Lambda timeout: in-flight batches finish and the cursor is saved. */
const SAFETY_MS = 90_000;
const MAX_BUSY_RETRIES = 3;

let deps: Promise<EngineDeps> | undefined;

export async function handleWork(record: SQSRecord, context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>): Promise<void> {
  let parsed;
  try {
    parsed = WorkMessage.safeParse(JSON.parse(record.body));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    logger.error('campaign work message rejected', { messageId: record.messageId });
    metrics.addMetric('CampaignMessageRejected', MetricUnit.Count, 1);
    return;
  }
  const msg = parsed.data;
  const c = await getCampaign(msg.campaignId);
  if (!c || c.state !== 'RUNNING' || msg.runNumber < c.runNumber) {
    logger.info('campaign work message not for a running campaign; consumed', { campaignId: msg.campaignId, state: c?.state ?? 'MISSING', runNumber: msg.runNumber });
    return;
  }
  deps ??= engineDepsFromEnv({
    log: (message, ids) => logger.info(message, ids),
  }).catch((e: unknown) => {
    deps = undefined;
    throw e;
  });
  const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MS;
  const result = await runCampaignWorker(msg.campaignId, await deps, { workerId: `lambda-${context.awsRequestId}`, deadline });
  metrics.addMetric(`CampaignWorker${result.outcome}`, MetricUnit.Count, 1);
  logger.info('campaign worker slice finished', { campaignId: msg.campaignId, outcome: result.outcome, state: result.state ?? 'unknown' });
  if (result.outcome === 'DEADLINE') await kickWorker(c);
  else if (result.outcome === 'WINDOW') await kickWorker(c, Math.ceil((result.waitMs ?? 60_000) / 1000));
  // BUSY: another worker holds a channel. LOST: our lease lapsed (a slow renewal): try again
  // after a lease, a few times, so the chain never stops while nobody is sending.
  else if ((result.outcome === 'BUSY' || result.outcome === 'LOST') && (msg.busyRetries ?? 0) < MAX_BUSY_RETRIES) await kickWorker(c, Math.ceil((result.waitMs ?? 15_000) / 1000), (msg.busyRetries ?? 0) + 1);
}

async function work(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, (r: SQSRecord) => handleWork(r, context), processor, { context });
}

export const handler = middy(work).use(injectLambdaContext(logger)).use(logMetrics(metrics));
