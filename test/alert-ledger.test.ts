/** The send ledger and the alert records against DynamoDB Local. */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { setupTestEnv } from './support/env.ts';
import {
  claimSend,
  getSend,
  markSendFailed,
  markSendSent,
  recipientRef,
  recordProviderAccepted,
  releaseSend,
  LedgerConflictError,
} from '../src/store/send-ledger.ts';
import { findAlert, recordAlert, recordDeliveryStatus, markUndeliveredReported, type AlertRecord } from '../src/store/alerts.ts';

beforeAll(async () => {
  await setupTestEnv();
});

const owner = { accountId: 'acct-1', customerId: 'cust-1' };
const fresh = () => ({ alertId: `al-${randomUUID()}`, ref: recipientRef('EMAIL', `${randomUUID()}@example.jp`) });
const opts = { staleSeconds: 60 };

describe('send ledger', () => {
  it('one claim at a time; SENT is reused by every later attempt', async () => {
    const { alertId, ref } = fresh();
    const a = await claimSend(alertId, 'EMAIL', ref, owner, opts);
    expect(a).toMatchObject({ kind: 'CLAIMED', tookOverStale: false });
    expect((await claimSend(alertId, 'EMAIL', ref, owner, opts)).kind).toBe('IN_FLIGHT');
    await markSendSent(alertId, 'EMAIL', ref, (a as { attemptId: string }).attemptId, 'msg-1');
    expect(await claimSend(alertId, 'EMAIL', ref, owner, opts)).toMatchObject({ kind: 'ALREADY_SENT', messageId: 'msg-1' });
    expect(await getSend(alertId, 'EMAIL', ref)).toMatchObject({ state: 'SENT', messageId: 'msg-1', owner });
  });

  it('one claim at a time, concurrently: of 20 simultaneous claims exactly one wins, the rest see it IN_FLIGHT', async () => {
    const { alertId, ref } = fresh();
    const results = await Promise.all(Array.from({ length: 20 }, () => claimSend(alertId, 'EMAIL', ref, owner, opts)));
    const winners = results.filter((r) => r.kind === 'CLAIMED');
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.kind !== 'CLAIMED').map((r) => r.kind)).toEqual(Array(19).fill('IN_FLIGHT'));
    expect((await getSend(alertId, 'EMAIL', ref))?.attemptId).toBe((winners[0] as { attemptId: string }).attemptId);
    // Once SENT, another burst of claims all reuse the message id; none may claim again.
    await markSendSent(alertId, 'EMAIL', ref, (winners[0] as { attemptId: string }).attemptId, 'msg-burst');
    const later = await Promise.all(Array.from({ length: 20 }, () => claimSend(alertId, 'EMAIL', ref, owner, opts)));
    expect(later.map((r) => r.kind === 'ALREADY_SENT' && r.messageId)).toEqual(Array(20).fill('msg-burst'));
  });

  it('a stale claim is taken over by exactly one of 20 concurrent attempts', async () => {
    const { alertId, ref } = fresh();
    await claimSend(alertId, 'SMS', ref, owner, { staleSeconds: 5, now: new Date(Date.now() - 10_000) });
    const results = await Promise.all(Array.from({ length: 20 }, () => claimSend(alertId, 'SMS', ref, owner, { staleSeconds: 5 })));
    expect(results.filter((r) => r.kind === 'CLAIMED')).toEqual([expect.objectContaining({ kind: 'CLAIMED', tookOverStale: true })]);
    expect(results.filter((r) => r.kind === 'IN_FLIGHT')).toHaveLength(19);
  });

  it('a released claim (the provider answered with an error) can be taken at once; a FAILED one never', async () => {
    const { alertId, ref } = fresh();
    const a = (await claimSend(alertId, 'SMS', ref, owner, opts)) as { attemptId: string };
    await releaseSend(alertId, 'SMS', ref, a.attemptId);
    const b = (await claimSend(alertId, 'SMS', ref, owner, opts)) as { kind: string; attemptId: string };
    expect(b.kind).toBe('CLAIMED');
    await markSendFailed(alertId, 'SMS', ref, b.attemptId, 'InvalidParameterException (HTTP 400)');
    expect(await claimSend(alertId, 'SMS', ref, owner, opts)).toEqual({ kind: 'FAILED', failure: 'InvalidParameterException (HTTP 400)' });
  });

  it('a stale claim is taken over; the vanished attempt can no longer record SENT silently', async () => {
    const { alertId, ref } = fresh();
    const old = (await claimSend(alertId, 'EMAIL', ref, owner, { staleSeconds: 5, now: new Date(Date.now() - 10_000) })) as { attemptId: string };
    const next = await claimSend(alertId, 'EMAIL', ref, owner, { staleSeconds: 5 });
    expect(next).toMatchObject({ kind: 'CLAIMED', tookOverStale: true });
    await expect(markSendSent(alertId, 'EMAIL', ref, old.attemptId, 'late')).rejects.toBeInstanceOf(LedgerConflictError);
    await releaseSend(alertId, 'EMAIL', ref, old.attemptId); // the old attempt cannot release the new claim
    expect((await getSend(alertId, 'EMAIL', ref))?.attemptId).toBe((next as { attemptId: string }).attemptId);
  });

  it('a provider confirmation turns a claim into SENT, stale or not, and is refused for unknown entries', async () => {
    const { alertId, ref } = fresh();
    expect(await recordProviderAccepted(alertId, 'EMAIL', { ref }, 'ses-1')).toBe(false);
    await claimSend(alertId, 'EMAIL', ref, owner, opts);
    expect(await recordProviderAccepted(alertId, 'EMAIL', { ref }, 'ses-1')).toBe(true);
    expect(await claimSend(alertId, 'EMAIL', ref, owner, opts)).toMatchObject({ kind: 'ALREADY_SENT', messageId: 'ses-1' });
    expect(await getSend(alertId, 'EMAIL', ref)).toMatchObject({ state: 'SENT', messageId: 'ses-1' });
  });

  it('recipient refs are per channel and ignore case and spaces of email addresses', () => {
    expect(recipientRef('EMAIL', ' A@Example.JP ')).toBe(recipientRef('EMAIL', 'a@example.jp'));
    expect(recipientRef('EMAIL', 'a@example.jp')).not.toBe(recipientRef('SMS', 'a@example.jp'));
    expect(recipientRef('SMS', '+819012345678')).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});

describe('alert records', () => {
  const record = (alertId: string, status: 'PENDING' | 'SENT'): AlertRecord => ({
    alertId,
    sourceEventId: 'evt-1',
    sourceEventType: 'LinkCreated',
    accountId: owner.accountId,
    customerId: owner.customerId,
    tokenAccountId: owner.accountId,
    actions: [{ kind: 'FREEZE_ACCOUNT' }],
    locale: 'ja',
    content: { kind: 'LINK_CREATED', occurredAt: '2026-11-25T00:00:00Z', accountLast4: '1234', providerName: 'D-Wallet', linkType: 'EPAY' },
    occurredAt: '2026-11-25T00:00:00Z',
    createdAt: new Date().toISOString(),
    ...(status === 'SENT' ? { sentAt: '2026-11-25T00:00:01Z' } : {}),
    deliveries: {
      [`EMAIL#${recipientRef('EMAIL', 'a@example.jp')}`]: {
        channel: 'EMAIL',
        recipientRef: recipientRef('EMAIL', 'a@example.jp'),
        recipient: 'a@example.jp',
        role: 'PROFILE',
        status,
        ...(status === 'SENT' ? { messageId: 'ses-1', sentAt: '2026-11-25T00:00:01Z' } : {}),
        updatedAt: new Date().toISOString(),
      },
    },
  });

  it('a retry fills a PENDING message but never overwrites what the delivery function recorded', async () => {
    const alertId = `al-${randomUUID()}`;
    await recordAlert(record(alertId, 'PENDING'));
    await recordAlert(record(alertId, 'SENT'));
    const a = await findAlert(owner, alertId);
    expect(Object.values(a!.deliveries)[0]).toMatchObject({ status: 'SENT', messageId: 'ses-1' });
    expect(a!.sentAt).toBe('2026-11-25T00:00:01Z');
    expect(await recordDeliveryStatus(alertId, owner, 'EMAIL', 'a@example.jp', 'DELIVERED')).toBe('UPDATED');
    await recordAlert(record(alertId, 'SENT'));
    expect(Object.values((await findAlert(owner, alertId))!.deliveries)[0]!.status).toBe('DELIVERED');
    expect(await recordDeliveryStatus(alertId, owner, 'EMAIL', 'a@example.jp', 'BOUNCED')).toBe('UPDATED');
    expect(await recordDeliveryStatus(alertId, owner, 'EMAIL', 'a@example.jp', 'DELAYED')).toBe('UNCHANGED');
    expect(await recordDeliveryStatus(`al-${randomUUID()}`, owner, 'EMAIL', 'a@example.jp', 'DELIVERED')).toBe('NOT_FOUND');
  });

  it('undelivered is reported once', async () => {
    const alertId = `al-${randomUUID()}`;
    await recordAlert(record(alertId, 'SENT'));
    expect(await markUndeliveredReported(owner, alertId)).toBe(true);
    expect(await markUndeliveredReported(owner, alertId)).toBe(false);
  });
});
