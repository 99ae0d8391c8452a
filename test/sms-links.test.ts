/**
 * SMS_LINKS=never end to end: the setting is validated at cold start; the alert function sends an
 * SMS with no link that names the event, the reply keyword and the bank's contact, while the email
 * keeps the link; the keyword the SMS names really freezes the account by two-way reply; a
 * fallback SMS (email hard-bounced) is link-less too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { replyBySms, sesEvent, invoke } from '../local/reply-simulator.ts';
import { setupTestEnv } from './support/env.ts';
import { parseRuntimeConfig, ConfigError } from '../src/config.ts';
import { alertIdFor } from '../src/domain/alert-decision.ts';
import { getAccount } from '../src/store/customers.ts';
import { recipientRef } from '../src/store/send-ledger.ts';
import { newCustomer, putSentAlert } from './support/reply-fixtures.ts';

const CONTACT = '0120-000-110';
const BASE = 'https://alerts.example-bank.jp/a/';
let peers: LocalPeers;
let handler: (typeof import('../functions/alert/handler.ts'))['handler'];

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv({ ...peers.env, SMS_LINKS: 'never', SMS_BANK_CONTACT: CONTACT, ACTION_BASE_URL: BASE, SES_CONFIGURATION_SET: 'alerts', POWERTOOLS_METRICS_DISABLED: 'true' });
  ({ handler } = await import('../functions/alert/handler.ts'));
});
afterAll(async () => {
  await peers?.stop();
});

const ctx = (): Context => ({
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
});

const sqs = (events: { detailType: string; detail: Record<string, unknown> }[]): SQSEvent => ({
  Records: events.map((e, i) => ({
    messageId: `m-${i}-${randomUUID()}`,
    receiptHandle: 'rh',
    body: JSON.stringify({ version: '0', id: randomUUID(), source: 'bank.core', 'detail-type': e.detailType, time: new Date().toISOString(), region: 'ap-northeast-1', account: '123456789012', resources: [], detail: e.detail }),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'x', ApproximateFirstReceiveTimestamp: String(Date.now()) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:ap-northeast-1:123456789012:CoreEventsToAlert',
    awsRegion: 'ap-northeast-1',
  })),
});

describe('the setting', () => {
  const base = { TABLE_NAME: 't', TOKEN_PEPPER: 'p'.repeat(32) };
  it('defaults to links; "never" needs the contact; bad values fail the cold start naming the setting', () => {
    expect(parseRuntimeConfig(base)).toMatchObject({ SMS_LINKS: 'always', SMS_BANK_CONTACT: '' });
    expect(parseRuntimeConfig({ ...base, SMS_LINKS: 'never', SMS_BANK_CONTACT: CONTACT })).toMatchObject({ SMS_LINKS: 'never', SMS_BANK_CONTACT: CONTACT });
    const bad: [Record<string, string>, RegExp][] = [
      [{ SMS_LINKS: 'never' }, /SMS_BANK_CONTACT must be set/],
      [{ SMS_LINKS: 'sometimes' }, /SMS_LINKS/],
      // A web address is a link after all; non-GSM-7 text would make English SMS UCS-2; length is budgeted at 30.
      [{ SMS_LINKS: 'never', SMS_BANK_CONTACT: 'example-bank.jp/help' }, /SMS_BANK_CONTACT: a phone number or app name/],
      [{ SMS_LINKS: 'never', SMS_BANK_CONTACT: 'サンプル銀行アプリ' }, /SMS_BANK_CONTACT/],
      [{ SMS_LINKS: 'never', SMS_BANK_CONTACT: '0'.repeat(31) }, /SMS_BANK_CONTACT/],
      [{ SMS_CONFIGURATION_SET: 'has spaces' }, /SMS_CONFIGURATION_SET/],
      [{ SMS_ORIGINATION_IDENTITY: 'pool id?' }, /SMS_ORIGINATION_IDENTITY/],
    ];
    for (const [env, message] of bad) {
      expect(() => parseRuntimeConfig({ ...base, ...env })).toThrow(ConfigError);
      expect(() => parseRuntimeConfig({ ...base, ...env })).toThrow(message);
    }
  });
});

describe('SMS_LINKS=never through the alert function, the reply and the fallback', () => {
  it('the SMS names the event, 凍結 and the contact with no link; the email carries the link; replying 凍結 freezes the account', async () => {
    const id = randomUUID().slice(0, 8);
    const c = { customerId: `cust-${id}`, accountId: `acct-${id}`, email: `u-${id}@example.jp`, phone: `+8190${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` };
    const profile = { eventId: `evt-p-${id}`, occurredAt: '2026-11-24T09:00:00+09:00', customerId: c.customerId, email: c.email, phone: c.phone, locale: 'ja', accounts: [{ accountId: c.accountId, last4: '4321' }] };
    const link = { eventId: `evt-l-${id}`, occurredAt: new Date().toISOString(), accountId: c.accountId, linkId: `lnk-${id}`, provider: { id: 'dwallet', displayName: 'D-Wallet' }, linkType: 'EPAY', channel: 'PROVIDER_APP' };
    expect((await handler(sqs([{ detailType: 'CustomerProfileUpserted', detail: profile }]), ctx())).batchItemFailures).toEqual([]);
    expect((await handler(sqs([{ detailType: 'LinkCreated', detail: link }]), ctx())).batchItemFailures).toEqual([]);

    const [sms] = peers.smsMessages().filter((m) => m.phoneNumber === c.phone);
    expect(sms!.message).not.toContain('http');
    expect(sms!.message).not.toContain(BASE);
    expect(sms!.message).toContain('「D-Wallet」と連携されました');
    expect(sms!.message).toContain('「凍結」と返信');
    expect(sms!.message).toContain(CONTACT);
    expect(sms!.parts).toBeLessThanOrEqual(2);
    expect(sms!.context).toEqual({ alertId: alertIdFor(link.eventId) });
    const [mail] = (await peers.emails()).filter((m) => m.to.includes(c.email));
    expect(mail!.text).toMatch(new RegExp(`${BASE.replace(/[.]/g, '\\.')}[A-Za-z0-9_-]{22}`));

    // The keyword the SMS names works: a two-way reply freezes the account.
    const out = (await replyBySms({ from: c.phone, body: '凍結', previousPublishedMessageId: sms!.messageId })) as { results: { outcome: string }[] };
    expect(out.results[0]!.outcome).toBe('FROZEN');
    expect((await getAccount(c.accountId, true))?.state).toBe('FROZEN');
  });

  it('a fallback SMS after a hard bounce is link-less too, with the alert id in its Context', async () => {
    const f = await newCustomer({ locale: 'en' });
    const { alertId, emailMessageId } = await putSentAlert(f, { channels: ['EMAIL'] });
    const bounce = sesEvent('Bounce', { messageId: emailMessageId, to: f.email, tags: { alertId, channel: 'EMAIL', recipient: recipientRef('EMAIL', f.email) } });
    expect((await invoke('delivery', bounce)) as unknown).toMatchObject({ results: [{ kind: 'APPLIED', fallback: [{ channel: 'SMS', result: 'SENT' }] }] });
    const [sms] = peers.smsMessages().filter((m) => m.phoneNumber === f.phone);
    expect(sms!.message).toBe(`Example Bank: acct *1234 linked to D-Wallet ${sms!.message.match(/\d\d\/\d\d \d\d:\d\d/)![0]} JST. Not you? Reply FREEZE or contact us: ${CONTACT}`);
    expect(sms!.context).toEqual({ alertId });
  });
});
