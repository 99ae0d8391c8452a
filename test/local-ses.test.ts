/**
 * The local SES as the campaign crash test relies on it: like a configuration set's event
 * destination in AWS, it publishes a `Send` event for every message it accepted, once, whether or
 * not the caller is still there to read the answer. A worker killed with SIGKILL in the middle of
 * a SendBulkEmail call is exactly that caller; without its event, the restarted worker would
 * wrongly take the message as never sent and send it again.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { request } from 'node:http';
import { startLocalSes, type LocalSes, type SesSendEventRecord } from '../local/ses.ts';
import { until } from './support/until.ts';

let ses: LocalSes;
let heard: SesSendEventRecord[] = [];

beforeAll(async () => {
  ses = await startLocalSes();
  ses.onSendEvents((records) => void heard.push(...records));
});
beforeEach(async () => {
  heard = [];
  await ses.clear();
});
afterAll(async () => {
  await ses?.stop();
});

const sendEmailBody = (to: string) =>
  JSON.stringify({
    FromEmailAddress: 'alerts@bank.example',
    Destination: { ToAddresses: [to] },
    Content: { Simple: { Subject: { Data: 'Subject' }, Body: { Text: { Data: 'Body' } } } },
    ConfigurationSetName: 'campaigns',
    EmailTags: [{ Name: 'campaign', Value: 'c-1' }],
  });

/** POSTs a SendEmail as the SDK would; `hangUp` closes the connection as soon as the request is out, before any answer. */
function sendEmail(to: string, hangUp: boolean): Promise<number | 'hung-up'> {
  const body = sendEmailBody(to);
  return new Promise((resolve, reject) => {
    const req = request(`${ses.endpoint}/v2/email/outbound-emails`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'AWS4-HMAC-SHA256 Credential=local' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (e) => (hangUp ? resolve('hung-up') : reject(e)));
    req.end(body, () => {
      if (hangUp) req.destroy();
    });
  });
}


it('publishes one Send event, with the tags, for a message the caller read the answer of', async () => {
  expect(await sendEmail('a@example.com', false)).toBe(200);
  await until('its Send event', () => (heard.length > 0 ? true : undefined));
  await new Promise((r) => setTimeout(r, 200));
  expect(heard).toHaveLength(1);
  expect(heard[0]!.mail.destination).toEqual(['a@example.com']);
  expect(heard[0]!.mail.tags?.campaign).toEqual(['c-1']);
});

it('publishes the Send event of a message it accepted after the caller hung up, once', async () => {
  const to = [...Array(5).keys()].map((i) => `gone-${i}@example.com`);
  for (const t of to) expect(await sendEmail(t, true)).toBe('hung-up');
  // The provider took them: they are in the mailbox...
  await until('every message in the mailbox', async () => ((await ses.emails()).length === to.length ? true : undefined));
  const accepted = new Set((await ses.emails()).map((m) => m.messageId));
  // ...so each has its Send event, exactly one.
  await until('a Send event per message', () => (heard.length >= to.length ? true : undefined));
  await new Promise((r) => setTimeout(r, 200));
  expect(heard.map((e) => e.mail.messageId).sort()).toEqual([...accepted].sort());
});
