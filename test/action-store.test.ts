/**
 * The actions as the reply channels call them (no token) and with tokens that do not fit, straight
 * against the store: one change under concurrency, audit entries, refusals that change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ActionRefusedError, confirmLink, freezeAccount, outboxSettled, republishPendingEvents, revokeLink } from '../src/store/actions.ts';
import { getAccount } from '../src/store/customers.ts';
import { getLink } from '../src/store/links.ts';
import { listAudit } from '../src/store/audit.ts';
import { db, tableName } from '../src/store/db.ts';
import { key } from '../src/store/table.ts';
import { issue, seedAccount, seedLink, setupActionEnv, snapshot, type ActionEnv } from './action-support.ts';

let env: ActionEnv;
beforeAll(async () => {
  env = await setupActionEnv();
});
afterAll(async () => {
  await env.bridge.stop();
});

const eventsFor = (accountId: string) => env.bridge.publishedEvents().filter((e) => (e.detail as { accountId?: string }).accountId === accountId);

describe('actions without a token (SMS and email replies)', () => {
  it('freezeAccount: one change and one audit entry among 10 concurrent calls; later calls change nothing', async () => {
    const { accountId } = await seedAccount();
    const results = await Promise.all(Array.from({ length: 10 }, () => freezeAccount(accountId, { actor: 'CUSTOMER_SMS_REPLY', alertId: 'al-sms' })));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await getAccount(accountId)).toMatchObject({ state: 'FROZEN', version: 1 });
    const audit = await listAudit(accountId);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'freezeAccount', actor: 'CUSTOMER_SMS_REPLY', alertId: 'al-sms', oldState: 'ACTIVE', newState: 'FROZEN' });
    expect(audit[0]!.tokenRef).toBeUndefined();
    expect(await freezeAccount(accountId, { actor: 'CUSTOMER_EMAIL_REPLY' })).toEqual({ changed: false });
    expect(eventsFor(accountId).map((e) => e.detailType)).toEqual(['AccountFrozen']);
  });

  it('revokeLink: REVOKED, out of the Audience index, LinkRevoked with the provider; again changes nothing', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const raw = async () => (await db().send(new GetCommand({ TableName: tableName(), Key: key.link(accountId, linkId), ConsistentRead: true }))).Item!;
    expect((await raw()).audiencePk).toBe('dwallet');
    const at = new Date('2026-11-25T10:00:00.000Z');
    expect(await revokeLink(accountId, linkId, { actor: 'CUSTOMER_EMAIL_REPLY', alertId: 'al-mail', at })).toMatchObject({ changed: true, eventPublished: true });
    const item = await raw();
    expect(item).toMatchObject({ state: 'REVOKED', version: 1, revokedAt: at.toISOString() });
    expect(item.audiencePk).toBeUndefined();
    expect(item.audienceSk).toBeUndefined();
    expect(await revokeLink(accountId, linkId, { actor: 'CUSTOMER_WEB' })).toEqual({ changed: false });
    expect((await listAudit(accountId)).map((a) => [a.action, a.at, a.actor, a.alertId])).toEqual([['revokeLink', at.toISOString(), 'CUSTOMER_EMAIL_REPLY', 'al-mail']]);
    expect(eventsFor(accountId).map((e) => [e.detailType, (e.detail as { providerId: string }).providerId])).toEqual([['LinkRevoked', 'dwallet']]);
  });

  it('confirmLink is refused on a frozen account and on a revoked link, changing nothing', async () => {
    const { accountId, customerId } = await seedAccount();
    const a = await seedLink(accountId, customerId);
    const b = await seedLink(accountId, customerId);
    await revokeLink(accountId, a, { actor: 'CUSTOMER_WEB' });
    let before = await snapshot(accountId);
    await expect(confirmLink(accountId, a, { actor: 'CUSTOMER_WEB' })).rejects.toMatchObject({ reason: 'LINK_REVOKED' });
    expect(await snapshot(accountId)).toBe(before);
    await freezeAccount(accountId, { actor: 'CUSTOMER_WEB' });
    before = await snapshot(accountId);
    await expect(confirmLink(accountId, b, { actor: 'CUSTOMER_WEB' })).rejects.toMatchObject({ reason: 'ACCOUNT_FROZEN' });
    expect(await snapshot(accountId)).toBe(before);
    expect((await getLink(accountId, b))?.state).toBe('PENDING');
  });

  it('unknown account or link: refused, nothing written', async () => {
    const { accountId } = await seedAccount();
    const before = await snapshot(accountId);
    await expect(freezeAccount('no-such-account', { actor: 'CUSTOMER_SMS_REPLY' })).rejects.toMatchObject({ reason: 'UNKNOWN_ACCOUNT' });
    await expect(revokeLink(accountId, 'no-such-link', { actor: 'CUSTOMER_SMS_REPLY' })).rejects.toMatchObject({ reason: 'UNKNOWN_LINK' });
    await expect(confirmLink(accountId, 'no-such-link', { actor: 'CUSTOMER_WEB' })).rejects.toBeInstanceOf(ActionRefusedError);
    expect(await snapshot(accountId)).toBe(before);
    expect(eventsFor(accountId)).toHaveLength(0);
  });
});

describe('actions with a token that does not fit', () => {
  it("another account's token, an expired token, an already-used action: refused in the same transaction, nothing changed", async () => {
    const a = await seedAccount();
    const b = await seedAccount();
    const tokB = await issue(b.accountId, b.customerId, [{ kind: 'FREEZE_ACCOUNT' }]);
    const expired = await issue(a.accountId, a.customerId, [{ kind: 'FREEZE_ACCOUNT' }], { now: new Date(Date.now() - 8 * 86_400_000) });
    const before = await snapshot(a.accountId, [tokB.record.tokenHash, expired.record.tokenHash]);
    await expect(freezeAccount(a.accountId, { actor: 'CUSTOMER_WEB', token: { tokenHash: tokB.record.tokenHash, actionKey: 'FREEZE_ACCOUNT' } })).rejects.toMatchObject({ reason: 'TOKEN_UNUSABLE' });
    await expect(freezeAccount(a.accountId, { actor: 'CUSTOMER_WEB', token: { tokenHash: expired.record.tokenHash, actionKey: 'FREEZE_ACCOUNT' } })).rejects.toMatchObject({ reason: 'TOKEN_UNUSABLE' });
    await expect(freezeAccount(a.accountId, { actor: 'CUSTOMER_WEB', token: { tokenHash: 'not-a-real-hash', actionKey: 'FREEZE_ACCOUNT' } })).rejects.toMatchObject({ reason: 'TOKEN_UNUSABLE' });
    expect(await snapshot(a.accountId, [tokB.record.tokenHash, expired.record.tokenHash])).toBe(before);

    const ok = await issue(a.accountId, a.customerId, [{ kind: 'FREEZE_ACCOUNT' }]);
    const ctx = { actor: 'CUSTOMER_WEB' as const, token: { tokenHash: ok.record.tokenHash, actionKey: 'FREEZE_ACCOUNT' } };
    expect((await freezeAccount(a.accountId, ctx)).changed).toBe(true);
    const after = await snapshot(a.accountId, [ok.record.tokenHash]);
    await expect(freezeAccount(a.accountId, ctx)).rejects.toMatchObject({ reason: 'TOKEN_ALREADY_USED' });
    expect(await snapshot(a.accountId, [ok.record.tokenHash])).toBe(after);
  });

  it('"it was me" after a freeze or a revoke from the same token is refused even when state would allow it', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    const t = await issue(accountId, customerId, [{ kind: 'REVOKE_LINK', linkId }, { kind: 'CONFIRM_LINK', linkId }, { kind: 'FREEZE_ACCOUNT' }]);
    // Mark the revoke used without revoking (as if the state were later restored by operations).
    await db().send(
      new (await import('@aws-sdk/lib-dynamodb')).UpdateCommand({
        TableName: tableName(),
        Key: key.token(t.record.tokenHash),
        UpdateExpression: 'SET used.#k = :t',
        ExpressionAttributeNames: { '#k': `REVOKE_LINK:${linkId}` },
        ExpressionAttributeValues: { ':t': new Date().toISOString() },
      }),
    );
    const before = await snapshot(accountId, [t.record.tokenHash]);
    await expect(confirmLink(accountId, linkId, { actor: 'CUSTOMER_WEB', token: { tokenHash: t.record.tokenHash, actionKey: `CONFIRM_LINK:${linkId}` } })).rejects.toMatchObject({
      reason: 'ACTION_NOT_AVAILABLE',
    });
    expect(await snapshot(accountId, [t.record.tokenHash])).toBe(before);
  });
});

describe('partner events are not lost', () => {
  const pendingFor = async (accountId: string) => {
    const items: Record<string, unknown>[] = [];
    for (let shard = 0; shard < 4; shard++) {
      const out = await db().send(new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `OUTBOX#${shard}` }, ConsistentRead: true }));
      items.push(...(out.Items ?? []).filter((i) => (i.detail as { accountId?: string }).accountId === accountId));
    }
    return items;
  };

  it('a published event leaves no outbox item (its delete runs after the answer)', async () => {
    const { accountId } = await seedAccount();
    expect((await freezeAccount(accountId, { actor: 'CUSTOMER_WEB' })).eventPublished).toBe(true);
    await outboxSettled();
    expect(await pendingFor(accountId)).toHaveLength(0);
  });

  it('a published event whose delete has not landed yet is not published again by the sweep', async () => {
    const { accountId } = await seedAccount();
    expect((await freezeAccount(accountId, { actor: 'CUSTOMER_WEB' })).eventPublished).toBe(true);
    // At once, before outboxSettled: the sweep waits for this container's own deletes.
    await republishPendingEvents({ olderThanMs: 0 });
    expect(eventsFor(accountId).map((e) => e.detailType)).toEqual(['AccountFrozen']);
    expect(await pendingFor(accountId)).toHaveLength(0);
  });

  it('when EventBridge fails after the commit, the event waits in the outbox and is published later, once', async () => {
    const { accountId, customerId } = await seedAccount();
    const linkId = await seedLink(accountId, customerId);
    env.bridge.injectFaults(Array.from({ length: 8 }, () => '5xx' as const));
    const frozen = await freezeAccount(accountId, { actor: 'CUSTOMER_SMS_REPLY', alertId: 'al-x' });
    const revoked = await revokeLink(accountId, linkId, { actor: 'CUSTOMER_SMS_REPLY', alertId: 'al-x' });
    env.bridge.clear();
    expect(frozen).toEqual({ changed: true, eventPublished: false });
    expect(revoked).toEqual({ changed: true, eventPublished: false });
    expect(eventsFor(accountId)).toHaveLength(0);
    expect((await pendingFor(accountId)).map((i) => i.detailType).sort()).toEqual(['AccountFrozen', 'LinkRevoked']);

    // Not yet: the sweep leaves recent items to their first attempt.
    await republishPendingEvents();
    expect(eventsFor(accountId)).toHaveLength(0);
    expect(await republishPendingEvents({ olderThanMs: 0 })).toBeGreaterThanOrEqual(2);
    expect(eventsFor(accountId).map((e) => e.detailType).sort()).toEqual(['AccountFrozen', 'LinkRevoked']);
    expect(eventsFor(accountId).find((e) => e.detailType === 'AccountFrozen')!.detail).toMatchObject({ accountId, actor: 'CUSTOMER_SMS_REPLY', alertId: 'al-x' });
    expect(await pendingFor(accountId)).toHaveLength(0);
    await republishPendingEvents({ olderThanMs: 0 });
    expect(eventsFor(accountId)).toHaveLength(2);
  });
});
