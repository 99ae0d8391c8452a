/**
 * The local AWS peers the handlers send to: SES v2 (aws-ses-v2-local behind a fault-injecting
 * proxy), an SMS outbox speaking End User Messaging SMS (and, for legacy senders, SNS Publish),
 * and an EventBridge PutEvents endpoint. `env` points the real SDK
 * clients at them (AWS_ENDPOINT_URL_*), so no handler knows it runs locally. Used by `npm start`,
 * the tests and the benchmarks.
 */
import { startLocalSes, type LocalEmail, type SesSendEventRecord } from './ses.ts';
import { startSmsOutbox, type LocalSms, type SmsOutboxOptions, type SmsStatusEvent, type SmsStatusListener } from './sms-outbox.ts';
import type { SmsEventType } from '../events/aws-notifications.ts';
import { startLocalEventBridge, type PublishedEvent } from './eventbridge-endpoint.ts';
import type { Fault } from './faults.ts';

export type { LocalEmail, SesSendEventRecord } from './ses.ts';
export type { LocalSms, SmsStatusEvent } from './sms-outbox.ts';
export type { PublishedEvent } from './eventbridge-endpoint.ts';
export type { Fault } from './faults.ts';

export interface LocalPeers {
  /**
   * AWS_ENDPOINT_URL_SESV2, AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 (End User Messaging SMS),
   * AWS_ENDPOINT_URL_SNS (legacy SMS senders), AWS_ENDPOINT_URL_EVENTBRIDGE pointing at these peers
   */
  env: Record<string, string>;
  /** aws-ses-v2-local's own mailbox page */
  mailboxUrl: string;
  /** the SMS outbox page (HTML list, newest first; JSON at /messages) */
  smsOutboxUrl: string;
  emails(): Promise<LocalEmail[]>;
  smsMessages(): LocalSms[];
  /** Status events the SMS outbox produced (messages sent with a configuration set), oldest first. */
  smsStatusEvents(): SmsStatusEvent[];
  /** Called for each SMS status event, as the configuration set's event destination would publish it. */
  onSmsStatusEvent(listener: SmsStatusListener): void;
  /** The next SMS to this number ends with these status events instead of SUCCESSFUL, DELIVERED ([]: none at all). */
  injectSmsOutcome(phoneNumber: string, events: readonly SmsEventType[]): void;
  /** SendTextMessage to this number answers ConflictException DESTINATION_PHONE_NUMBER_OPTED_OUT. */
  optOutSms(phoneNumber: string): void;
  publishedEvents(): PublishedEvent[];
  /** SES `Send` event records of messages accepted with a configuration set (for the delivery function). */
  onSesSendEvents(listener: (records: SesSendEventRecord[]) => Promise<void> | void): void;
  /** Called for every accepted PutEvents batch (the local event bus routes them). */
  onEvents(listener: (events: PublishedEvent[]) => Promise<void> | void): void;
  /** The next calls to that peer answer with these faults, at the wire, in order. */
  injectFaults(target: 'ses' | 'sms' | 'sns' | 'eventbridge', faults: Fault[]): void;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalPeers(
  opts: { sesPort?: number; smsPort?: number; eventsPort?: number; sms?: Omit<SmsOutboxOptions, 'port'> } = {},
): Promise<LocalPeers> {
  const [ses, sms, events] = await Promise.all([
    startLocalSes(opts.sesPort !== undefined ? { port: opts.sesPort } : {}),
    startSmsOutbox({ ...opts.sms, ...(opts.smsPort !== undefined ? { port: opts.smsPort } : {}) }),
    startLocalEventBridge(opts.eventsPort !== undefined ? { port: opts.eventsPort } : {}),
  ]);
  return {
    env: {
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: sms.endpoint,
      AWS_ENDPOINT_URL_SNS: sms.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
    },
    mailboxUrl: ses.mailboxUrl,
    smsOutboxUrl: sms.outboxUrl,
    emails: () => ses.emails(),
    smsMessages: () => sms.messages(),
    smsStatusEvents: () => sms.statusEvents(),
    onSmsStatusEvent: (listener) => sms.onStatusEvent(listener),
    injectSmsOutcome: (phoneNumber, events) => sms.injectOutcome(phoneNumber, events),
    optOutSms: (phoneNumber) => sms.optOut(phoneNumber),
    publishedEvents: () => events.publishedEvents(),
    onEvents: (listener) => events.onEvents(listener),
    onSesSendEvents: (listener) => ses.onSendEvents(listener),
    injectFaults(target, faults) {
      // 'sns' is the SMS outbox's former name: both protocols share its fault queue.
      ({ ses, sms, sns: sms, eventbridge: events })[target].injectFaults(faults);
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
