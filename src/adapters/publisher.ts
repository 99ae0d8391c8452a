/**
 * Publishes outbound `bank.alerting` events (AccountFrozen, LinkRevoked, AlertSent, ...) on
 * EventBridge. Details are validated against their contract first: a malformed event is a bug
 * here, and must not reach partners.
 *
 * Publishing is all the caller waits for. The console's overview counters are kept by the counter
 * function (functions/counter), which the bus feeds every bank.alerting event through its own
 * rule: a freeze or an alert does not wait for its counting, and a republished event (outbox
 * sweep, alert retry) still counts once (src/console-data/metrics.ts dedupes).
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventBridgeClient } from './eventbridge-client.ts';
import { runtimeConfig } from '../config.ts';
import { ALERTING_SOURCE, alertingEvents, type AlertingEvent } from '../../events/alerting.ts';

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

/** PutEvents takes at most 10 entries per call. Throws if any entry failed, so callers retry. */
export async function publishEvents(events: readonly AlertingEvent[]): Promise<void> {
  // Every detail is checked before anything is sent: a malformed one sends nothing.
  const bus = runtimeConfig().EVENT_BUS_NAME;
  const entries = events.map((e) => ({
    Source: ALERTING_SOURCE,
    DetailType: e.detailType,
    Detail: JSON.stringify(alertingEvents[e.detailType].parse(e.detail)),
    EventBusName: bus,
  }));
  const chunks: (typeof entries)[] = [];
  for (let i = 0; i < entries.length; i += 10) chunks.push(entries.slice(i, i + 10));
  // The chunks do not depend on each other: one round trip, not one per ten events.
  await Promise.all(chunks.map(publishChunk));
}

async function publishChunk(Entries: NonNullable<ConstructorParameters<typeof PutEventsCommand>[0]['Entries']>): Promise<void> {
  const out = await eventBridgeClient().send(new PutEventsCommand({ Entries }));
  if ((out.FailedEntryCount ?? 0) > 0) {
    const codes = (out.Entries ?? []).map((x) => x.ErrorCode).filter(Boolean);
    throw new PublishError(`EventBridge rejected ${out.FailedEntryCount} of ${Entries.length} events: ${codes.join(', ')}`);
  }
}
