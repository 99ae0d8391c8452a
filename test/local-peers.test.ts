/** The local peers answer the REAL SDK clients, and inject faults at the wire. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SendEmailCommand, SendBulkEmailCommand } from '@aws-sdk/client-sesv2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalPeers, type LocalPeers, type PublishedEvent } from '../local/peers.ts';
import { setupTestEnv } from './support/env.ts';
import { awsClients } from '../src/adapters/clients.ts';
import { smsClient } from '../src/adapters/sms.ts';

let peers: LocalPeers;
const received: PublishedEvent[][] = [];

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv(peers.env);
  peers.onEvents((batch) => void received.push(batch));
});
afterAll(async () => {
  await peers?.stop();
});
beforeEach(async () => {
  await peers.clear();
  received.length = 0;
});

const email = (to: string) =>
  new SendEmailCommand({
    FromEmailAddress: 'alerts@example-bank.jp',
    Destination: { ToAddresses: [to] },
    ReplyToAddresses: ['reply@alerts.example-bank.jp'],
    ConfigurationSetName: 'alerts',
    EmailTags: [{ Name: 'alertId', Value: 'al-1' }, { Name: 'channel', Value: 'EMAIL' }],
    Content: {
      Simple: {
        Subject: { Data: '口座連携のお知らせ', Charset: 'UTF-8' },
        Body: { Html: { Data: '<p>こんにちは</p>', Charset: 'UTF-8' }, Text: { Data: 'こんにちは', Charset: 'UTF-8' } },
      },
    },
  });

const sms = (phone: string, message = 'Your account was linked. https://alerts.example-bank.jp/a/x') =>
  new SendTextMessageCommand({
    DestinationPhoneNumber: phone,
    MessageBody: message,
    MessageType: 'TRANSACTIONAL',
    OriginationIdentity: 'pool-0123456789abcdef',
    ConfigurationSetName: 'alerts-sms',
    Context: { alertId: 'al-1' },
  });

describe('local SES v2 (aws-ses-v2-local behind the fault proxy)', () => {
  it('accepts SendEmail from the real client and lists it with tags and Reply-To', async () => {
    const out = await awsClients().ses.send(email('hanako@example.jp'));
    expect(out.MessageId).toMatch(/^ses-/);
    const mails = await peers.emails();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({
      messageId: out.MessageId,
      from: 'alerts@example-bank.jp',
      to: ['hanako@example.jp'],
      subject: '口座連携のお知らせ',
      html: '<p>こんにちは</p>',
      text: 'こんにちは',
      replyTo: ['reply@alerts.example-bank.jp'],
      tags: { alertId: 'al-1', channel: 'EMAIL', 'ses:configuration-set': 'alerts' },
    });
    expect(Date.parse(mails[0]!.at)).not.toBeNaN();
    const page = await fetch(peers.mailboxUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
  });

  it('supports SendBulkEmail with inline template content', async () => {
    const out = await awsClients().ses.send(
      new SendBulkEmailCommand({
        FromEmailAddress: 'alerts@example-bank.jp',
        DefaultContent: { Template: { TemplateContent: { Subject: 'Hello {{name}}', Text: 'Hi {{name}}' }, TemplateData: '{"name":"x"}' } },
        DefaultEmailTags: [{ Name: 'campaignId', Value: 'c-1' }],
        BulkEmailEntries: [
          {
            Destination: { ToAddresses: ['a@example.jp'] },
            ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: '{"name":"A"}' } },
            ReplacementTags: [{ Name: 'recipient', Value: 'ra' }],
          },
          { Destination: { ToAddresses: ['b@example.jp'] }, ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: '{"name":"B"}' } } },
        ],
      }),
    );
    expect(out.BulkEmailEntryResults?.map((r) => r.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    const mails = await peers.emails();
    expect(mails.map((m) => m.subject).sort()).toEqual(['Hello A', 'Hello B']);
    expect(mails.find((m) => m.subject === 'Hello A')?.tags).toEqual({ campaignId: 'c-1', recipient: 'ra' });
    expect(mails.find((m) => m.subject === 'Hello B')?.tags).toEqual({ campaignId: 'c-1' });
  });

  it('answers injected throttling and 5xx at the wire; the SDK retries through them', async () => {
    peers.injectFaults('ses', ['throttle', '5xx']);
    const out = await awsClients().ses.send(email('taro@example.jp'));
    expect(out.$metadata.attempts).toBe(3);
    expect(await peers.emails()).toHaveLength(1);
  });

  it('fails with TooManyRequestsException (429) once the retries are exhausted, and sends nothing', async () => {
    peers.injectFaults('ses', ['throttle', 'throttle', 'throttle', 'throttle']);
    const err = await awsClients().ses.send(email('taro@example.jp')).catch((e: unknown) => e as Error & { $metadata: { httpStatusCode?: number; attempts?: number } });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429, attempts: 4 } });
    expect(await peers.emails()).toHaveLength(0);
  });

  it('rejects an email without a subject (the peer validates like SES)', async () => {
    const bad = new SendEmailCommand({
      FromEmailAddress: 'alerts@example-bank.jp',
      Destination: { ToAddresses: ['x@example.jp'] },
      Content: { Simple: { Subject: { Data: '' }, Body: { Text: { Data: 'x' } } } },
    });
    await expect(awsClients().ses.send(bad)).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(await peers.emails()).toHaveLength(0);
  });
});

describe('local SMS outbox (End User Messaging SMS, AWS JSON 1.0)', () => {
  it('accepts SendTextMessage from the real client and records Context, configuration set and parts', async () => {
    const text = '口座が連携されました https://alerts.example-bank.jp/a/abc';
    const out = await smsClient().send(sms('+819012345678', text));
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const msgs = peers.smsMessages();
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({
      messageId: out.MessageId,
      protocol: 'sms-voice-v2',
      phoneNumber: '+819012345678',
      message: text,
      messageType: 'TRANSACTIONAL',
      originationIdentity: 'pool-0123456789abcdef',
      configurationSetName: 'alerts-sms',
      context: { alertId: 'al-1' },
      encoding: 'UCS2',
      parts: 1,
    });
    const page = await (await fetch(peers.smsOutboxUrl)).text();
    expect(page).toContain('口座が連携されました');
    expect(page).toContain('+819012345678');
    expect(page).toContain('configuration set alerts-sms');
    const json = (await (await fetch(new URL('/messages', peers.smsOutboxUrl))).json()) as { messageId: string }[];
    expect(json.map((m) => m.messageId)).toEqual([out.MessageId]);
  });

  it('lists the outbox newest first', async () => {
    await smsClient().send(sms('+819011111111', 'older-sms'));
    await smsClient().send(sms('+819022222222', 'newer-sms'));
    const json = (await (await fetch(new URL('/messages', peers.smsOutboxUrl))).json()) as { message: string }[];
    expect(json.map((m) => m.message)).toEqual(['newer-sms', 'older-sms']);
    const page = await (await fetch(peers.smsOutboxUrl)).text();
    expect(page.indexOf('newer-sms')).toBeGreaterThan(0);
    expect(page.indexOf('newer-sms')).toBeLessThan(page.indexOf('older-sms'));
  });

  it('throttles as the service does (400 ThrottlingException) and the SDK retries through throttling and 5xx', async () => {
    peers.injectFaults('sms', ['throttle', '5xx']);
    const out = await smsClient().send(sms('+819012345678'));
    expect(out.$metadata.attempts).toBe(3);
    expect(peers.smsMessages()).toHaveLength(1);
  });

  it('surfaces throttling once retries are exhausted, sending nothing', async () => {
    peers.injectFaults('sms', ['throttle', 'throttle', 'throttle', 'throttle']);
    const err = (await smsClient()
      .send(sms('+819012345678'))
      .then(() => undefined, (e: unknown) => e)) as (Error & { $metadata: { httpStatusCode?: number } }) | undefined;
    expect(err).toBeInstanceOf(Error);
    expect(err?.name).toBe('ThrottlingException');
    expect(err?.$metadata.httpStatusCode).toBe(400);
    expect(peers.smsMessages()).toHaveLength(0);
  });

  it('refuses for good on an injected reject (400 ValidationException), without retrying', async () => {
    peers.injectFaults('sms', ['reject']);
    await expect(smsClient().send(sms('+819012345678'))).rejects.toMatchObject({ name: 'ValidationException', Reason: 'INVALID_PARAMETER', $metadata: { httpStatusCode: 400, attempts: 1 } });
    peers.injectFaults('ses', ['reject']);
    await expect(awsClients().ses.send(email('x@example.jp'))).rejects.toMatchObject({ name: 'MessageRejected', $metadata: { httpStatusCode: 400, attempts: 1 } });
    expect(peers.smsMessages()).toHaveLength(0);
    expect(await peers.emails()).toHaveLength(0);
  });

  it('rejects a phone number that is not E.164 with ValidationException naming the field', async () => {
    await expect(smsClient().send(sms('09012345678'))).rejects.toMatchObject({ name: 'ValidationException', Fields: [expect.objectContaining({ Name: 'destinationPhoneNumber' })] });
    expect(peers.smsMessages()).toHaveLength(0);
  });

  it('still takes SNS Publish (senders not moved yet): recorded as such, no status events (no configuration set)', async () => {
    const out = await awsClients().sns.send(
      new PublishCommand({
        PhoneNumber: '+819012345678',
        Message: 'legacy',
        MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
      }),
    );
    expect(peers.smsMessages()).toEqual([expect.objectContaining({ messageId: out.MessageId, protocol: 'sns', attributes: { 'AWS.SNS.SMS.SMSType': 'Transactional' } })]);
    await new Promise((r) => setTimeout(r, 250));
    expect(peers.smsStatusEvents()).toEqual([]);
  });
});

describe('local EventBridge (PutEvents, awsJson1_1)', () => {
  const put = (n: number) =>
    new PutEventsCommand({
      Entries: Array.from({ length: n }, (_, i) => ({
        Source: 'bank.alerting',
        DetailType: 'AlertSent',
        Detail: JSON.stringify({ n: i }),
        EventBusName: 'alerts-bus',
      })),
    });

  it('records the entries and calls the listeners with the accepted batch before answering', async () => {
    const out = await awsClients().eventBridge.send(put(3));
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(3);
    expect(received).toHaveLength(1);
    expect(received[0]!.map((e) => e.detail)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(peers.publishedEvents()[0]).toMatchObject({ source: 'bank.alerting', detailType: 'AlertSent', eventBusName: 'alerts-bus' });
  });

  it('fails a malformed entry alone, as EventBridge does', async () => {
    const out = await awsClients().eventBridge.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'bank.core', DetailType: 'X', Detail: '{"ok":true}' },
          { Source: 'bank.core', DetailType: 'X', Detail: 'not json' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[1]?.ErrorCode).toBe('MalformedDetail');
    expect(peers.publishedEvents()).toHaveLength(1);
  });

  it('throttles and fails with 5xx on demand; the SDK retries', async () => {
    peers.injectFaults('eventbridge', ['throttle', '5xx']);
    const out = await awsClients().eventBridge.send(put(1));
    expect(out.$metadata.attempts).toBe(3);
    expect(peers.publishedEvents()).toHaveLength(1);
    peers.injectFaults('eventbridge', ['5xx', '5xx', '5xx', '5xx']);
    await expect(awsClients().eventBridge.send(put(1))).rejects.toMatchObject({ name: 'InternalException', $metadata: { httpStatusCode: 500 } });
    expect(peers.publishedEvents()).toHaveLength(1);
  });
});
