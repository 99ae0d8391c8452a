/**
 * The local AWS peers the handlers send to: SES v2 (aws-ses-v2-local behind a fault-injecting
 * proxy), an SNS SMS outbox, and an EventBridge PutEvents endpoint. `env` points the real SDK
 * clients at them (AWS_ENDPOINT_URL_*), so no handler knows it runs locally. Used by `npm start`,
 * the tests and the benchmarks.
 */
import { startLocalSes, type LocalEmail } from './ses.ts';
import { startSmsOutbox, type LocalSms } from './sms-outbox.ts';
import { startLocalEventBridge, type PublishedEvent } from './eventbridge-endpoint.ts';
import type { Fault } from './faults.ts';

export type { LocalEmail } from './ses.ts';
export type { LocalSms } from './sms-outbox.ts';
export type { PublishedEvent } from './eventbridge-endpoint.ts';
export type { Fault } from './faults.ts';

export interface LocalPeers {
  /** AWS_ENDPOINT_URL_SESV2, AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_EVENTBRIDGE pointing at these peers */
  env: Record<string, string>;
  /** aws-ses-v2-local's own mailbox page */
  mailboxUrl: string;
  /** the SMS outbox page (HTML list, newest first; JSON at /messages) */
  smsOutboxUrl: string;
  emails(): Promise<LocalEmail[]>;
  smsMessages(): LocalSms[];
  publishedEvents(): PublishedEvent[];
  /** Called for every accepted PutEvents batch (the local event bus routes them). */
  onEvents(listener: (events: PublishedEvent[]) => Promise<void> | void): void;
  /** The next calls to that peer answer with these faults, at the wire, in order. */
  injectFaults(target: 'ses' | 'sns' | 'eventbridge', faults: Fault[]): void;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalPeers(opts: { sesPort?: number; smsPort?: number; eventsPort?: number } = {}): Promise<LocalPeers> {
  const [ses, sms, events] = await Promise.all([
    startLocalSes(opts.sesPort !== undefined ? { port: opts.sesPort } : {}),
    startSmsOutbox(opts.smsPort !== undefined ? { port: opts.smsPort } : {}),
    startLocalEventBridge(opts.eventsPort !== undefined ? { port: opts.eventsPort } : {}),
  ]);
  return {
    env: {
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_SNS: sms.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
    },
    mailboxUrl: ses.mailboxUrl,
    smsOutboxUrl: sms.outboxUrl,
    emails: () => ses.emails(),
    smsMessages: () => sms.messages(),
    publishedEvents: () => events.publishedEvents(),
    onEvents: (listener) => events.onEvents(listener),
    injectFaults(target, faults) {
      ({ ses, sns: sms, eventbridge: events })[target].injectFaults(faults);
    },
    async clear() {
      sms.clear();
      events.clear();
      await ses.clear();
    },
    async stop() {
      await Promise.all([ses.stop(), sms.stop(), events.stop()]);
    },
  };
}
