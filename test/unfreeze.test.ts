/**
 * Unfreeze: operations only, two people, audited. Through the ops Lambda handler (JWT authorizer
 * claims as API Gateway passes them) against DynamoDB Local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRoutes } from '../src/routing.ts';
import { approveUnfreeze, freezeAccount, ActionRefusedError } from '../src/store/actions.ts';
import { getAccount } from '../src/store/customers.ts';
import { listAudit } from '../src/store/audit.ts';
import { httpEvent, invoke, loadHandler, seedAccount, setupActionEnv, snapshot, type ActionEnv, type Handler } from './action-support.ts';

let env: ActionEnv;
let handler: Handler;
beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('ops');
});
afterAll(async () => {
  await env.bridge.stop();
});

async function ops(method: 'GET' | 'POST', path: string, operatorId: string | undefined, body?: unknown, groups?: string[]) {
  const res = await invoke(
    handler,
    httpEvent({
      method,
      path,
      ...(operatorId !== undefined ? { operatorId } : {}),
      ...(groups ? { groups } : {}),
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    }),
    'ops',
  );
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

async function frozenAccount() {
  const { accountId } = await seedAccount();
  await freezeAccount(accountId, { actor: 'CUSTOMER_WEB', alertId: 'al-1' });
  return accountId;
}

describe('unfreeze by two operators', () => {
  it('the approver must be in the approvers group: a plain operator is refused and nothing changes', async () => {
    const accountId = await frozenAccount();
    const requested = await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests`, 'op-alice', { verificationRef: 'IDV-2026-000777' }, ['operators']);
    expect(requested.status).toBe(201);
    const path = `/ops/accounts/${accountId}/unfreeze-requests/${String(requested.body.requestId)}/approve`;
    const refused = await ops('POST', path, 'op-bob', undefined, ['operators']);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: 'NOT_AN_APPROVER' });
    expect((await getAccount(accountId))?.state).toBe('FROZEN');
    expect((await ops('POST', path, 'op-bob', undefined, ['operators', 'approvers'])).status).toBe(200);
    expect((await getAccount(accountId))?.state).toBe('ACTIVE');
  });

  it('operator A requests with a verification reference, operator B approves: FROZEN -> ACTIVE, both steps audited, AccountUnfrozen', async () => {
    const accountId = await frozenAccount();
    const requested = await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests`, 'op-alice', { verificationRef: 'IDV-2026-000123' });
    expect(requested.status).toBe(201);
    expect(requested.body).toMatchObject({ accountId, status: 'PENDING', requestedBy: 'op-alice', verificationRef: 'IDV-2026-000123' });
    const requestId = requested.body.requestId as string;
    // Requesting alone changes nothing about the account.
    expect((await getAccount(accountId))?.state).toBe('FROZEN');
    expect((await ops('GET', `/ops/accounts/${accountId}/unfreeze-requests`, 'op-bob')).body.requests).toHaveLength(1);

    const approved = await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests/${requestId}/approve`, 'op-bob');
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ accountId, state: 'ACTIVE', request: { status: 'APPROVED', approvedBy: 'op-bob' } });
    expect(await getAccount(accountId)).toMatchObject({ state: 'ACTIVE', version: 2 });

    const audit = await listAudit(accountId);
    expect(audit.map((a) => a.action)).toEqual(['freezeAccount', 'requestUnfreeze', 'unfreezeAccount']);
    expect(audit[1]).toMatchObject({ actor: 'OPERATOR', operatorId: 'op-alice', verificationRef: 'IDV-2026-000123', oldState: 'FROZEN', newState: 'FROZEN' });
    expect(audit[2]).toMatchObject({ actor: 'OPERATOR', operatorId: 'op-alice', approverId: 'op-bob', verificationRef: 'IDV-2026-000123', oldState: 'FROZEN', newState: 'ACTIVE' });
    const unfrozen = env.bridge.publishedEvents().filter((e) => e.detailType === 'AccountUnfrozen' && (e.detail as { accountId: string }).accountId === accountId);
    expect(unfrozen).toHaveLength(1);
    expect(unfrozen[0]!.detail).toMatchObject({ actor: 'OPERATOR', operatorId: 'op-bob', verificationRef: 'IDV-2026-000123' });

    // Approving again: refused, nothing changes.
    const before = await snapshot(accountId);
    expect((await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests/${requestId}/approve`, 'op-carol')).status).toBe(409);
    expect(await snapshot(accountId)).toBe(before);
  });

  it('the same operator approving their own request: 403, still frozen', async () => {
    const accountId = await frozenAccount();
    const { body } = await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests`, 'op-alice', { verificationRef: 'IDV-1' });
    const before = await snapshot(accountId);
    const self = await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests/${String(body.requestId)}/approve`, 'op-alice');
    expect(self.status).toBe(403);
    expect(self.body.error).toBe('SAME_OPERATOR');
    expect(await snapshot(accountId)).toBe(before);
    expect((await getAccount(accountId))?.state).toBe('FROZEN');
  });

  it('a missing or bad verification reference: 400 naming the field, nothing recorded', async () => {
    const accountId = await frozenAccount();
    const before = await snapshot(accountId);
    for (const [body, field] of [
      [undefined, 'verificationRef'],
      [{}, 'verificationRef'],
      [{ verificationRef: '' }, 'verificationRef'],
      [{ verificationRef: '  ' }, 'verificationRef'],
      [{ verificationRef: 42 }, 'verificationRef'],
      [{ verificationRef: '本人確認済み' }, 'verificationRef'],
      [{ verificationRef: 'x'.repeat(200) }, 'verificationRef'],
      [{ verificationRef: 'IDV-1', unfreezeNow: true }, 'unfreezeNow'],
      ['{not json', 'body'],
    ] as const) {
      const r = await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests`, 'op-alice', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ error: 'INVALID_REQUEST', field });
    }
    expect(await snapshot(accountId)).toBe(before);
  });

  it('refuses without an operator, for an active or unknown account, an unknown request, and an expired request', async () => {
    const accountId = await frozenAccount();
    const before = await snapshot(accountId);
    expect((await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests`, undefined, { verificationRef: 'IDV-1' })).status).toBe(401);
    expect((await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests`, '', { verificationRef: 'IDV-1' })).status).toBe(401);
    expect((await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests/not-a-request/approve`, 'op-bob')).status).toBe(404);
    expect((await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests/00000000-0000-4000-8000-000000000000/approve`, 'op-bob')).status).toBe(404);
    expect(await snapshot(accountId)).toBe(before);
    expect((await ops('POST', '/ops/accounts/no-such-account/unfreeze-requests', 'op-alice', { verificationRef: 'IDV-1' })).status).toBe(404);
    const { accountId: active } = await seedAccount();
    const r = await ops('POST', `/ops/accounts/${active}/unfreeze-requests`, 'op-alice', { verificationRef: 'IDV-1' });
    expect(r).toMatchObject({ status: 409, body: { error: 'ACCOUNT_NOT_FROZEN' } });
    expect((await ops('GET', '/ops/nothing-here', 'op-alice')).status).toBe(404);

    const { body } = await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests`, 'op-alice', { verificationRef: 'IDV-2' });
    const late = new Date(Date.now() + 25 * 3_600_000);
    await expect(approveUnfreeze(accountId, String(body.requestId), { approverId: 'op-bob', at: late })).rejects.toMatchObject({ reason: 'UNFREEZE_REQUEST_EXPIRED' });
    expect((await getAccount(accountId))?.state).toBe('FROZEN');
  });

  it('two approvers at once: one unfreeze, one audit entry, one event', async () => {
    const accountId = await frozenAccount();
    const { body } = await ops('POST', `/ops/accounts/${accountId}/unfreeze-requests`, 'op-alice', { verificationRef: 'IDV-3' });
    const path = `/ops/accounts/${accountId}/unfreeze-requests/${String(body.requestId)}/approve`;
    const results = await Promise.all([ops('POST', path, 'op-bob'), ops('POST', path, 'op-carol'), ops('POST', path, 'op-dave')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect((await listAudit(accountId)).filter((a) => a.action === 'unfreezeAccount')).toHaveLength(1);
    expect(env.bridge.publishedEvents().filter((e) => e.detailType === 'AccountUnfrozen' && (e.detail as { accountId: string }).accountId === accountId)).toHaveLength(1);
  });

  it('is never reachable by a token or without an operator: every route to the ops function needs an operator', async () => {
    expect(httpRoutes.filter((r) => r.target === 'ops').every((r) => r.auth === 'operator')).toBe(true);
    expect(httpRoutes.filter((r) => r.auth !== 'operator').some((r) => r.path.includes('unfreeze') || r.target === 'ops')).toBe(false);
    // The store refuses to approve a request that does not exist, whoever calls it.
    const accountId = await frozenAccount();
    await expect(approveUnfreeze(accountId, 'x', { approverId: 'op-bob' })).rejects.toBeInstanceOf(ActionRefusedError);
  });
});
