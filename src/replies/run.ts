/**
 * The shared body of both reply handlers: each SNS record is read into a reply (or rejected with
 * its reason, final), then run once per inbound message id. Ids and outcome codes are logged,
 * never numbers, addresses or texts.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { oncePerReply, type ReplyJob } from './idempotency.ts';
import type { Inbound } from './inbound.ts';
import { handleReply, type ReplyPorts, type ReplyResult } from './service.ts';

export interface RecordResult {
  id?: string;
  outcome: ReplyResult['outcome'] | 'REJECTED';
  reason?: string;
  result?: ReplyResult;
}

export async function runReplies(
  records: readonly unknown[],
  read: (record: unknown, receivedAt: Date) => Inbound,
  deps: { ports: ReplyPorts; tokenTtlDays: number; logger: Logger; metrics: Metrics; context?: Context; now?: () => Date },
): Promise<RecordResult[]> {
  const flow = oncePerReply(
    (job: ReplyJob) =>
      handleReply(
        {
          channel: job.channel,
          from: job.from,
          text: job.text,
          replyId: job.replyId,
          ...(job.answersMessageId ? { answersMessageId: job.answersMessageId } : {}),
          receivedAt: new Date(job.receivedAt),
        },
        deps.ports,
        { tokenTtlDays: deps.tokenTtlDays },
      ),
    deps.context,
  );
  const results: RecordResult[] = [];
  for (const record of records) {
    const inbound = read(record, deps.now?.() ?? new Date());
    if (!inbound.ok) {
      deps.logger.warn('reply rejected', { reason: inbound.reason, detail: inbound.detail, id: inbound.id });
      deps.metrics.addMetric(`ReplyRejected_${inbound.reason}`, MetricUnit.Count, 1);
      results.push({ ...(inbound.id ? { id: inbound.id } : {}), outcome: 'REJECTED', reason: inbound.reason });
      continue;
    }
    const r = inbound.reply;
    const result = await flow({
      channel: r.channel,
      from: r.from,
      text: r.text,
      replyId: r.replyId,
      ...(r.answersMessageId ? { answersMessageId: r.answersMessageId } : {}),
      receivedAt: r.receivedAt.toISOString(),
    });
    deps.logger.info('reply handled', {
      id: r.replyId,
      channel: r.channel,
      outcome: result.outcome,
      intent: result.intent,
      customerId: result.customerId,
      alertId: result.alertId,
      changed: result.changed,
      ack: result.ack,
      ackThrottled: result.ackThrottled,
    });
    deps.metrics.addMetric(`Reply_${result.outcome}`, MetricUnit.Count, 1);
    if (result.eventPublishFailed) {
      deps.logger.error('state change committed but its event was not published', { id: r.replyId, alertId: result.alertId, changed: result.changed });
      deps.metrics.addMetric('EventPublishFailed', MetricUnit.Count, 1);
    }
    results.push({ id: r.replyId, outcome: result.outcome, result });
  }
  return results;
}
