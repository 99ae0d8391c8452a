/**
 * What the counter function does with one SQS record: check the EventBridge envelope and the
 * detail against the bank.alerting contract, then count it once (src/console-data/metrics.ts).
 * Reasons name fields, never values.
 */
import * as z from 'zod';
import { ALERTING_SOURCE, alertingEvents, type AlertingEvent, type AlertingEventName } from '../../events/alerting.ts';
import { countPublishedEvent, type CountOutcome } from './metrics.ts';

const Envelope = z.object({ source: z.string(), 'detail-type': z.string(), detail: z.unknown() });

/** IGNORED: a valid event the overview has no counter for (provider suspensions, ...). */
export type EnvelopeCount = { outcome: Exclude<CountOutcome, 'INVALID'> | 'IGNORED' } | { outcome: 'INVALID'; reason: string };

/** Counts the event in an SQS body; throws on a store error (the record is retried). */
export async function countPublishedEnvelope(body: string): Promise<EnvelopeCount> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { outcome: 'INVALID', reason: 'body is not JSON' };
  }
  const env = Envelope.safeParse(json);
  if (!env.success) return { outcome: 'INVALID', reason: `envelope: ${env.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}` };
  if (env.data.source !== ALERTING_SOURCE) return { outcome: 'INVALID', reason: `source is not ${ALERTING_SOURCE}` };
  const type = env.data['detail-type'];
  if (!Object.hasOwn(alertingEvents, type)) return { outcome: 'INVALID', reason: 'unknown detail-type' };
  const detail = alertingEvents[type as AlertingEventName].safeParse(env.data.detail);
  if (!detail.success) return { outcome: 'INVALID', reason: `detail: ${detail.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}` };
  const outcome = await countPublishedEvent({ detailType: type, detail: detail.data } as AlertingEvent);
  return { outcome: outcome === 'INVALID' ? 'IGNORED' : outcome };
}
