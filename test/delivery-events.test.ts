/** Delivery tracking end to end: SES / SMS events via SNS -> delivery handler -> DynamoDB Local, local SES/SMS/EventBridge. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { invoke, routeSmsStatusEvents, sesEvent, simulateSesOutcome, simulateSmsOutcome, smsEvent, snsEvent, TOPICS } from '../local/reply-simulator.ts';
import { sendSms } from '../src/adapters/sms.ts';
import { resetRuntimeConfig } from '../src/config.ts';
import { setupTestEnv } from './support/env.ts';
import { newCustomer, putSentAlert, type Fixture } from './support/reply-fixtures.ts';
import { findAlert } from '../src/store/alerts.ts';
import { getCustomer } from '../src/store/customers.ts';
import { claimSend, getSend, recipientRef } from '../src/store/send-ledger.ts';
import { findMessage } from '../src/delivery/store.ts';
import { handleProviderEvent, NotYetKnownError, type ProviderEventResult } from '../src/delivery/service.ts';
import { smsStatusEvent } from '../local/sms-status-events.ts';

let peers: LocalPeers;

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv({ ...peers.env, UNDELIVERED_AFTER_MINUTES: '15', SES_CONFIGURATION_SET: 'alerts' });
});
afterAll(async () => {
  await peers?.stop();
});

const results = (out: unknown) => (out as { results: ProviderEventResult[] }).results;
const first = (out: unknown) => results(out)[0]!;
const owner = (f: Fixture) => ({ accountId: f.accountId, customerId: f.customerId });
const statuses = async (f: Fixture, alertId: string) =>
  Object.values((await findAlert(owner(f), alertId))?.deliveries ?? {})
    .map((d) => `${d.channel}:${d.status}`)
    .sort();
const published = (detailType: string, match: string) =>
  peers.publishedEvents().filter((e) => e.detailType === detailType && JSON.stringify(e.detail).includes(match));
const tags = (alertId: string, f: Fixture) => ({ alertId, channel: 'EMAIL', recipient: recipientRef('EMAIL', f.email) });

/** AlertSent as the routing table delivers it to the delivery function: an SQS batch of EventBridge envelopes. */
function alertSentBatch(details: Record<string, unknown>[]) {
  return {
    Records: details.map((detail) => ({
      messageId: randomUUID(),
      receiptHandle: 'local',
      body: JSON.stringify({ version: '0', id: randomUUID(), source: 'bank.alerting', 'detail-type': 'AlertSent', account: '0', time: new Date().toISOString(), region: 'ap-northeast-1', resources: [], detail }),
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:ap-northeast-1:000000000000:AlertSentToDelivery',
      awsRegion: 'ap-northeast-1',
    })),
  };
}

describe('delivery events', () => {
  it('SES Delivery and SMS delivered move the alert deliveries to DELIVERED; a late delay does not undo it', async () => {
    const f = await newCustomer();
    const { alertId, emailMessageId, smsMessageId } = await putSentAlert(f);
    expect(first(await simulateSesOutcome('Delivery', { messageId: emailMessageId, to: f.email, tags: tags(alertId, f) }))).toMatchObject({ kind: 'APPLIED', updated: 1 });
    expect(first(await simulateSmsOutcome('TEXT_DELIVERED', { messageId: smsMessageId, to: f.phone }))).toMatchObject({ kind: 'APPLIED', updated: 1 });
    expect(await statuses(f, alertId)).toEqual(['EMAIL:DELIVERED', 'SMS:DELIVERED']);
    expect(first(await simulateSesOutcome('DeliveryDelay', { messageId: emailMessageId, to: f.email, tags: tags(alertId, f) }))).toMatchObject({ updated: 0 });
    expect(await statuses(f, alertId)).toEqual(['EMAIL:DELIVERED', 'SMS:DELIVERED']);
  });

  it('a hard-bounced email falls back to SMS once, suppresses the address and tells operations', async () => {
    const f = await newCustomer({ locale: 'ja' });
    const { alertId, emailMessageId } = await putSentAlert(f, { channels: ['EMAIL'] });
    const bounce = sesEvent('Bounce', { messageId: emailMessageId, to: f.email, tags: tags(alertId, f) });
    const r = first(await invoke('delivery', bounce));
    expect(r).toMatchObject({ kind: 'APPLIED', fallback: [{ channel: 'SMS', result: 'SENT' }], contactNeedsFixing: true, undeliveredReported: false });
    // The same bounce delivered again: nothing more.
    expect(first(await invoke('delivery', bounce))).toMatchObject({ kind: 'APPLIED', updated: 0, fallback: [] });
    const sms = peers.smsMessages().filter((m) => m.phoneNumber === f.phone);
    expect(sms).toHaveLength(1);
    expect(sms[0]!.message).toMatch(/https:\/\/alerts\.example-bank\.jp\/a\/[A-Za-z0-9_-]{22}/);
    expect(await statuses(f, alertId)).toEqual(['EMAIL:BOUNCED', 'SMS:SENT']);
    expect((await getCustomer(f.customerId, true))?.suppressedEmail).toBe(true);
    expect(published('ContactNeedsFixing', f.customerId)).toEqual([expect.objectContaining({ detail: expect.objectContaining({ channel: 'EMAIL', reason: 'HARD_BOUNCE' }) })]);
    expect(published('AlertSent', alertId)).toEqual([expect.objectContaining({ detail: expect.objectContaining({ channel: 'SMS' }) })]);
    expect((await getSend(alertId, 'SMS', recipientRef('SMS', f.phone)))?.state).toBe('SENT');
  });

  it('EventBridge down while handling a bounce: the invocation fails and its retry does everything, nothing lost', async () => {
    const f = await newCustomer({ locale: 'en' });
    const { alertId, emailMessageId } = await putSentAlert(f, { channels: ['EMAIL'] });
    const bounce = sesEvent('Bounce', { messageId: emailMessageId, to: f.email, tags: tags(alertId, f) });
    peers.injectFaults('eventbridge', ['5xx', '5xx', '5xx', '5xx']); // the SDK's 4 attempts
    await expect(invoke('delivery', bounce)).rejects.toThrow();
    const r = first(await invoke('delivery', bounce));
    expect(r).toMatchObject({ kind: 'APPLIED', contactNeedsFixing: true, fallback: [{ channel: 'SMS', result: 'SENT' }] });
    expect(published('ContactNeedsFixing', f.customerId)).toHaveLength(1);
    expect((await getCustomer(f.customerId, true))?.suppressedEmail).toBe(true);
    expect(peers.smsMessages().filter((m) => m.phoneNumber === f.phone)).toHaveLength(1);
  });

  it('a blocked SMS falls back to email; a handset block is a contact problem', async () => {
    const f = await newCustomer({ locale: 'en' });
    const { alertId, smsMessageId } = await putSentAlert(f, { channels: ['SMS'] });
    const r = first(await simulateSmsOutcome('TEXT_BLOCKED', { messageId: smsMessageId, to: f.phone }));
    expect(r).toMatchObject({ kind: 'APPLIED', fallback: [{ channel: 'EMAIL', result: 'SENT' }], contactNeedsFixing: true });
    const mail = (await peers.emails()).filter((m) => m.to.includes(f.email));
    expect(mail).toHaveLength(1);
    expect(mail[0]!.tags).toMatchObject({ alertId, channel: 'EMAIL' });
    expect(await statuses(f, alertId)).toEqual(['EMAIL:SENT', 'SMS:BLOCKED']);
  });

  it('every channel failed: AlertUndelivered at once, and only once', async () => {
    const f = await newCustomer();
    const { alertId, emailMessageId, smsMessageId } = await putSentAlert(f);
    await simulateSesOutcome('Bounce', { messageId: emailMessageId, to: f.email, tags: tags(alertId, f) });
    expect(published('AlertUndelivered', alertId)).toHaveLength(0);
    const r = first(await simulateSmsOutcome('TEXT_INVALID', { messageId: smsMessageId, to: f.phone }));
    expect(r).toMatchObject({ kind: 'APPLIED', undeliveredReported: true });
    await simulateSmsOutcome('TEXT_INVALID', { messageId: smsMessageId, to: f.phone });
    const undelivered = published('AlertUndelivered', alertId);
    expect(undelivered).toHaveLength(1);
    expect(undelivered[0]!.detail).toMatchObject({ alertId, customerId: f.customerId, accountId: f.accountId });
    expect((await findAlert(owner(f), alertId))?.undeliveredReportedAt).toBeDefined();
  });

  it('nothing heard by the deadline: the sweep reports AlertUndelivered once; a reached alert is left alone', async () => {
    const f = await newCustomer();
    const g = await newCustomer();
    const sentAt = new Date(Date.now() - 20 * 60_000);
    const lost = await putSentAlert(f, { sentAt });
    const reached = await putSentAlert(g, { sentAt });
    await simulateSmsOutcome('TEXT_DELIVERED', { messageId: reached.smsMessageId, to: g.phone });
    const sent = (f2: Fixture, a: { alertId: string; smsMessageId: string }) => ({
      alertId: a.alertId, sourceEventId: `evt-${a.alertId}`, sourceEventType: 'LinkCreated', accountId: f2.accountId, customerId: f2.customerId,
      channel: 'SMS', messageId: a.smsMessageId, sentAt: sentAt.toISOString(),
    });
    const batch = await invoke('delivery', alertSentBatch([sent(f, lost), sent(g, reached), { not: 'an AlertSent' }]));
    expect(batch).toEqual({ batchItemFailures: [] });
    expect(await findMessage(lost.smsMessageId)).toMatchObject({ alertId: lost.alertId, channel: 'SMS' });
    const sweep = { version: '0', id: randomUUID(), source: 'aws.events', 'detail-type': 'Scheduled Event', account: '0', time: new Date().toISOString(), region: 'ap-northeast-1', resources: [], detail: {} };
    const r1 = (await invoke('delivery', sweep)) as { checked: number; reported: number };
    expect(r1.reported).toBeGreaterThanOrEqual(1);
    expect(published('AlertUndelivered', lost.alertId)).toHaveLength(1);
    expect(published('AlertUndelivered', reached.alertId)).toHaveLength(0);
    await invoke('delivery', sweep);
    expect(published('AlertUndelivered', lost.alertId)).toHaveLength(1);
  });

  it('a complaint suppresses the address (the customer was reached: no fallback)', async () => {
    const f = await newCustomer();
    const { alertId, emailMessageId } = await putSentAlert(f, { channels: ['EMAIL'] });
    await simulateSesOutcome('Delivery', { messageId: emailMessageId, to: f.email, tags: tags(alertId, f) });
    const r = first(await simulateSesOutcome('Complaint', { messageId: emailMessageId, to: f.email, tags: tags(alertId, f) }));
    expect(r).toMatchObject({ kind: 'APPLIED', fallback: [], contactNeedsFixing: true });
    expect((await getCustomer(f.customerId, true))?.suppressedEmail).toBe(true);
    expect(peers.smsMessages().filter((m) => m.phoneNumber === f.phone)).toHaveLength(0);
  });

  it("a bounce of the OLD address of a contact change does not suppress the customer's current address", async () => {
    const f = await newCustomer();
    const old = 'previous.owner@example.jp';
    const { alertId, emailMessageId } = await putSentAlert(f, { emailTo: old });
    const r = first(await simulateSesOutcome('Bounce', { messageId: emailMessageId, to: old, tags: { alertId, channel: 'EMAIL', recipient: recipientRef('EMAIL', old) } }));
    expect(r).toMatchObject({ kind: 'APPLIED', contactNeedsFixing: false });
    expect((await getCustomer(f.customerId, true))?.suppressedEmail).toBeUndefined();
  });

  it('a transient bounce only delays; SES Send confirms the ledger', async () => {
    const f = await newCustomer();
    const { alertId, emailMessageId } = await putSentAlert(f, { channels: ['EMAIL'] });
    expect(first(await simulateSesOutcome('SoftBounce', { messageId: emailMessageId, to: f.email, tags: tags(alertId, f) }))).toMatchObject({ fallback: [], contactNeedsFixing: false });
    expect(await statuses(f, alertId)).toEqual(['EMAIL:DELAYED']);
    const send = snsEvent({ eventType: 'Send', mail: { timestamp: new Date().toISOString(), messageId: emailMessageId, destination: [f.email], tags: { alertId: [alertId] } }, send: {} }, TOPICS.sesEvents);
    expect(first(await invoke('delivery', send))).toEqual({ kind: 'IGNORED', reason: 'NO_OUTCOME' });
    expect((await getSend(alertId, 'EMAIL', recipientRef('EMAIL', f.email)))?.providerMessageId).toBe(emailMessageId);
  });

  it('an SMS event carrying the alert id in its context (End User Messaging Context) finds the alert without the index', async () => {
    const f = await newCustomer();
    const { alertId } = await putSentAlert(f, { channels: ['SMS'] });
    const r = first(await simulateSmsOutcome('TEXT_DELIVERED', { messageId: `eum-${randomUUID()}`, to: f.phone, context: { alertId } }));
    expect(r).toMatchObject({ kind: 'APPLIED', alertId, updated: 1 });
    expect(await statuses(f, alertId)).toEqual(['SMS:DELIVERED']);
  });

  it('malformed notifications are rejected with a reason and not retried', async () => {
    const cases: unknown[] = [
      snsEvent('not json', TOPICS.sesEvents),
      snsEvent({ hello: 'world' }, TOPICS.sesEvents),
      snsEvent({ eventType: 'Bounce', mail: { messageId: 'x' } }, TOPICS.sesEvents),
      snsEvent({ eventType: 'TEXT_DELIVERED', messageId: 'x' }, TOPICS.smsEvents),
      snsEvent({ eventType: 'TEXT_MADE_UP', messageId: 'x', destinationPhoneNumber: '+819000000000', eventTimestamp: 1 }, TOPICS.smsEvents),
      { Records: [{ EventSource: 'aws:sns' }] },
    ];
    for (const c of cases) expect(first(await invoke('delivery', c)).kind).toBe('REJECTED');
    expect(first(await invoke('delivery', { nothing: true })).kind).toBe('REJECTED');
  });

  it('an event that arrives before its AlertSent is parked, then applied when the AlertSent comes; unrelated messages just expire', async () => {
    const f = await newCustomer();
    const { alertId, smsMessageId, record } = await putSentAlert(f, { channels: ['SMS'], index: false });
    expect(first(await simulateSmsOutcome('TEXT_DELIVERED', { messageId: smsMessageId, to: f.phone }))).toEqual({ kind: 'IGNORED', reason: 'PARKED' });
    expect(await statuses(f, alertId)).toEqual(['SMS:SENT']);
    const batch = await invoke('delivery', alertSentBatch([{ alertId, sourceEventId: record.sourceEventId, sourceEventType: 'LinkCreated', accountId: f.accountId, customerId: f.customerId, channel: 'SMS', messageId: smsMessageId, sentAt: record.sentAt }]));
    expect(batch).toEqual({ batchItemFailures: [] });
    expect(await statuses(f, alertId)).toEqual(['SMS:DELIVERED']);
    // A reply acknowledgement's events: parked, never retried, never an error.
    expect(first(await invoke('delivery', smsEvent('TEXT_DELIVERED', { messageId: 'ack-message', to: '+819000000000' })))).toEqual({ kind: 'IGNORED', reason: 'PARKED' });
  });
});

/**
 * The status events End User Messaging publishes for a message sent with a configuration set
 * (here produced by the local outbox, not built by hand), routed like the stack's SNS event
 * destination into the delivery function.
 */
describe('SMS status events from End User Messaging (the outbox) through the delivery function', () => {
  let route: ReturnType<typeof routeSmsStatusEvents>;
  const eventsOf = (messageId: string) => peers.smsStatusEvents().filter((e) => e.messageId === messageId);
  /** Waits until the outbox produced `n` events for the message and the delivery function has taken them all. */
  async function settle(messageId: string, n: number): Promise<void> {
    const end = Date.now() + 10_000;
    while (eventsOf(messageId).length < n) {
      if (Date.now() > end) throw new Error(`only ${eventsOf(messageId).length} of ${n} status events`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await route.settled();
  }

  beforeAll(() => {
    process.env.SMS_CONFIGURATION_SET = 'alerting-sms';
    resetRuntimeConfig();
    route = routeSmsStatusEvents(peers, (name, event) => invoke(name, event), { retryDelaysMs: [300, 1500] });
  });
  afterAll(() => {
    delete process.env.SMS_CONFIGURATION_SET;
    resetRuntimeConfig();
  });

  it('matched by Context alertId: SUCCESSFUL then DELIVERED lands on the alert record', async () => {
    const f = await newCustomer();
    const { alertId } = await putSentAlert(f, { channels: ['SMS'], index: false });
    const { messageId } = await sendSms({ to: f.phone, message: 'alert', context: { alertId } });
    await settle(messageId, 2);
    expect(eventsOf(messageId).map((e) => e.eventType)).toEqual(['TEXT_SUCCESSFUL', 'TEXT_DELIVERED']);
    expect(await statuses(f, alertId)).toEqual(['SMS:DELIVERED']);
    expect(published('AlertUndelivered', alertId)).toHaveLength(0);
  });

  it('matched by message id: events that came before AlertSent are parked, then applied when it is indexed', async () => {
    const f = await newCustomer();
    const { alertId, record } = await putSentAlert(f, { channels: ['SMS'], index: false });
    const { messageId } = await sendSms({ to: f.phone, message: 'no context' });
    await settle(messageId, 2);
    expect(await statuses(f, alertId)).toEqual(['SMS:SENT']);
    const batch = await invoke('delivery', alertSentBatch([{ alertId, sourceEventId: record.sourceEventId, sourceEventType: 'LinkCreated', accountId: f.accountId, customerId: f.customerId, channel: 'SMS', messageId, sentAt: record.sentAt }]));
    expect(batch).toEqual({ batchItemFailures: [] });
    expect(await statuses(f, alertId)).toEqual(['SMS:DELIVERED']);
  });

  it('a blocked SMS falls back to email (existing rules), once, and tells operations', async () => {
    const f = await newCustomer({ locale: 'en' });
    const { alertId } = await putSentAlert(f, { channels: ['SMS'], index: false });
    peers.injectSmsOutcome(f.phone, ['TEXT_BLOCKED']);
    const { messageId } = await sendSms({ to: f.phone, message: 'alert', context: { alertId } });
    await settle(messageId, 1);
    expect(await statuses(f, alertId)).toEqual(['EMAIL:SENT', 'SMS:BLOCKED']);
    const mail = (await peers.emails()).filter((m) => m.to.includes(f.email));
    expect(mail).toHaveLength(1);
    expect(mail[0]!.tags).toMatchObject({ alertId, channel: 'EMAIL' });
    expect(published('ContactNeedsFixing', f.customerId)).toEqual([expect.objectContaining({ detail: expect.objectContaining({ channel: 'SMS', reason: 'SMS_BLOCKED' }) })]);
  });

  it('a final failure with nothing to fall back to is reported undelivered at once, once', async () => {
    const f = await newCustomer({ email: false });
    const { alertId } = await putSentAlert(f, { channels: ['SMS'], index: false });
    peers.injectSmsOutcome(f.phone, ['TEXT_CARRIER_UNREACHABLE', 'TEXT_TTL_EXPIRED']);
    const { messageId } = await sendSms({ to: f.phone, message: 'alert', context: { alertId } });
    await settle(messageId, 2);
    expect(eventsOf(messageId).map((e) => [e.eventType, e.isFinal])).toEqual([
      ['TEXT_CARRIER_UNREACHABLE', false],
      ['TEXT_TTL_EXPIRED', true],
    ]);
    expect(await statuses(f, alertId)).toEqual(['SMS:FAILED']);
    expect(published('AlertUndelivered', alertId)).toHaveLength(1);
  });

  it('an event racing the record write is retried, never applied without the contact check', async () => {
    // The record appears between the delivery function's read and its status write (the alert
    // function writes it after the send): the status must not move on that first read.
    const calls: string[] = [];
    const ports = {
      findMessage: async () => undefined,
      ownerFromLedger: async () => ({ customerId: 'c1', accountId: 'a1' }),
      getCustomer: async () => ({ customerId: 'c1', phone: '+819012345678' }),
      findAlert: async () => undefined,
      recordDeliveryStatus: async () => (calls.push('recordDeliveryStatus'), 'UPDATED' as const),
      publish: async () => void calls.push('publish'),
    } as unknown as Parameters<typeof handleProviderEvent>[1];
    const e = smsStatusEvent('TEXT_BLOCKED', { messageId: 'm-race', to: '+819012345678', context: { alertId: 'al-race' } });
    await expect(handleProviderEvent(e, ports, { undeliveredAfterMinutes: 15 })).rejects.toBeInstanceOf(NotYetKnownError);
    expect(calls).toEqual([]);
  });

  it('an event whose alert record is not written yet is retried (as Lambda retries the SNS invoke) and then applied', async () => {
    const f = await newCustomer();
    const alertId = `al-${randomUUID()}`;
    // As the alert function does: claim (the ledger names the owner), send, and only later write the record.
    await claimSend(alertId, 'SMS', recipientRef('SMS', f.phone), owner(f), { staleSeconds: 120 });
    const before = route.retries();
    const { messageId } = await sendSms({ to: f.phone, message: 'early', context: { alertId } });
    const end = Date.now() + 10_000;
    while (route.retries() === before) {
      if (Date.now() > end) throw new Error('the delivery function never refused the early event');
      await new Promise((r) => setTimeout(r, 10));
    }
    await putSentAlert(f, { alertId, channels: ['SMS'], index: false });
    await settle(messageId, 2);
    expect(await statuses(f, alertId)).toEqual(['SMS:DELIVERED']);
    expect(route.dropped()).toBe(0);
  });
});
