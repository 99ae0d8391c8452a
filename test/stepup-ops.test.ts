/**
 * Operations list and remove customers' passkeys through the operations handler (DynamoDB Local):
 * listing shows ids and dates only; removal deletes it and is audited with the operator; bad ids
 * are a 400 naming the field, unknown ones a 404, and nothing changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../src/store/db.ts';
import { listAudit } from '../src/store/audit.ts';
import { listPasskeys } from '../src/stepup/store.ts';
import { httpEvent, invoke, loadHandler, seedAccount, setupActionEnv, type ActionEnv, type Handler } from './action-support.ts';

let env: ActionEnv;
let ops: Handler;
beforeAll(async () => {
  env = await setupActionEnv();
  ops = await loadHandler('ops');
});
afterAll(async () => {
  await env.bridge.stop();
});

const call = (method: 'GET' | 'POST', path: string, operatorId = 'op-carol') =>
  invoke(ops, httpEvent({ method, path, operatorId, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) }), 'ops');

async function seedPasskey(customerId: string, accountId: string, credentialId: string) {
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        pk: `CUST#${customerId}`,
        sk: `PASSKEY#${credentialId}`,
        kind: 'PASSKEY',
        customerId,
        credentialId,
        publicKey: 'pQECAyYgASFYIA',
        counter: 0,
        createdAt: new Date().toISOString(),
        accountId,
        createdFromAlertId: 'al-1',
      },
    }),
  );
}

describe('operations and passkeys', () => {
  it('lists the account holder\'s passkeys without key material, removes one with an audit entry, and refuses a second removal', async () => {
    const { accountId, customerId } = await seedAccount();
    await seedPasskey(customerId, accountId, 'credAAAAAAAAAAAAAAAAAAAA');
    await seedPasskey(customerId, accountId, 'credBBBBBBBBBBBBBBBBBBBB');
    const list = await call('GET', `/ops/accounts/${accountId}/passkeys`);
    expect(list.statusCode).toBe(200);
    const body = JSON.parse(list.body) as { passkeys: Record<string, unknown>[] };
    expect(body.passkeys.map((p) => p.credentialId).sort()).toEqual(['credAAAAAAAAAAAAAAAAAAAA', 'credBBBBBBBBBBBBBBBBBBBB']);
    expect(list.body).not.toContain('publicKey');

    const removed = await call('POST', `/ops/accounts/${accountId}/passkeys/credAAAAAAAAAAAAAAAAAAAA/remove`);
    expect(removed.statusCode).toBe(200);
    expect((await listPasskeys(customerId)).map((p) => p.credentialId)).toEqual(['credBBBBBBBBBBBBBBBBBBBB']);
    expect((await listAudit(accountId)).map((a) => [a.action, a.actor, a.operatorId, a.credentialRef])).toEqual([['removePasskey', 'OPERATOR', 'op-carol', 'credAAAA']]);

    expect((await call('POST', `/ops/accounts/${accountId}/passkeys/credAAAAAAAAAAAAAAAAAAAA/remove`)).statusCode).toBe(404);
    expect(await listAudit(accountId)).toHaveLength(1);
  });

  it('bad input: a 400 naming the field, an unknown account 404; nothing changes', async () => {
    const { accountId, customerId } = await seedAccount();
    await seedPasskey(customerId, accountId, 'credCCCCCCCCCCCCCCCCCCCC');
    const bad = await call('POST', `/ops/accounts/${accountId}/passkeys/${encodeURIComponent('bad id!')}/remove`);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ field: 'credentialId' });
    expect((await call('GET', '/ops/accounts/no-such-account/passkeys')).statusCode).toBe(404);
    expect((await listPasskeys(customerId))).toHaveLength(1);
    expect(await listAudit(accountId)).toEqual([]);
  });
});
