/** SMS replies end to end: SNS-wrapped two-way SMS -> handler -> DynamoDB Local -> local SMS outbox. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { invoke, replyBySms, smsInbound, snsEvent, TOPICS } from '../local/reply-simulator.ts';
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
const outcome = (out: unknown) => results(out)[0]?.outcome;
const smsTo = (phone: string) => peers.smsMessages().filter((m) => m.phoneNumber === phone);
const eventsFor = (accountId: string) => peers.publishedEvents().filter((e) => JSON.stringify(e).includes(accountId));

async function nothingChanged(f: Fixture) {
  expect((await getAccount(f.accountId))?.state).toBe('ACTIVE');
  expect((await getLink(f.accountId, f.linkId))?.state).toBe('PENDING');
  expect(await listAudit(f.accountId)).toEqual([]);
}

describe('SMS replies', () => {
  it('FREEZE from the customer freezes the account of the alert it answers, audited, with an acknowledgement', async () => {
    const f = await newCustomer({ locale: 'ja' });
    const { alertId } = await putSentAlert(f);
    const out = await replyBySms({ from: f.phone, body: '凍結' });
    expect(outcome(out)).toBe('FROZEN');
    expect((await getAccount(f.accountId))?.state).toBe('FROZEN');
    const audit = await listAudit(f.accountId);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'freezeAccount', actor: 'CUSTOMER_SMS_REPLY', alertId, oldState: 'ACTIVE', newState: 'FROZEN' });
    const acks = smsTo(f.phone);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.message).toContain('凍結しました');
    expect(acks[0]!.message).toContain('...1234');
    expect(acks[0]!.message.length).toBeLessThanOrEqual(70);
    // Through End User Messaging like the alerts, marked as an acknowledgement (no alertId: never taken for the alert's SMS).
    expect(acks[0]).toMatchObject({ protocol: 'sms-voice-v2', messageType: 'TRANSACTIONAL', context: { kind: 'reply-ack' } });
    expect(eventsFor(f.accountId).some((e) => JSON.stringify(e).includes('AccountFrozen'))).toBe(true);
  });

  it('the same reply delivered twice: one action, one acknowledgement', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    const inboundMessageId = 'inbound-dup-1';
    const [a, b] = await Promise.allSettled([
      replyBySms({ from: f.phone, body: 'FREEZE', inboundMessageId }),
      replyBySms({ from: f.phone, body: 'FREEZE', inboundMessageId }),
    ]);
    // A concurrent duplicate may be told "in progress" (and be retried by Lambda); a later one gets the stored result.
    const settled = [a, b].filter((r) => r.status === 'fulfilled');
    expect(settled.length).toBeGreaterThanOrEqual(1);
    const again = await replyBySms({ from: f.phone, body: 'FREEZE', inboundMessageId });
    expect(outcome(again)).toBe('FROZEN');
    expect(await listAudit(f.accountId)).toHaveLength(1);
    expect(smsTo(f.phone)).toHaveLength(1);
    expect(smsTo(f.phone)[0]!.message).toMatch(/now frozen/);
  });

  it('a reply after the account is already frozen is acknowledged and changes nothing more', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    expect(outcome(await replyBySms({ from: f.phone, body: 'freeze' }))).toBe('FROZEN');
    expect(outcome(await replyBySms({ from: f.phone, body: 'ＦＲＥＥＺＥ' }))).toBe('ALREADY_FROZEN');
    expect(await listAudit(f.accountId)).toHaveLength(1);
    expect(smsTo(f.phone).map((m) => m.message)).toEqual([expect.stringMatching(/now frozen/), expect.stringMatching(/already frozen/)]);
  });

  it('REVOKE revokes the link of the alert, audited; the sender number may come formatted', async () => {
    const f = await newCustomer({ locale: 'ja' });
    const { alertId } = await putSentAlert(f);
    const formatted = `${f.phone.slice(0, 3)} ${f.phone.slice(3, 5)}-${f.phone.slice(5, 9)}-${f.phone.slice(9)}`;
    expect(outcome(await replyBySms({ from: formatted, body: '連携解除' }))).toBe('REVOKED');
    expect((await getLink(f.accountId, f.linkId))?.state).toBe('REVOKED');
    expect((await getAccount(f.accountId))?.state).toBe('ACTIVE');
    expect(await listAudit(f.accountId)).toEqual([expect.objectContaining({ action: 'revokeLink', actor: 'CUSTOMER_SMS_REPLY', alertId })]);
    expect(smsTo(f.phone)[0]!.message).toContain('D-Wallet');
  });

  it('REVOKE on an alert without a link changes nothing and says so', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f, { linkId: null });
    expect(outcome(await replyBySms({ from: f.phone, body: 'revoke' }))).toBe('NO_LINK');
    await nothingChanged(f);
    expect(smsTo(f.phone)[0]!.message).toMatch(/no link to revoke/);
  });

  it('an unknown number: no action, no acknowledgement', async () => {
    const f = await newCustomer();
    await putSentAlert(f);
    const out = await replyBySms({ from: '+819099999999', body: 'FREEZE' });
    expect(outcome(out)).toBe('UNKNOWN_SENDER');
    expect(smsTo('+819099999999')).toHaveLength(0);
    await nothingChanged(f);
  });

  it('unprotective keywords (unfreeze, it was me, 凍結解除) never change anything and explain how to do it safely', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    for (const body of ['UNFREEZE', 'It was me', '凍結解除', 'yes']) {
      expect(outcome(await replyBySms({ from: f.phone, body }))).toBe('REFUSED_UNPROTECTIVE');
    }
    await nothingChanged(f);
    expect(smsTo(f.phone).every((m) => /cannot be done by reply/.test(m.message))).toBe(true);

    const frozen = await newCustomer({ locale: 'ja' });
    await putSentAlert(frozen);
    await replyBySms({ from: frozen.phone, body: '凍結' });
    expect(outcome(await replyBySms({ from: frozen.phone, body: '凍結解除' }))).toBe('REFUSED_UNPROTECTIVE');
    expect((await getAccount(frozen.accountId))?.state).toBe('FROZEN');
  });

  it('解除 alone is ambiguous: no change, asks which', async () => {
    const f = await newCustomer({ locale: 'ja' });
    await putSentAlert(f);
    expect(outcome(await replyBySms({ from: f.phone, body: '解除' }))).toBe('AMBIGUOUS');
    await nothingChanged(f);
    expect(smsTo(f.phone)[0]!.message).toContain('連携解除');
  });

  it('empty, 5,000-character, binary-looking and emoji-only bodies change nothing; STOP is left to the carrier', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    expect(outcome(await replyBySms({ from: f.phone, body: '' }))).toBe('IGNORED');
    expect(outcome(await replyBySms({ from: f.phone, body: 'STOP' }))).toBe('IGNORED');
    expect(smsTo(f.phone)).toHaveLength(0);
    for (const body of ['FREEZE'.repeat(834).slice(0, 5000), '\u0000\u0001\u0002\u00ff\ufffdFREEZE', '🔒🧊🔒']) {
      expect(outcome(await replyBySms({ from: f.phone, body }))).toBe('HELP');
    }
    await nothingChanged(f);
    expect(smsTo(f.phone)).toHaveLength(3);
  });

  it('no alert within the token lifetime: no change', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f, { sentAt: new Date(Date.now() - 8 * 86_400_000) });
    expect(outcome(await replyBySms({ from: f.phone, body: 'FREEZE' }))).toBe('NO_RECENT_ALERT');
    await nothingChanged(f);
  });

  it('answers the newest alert, or the exact one the provider names', async () => {
    const f = await newCustomer({ locale: 'en' });
    const older = await putSentAlert(f, { sentAt: new Date(Date.now() - 3_600_000) });
    const newer = await putSentAlert(f, { linkId: null });
    expect(results(await replyBySms({ from: f.phone, body: 'REVOKE' }))[0]?.result?.alertId).toBe(newer.alertId);
    const out = await replyBySms({ from: f.phone, body: 'REVOKE', previousPublishedMessageId: older.smsMessageId });
    expect(results(out)[0]?.result).toMatchObject({ outcome: 'REVOKED', alertId: older.alertId });
  });

  it('after a contact change, the OLD number may answer the alert it was sent (named by the provider), nothing else', async () => {
    const f = await newCustomer({ locale: 'ja' });
    const oldPhone = '+819011112222';
    const { smsMessageId } = await putSentAlert(f, { smsTo: oldPhone });
    expect(outcome(await replyBySms({ from: oldPhone, body: '凍結' }))).toBe('UNKNOWN_SENDER');
    expect((await getAccount(f.accountId))?.state).toBe('ACTIVE');
    // Another number naming that message is not the recipient: still unknown.
    expect(outcome(await replyBySms({ from: '+819033334444', body: '凍結', previousPublishedMessageId: smsMessageId }))).toBe('UNKNOWN_SENDER');
    expect(outcome(await replyBySms({ from: oldPhone, body: '凍結', previousPublishedMessageId: smsMessageId }))).toBe('FROZEN');
    expect((await getAccount(f.accountId))?.state).toBe('FROZEN');
    expect(smsTo(oldPhone)).toHaveLength(1);
  });

  it('acknowledgements to one number are capped per hour (spoofed-number flooding); protective replies still act', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    for (let i = 0; i < 10; i++) expect(outcome(await replyBySms({ from: f.phone, body: 'HELP' }))).toBe('HELP');
    const capped = results(await replyBySms({ from: f.phone, body: 'FREEZE' }))[0]?.result;
    expect(capped).toMatchObject({ outcome: 'FROZEN', ackThrottled: true });
    expect((await getAccount(f.accountId))?.state).toBe('FROZEN');
    expect(smsTo(f.phone)).toHaveLength(10);
  });

  it('a freeze whose partner event cannot be published is still committed, and the reply says so for operations', async () => {
    const f = await newCustomer({ locale: 'en' });
    await putSentAlert(f);
    peers.injectFaults('eventbridge', ['5xx', '5xx', '5xx', '5xx']); // the SDK's 4 attempts
    const r = results(await replyBySms({ from: f.phone, body: 'FREEZE' }))[0]?.result;
    expect(r).toMatchObject({ outcome: 'FROZEN', eventPublishFailed: true });
    expect((await getAccount(f.accountId))?.state).toBe('FROZEN');
    expect(await listAudit(f.accountId)).toHaveLength(1);
  });

  it('malformed notifications are rejected with a reason, not thrown (so not retried)', async () => {
    const f = await newCustomer();
    await putSentAlert(f);
    const cases: [unknown, string][] = [
      [{}, 'MALFORMED_NOTIFICATION'],
      [{ Records: [{ EventSource: 'aws:sns', Sns: { Type: 'Notification' } }] }, 'MALFORMED_NOTIFICATION'],
      [snsEvent('not json {', TOPICS.smsInbound), 'MALFORMED_NOTIFICATION'],
      [snsEvent({ originationNumber: f.phone, messageBody: 'FREEZE' }, TOPICS.smsInbound), 'MALFORMED_MESSAGE'],
      [snsEvent({ originationNumber: f.phone, destinationNumber: '+81', messageBody: 42, inboundMessageId: 'x' }, TOPICS.smsInbound), 'MALFORMED_MESSAGE'],
      [smsInbound({ from: 'not-a-number', body: 'FREEZE' }), 'INVALID_SENDER'],
    ];
    for (const [event, reason] of cases) {
      const out = await invoke('sms-reply', event);
      expect(results(out)[0]).toMatchObject({ outcome: 'REJECTED', reason });
    }
    await nothingChanged(f);
  });
});
