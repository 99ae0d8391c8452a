/** Email replies end to end: SES receipt notification via SNS -> handler -> DynamoDB Local -> local SES. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { emailInbound, invoke, replyByEmail, snsEvent, TOPICS } from '../local/reply-simulator.ts';
import { setupTestEnv } from './support/env.ts';
import { newCustomer, putSentAlert, type Fixture } from './support/reply-fixtures.ts';
import { getAccount } from '../src/store/customers.ts';
import { getLink } from '../src/store/links.ts';
import { listAudit } from '../src/store/audit.ts';
import type { RecordResult } from '../src/replies/run.ts';

let peers: LocalPeers;

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv(peers.env);
});
afterAll(async () => {
  await peers?.stop();
});

const results = (out: unknown) => (out as { results: RecordResult[] }).results;
const first = (out: unknown) => results(out)[0];
const mailTo = async (address: string) => (await peers.emails()).filter((e) => e.to.map((t) => t.toLowerCase()).includes(address.toLowerCase()));

async function nothingChanged(f: Fixture) {
  expect((await getAccount(f.accountId))?.state).toBe('ACTIVE');
  expect((await getLink(f.accountId, f.linkId))?.state).toBe('PENDING');
  expect(await listAudit(f.accountId)).toEqual([]);
}

describe('email replies', () => {
  it('FREEZE on the first own line, all verdicts PASS, from the customer: frozen, audited, acknowledged by email', async () => {
    const f = await newCustomer({ locale: 'ja' });
    const { alertId } = await putSentAlert(f);
    const out = await replyByEmail({ from: `"山田 花子" <${f.email.toUpperCase()}>`, text: '凍結', quoted: 'FREEZE?\nIt was me?' });
    expect(first(out)).toMatchObject({ outcome: 'FROZEN' });
    expect((await getAccount(f.accountId))?.state).toBe('FROZEN');
    expect(await listAudit(f.accountId)).toEqual([expect.objectContaining({ action: 'freezeAccount', actor: 'CUSTOMER_EMAIL_REPLY', alertId })]);
    const acks = await mailTo(f.email);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.subject).toBe('口座を凍結しました');
    expect(acks[0]!.text).toContain('...1234');
  });

  it('REVOKE revokes the alert link', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    expect(first(await replyByEmail({ from: f.email, text: 'Revoke' }))).toMatchObject({ outcome: 'REVOKED' });
    expect((await getLink(f.accountId, f.linkId))?.state).toBe('REVOKED');
  });

  it.each([
    ['DMARC', { dmarc: 'FAIL' as const }],
    ['SPF', { spf: 'FAIL' as const }],
    ['DKIM', { dkim: 'GRAY' as const }],
    ['spam', { spam: 'FAIL' as const }],
  ])('a spoofed or unauthenticated mail (%s not passing) changes nothing and is not answered', async (_name, verdicts) => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    const out = await replyByEmail({ from: f.email, text: 'FREEZE', verdicts });
    expect(first(out)?.outcome).toBe('REJECTED');
    expect(['NOT_AUTHENTICATED', 'SPAM_OR_VIRUS']).toContain(first(out)?.reason);
    await nothingChanged(f);
    expect(await mailTo(f.email)).toHaveLength(0);
  });

  it('an unknown address: no action, no answer', async () => {
    const f = await newCustomer();
    await putSentAlert(f);
    expect(first(await replyByEmail({ from: 'stranger@example.com', text: 'FREEZE' }))?.outcome).toBe('UNKNOWN_SENDER');
    expect(await mailTo('stranger@example.com')).toHaveLength(0);
    await nothingChanged(f);
  });

  it('only the first own line counts: a keyword in the quoted alert or further down does nothing', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    expect(first(await replyByEmail({ from: f.email, text: '', quoted: 'FREEZE' }))?.outcome).toBe('IGNORED');
    expect(first(await replyByEmail({ from: f.email, text: 'Thanks for letting me know\nFREEZE' }))?.outcome).toBe('HELP');
    await nothingChanged(f);
  });

  it('empty, 5,000-character, binary-looking and emoji-only bodies change nothing', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    expect(first(await replyByEmail({ from: f.email, text: '' }))?.outcome).toBe('IGNORED');
    expect(first(await replyByEmail({ from: f.email, text: 'F'.repeat(5000) }))?.outcome).toBe('HELP');
    expect(first(await replyByEmail({ from: f.email, text: '😀😀😀' }))?.outcome).toBe('HELP');
    const binary = Buffer.concat([Buffer.from(`From: ${f.email}\r\nContent-Type: application/octet-stream\r\n\r\n`), Buffer.from([0, 159, 146, 150, 255, 0, 1])]);
    expect(first(await replyByEmail({ from: f.email, text: '', raw: binary }))?.outcome).toBe('IGNORED');
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x46, 0x52, 0x45, 0x45, 0x5a, 0x45, 0x0d, 0x0a]);
    expect(first(await replyByEmail({ from: f.email, text: '', raw: garbage }))?.outcome).not.toBe('FROZEN');
    await nothingChanged(f);
  });

  it('unprotective keywords change nothing', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    expect(first(await replyByEmail({ from: f.email, text: 'UNFREEZE' }))?.outcome).toBe('REFUSED_UNPROTECTIVE');
    expect(first(await replyByEmail({ from: f.email, text: 'It was me' }))?.outcome).toBe('REFUSED_UNPROTECTIVE');
    await nothingChanged(f);
    expect((await mailTo(f.email)).map((m) => m.subject)).toEqual(['This cannot be done by reply', 'This cannot be done by reply']);
  });

  it('the same mail delivered twice: one action, one acknowledgement; after a freeze: acknowledged, no second change', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    const event = emailInbound({ from: f.email, text: 'FREEZE', messageId: 'ses-inbound-dup-1' });
    expect(first(await invoke('email-reply', event))?.outcome).toBe('FROZEN');
    expect(first(await invoke('email-reply', event))?.outcome).toBe('FROZEN');
    expect(await listAudit(f.accountId)).toHaveLength(1);
    expect(await mailTo(f.email)).toHaveLength(1);
    expect(first(await replyByEmail({ from: f.email, text: 'freeze' }))?.outcome).toBe('ALREADY_FROZEN');
    expect(await listAudit(f.accountId)).toHaveLength(1);
  });

  it('after a contact change, the OLD address may answer the alert it was sent (In-Reply-To)', async () => {
    const f = await newCustomer({ locale: 'en' });
    const old = 'old.address@example.jp';
    const { emailMessageId } = await putSentAlert(f, { emailTo: old });
    expect(first(await replyByEmail({ from: old, text: 'FREEZE' }))?.outcome).toBe('UNKNOWN_SENDER');
    expect(first(await replyByEmail({ from: old, text: 'FREEZE', answers: emailMessageId }))?.outcome).toBe('FROZEN');
    expect((await getAccount(f.accountId))?.state).toBe('FROZEN');
  });

  it('malformed notifications are rejected with a reason', async () => {
    const f = await newCustomer();
    await putSentAlert(f);
    const noReceipt = snsEvent({ notificationType: 'Received', mail: { messageId: 'x' } }, TOPICS.emailInbound);
    expect(first(await invoke('email-reply', noReceipt))).toMatchObject({ outcome: 'REJECTED', reason: 'MALFORMED_MESSAGE' });
    const twoFroms = emailInbound({ from: f.email, text: 'FREEZE', fromHeaders: [f.email, 'other@example.com'] });
    expect(first(await invoke('email-reply', twoFroms))).toMatchObject({ outcome: 'REJECTED', reason: 'INVALID_SENDER' });
    expect(first(await invoke('email-reply', { Records: 'nope' }))).toMatchObject({ outcome: 'REJECTED', reason: 'MALFORMED_NOTIFICATION' });
    const noContent = JSON.parse(JSON.stringify(emailInbound({ from: f.email, text: 'FREEZE' }))) as { Records: { Sns: { Message: string } }[] };
    const msg = JSON.parse(noContent.Records[0]!.Sns.Message) as Record<string, unknown>;
    delete msg.content;
    noContent.Records[0]!.Sns.Message = JSON.stringify(msg);
    expect(first(await invoke('email-reply', noContent))).toMatchObject({ outcome: 'REJECTED', reason: 'NO_CONTENT' });
    await nothingChanged(f);
  });
});
