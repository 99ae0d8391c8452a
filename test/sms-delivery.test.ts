/**
 * SMS end to end in the local runtime, the same path as the stack: a core event -> alert
 * function -> End User Messaging SendTextMessage (configuration set, Context alertId) -> the
 * outbox's status events -> the delivery function (as the SNS event destination invokes it) ->
 * the alert record. DELIVERED by default; BLOCKED / FAILED when the outbox is told so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime, LOCAL_SMS_CONFIGURATION_SET, type LocalRuntime } from '../local/runtime.ts';
import { demoCustomers, impostorLinksWallet, type DemoCustomer } from '../local/demo-data.ts';
import { alertIdFor } from '../src/domain/alert-decision.ts';
import { findAlert } from '../src/store/alerts.ts';
import type { SmsEventType } from '../events/aws-notifications.ts';
import { until } from './support/until.ts';

let rt: LocalRuntime;

beforeAll(async () => {
  rt = await startLocalRuntime({ schedules: false, discoverPages: false });
  expect(rt.demoDataLoaded).toBe(true);
}, 120_000);
afterAll(async () => {
  await rt?.stop();
});


/** Publishes a new LinkCreated for the customer; resolves with the alert id once its SMS is in the outbox. */
async function alertCustomer(c: DemoCustomer, outcome?: readonly SmsEventType[]) {
  if (outcome) rt.peers.injectSmsOutcome(c.phone, outcome);
  const ev = impostorLinksWallet(c, `sms-${Math.random().toString(36).slice(2)}`);
  const alertId = alertIdFor(String((ev.detail as { eventId: string }).eventId));
  rt.publish([ev]);
  const sms = await until('the alert SMS', async () => rt.peers.smsMessages().find((m) => m.context?.alertId === alertId));
  return { alertId, sms };
}

const smsStatus = (c: DemoCustomer, alertId: string) => async () => {
  const a = await findAlert({ accountId: c.accountId, customerId: c.customerId }, alertId, true);
  return Object.values(a?.deliveries ?? {}).find((d) => d.channel === 'SMS')?.status;
};

describe('SMS through End User Messaging, status back through the delivery function', () => {
  it('goes out with the configuration set and the alert id in its Context, and comes back DELIVERED', async () => {
    const c = demoCustomers[0]!;
    const { alertId, sms } = await alertCustomer(c);
    expect(sms).toMatchObject({ protocol: 'sms-voice-v2', phoneNumber: c.phone, messageType: 'TRANSACTIONAL', configurationSetName: LOCAL_SMS_CONFIGURATION_SET, context: { alertId } });
    expect(sms.parts).toBeLessThanOrEqual(2);
    await until('SMS DELIVERED', async () => ((await smsStatus(c, alertId)()) === 'DELIVERED' ? true : undefined));
    const events = rt.peers.smsStatusEvents().filter((e) => e.messageId === sms.messageId);
    expect(events.map((e) => e.eventType)).toEqual(['TEXT_SUCCESSFUL', 'TEXT_DELIVERED']);
    expect(events.every((e) => e.context?.alertId === alertId)).toBe(true);
    // The delivered alert is never reported undelivered.
    expect(rt.peers.publishedEvents().filter((e) => e.detailType === 'AlertUndelivered' && JSON.stringify(e.detail).includes(alertId))).toEqual([]);
  });

  it('a handset block comes back BLOCKED and tells operations the number needs fixing', async () => {
    const c = demoCustomers[1]!;
    const { alertId } = await alertCustomer(c, ['TEXT_BLOCKED']);
    await until('SMS BLOCKED', async () => ((await smsStatus(c, alertId)()) === 'BLOCKED' ? true : undefined));
    await until('ContactNeedsFixing', async () =>
      rt.peers.publishedEvents().find((e) => e.detailType === 'ContactNeedsFixing' && JSON.stringify(e.detail).includes(c.customerId) && JSON.stringify(e.detail).includes('SMS_BLOCKED')),
    );
  });

  it('an unreachable carrier until the time to live runs out comes back FAILED; the email is untouched', async () => {
    const c = demoCustomers[0]!;
    const { alertId } = await alertCustomer(c, ['TEXT_CARRIER_UNREACHABLE', 'TEXT_TTL_EXPIRED']);
    await until('SMS FAILED', async () => ((await smsStatus(c, alertId)()) === 'FAILED' ? true : undefined));
    const a = await findAlert({ accountId: c.accountId, customerId: c.customerId }, alertId, true);
    expect(Object.values(a!.deliveries).find((d) => d.channel === 'SMS')).toMatchObject({ status: 'FAILED', detail: 'TEXT_TTL_EXPIRED' });
    expect(Object.values(a!.deliveries).find((d) => d.channel === 'EMAIL')?.status).toBe('SENT');
  });
});
