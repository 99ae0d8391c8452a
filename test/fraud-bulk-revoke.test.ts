/**
 * "Revoke every unconfirmed link of a provider" tells each CUSTOMER once (issue 12), against
 * DynamoDB Local, the local SES mailbox, the SMS outbox and the local EventBridge:
 * - a customer with two accounts whose links fall on different pages of the job (page size 2),
 *   the job crashing twice (after a revocation, and after a page was listed but before it was
 *   revoked) and rerun from its saved progress under a new lease: every link revoked once, one
 *   LinkRevoked each, one LinksBulkRevoked, and that customer gets exactly one email and one SMS
 *   naming both accounts; everyone else one each; a customer whose first account is frozen is
 *   still told (the freeze offered is the other account's);
 * - pause and cancel of the job's campaign still stop its sending; cancelling the notice while it
 *   is still a draft does not stop the revocations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { setupTestEnv } from './support/env.ts';
import { providerLink } from './fraud-support.ts';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { resetTokenPeppers } from '../src/adapters/pepper.ts';
import { resetCampaignConfig } from '../src/campaign/config.ts';
import { engineDepsFromEnv } from '../src/campaign/deps.ts';
import { runCampaignWorker, type EngineDeps } from '../src/campaign/engine.ts';
import { campaignStatus, cancelCampaign, pauseCampaign, resumeCampaign } from '../src/campaign/service.ts';
import { getCampaign, ledgerEntries } from '../src/campaign/store.ts';
import type { LedgerEntry } from '../src/campaign/types.ts';
import { upsertCustomerProfile } from '../src/store/customers.ts';
import { confirmLink, freezeAccount } from '../src/store/actions.ts';
import { getLink } from '../src/store/links.ts';
import { listAudit } from '../src/store/audit.ts';
import { db, tableName } from '../src/store/db.ts';
import { key } from '../src/store/table.ts';
import { runProviderJob } from '../src/fraud/providers/bulk.ts';
import { processFraudRecord } from '../src/fraud/consumer.ts';
import { getCase } from '../src/fraud/cases/store.ts';
import { approveProviderControl, getRequest, requestProviderControl } from '../src/fraud/providers/store.ts';

let peers: LocalPeers;
let deps: EngineDeps;
beforeAll(async () => {
  peers = await startLocalPeers();
  // The job's campaign runs at the quota: 20 emails/s and 20 SMS parts/s (10 Japanese SMS/s) here.
  await setupTestEnv({
    ...peers.env,
    EVENT_BUS_NAME: 'default',
    POWERTOOLS_METRICS_DISABLED: 'true',
    CAMPAIGN_EMAIL_QUOTA_PER_SECOND: '20',
    CAMPAIGN_SMS_QUOTA_PER_SECOND: '20',
    CAMPAIGN_LEASE_SECONDS: '3',
  });
  resetTokenPeppers();
  resetCampaignConfig();
  deps = await engineDepsFromEnv();
});
afterAll(async () => {
  await peers?.stop();
});

let seq = 0;
const run = `${process.pid}-${Date.now().toString(36)}`;

interface Customer {
  customerId: string;
  email: string;
  phone: string;
  accounts: { accountId: string; last4: string }[];
}

/** A customer with these accounts; account ids sort as `order` (the job pages the index by account id). */
async function customer(providerId: string, accounts: { order: number; last4: string }[], locale: 'ja' | 'en' = 'en'): Promise<Customer> {
  const n = ++seq;
  const c: Customer = {
    customerId: `cust-${run}-${n}`,
    email: `c${n}-${run}@example.jp`,
    phone: `+8170${String(n).padStart(8, '0')}`,
    accounts: accounts.map((a) => ({ accountId: `${providerId}-a${String(a.order).padStart(3, '0')}`, last4: a.last4 })),
  };
  await upsertCustomerProfile({
    eventId: `evt-${run}-${n}`,
    occurredAt: new Date().toISOString(),
    customerId: c.customerId,
    locale,
    email: c.email,
    phone: c.phone,
    accounts: c.accounts,
    preferences: { withdrawals: 'LINKED_AND_CARDLESS', withdrawalThreshold: 50_000, marketingOptOut: false },
  });
  return c;
}

/** Operator A asks, approver B approves (the approval's own inline run is the ops handler's: not here). */
async function approvedRevoke(providerId: string): Promise<string> {
  const req = await requestProviderControl(providerId, { action: 'REVOKE_UNCONFIRMED', reason: 'INC-12: unconfirmed links from 3 addresses', operatorId: 'op-alice' });
  await approveProviderControl(providerId, req.requestId, 'op-bob');
  return req.requestId;
}

class Crash extends Error {}

async function ledger(id: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for await (const e of ledgerEntries(id)) out.push(e);
  return out;
}

const events = (type: string, providerId: string) =>
  peers.publishedEvents().filter((e) => e.detailType === type && (e.detail as { providerId?: string }).providerId === providerId);

async function messagesTo(c: Customer) {
  return { emails: (await peers.emails()).filter((m) => m.to.includes(c.email)), sms: peers.smsMessages().filter((m) => m.phoneNumber === c.phone) };
}

describe('bulk revoke tells each customer once', () => {
  it('two accounts on different pages, two crashes and reruns: each link revoked once, one email and one SMS per customer naming all its accounts', async () => {
    await peers.clear();
    const providerId = `pv${++seq}x${run.replace(/\W/g, '')}`.slice(0, 40);
    // Index order (account ids): 0 X, 1 Y, 2 Z, 3 X, 4 F (frozen), 5 W, 6 V (confirmed), 7 F.
    const x = await customer(providerId, [{ order: 0, last4: '1111' }, { order: 3, last4: '2222' }]);
    const y = await customer(providerId, [{ order: 1, last4: '5001' }]);
    const z = await customer(providerId, [{ order: 2, last4: '5002' }], 'ja');
    const f = await customer(providerId, [{ order: 4, last4: '3333' }, { order: 7, last4: '4444' }]);
    const w = await customer(providerId, [{ order: 5, last4: '5005' }]);
    const v = await customer(providerId, [{ order: 6, last4: '5006' }]);
    const links = new Map<string, string>(); // linkId -> accountId
    for (const c of [x, y, z, f, w, v]) for (const a of c.accounts) links.set(await providerLink(a.accountId, c.customerId, providerId), a.accountId);
    const confirmed = [...links].find(([, a]) => a === v.accounts[0]!.accountId)![0];
    await confirmLink(v.accounts[0]!.accountId, confirmed, { actor: 'CUSTOMER_WEB' });
    await freezeAccount(f.accounts[0]!.accountId, { actor: 'CUSTOMER_WEB' });
    const unconfirmed = [...links].filter(([l]) => l !== confirmed);
    const requestId = await approvedRevoke(providerId);

    // Run 1: pages of 2; crashes right after the first revocation of its second page ([Z, X's 2nd
    // account]: both listed, Z revoked, X's not yet).
    const zLink = [...links].find(([, a]) => a === z.accounts[0]!.accountId)![0];
    const deadline = () => Date.now() + 60_000;
    await expect(
      runProviderJob(providerId, requestId, deadline(), undefined, {
        pageSize: 2,
        afterStep: (step, linkId) => {
          if (step === 'revoked' && linkId === zLink) throw new Crash('killed after revoking Z');
        },
      }),
    ).rejects.toBeInstanceOf(Crash);
    const linkOf = (accountId: string) => [...links].find(([, a]) => a === accountId)![0];
    const state = async (accountId: string) => (await getLink(accountId, linkOf(accountId)))!.state;
    expect([await state(x.accounts[0]!.accountId), await state(z.accounts[0]!.accountId), await state(x.accounts[1]!.accountId)]).toEqual(['REVOKED', 'REVOKED', 'PENDING']);
    // The crashed run still holds the lease: a run now is BUSY and changes nothing.
    expect(await runProviderJob(providerId, requestId, deadline(), undefined, { pageSize: 2 })).toMatchObject({ status: 'BUSY' });
    // Run 2, after the lease expired (its clock 61 s on), from the saved cursor: crashes after
    // listing its first page and before revoking any of it.
    const later = (s: number) => () => new Date(Date.now() + s * 1000);
    await expect(
      runProviderJob(providerId, requestId, deadline(), later(61), {
        pageSize: 2,
        afterStep: (step) => {
          if (step === 'listed') throw new Crash('killed after listing');
        },
      }),
    ).rejects.toBeInstanceOf(Crash);
    expect([await state(x.accounts[1]!.accountId), await state(f.accounts[0]!.accountId)]).toEqual(['PENDING', 'PENDING']);
    // Run 3 finishes. The counts are exact across the crashes: Z, revoked after run 1's last saved
    // page and gone from the index since, is counted; every link was seen once (V's: unchanged).
    expect(await runProviderJob(providerId, requestId, deadline(), later(122), { pageSize: 2 })).toMatchObject({ status: 'DONE', seen: links.size, changed: unconfirmed.length });
    expect(await getRequest(providerId, requestId)).toMatchObject({ status: 'DONE', seen: links.size, changed: unconfirmed.length });

    // Revocations exactly once.
    for (const [linkId, accountId] of unconfirmed) {
      expect((await getLink(accountId, linkId))!.state).toBe('REVOKED');
      expect((await listAudit(accountId)).filter((e) => e.action === 'revokeLink' && e.target === `LINK#${linkId}`)).toEqual([
        expect.objectContaining({ actor: 'OPERATOR', operatorId: 'op-alice', approverId: 'op-bob' }),
      ]);
    }
    expect((await getLink(v.accounts[0]!.accountId, confirmed))!.state).toBe('ACTIVE');
    const revokedEvents = events('LinkRevoked', providerId).map((e) => (e.detail as { linkId: string }).linkId);
    expect(revokedEvents.sort()).toEqual(unconfirmed.map(([l]) => l).sort());
    const bulk = events('LinksBulkRevoked', providerId);
    expect(bulk).toHaveLength(1);
    expect(bulk[0]!.detail).toMatchObject({ requestId, revoked: unconfirmed.length, accounts: new Set(unconfirmed.map(([, a]) => a)).size });
    const campaignId = String((bulk[0]!.detail as { campaignId: string }).campaignId);
    expect(await getCampaign(campaignId)).toMatchObject({ templateId: 'provider-links-revoked', state: 'RUNNING', listSize: 5 });
    // Done: running it again finds nothing and changes nothing.
    expect(await runProviderJob(providerId, requestId, deadline(), later(200), { pageSize: 2 })).toMatchObject({ status: 'GONE' });
    expect(events('LinkRevoked', providerId)).toHaveLength(unconfirmed.length);

    // The campaign: one recipient per customer and channel.
    expect((await runCampaignWorker(campaignId, deps)).outcome).toBe('COMPLETED');
    for (const c of [x, y, z, f, w]) {
      const got = await messagesTo(c);
      expect([c.customerId, got.emails.length, got.sms.length]).toEqual([c.customerId, 1, 1]);
    }
    expect(await messagesTo(v)).toEqual({ emails: [], sms: [] });
    expect((await peers.emails()).length).toBe(5);
    expect(peers.smsMessages().length).toBe(5);
    const entries = await ledger(campaignId);
    expect(entries).toHaveLength(10);
    expect(entries.every((e) => e.status === 'SENT')).toBe(true);
    expect((await campaignStatus(campaignId)).counters).toMatchObject({ planned: 10, sent: 10, failed: 0, skipped: 0 });

    // X's one message names both accounts and both links.
    const xm = await messagesTo(x);
    expect(xm.emails[0]!.text).toContain(`Wallet ${providerId} (account ending 1111)`);
    expect(xm.emails[0]!.text).toContain(`Wallet ${providerId} (account ending 2222)`);
    expect(xm.emails[0]!.text).toContain('Freeze your account ending 1111');
    expect(xm.sms[0]!.message).toContain('we revoked 2 suspicious link(s) on acct *1111/2222.');
    // F's first account is frozen: still told, about both accounts; the freeze offered is the other one's.
    const fm = await messagesTo(f);
    expect(fm.emails[0]!.text).toContain('(account ending 3333)');
    expect(fm.emails[0]!.text).toContain('(account ending 4444)');
    expect(fm.emails[0]!.text).toContain('Freeze your account ending 4444');
    expect(fm.sms[0]!.message).toContain('on acct *4444/3333.');
    const fEntry = entries.find((e) => e.channel === 'email' && e.accountId === f.accounts[0]!.accountId)!;
    const token = await db().send(new GetCommand({ TableName: tableName(), Key: key.token(fEntry.tokenHash!), ConsistentRead: true }));
    expect(token.Item).toMatchObject({ accountId: f.accounts[1]!.accountId, customerId: f.customerId });
    // Z (Japanese) names its one account.
    expect((await messagesTo(z)).sms[0]!.message).toContain('口座末尾5002の連携1件を当行で解除しました');
  }, 120_000);
});

describe("the job's campaign keeps the engine's controls", () => {
  /** N customers, the first with two accounts (its accounts far apart in the index), each with one unconfirmed link per account. */
  async function revokedAndListed(n: number) {
    await peers.clear();
    const providerId = `pv${++seq}x${run.replace(/\W/g, '')}`.slice(0, 40);
    const customers: Customer[] = [await customer(providerId, [{ order: 0, last4: '1111' }, { order: n, last4: '2222' }], 'ja')];
    for (let i = 1; i < n; i++) customers.push(await customer(providerId, [{ order: i, last4: String(6000 + i) }], 'ja'));
    for (const c of customers) for (const a of c.accounts) await providerLink(a.accountId, c.customerId, providerId);
    const requestId = await approvedRevoke(providerId);
    expect(await runProviderJob(providerId, requestId, Date.now() + 60_000, undefined, { pageSize: 5 })).toMatchObject({ status: 'DONE' });
    const campaignId = (await getRequest(providerId, requestId))!.campaignId!;
    expect(await getCampaign(campaignId)).toMatchObject({ state: 'RUNNING', listSize: n });
    return { customers, campaignId };
  }

  async function untilSms(count: number, finished: () => boolean) {
    while (peers.smsMessages().length < count && !finished()) await new Promise((r) => setTimeout(r, 20));
  }

  it('pause stops the sending within a second; resume completes it with one email and one SMS per customer', async () => {
    const n = 30;
    const { customers, campaignId } = await revokedAndListed(n);
    let done = false;
    const worker = runCampaignWorker(campaignId, deps).finally(() => (done = true));
    await untilSms(3, () => done);
    expect(done).toBe(false);
    await pauseCampaign(campaignId);
    expect((await worker).outcome).toBe('PAUSED');
    const returnedAt = Date.now();
    // Japanese SMS are 2 parts: at most one second's quota (20 parts, 10 SMS) more after the pause.
    const smsAtPause = peers.smsMessages().length;
    expect(smsAtPause).toBeLessThan(n);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(peers.smsMessages().length).toBe(smsAtPause);
    expect(peers.smsMessages().filter((m) => Date.parse(m.at) > returnedAt)).toEqual([]);
    expect((await runCampaignWorker(campaignId, deps)).outcome).toBe('NOT_RUNNING');

    await resumeCampaign(campaignId);
    expect((await runCampaignWorker(campaignId, deps)).outcome).toBe('COMPLETED');
    for (const c of customers) {
      const got = await messagesTo(c);
      expect([c.customerId, got.emails.length, got.sms.length]).toEqual([c.customerId, 1, 1]);
    }
    expect(peers.smsMessages()).toHaveLength(n);
    expect(await peers.emails()).toHaveLength(n);
    expect((await messagesTo(customers[0]!)).sms[0]!.message).toContain('口座末尾1111/2222の連携2件');
  }, 120_000);

  it('cancel stops the sending for good', async () => {
    const n = 30;
    const { campaignId } = await revokedAndListed(n);
    let done = false;
    const worker = runCampaignWorker(campaignId, deps).finally(() => (done = true));
    await untilSms(3, () => done);
    expect(done).toBe(false);
    await cancelCampaign(campaignId);
    expect((await worker).outcome).toBe('CANCELLED');
    const sent = peers.smsMessages().length;
    expect(sent).toBeLessThan(n);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await runCampaignWorker(campaignId, deps)).outcome).toBe('NOT_RUNNING');
    expect(peers.smsMessages().length).toBe(sent);
    expect((await ledger(campaignId)).filter((e) => e.channel === 'sms' && e.status === 'SENT')).toHaveLength(sent);
  }, 120_000);

  it('cancelling the notice while the job runs stops the telling, not the revocations', async () => {
    await peers.clear();
    const providerId = `pv${++seq}x${run.replace(/\W/g, '')}`.slice(0, 40);
    const cs = [await customer(providerId, [{ order: 0, last4: '7000' }]), await customer(providerId, [{ order: 1, last4: '7001' }]), await customer(providerId, [{ order: 2, last4: '7002' }])];
    const linkIds = await Promise.all(cs.map((c) => providerLink(c.accounts[0]!.accountId, c.customerId, providerId)));
    const requestId = await approvedRevoke(providerId);
    // The first page is listed and revoked; the notice (still a draft) is cancelled before the second.
    await expect(
      runProviderJob(providerId, requestId, Date.now() + 60_000, undefined, {
        pageSize: 2,
        afterStep: async (step, linkId) => {
          if (step === 'revoked' && linkId === linkIds[1]) {
            await cancelCampaign((await getRequest(providerId, requestId))!.campaignId!);
            throw new Crash('stopped after the first page');
          }
        },
      }),
    ).rejects.toBeInstanceOf(Crash);
    expect(await runProviderJob(providerId, requestId, Date.now() + 60_000, () => new Date(Date.now() + 61_000), { pageSize: 2 })).toMatchObject({ status: 'DONE' });
    for (const [i, c] of cs.entries()) expect((await getLink(c.accounts[0]!.accountId, linkIds[i]!))!.state).toBe('REVOKED');
    expect(events('LinkRevoked', providerId)).toHaveLength(3);
    const campaignId = (await getRequest(providerId, requestId))!.campaignId!;
    expect(await getCampaign(campaignId)).toMatchObject({ state: 'CANCELLED', listSize: 2 });
    expect((await runCampaignWorker(campaignId, deps)).outcome).toBe('NOT_RUNNING');
    expect(peers.smsMessages()).toEqual([]);
  }, 60_000);
});

describe('what the job revokes and counts', () => {
  /** The fraud function's route: each LinkRevoked of the provider opens its case (as LinkRevokedToFraud delivers it). */
  async function openCases(providerId: string) {
    for (const e of events('LinkRevoked', providerId)) await processFraudRecord({ source: 'bank.alerting', 'detail-type': 'LinkRevoked', detail: e.detail });
  }

  it('a link confirmed between the job\'s check and its revoke stays confirmed: no LinkRevoked, no case, not in the notice, counted unchanged', async () => {
    await peers.clear();
    const providerId = `pv${++seq}x${run.replace(/\W/g, '')}`.slice(0, 40);
    // K: account 0 (link kept unconfirmed) and account 1 (K says "it was me" while the job runs); Q: account 2.
    const k = await customer(providerId, [{ order: 0, last4: '8100' }, { order: 1, last4: '8101' }]);
    const q = await customer(providerId, [{ order: 2, last4: '8102' }]);
    const [k0, k1] = [k.accounts[0]!.accountId, k.accounts[1]!.accountId];
    const q0 = q.accounts[0]!.accountId;
    const kRevoked = await providerLink(k0, k.customerId, providerId);
    const kConfirmed = await providerLink(k1, k.customerId, providerId);
    const qRevoked = await providerLink(q0, q.customerId, providerId);
    const requestId = await approvedRevoke(providerId);

    // One page: all three read PENDING and listed; the confirm lands before the job's revokes.
    const out = await runProviderJob(providerId, requestId, Date.now() + 60_000, undefined, {
      pageSize: 5,
      afterStep: async (step) => {
        if (step === 'listed') expect(await confirmLink(k1, kConfirmed, { actor: 'CUSTOMER_WEB' })).toMatchObject({ changed: true });
      },
    });
    expect(out).toMatchObject({ status: 'DONE', seen: 3, changed: 2 });
    expect(await getRequest(providerId, requestId)).toMatchObject({ status: 'DONE', seen: 3, changed: 2 });

    expect(await getLink(k1, kConfirmed)).toMatchObject({ state: 'ACTIVE', confirmedAt: expect.any(String) });
    expect((await listAudit(k1)).map((e) => e.action)).toEqual(['confirmLink']);
    expect([(await getLink(k0, kRevoked))!.state, (await getLink(q0, qRevoked))!.state]).toEqual(['REVOKED', 'REVOKED']);
    expect(events('LinkRevoked', providerId).map((e) => (e.detail as { linkId: string }).linkId).sort()).toEqual([kRevoked, qRevoked].sort());
    expect(events('LinksBulkRevoked', providerId)).toEqual([expect.objectContaining({ detail: expect.objectContaining({ revoked: 2 }) })]);
    await openCases(providerId);
    expect(await getCase(k1, kConfirmed)).toBeUndefined();
    expect(await getCase(k0, kRevoked)).toMatchObject({ state: 'OPEN' });

    // K is still told once, about the link that was revoked only.
    const campaignId = (await getRequest(providerId, requestId))!.campaignId!;
    expect((await runCampaignWorker(campaignId, deps)).outcome).toBe('COMPLETED');
    const km = await messagesTo(k);
    expect([km.emails.length, km.sms.length]).toEqual([1, 1]);
    expect(km.emails[0]!.text).toContain(`Wallet ${providerId} (account ending 8100)`);
    expect(km.emails[0]!.text).not.toContain('8101');
    expect(km.sms[0]!.message).toContain('we revoked 1 suspicious link(s) on acct *8100.');
  }, 60_000);

  it('LinksBulkRevoked counts links and distinct accounts: a customer with two links on one account is one account', async () => {
    await peers.clear();
    const providerId = `pv${++seq}x${run.replace(/\W/g, '')}`.slice(0, 40);
    const k = await customer(providerId, [{ order: 0, last4: '8200' }]);
    const q = await customer(providerId, [{ order: 1, last4: '8201' }]);
    const [k0, q0] = [k.accounts[0]!.accountId, q.accounts[0]!.accountId];
    const kLinks = [await providerLink(k0, k.customerId, providerId), await providerLink(k0, k.customerId, providerId)];
    const qLink = await providerLink(q0, q.customerId, providerId);
    const requestId = await approvedRevoke(providerId);
    // Pages of 2: K's two links on the first page, Q's on the second.
    expect(await runProviderJob(providerId, requestId, Date.now() + 60_000, undefined, { pageSize: 2 })).toMatchObject({ status: 'DONE', seen: 3, changed: 3 });
    for (const l of kLinks) expect((await getLink(k0, l))!.state).toBe('REVOKED');
    expect((await getLink(q0, qLink))!.state).toBe('REVOKED');
    expect(events('LinkRevoked', providerId)).toHaveLength(3);
    expect(events('LinksBulkRevoked', providerId)).toEqual([expect.objectContaining({ detail: expect.objectContaining({ requestId, revoked: 3, accounts: 2 }) })]);
    // K is one recipient, told about both links of its one account.
    const campaignId = (await getRequest(providerId, requestId))!.campaignId!;
    expect(await getCampaign(campaignId)).toMatchObject({ listSize: 2 });
    expect((await runCampaignWorker(campaignId, deps)).outcome).toBe('COMPLETED');
    const km = await messagesTo(k);
    expect([km.emails.length, km.sms.length]).toEqual([1, 1]);
    expect(km.sms[0]!.message).toContain('we revoked 2 suspicious link(s) on acct *8200.');
  }, 60_000);
});
