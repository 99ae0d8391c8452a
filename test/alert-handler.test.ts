/**
 * The alert function end to end: SQS batch -> handler -> DynamoDB Local, local SES v2 / SMS /
 * EventBridge peers, with the real SDK clients. Crashes are injected through the orchestration's
 * hooks; faults at the peers' wire.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, SQSEvent } from 'aws-lambda';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { setupTestEnv, TEST_PEPPER } from './support/env.ts';
import { setAlertHooks } from '../src/alerts/process-event.ts';
import { alertIdFor } from '../src/domain/alert-decision.ts';
import { findAlert, recordDeliveryStatus } from '../src/store/alerts.ts';
import { claimSend, getSend, recipientRef, recordProviderAccepted } from '../src/store/send-ledger.ts';
import { getLink } from '../src/store/links.ts';
import { getCustomer } from '../src/store/customers.ts';
import { findToken } from '../src/store/tokens.ts';
import { resetRuntimeConfig } from '../src/config.ts';
import { resetDeadLetterClient } from '../src/alerts/dead-letter.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../src/store/db.ts';
import { key } from '../src/store/table.ts';

let peers: LocalPeers;
// Imported after the environment is set: Powertools reads log level and metrics settings at construction.
let handler: (typeof import('../functions/alert/handler.ts'))['handler'];
let logger: (typeof import('../functions/alert/handler.ts'))['logger'];
let metrics: (typeof import('../functions/alert/handler.ts'))['metrics'];
const BASE = 'https://alerts.example-bank.jp/a/';

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv({
    ...peers.env,
    SES_CONFIGURATION_SET: 'alerts',
    // Generous: on a loaded machine an attempt can take seconds, and a claim must not go stale
    // under it by accident. Tests that need a stale claim backdate it in the table instead.
    SEND_CLAIM_STALE_SECONDS: '60',
    EVENT_BUS_NAME: 'alerting-bus',
    ACTION_BASE_URL: BASE,
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  ({ handler, logger, metrics } = await import('../functions/alert/handler.ts'));
});
afterAll(async () => {
  await peers?.stop();
});
beforeEach(async () => {
  await peers.clear();
});
afterEach(() => {
  setAlertHooks();
  vi.restoreAllMocks();
});

let seq = 0;
const uid = () => `${Date.now().toString(36)}${(seq++).toString(36)}${randomUUID().slice(0, 4)}`;

function ctx(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'alert',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:ap-northeast-1:123456789012:function:alert',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/alert',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

interface Ev {
  detailType: string;
  detail: Record<string, unknown>;
  source?: string;
}

function sqs(events: (Ev | string)[]): SQSEvent {
  return {
    Records: events.map((e, i) => ({
      messageId: `m-${i}-${randomUUID()}`,
      receiptHandle: 'rh',
      body:
        typeof e === 'string'
          ? e
          : JSON.stringify({ version: '0', id: randomUUID(), source: e.source ?? 'bank.core', 'detail-type': e.detailType, time: new Date().toISOString(), region: 'ap-northeast-1', account: '123456789012', resources: [], detail: e.detail }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'x', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:ap-northeast-1:123456789012:CoreEventsToAlert',
      awsRegion: 'ap-northeast-1',
    })),
  };
}

async function run(events: (Ev | string)[]) {
  const out = await handler(sqs(events), ctx());
  return out.batchItemFailures.map((f) => f.itemIdentifier);
}

interface Customer {
  customerId: string;
  accountId: string;
  email: string;
  phone: string;
}

async function seedCustomer(over: Record<string, unknown> = {}, extraAccounts: string[] = []): Promise<Customer> {
  const id = uid();
  const c = { customerId: `cust-${id}`, accountId: `acct-${id}`, email: `user-${id}@example.jp`, phone: `+8190${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` };
  const failures = await run([
    {
      detailType: 'CustomerProfileUpserted',
      detail: {
        eventId: `evt-prof-${id}`,
        occurredAt: '2026-11-24T09:00:00+09:00',
        customerId: c.customerId,
        displayName: '山田 花子',
        email: c.email,
        phone: c.phone,
        locale: 'ja',
        accounts: [{ accountId: c.accountId, last4: '1234' }, ...extraAccounts.map((a) => ({ accountId: a, last4: '9999' }))],
        ...over,
      },
    },
  ]);
  expect(failures).toEqual([]);
  return c;
}

const linkCreated = (c: Customer, over: Record<string, unknown> = {}): Ev => ({
  detailType: 'LinkCreated',
  detail: {
    eventId: `evt-link-${uid()}`,
    occurredAt: new Date().toISOString(),
    accountId: c.accountId,
    linkId: `lnk-${uid()}`,
    provider: { id: 'dwallet', displayName: 'D-Wallet' },
    linkType: 'EPAY',
    channel: 'PROVIDER_APP',
    origin: { ip: '203.0.113.77', device: 'Android 14' },
    ...over,
  },
});

const withdrawal = (c: Customer, over: Record<string, unknown> = {}): Ev => ({
  detailType: 'WithdrawalPosted',
  detail: {
    eventId: `evt-wd-${uid()}`,
    occurredAt: new Date().toISOString(),
    accountId: c.accountId,
    withdrawalId: `wd-${uid()}`,
    channel: 'ATM_CARD',
    amount: 10_000,
    currency: 'JPY',
    ...over,
  },
});

const mailsTo = async (addr: string) => (await peers.emails()).filter((m) => m.to.includes(addr));
const smsTo = (phone: string) => peers.smsMessages().filter((m) => m.phoneNumber === phone);

describe('alerting on a new link (the 2020 case)', () => {
  it('sends one email and one SMS in the customer locale with a working action link, records link, token and alert', async () => {
    const c = await seedCustomer();
    const ev = linkCreated(c);
    expect(await run([ev])).toEqual([]);

    const [mail] = await mailsTo(c.email);
    expect(mail).toBeDefined();
    expect(mail!.subject).toBe('【サンプル銀行】口座に電子決済サービスが連携されました');
    expect(mail!.text).toContain('D-Wallet');
    expect(mail!.replyTo).toEqual(['reply@alerts.example-bank.jp']);
    const alertId = alertIdFor(String(ev.detail.eventId));
    expect(mail!.tags).toMatchObject({ alertId, channel: 'EMAIL', recipientRef: recipientRef('EMAIL', c.email), 'ses:configuration-set': 'alerts' });

    const [sms] = smsTo(c.phone);
    expect(sms).toBeDefined();
    // End User Messaging SendTextMessage: transactional, with the alert id in its Context.
    expect(sms).toMatchObject({ protocol: 'sms-voice-v2', messageType: 'TRANSACTIONAL', context: { alertId } });
    const token = sms!.message.match(/https:\/\/alerts\.example-bank\.jp\/a\/([A-Za-z0-9_-]{22})/)?.[1];
    expect(token).toBeDefined();
    // One token per channel: the action page knows which message it was opened from, and sends
    // the "it was me" code to the other channel (src/stepup).
    const emailToken = mail!.html!.match(/https:\/\/alerts\.example-bank\.jp\/a\/([A-Za-z0-9_-]{22})/)?.[1];
    expect(emailToken).toBeDefined();
    expect(emailToken).not.toBe(token);
    expect(await findToken(emailToken!, [TEST_PEPPER])).toMatchObject({ alertId, channel: 'EMAIL' });
    const grant = await findToken(token!, [TEST_PEPPER]);
    expect(grant).toMatchObject({
      channel: 'SMS',
      accountId: c.accountId,
      customerId: c.customerId,
      alertId,
      actions: [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId: ev.detail.linkId }, { kind: 'CONFIRM_LINK', linkId: ev.detail.linkId }],
    });

    const link = await getLink(c.accountId, String(ev.detail.linkId));
    expect(link?.state).toBe('PENDING');
    expect(Date.parse(link!.holdUntil) - Date.parse(String(ev.detail.occurredAt))).toBe(24 * 3_600_000);

    const alert = await findAlert({ accountId: c.accountId, customerId: c.customerId }, alertId);
    expect(alert).toMatchObject({ alertId, sourceEventId: ev.detail.eventId, sourceEventType: 'LinkCreated', accountId: c.accountId, customerId: c.customerId });
    const deliveries = Object.values(alert!.deliveries);
    expect(deliveries.map((d) => [d.channel, d.status, d.messageId]).sort()).toEqual(
      [
        ['EMAIL', 'SENT', mail!.messageId],
        ['SMS', 'SENT', sms!.messageId],
      ].sort(),
    );

    const sent = peers.publishedEvents().filter((e) => e.detailType === 'AlertSent');
    expect(sent).toHaveLength(2);
    expect(sent.every((e) => e.source === 'bank.alerting' && e.eventBusName === 'alerting-bus')).toBe(true);
    expect(sent.map((e) => (e.detail as { messageId: string }).messageId).sort()).toEqual([mail!.messageId, sms!.messageId].sort());
  });

  it('renders in English for an English-speaking customer, and ignores the marketing opt-out', async () => {
    const c = await seedCustomer({ locale: 'en', preferences: { marketingOptOut: true } });
    expect(await run([linkCreated(c, { provider: { id: 'w', displayName: '楽天ペイ Wallet' } })])).toEqual([]);
    const [mail] = await mailsTo(c.email);
    expect(mail!.subject).toBe('Example Bank: an e-payment service was linked to your account');
    const [sms] = smsTo(c.phone);
    expect(sms!.message).toMatch(/^Example Bank: acct \*1234 linked to Wallet /);
  });
});

describe('exactly once', () => {
  it('the same event delivered three times (one batch, then two redeliveries): one email, one SMS', async () => {
    const c = await seedCustomer();
    const ev = linkCreated(c);
    // A duplicate inside one batch: the two copies race for the claims; a copy that finds a claim
    // of the other in flight fails and is retried (0, 1 or 2 failures, never a second message).
    const batch = sqs([ev, ev]);
    const failed = (await handler(batch, ctx())).batchItemFailures.map((f) => f.itemIdentifier);
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(failed.filter((id) => !batch.Records.some((r) => r.messageId === id))).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(smsTo(c.phone)).toHaveLength(1);
    // SQS redelivers exactly the failed copies: each now finds the message sent and succeeds.
    expect(await run(failed.map(() => ev))).toEqual([]);
    expect(await run([ev])).toEqual([]);
    expect(await run([ev])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(smsTo(c.phone)).toHaveLength(1);
    expect(peers.publishedEvents().filter((e) => e.detailType === 'AlertSent')).toHaveLength(2);
  });

  it('a crash after SES accepted but before the alert record: the retry sends no second email', async () => {
    const c = await seedCustomer();
    const ev = linkCreated(c);
    const alertId = alertIdFor(String(ev.detail.eventId));
    setAlertHooks({
      beforeAlertRecord: () => {
        throw new Error('injected crash: function died before writing the alert record');
      },
    });
    const failed = await run([ev]);
    expect(failed).toHaveLength(1);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(await findAlert({ accountId: c.accountId, customerId: c.customerId }, alertId)).toBeUndefined();
    setAlertHooks();
    expect(await run([ev])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(smsTo(c.phone)).toHaveLength(1);
    const alert = await findAlert({ accountId: c.accountId, customerId: c.customerId }, alertId);
    expect(Object.values(alert!.deliveries).every((d) => d.status === 'SENT' && d.messageId)).toBe(true);
  });

  it('a crash between the provider accepting and the ledger saying SENT: the fresh claim blocks a resend; once stale, the provider confirmation counts as sent', async () => {
    const c = await seedCustomer();
    const ev = linkCreated(c);
    const alertId = alertIdFor(String(ev.detail.eventId));
    let emailMessageId = '';
    setAlertHooks({
      afterProviderAccepted: (i) => {
        if (i.channel === 'EMAIL') {
          emailMessageId = i.messageId;
          throw new Error('injected crash right after SES accepted');
        }
      },
    });
    expect(await run([ev])).toHaveLength(1);
    setAlertHooks();
    expect((await getSend(alertId, 'EMAIL', recipientRef('EMAIL', c.email)))?.state).toBe('SENDING');
    // Immediate redelivery: the claim is fresh, so the email is not sent again; the item fails.
    expect(await run([ev])).toHaveLength(1);
    expect(await mailsTo(c.email)).toHaveLength(1);
    // SES's 'Send' event (via the delivery function) confirms the first attempt reached SES.
    expect(await recordProviderAccepted(alertId, 'EMAIL', c.email, emailMessageId)).toBe(true);
    expect(await run([ev])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(smsTo(c.phone)).toHaveLength(1);
    const alert = await findAlert({ accountId: c.accountId, customerId: c.customerId }, alertId);
    const email = Object.values(alert!.deliveries).find((d) => d.channel === 'EMAIL');
    expect(email).toMatchObject({ status: 'SENT', messageId: emailMessageId });
  });

  it('a claim whose attempt never reached the provider is resent once it is stale', async () => {
    const c = await seedCustomer();
    const ev = linkCreated(c);
    // An attempt that claimed the email and then vanished (killed before calling SES).
    const alertId = alertIdFor(String(ev.detail.eventId));
    const ref = recipientRef('EMAIL', c.email);
    const claim = await claimSend(alertId, 'EMAIL', ref, { accountId: c.accountId, customerId: c.customerId }, { staleSeconds: 60 });
    expect(claim.kind).toBe('CLAIMED');
    expect(await run([ev])).toHaveLength(1); // fresh foreign claim: the email waits, the SMS goes
    expect(await mailsTo(c.email)).toHaveLength(0);
    expect(smsTo(c.phone)).toHaveLength(1);
    // Time passes (no sleeping: the claim is dated back beyond SEND_CLAIM_STALE_SECONDS).
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.send(alertId, 'EMAIL', ref),
        UpdateExpression: 'SET claimedAt = :old',
        ExpressionAttributeValues: { ':old': new Date(Date.now() - 120_000).toISOString() },
      }),
    );
    expect(await run([ev])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(smsTo(c.phone)).toHaveLength(1);
  });
});

describe('provider faults', () => {
  it('SES throttling and 5xx within the SDK retries: sent once, nothing fails', async () => {
    const c = await seedCustomer();
    peers.injectFaults('ses', ['throttle', '5xx', 'throttle']);
    peers.injectFaults('sns', ['throttle', '5xx']);
    expect(await run([linkCreated(c)])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(smsTo(c.phone)).toHaveLength(1);
  });

  it('retries exhausted: only the failed item is reported; the redelivery completes without duplicates', async () => {
    const a = await seedCustomer();
    const b = await seedCustomer();
    const evA = linkCreated(a);
    const evB = linkCreated(b);
    // Four throttles exhaust one SES call (maxAttempts 4). Process A alone first so the faults hit it.
    peers.injectFaults('ses', ['throttle', 'throttle', 'throttle', 'throttle']);
    const failedA = await run([evA]);
    expect(failedA).toHaveLength(1);
    expect(await mailsTo(a.email)).toHaveLength(0);
    expect(smsTo(a.phone)).toHaveLength(1); // the SMS went out and is not sent again
    const alertA = await findAlert({ accountId: a.accountId, customerId: a.customerId }, alertIdFor(String(evA.detail.eventId)));
    expect(Object.values(alertA!.deliveries).map((d) => [d.channel, d.status]).sort()).toEqual([
      ['EMAIL', 'PENDING'],
      ['SMS', 'SENT'],
    ]);
    // The batch with the redelivered A and a new B: SNS 5xx exhausts B's SMS only.
    peers.injectFaults('sns', ['5xx', '5xx', '5xx', '5xx']);
    const out = await handler(sqs([evA, evB]), ctx());
    expect(out.batchItemFailures).toHaveLength(1);
    expect(await mailsTo(a.email)).toHaveLength(1);
    expect(smsTo(a.phone)).toHaveLength(1);
    expect(await mailsTo(b.email)).toHaveLength(1);
    expect(smsTo(b.phone)).toHaveLength(0);
    expect(await run([evA, evB])).toEqual([]);
    expect(await mailsTo(a.email)).toHaveLength(1);
    expect(smsTo(a.phone)).toHaveLength(1);
    expect(await mailsTo(b.email)).toHaveLength(1);
    expect(smsTo(b.phone)).toHaveLength(1);
  });

  it('a recipient the provider refuses for good is recorded FAILED and not retried', async () => {
    const c = await seedCustomer();
    const ev = linkCreated(c);
    peers.injectFaults('sns', ['reject']); // SNS: 400 InvalidParameter (e.g. not a mobile number)
    expect(await run([ev])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(smsTo(c.phone)).toHaveLength(0);
    const alertId = alertIdFor(String(ev.detail.eventId));
    expect((await getSend(alertId, 'SMS', recipientRef('SMS', c.phone)))?.state).toBe('FAILED');
    const alert = await findAlert({ accountId: c.accountId, customerId: c.customerId }, alertId);
    expect(Object.values(alert!.deliveries).find((d) => d.channel === 'SMS')?.status).toBe('FAILED');
    expect(await run([ev])).toEqual([]);
    expect(smsTo(c.phone)).toHaveLength(0);
  });
});

describe('bad input', () => {
  it('an event that fails its schema: no alert, a metric, consumed (never retried)', async () => {
    const c = await seedCustomer();
    const spy = vi.spyOn(metrics, 'addMetric');
    const bad = linkCreated(c, { provider: { id: 'x' } }); // displayName missing
    const notJson = '{not json';
    const wrongType: Ev = { detailType: 'AccountHijacked', detail: { eventId: 'evt-x' } };
    expect(await run([bad, notJson, wrongType])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(0);
    expect(smsTo(c.phone)).toHaveLength(0);
    expect(spy.mock.calls.filter(([name]) => name === 'InvalidEvent')).toHaveLength(3);
    expect(await findAlert({ accountId: c.accountId, customerId: c.customerId }, alertIdFor(String(bad.detail.eventId)))).toBeUndefined();
  });

  it('with a DLQ configured, a schema failure is parked there at once (body unchanged, reason attached), not retried', async () => {
    // A wire-level SQS SendMessage stub (awsJson1_0): there is no local SQS peer.
    const received: { QueueUrl: string; MessageBody: string; MessageAttributes: Record<string, { StringValue: string }> }[] = [];
    const targets: string[] = [];
    let failNext = 0;
    const stub = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'InternalError' }));
          return;
        }
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof received)[number];
        // Checked in the test body: an expect thrown in this callback would not fail the test.
        targets.push(String(req.headers['x-amz-target']));
        received.push(input);
        const md5 = createHash('md5').update(input.MessageBody, 'utf8').digest('hex');
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ MessageId: randomUUID(), MD5OfMessageBody: md5 }));
      });
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', () => r()));
    const port = (stub.address() as AddressInfo).port;
    Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${port}`, ALERT_DLQ_URL: `http://127.0.0.1:${port}/000000000000/CoreEventsToAlert-dlq` });
    resetRuntimeConfig();
    resetDeadLetterClient();
    try {
      const c = await seedCustomer();
      const bad = linkCreated(c, { linkType: 'BANK' });
      const batch = sqs([bad]);
      expect((await handler(batch, ctx())).batchItemFailures).toEqual([]);
      expect(received).toHaveLength(1);
      expect(targets).toEqual(['AmazonSQS.SendMessage']);
      expect(received[0]!.QueueUrl).toMatch(/CoreEventsToAlert-dlq$/);
      expect(received[0]!.MessageBody).toBe(batch.Records[0]!.body);
      expect(received[0]!.MessageAttributes.reason!.StringValue).toContain('linkType');
      expect(received[0]!.MessageAttributes.eventId!.StringValue).toBe(bad.detail.eventId);
      expect(await mailsTo(c.email)).toHaveLength(0);
      // The DLQ itself failing: the record fails (SQS retries it, then its own redrive takes it).
      failNext = 4;
      expect(await run([bad])).toHaveLength(1);
      expect(await run([bad])).toEqual([]);
      expect(received).toHaveLength(2);
    } finally {
      delete process.env.ALERT_DLQ_URL;
      delete process.env.AWS_ENDPOINT_URL_SQS;
      resetRuntimeConfig();
      resetDeadLetterClient();
      await new Promise((r) => stub.close(r));
    }
  });

  it('logs the reason with ids only, never the customer data', async () => {
    const c = await seedCustomer();
    const spy = vi.spyOn(logger, 'error');
    const bad = linkCreated(c, { origin: { ip: c.email } }); // personal data in a wrong field
    expect(await run([bad])).toEqual([]);
    const logged = JSON.stringify(spy.mock.calls);
    expect(logged).toContain(String(bad.detail.eventId));
    expect(logged).toContain('origin.ip');
    expect(logged).not.toContain(c.email);
  });

  it('an event for an unknown account: no alert, an UnknownAccount metric, consumed', async () => {
    const spy = vi.spyOn(metrics, 'addMetric');
    const ghost: Customer = { customerId: 'nobody', accountId: `acct-ghost-${uid()}`, email: 'x@example.jp', phone: '+819000000000' };
    const contact: Ev = {
      detailType: 'ContactChanged',
      detail: { eventId: `evt-cc-${uid()}`, occurredAt: new Date().toISOString(), customerId: `cust-ghost-${uid()}`, previous: { email: 'a@example.jp' }, current: { email: 'b@example.jp' }, channel: 'ONLINE' },
    };
    expect(await run([linkCreated(ghost), contact])).toEqual([]);
    expect(spy.mock.calls.filter(([name]) => name === 'UnknownAccount')).toHaveLength(2);
    expect(await peers.emails()).toHaveLength(0);
    expect(peers.smsMessages()).toHaveLength(0);
  });
});

describe('what alerts, to whom', () => {
  it('withdrawals follow the preference: small card ATM withdrawal silent, cardless always, card above threshold alerts', async () => {
    const c = await seedCustomer({ preferences: { withdrawalThreshold: 50_000 } });
    expect(await run([withdrawal(c, { amount: 10_000 })])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(0);
    expect(await run([withdrawal(c, { channel: 'ATM_CARDLESS', amount: 1_000 })])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(await run([withdrawal(c, { channel: 'TRANSFER', amount: 50_000 })])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(2);
  });

  it('a withdrawal through a link offers freeze and revoke, and names the provider', async () => {
    const c = await seedCustomer();
    const link = linkCreated(c);
    expect(await run([link])).toEqual([]);
    await peers.clear();
    const w = withdrawal(c, { channel: 'EPAY_CHARGE', amount: 30_000, linkId: link.detail.linkId, counterparty: 'D-Wallet top-up' });
    expect(await run([w])).toEqual([]);
    const [sms] = smsTo(c.phone);
    expect(sms!.message).toContain('30,000円');
    expect(sms!.message).toContain('D-Wallet');
    const token = sms!.message.match(/\/a\/([A-Za-z0-9_-]{22})/)![1]!;
    const grant = await findToken(token, [TEST_PEPPER]);
    expect(grant?.actions).toEqual([{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId: link.detail.linkId }]);
  });

  it('a contact change goes to the old and the new email and phone; one token for the first account, "call us" for the others', async () => {
    const c = await seedCustomer({}, [`acct-other-${uid()}`]);
    const newEmail = `new-${uid()}@example.net`;
    const newPhone = '+818098765432';
    const ev: Ev = {
      detailType: 'ContactChanged',
      detail: {
        eventId: `evt-cc-${uid()}`,
        occurredAt: new Date().toISOString(),
        customerId: c.customerId,
        previous: { email: c.email, phone: c.phone },
        current: { email: newEmail, phone: newPhone },
        channel: 'ONLINE',
      },
    };
    expect(await run([ev])).toEqual([]);
    expect(await mailsTo(c.email)).toHaveLength(1);
    expect(await mailsTo(newEmail)).toHaveLength(1);
    expect(smsTo(c.phone)).toHaveLength(1);
    expect(smsTo(newPhone)).toHaveLength(1);
    expect(smsTo(c.phone)[0]!.message).toContain('他の口座はお電話で');
    const token = smsTo(newPhone)[0]!.message.match(/\/a\/([A-Za-z0-9_-]{22})/)![1]!;
    expect(await findToken(token, [TEST_PEPPER])).toMatchObject({ accountId: c.accountId, actions: [{ kind: 'FREEZE_ACCOUNT' }] });
    const alert = await findAlert({ customerId: c.customerId }, alertIdFor(String(ev.detail.eventId)));
    expect(alert?.accountId).toBeUndefined();
    expect(alert?.tokenAccountId).toBe(c.accountId);
    expect(Object.values(alert!.deliveries).map((d) => d.role).sort()).toEqual(['CURRENT', 'CURRENT', 'PREVIOUS', 'PREVIOUS']);
  });

  it('a profile event is applied (no alert); an older one does not overwrite it', async () => {
    const c = await seedCustomer();
    expect((await getCustomer(c.customerId, true))?.locale).toBe('ja');
    const older: Ev = {
      detailType: 'CustomerProfileUpserted',
      detail: { eventId: `evt-old-${uid()}`, occurredAt: '2026-01-01T00:00:00+09:00', customerId: c.customerId, locale: 'en', accounts: [{ accountId: c.accountId, last4: '1234' }] },
    };
    expect(await run([older])).toEqual([]);
    expect((await getCustomer(c.customerId, true))?.locale).toBe('ja');
    expect(await peers.emails()).toHaveLength(0);
    expect(peers.smsMessages()).toHaveLength(0);
  });
});

describe('for the delivery function', () => {
  it('recordDeliveryStatus moves a message forward and never back', async () => {
    const c = await seedCustomer();
    const ev = linkCreated(c);
    expect(await run([ev])).toEqual([]);
    const owner = { accountId: c.accountId, customerId: c.customerId };
    const alertId = alertIdFor(String(ev.detail.eventId));
    expect(await recordDeliveryStatus(alertId, owner, 'EMAIL', c.email.toUpperCase(), 'DELIVERED', { reason: 'Delivery' })).toBe('UPDATED');
    expect(await recordDeliveryStatus(alertId, owner, 'EMAIL', c.email, 'DELAYED')).toBe('UNCHANGED');
    expect(await recordDeliveryStatus(alertId, owner, 'EMAIL', 'someone@else.jp', 'DELIVERED')).toBe('NOT_FOUND');
    const alert = await findAlert(owner, alertId);
    expect(Object.values(alert!.deliveries).find((d) => d.channel === 'EMAIL')).toMatchObject({ status: 'DELIVERED', detail: 'Delivery' });
  });
});

afterAll(() => resetRuntimeConfig());
