/**
 * Provider controls through the ops handler against DynamoDB Local: two operators (the second an
 * approver), audited, partner events, bad input answered 400 naming the field with nothing
 * changed; new links of a suspended provider are SUSPENDED and refused; bulk hold extension and
 * bulk revocation change each link once and tell each customer through one campaign (test/fraud-bulk-revoke.test.ts: pages, crashes, two accounts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHandler, seedAccount, setupActionEnv, uniq, type ActionEnv, type Handler } from './action-support.ts';
import { callOps, partition, providerLink } from './fraud-support.ts';
import { getLink } from '../src/store/links.ts';
import { confirmLink } from '../src/store/actions.ts';
import { assessDebit } from '../src/domain/authorize.ts';
import { listAudit } from '../src/store/audit.ts';
import { queryByPrefix } from '../src/store/db.ts';
import { campaignStatus } from '../src/campaign/service.ts';
import { runProviderJob } from '../src/fraud/providers/bulk.ts';
import { approveProviderControl, getRequest } from '../src/fraud/providers/store.ts';

let env: ActionEnv;
let ops: Handler;
beforeAll(async () => {
  env = await setupActionEnv();
  ops = await loadHandler('ops');
});
afterAll(async () => {
  await env.bridge.stop();
});

const requestControl = (providerId: string, body: unknown, op = 'op-alice') => callOps(ops, 'POST', `/ops/providers/${providerId}/requests`, op, body);
const approve = (providerId: string, requestId: string, op: string, groups = ['operators', 'approvers']) =>
  callOps(ops, 'POST', `/ops/providers/${providerId}/requests/${requestId}/approve`, op, undefined, groups);
const published = (type: string, providerId: string) => env.bridge.publishedEvents().filter((e) => e.detailType === type && (e.detail as { providerId: string }).providerId === providerId);

describe('suspend and resume a provider (two operators)', () => {
  it('the requester cannot approve, nor a plain operator; an approver can: new links become SUSPENDED and are refused', async () => {
    const providerId = uniq('prov');
    const a = await seedAccount();
    const before = await providerLink(a.accountId, a.customerId, providerId);
    const req = await requestControl(providerId, { action: 'SUSPEND', reason: 'INC-1: 40 accounts from 3 addresses' });
    expect(req.status).toBe(201);
    const requestId = String(req.body.requestId);
    expect(await approve(providerId, requestId, 'op-alice')).toMatchObject({ status: 403, body: { error: 'SAME_OPERATOR' } });
    expect(await approve(providerId, requestId, 'op-bob', ['operators'])).toMatchObject({ status: 403, body: { error: 'NOT_AN_APPROVER' } });
    // Still nothing suspended: a link made now is PENDING.
    expect((await getLink(a.accountId, await providerLink(a.accountId, a.customerId, providerId)))!.state).toBe('PENDING');
    expect(await approve(providerId, requestId, 'op-bob')).toMatchObject({ status: 200, body: { request: { status: 'DONE', approvedBy: 'op-bob' } } });
    expect(await approve(providerId, requestId, 'op-carol')).toMatchObject({ status: 409, body: { error: 'REQUEST_NOT_PENDING' } });

    const after = await providerLink(a.accountId, a.customerId, providerId);
    const link = (await getLink(a.accountId, after))!;
    expect(link.state).toBe('SUSPENDED');
    expect(assessDebit({ channel: 'EPAY_CHARGE', linkId: after }, { state: 'ACTIVE' }, link, new Date())).toEqual({ final: { decision: 'DENY', reason: 'PROVIDER_SUSPENDED' } });
    await expect(confirmLink(a.accountId, after, { actor: 'CUSTOMER_WEB' })).rejects.toMatchObject({ reason: 'LINK_SUSPENDED' });
    // Links made before the suspension are left as they were.
    expect((await getLink(a.accountId, before))!.state).toBe('PENDING');

    expect(published('ProviderSuspended', providerId)).toEqual([expect.objectContaining({ detail: expect.objectContaining({ operatorId: 'op-alice', approverId: 'op-bob', requestId }) })]);
    const audit = await queryByPrefix(`PROVIDER#${providerId}`, 'AUDIT#', { consistent: true });
    expect(audit.map((e) => [e.action, e.operatorId, e.approverId ?? null])).toEqual([
      ['requestProviderSUSPEND', 'op-alice', null],
      ['providerSUSPEND', 'op-alice', 'op-bob'],
    ]);
    expect(audit.every((e) => typeof e.auditDay === 'string')).toBe(true);

    // Resume: for new links only.
    const resume = await requestControl(providerId, { action: 'RESUME', reason: 'provider fixed its identity checks' }, 'op-bob');
    expect((await approve(providerId, String(resume.body.requestId), 'op-alice')).status).toBe(200);
    expect((await getLink(a.accountId, await providerLink(a.accountId, a.customerId, providerId)))!.state).toBe('PENDING');
    expect((await getLink(a.accountId, after))!.state).toBe('SUSPENDED');
    expect(published('ProviderResumed', providerId)).toHaveLength(1);
  });

  it('suspending a suspended provider is refused (409) and changes nothing', async () => {
    const providerId = uniq('prov');
    const r1 = await requestControl(providerId, { action: 'SUSPEND', reason: 'first' });
    const r2 = await requestControl(providerId, { action: 'SUSPEND', reason: 'second' });
    expect((await approve(providerId, String(r1.body.requestId), 'op-bob')).status).toBe(200);
    const before = await partition(`PROVIDER#${providerId}`);
    expect(await approve(providerId, String(r2.body.requestId), 'op-bob')).toMatchObject({ status: 409, body: { error: 'ALREADY_SUSPENDED' } });
    expect(await partition(`PROVIDER#${providerId}`)).toBe(before);
  });

  it.each([
    [{ reason: 'no action given' }, 'action'],
    [{ action: 'SUSPEND' }, 'reason'],
    [{ action: 'SUSPEND', reason: 'x' }, 'reason'],
    [{ action: 'EXPLODE', reason: 'what is this' }, 'action'],
    [{ action: 'EXTEND_HOLD', reason: 'hold them' }, 'holdHours'],
    [{ action: 'SUSPEND', reason: 'hold them', holdHours: 5 }, 'holdHours'],
    [{ action: 'EXTEND_HOLD', reason: 'hold them', holdHours: 0 }, 'holdHours'],
    [{ action: 'SUSPEND', reason: 'fine', extra: 1 }, 'extra'],
    ['{not json', 'body'],
  ])('bad input %j is 400 naming %s, and nothing is recorded', async (body, field) => {
    const providerId = uniq('prov');
    const res = await requestControl(providerId, body);
    expect(res).toMatchObject({ status: 400, body: { error: 'INVALID_REQUEST', field } });
    expect(await partition(`PROVIDER#${providerId}`)).toBe('[]');
  });

  it('a malformed provider or request id is 400 naming it', async () => {
    expect(await callOps(ops, 'POST', '/ops/providers/bad%20id/requests', 'op-alice', { action: 'SUSPEND', reason: 'abc' })).toMatchObject({ status: 400, body: { field: 'providerId' } });
    expect(await approve('dwallet', 'not-a-uuid', 'op-bob')).toMatchObject({ status: 400, body: { field: 'requestId' } });
  });
});

describe('bulk controls', () => {
  it('extend the hold: every link still pending is held until createdAt + holdHours, confirmed ones are not; audited with both operators', async () => {
    const providerId = uniq('prov');
    const accounts = await Promise.all(Array.from({ length: 3 }, () => seedAccount()));
    const links = await Promise.all(accounts.map((a) => providerLink(a.accountId, a.customerId, providerId)));
    await confirmLink(accounts[2]!.accountId, links[2]!, { actor: 'CUSTOMER_WEB' });
    const req = await requestControl(providerId, { action: 'EXTEND_HOLD', reason: 'INC-2', holdHours: 168 });
    const res = await approve(providerId, String(req.body.requestId), 'op-bob');
    expect(res).toMatchObject({ status: 200, body: { request: { status: 'DONE', changed: 2 } } });
    for (const i of [0, 1]) {
      const l = (await getLink(accounts[i]!.accountId, links[i]!))!;
      expect(Date.parse(l.holdUntil) - Date.parse(l.createdAt)).toBe(168 * 3_600_000);
      expect((await listAudit(accounts[i]!.accountId)).filter((e) => e.action === 'extendHold')).toEqual([expect.objectContaining({ operatorId: 'op-alice', approverId: 'op-bob' })]);
    }
    const confirmed = (await getLink(accounts[2]!.accountId, links[2]!))!;
    expect(Date.parse(confirmed.holdUntil) - Date.parse(confirmed.createdAt)).toBe(24 * 3_600_000);
  });

  it('extend the hold, crashing right after an extension and rerun: changed counts that extension once (the rerun finds the link already held)', async () => {
    const providerId = uniq('prov');
    const accounts = await Promise.all(Array.from({ length: 4 }, () => seedAccount()));
    const links = await Promise.all(accounts.map((a) => providerLink(a.accountId, a.customerId, providerId)));
    await confirmLink(accounts[3]!.accountId, links[3]!, { actor: 'CUSTOMER_WEB' });
    const req = await requestControl(providerId, { action: 'EXTEND_HOLD', reason: 'INC-4', holdHours: 72 });
    const requestId = String(req.body.requestId);
    // Approved without the ops handler's inline run: the job runs here, a link a page.
    await approveProviderControl(providerId, requestId, 'op-bob');
    let extended = 0;
    class Crash extends Error {}
    await expect(
      runProviderJob(providerId, requestId, Date.now() + 30_000, undefined, {
        pageSize: 1,
        afterStep: (step) => {
          if (step === 'extended' && ++extended === 2) throw new Crash('killed after the second extension, before its page was saved');
        },
      }),
    ).rejects.toBeInstanceOf(Crash);
    expect((await getRequest(providerId, requestId))!.changed).toBe(1);
    // The rerun (after the lease expired) reads that page again: its link is held already, unchanged.
    expect(await runProviderJob(providerId, requestId, Date.now() + 30_000, () => new Date(Date.now() + 61_000), { pageSize: 1 })).toMatchObject({ status: 'DONE', seen: 4, changed: 3 });
    expect(await getRequest(providerId, requestId)).toMatchObject({ status: 'DONE', seen: 4, changed: 3 });
    for (const i of [0, 1, 2]) {
      const l = (await getLink(accounts[i]!.accountId, links[i]!))!;
      expect(Date.parse(l.holdUntil) - Date.parse(l.createdAt)).toBe(72 * 3_600_000);
      expect((await listAudit(accounts[i]!.accountId)).filter((e) => e.action === 'extendHold')).toHaveLength(1);
    }
  });

  it('revoke every unconfirmed link: each once, confirmed links kept, one campaign tells each customer, LinksBulkRevoked; a rerun changes nothing', async () => {
    const providerId = uniq('prov');
    const accounts = await Promise.all(Array.from({ length: 4 }, () => seedAccount()));
    const links = await Promise.all(accounts.map((a) => providerLink(a.accountId, a.customerId, providerId)));
    await confirmLink(accounts[3]!.accountId, links[3]!, { actor: 'CUSTOMER_WEB' });
    const req = await requestControl(providerId, { action: 'REVOKE_UNCONFIRMED', reason: 'INC-3: regulator asked to stop new linking' });
    const requestId = String(req.body.requestId);
    expect((await getLink(accounts[0]!.accountId, links[0]!))!.state).toBe('PENDING');
    const res = await approve(providerId, requestId, 'op-bob');
    expect(res).toMatchObject({ status: 200, body: { request: { status: 'DONE', changed: 3 } } });
    for (const i of [0, 1, 2]) {
      expect((await getLink(accounts[i]!.accountId, links[i]!))!.state).toBe('REVOKED');
      expect((await listAudit(accounts[i]!.accountId)).filter((e) => e.action === 'revokeLink')).toEqual([expect.objectContaining({ actor: 'OPERATOR', operatorId: 'op-alice', approverId: 'op-bob' })]);
    }
    expect((await getLink(accounts[3]!.accountId, links[3]!))!.state).toBe('ACTIVE');
    const revokedEvents = env.bridge.publishedEvents().filter((e) => e.detailType === 'LinkRevoked' && (e.detail as { providerId: string }).providerId === providerId);
    expect(revokedEvents).toHaveLength(3);
    const bulk = published('LinksBulkRevoked', providerId);
    expect(bulk).toEqual([expect.objectContaining({ detail: expect.objectContaining({ revoked: 3, requestId }) })]);
    const campaignId = String((bulk[0]!.detail as { campaignId: string }).campaignId);
    const status = await campaignStatus(campaignId);
    expect(status.campaign).toMatchObject({ templateId: 'provider-links-revoked', state: 'RUNNING', audience: { kind: 'list' }, listSize: 3 });
    // The job is done: running it again finds nothing to do and changes nothing.
    expect(await runProviderJob(providerId, requestId, Date.now() + 5_000)).toMatchObject({ status: 'GONE' });
    expect(env.bridge.publishedEvents().filter((e) => e.detailType === 'LinkRevoked' && (e.detail as { providerId: string }).providerId === providerId)).toHaveLength(3);
  });
});
