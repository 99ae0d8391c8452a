/**
 * Publishes outbound `bank.alerting` events (AccountFrozen, LinkRevoked, AlertSent, ...) on
 * EventBridge. Details are validated against their contract first: a malformed event is a bug
 * here, and must not reach partners.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { awsClients } from './clients.ts';
import { runtimeConfig } from '../config.ts';
import { ALERTING_SOURCE, alertingEvents, type AlertingEvent } from '../../events/alerting.ts';
import { countAlertingEvent } from '../console-data/metrics.ts';

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

/** PutEvents takes at most 10 entries per call. Throws if any entry failed, so callers retry. */
export async function publishEvents(events: readonly AlertingEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 10) {
    const chunk = events.slice(i, i + 10);
    const out = await awsClients().eventBridge.send(
      new PutEventsCommand({
        Entries: chunk.map((e) => ({
          Source: ALERTING_SOURCE,
          DetailType: e.detailType,
          Detail: JSON.stringify(alertingEvents[e.detailType].parse(e.detail)),
          EventBusName: runtimeConfig().EVENT_BUS_NAME,
        })),
      }),
    );
    if ((out.FailedEntryCount ?? 0) > 0) {
      const codes = (out.Entries ?? []).map((x) => x.ErrorCode).filter(Boolean);
      throw new PublishError(`EventBridge rejected ${out.FailedEntryCount} of ${chunk.length} events: ${codes.join(', ')}`);
    }
    await Promise.all(chunk.map(countAlertingEvent)); // the console's overview counters (never throws, counts a retry once)
  }
}
