/**
 * Campaign operations and bad input: every refusal is a clear error that changes nothing; pause,
 * resume and cancel take effect within a second; provider and list audiences reach exactly their
 * accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTestEnv } from './support/env.ts';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { resetCampaignConfig } from '../src/campaign/config.ts';
import { engineDepsFromEnv } from '../src/campaign/deps.ts';
import { runCampaignWorker, type EngineDeps } from '../src/campaign/engine.ts';
import {
  campaignStatus,
  cancelCampaign,
  createCampaign,
  listCampaigns,
  loadList,
  pauseCampaign,
  resumeCampaign,
  startCampaign,
} from '../src/campaign/service.ts';
import { getCampaign, ledgerEntries } from '../src/campaign/store.ts';
import { sesEmailSender } from '../src/campaign/senders.ts';
import { seedAudience, seedRecipient, accountIdOf, phoneOf, emailOf } from '../src/campaign/seed.ts';
import { CampaignError, type LedgerEntry } from '../src/campaign/types.ts';

let peers: LocalPeers;
let deps: EngineDeps;

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv({ ...peers.env, CAMPAIGN_EMAIL_QUOTA_PER_SECOND: '1000', CAMPAIGN_SMS_QUOTA_PER_SECOND: '500', CAMPAIGN_LEASE_SECONDS: '3' });
  resetCampaignConfig();
  deps = await engineDepsFromEnv();
});
afterAll(async () => {
  await peers?.stop();
});

const base = { name: 'n', templateId: 'linked-services-review', rates: { email: 100 }, audience: { kind: 'all' } };

async function refused(p: Promise<unknown>, code: CampaignError['code'], message: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(CampaignError);
  expect((e as CampaignError).code).toBe(code);
  expect((e as CampaignError).message).toMatch(message);
}

async function ledger(id: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for await (const e of ledgerEntries(id)) out.push(e);
  return out;
}

describe('bad input changes nothing', () => {
  it.each([
    ['an unknown template', { templateId: 'no-such-template' }, /unknown template "no-such-template"/],
    ['an unknown locale', { fallbackLocale: 'fr' }, /unknown locale "fr"/],
    ['a rate of 0', { rates: { email: 0 } }, /rates.email: must be above 0/],
    ['a negative rate', { rates: { sms: -5 } }, /rates.sms: must be above 0/],
    ['a rate above the configured quota', { rates: { email: 1000.5 } }, /above the configured quota of 1000\/s/],
    ['an SMS rate above the SMS quota', { rates: { email: 10, sms: 501 } }, /rates.sms: 501\/s is above the configured quota of 500\/s/],
    ['no channel at all', { rates: {} }, /at least one channel/],
    ['a channel the template lacks', { templateId: 'provider-notice-email', rates: { sms: 10 } }, /has no sms form/],
    ['a malformed send window', { window: { start: '9:00', end: '25:00' } }, /HH:MM/],
    ['an unknown audience kind', { audience: { kind: 'everyone' } }, /audience/],
    ['an unknown field', { priority: 'high' }, /priority|Unrecognized/i],
  ])('refuses %s', async (_what, patch, message) => {
    const before = (await listCampaigns()).length;
    await refused(createCampaign({ ...base, ...patch }), 'INVALID', message);
    expect((await listCampaigns()).length).toBe(before);
  });

  it('refuses to start a campaign whose audience is empty, and it stays a draft', async () => {
    const c = await createCampaign(base);
    await refused(startCampaign(c.campaignId), 'INVALID', /audience is empty/);
    expect((await getCampaign(c.campaignId))?.state).toBe('DRAFT');
    const l = await createCampaign({ ...base, audience: { kind: 'list' } });
    await refused(startCampaign(l.campaignId), 'INVALID', /audience is empty/);
  });

  it('refuses unknown campaign ids with NOT_FOUND', async () => {
    await refused(startCampaign('c-nope'), 'NOT_FOUND', /no campaign c-nope/);
    await refused(campaignStatus('c-nope'), 'NOT_FOUND', /no campaign/);
  });
});

describe('running campaigns', () => {
  const N = 900;
  beforeAll(async () => {
    await seedAudience(0, N, { secondLinkEvery: 3 });
  });

  it('refuses to start a campaign twice', async () => {
    const c = await createCampaign(base);
    const started = await startCampaign(c.campaignId);
    await refused(startCampaign(c.campaignId), 'CONFLICT', /already been started/);
    const now = await getCampaign(c.campaignId);
    expect(now).toMatchObject({ state: 'RUNNING', version: started.version, runNumber: 1 });
    await cancelCampaign(c.campaignId);
  });

  it('pauses within a second, resumes where it stopped, and every recipient gets exactly one SMS', async () => {
    await peers.clear();
    const c = await createCampaign({ ...base, rates: { sms: 300 }, audience: { kind: 'all', segments: 2 } });
    await startCampaign(c.campaignId);
    const releases: { at: number; n: number }[] = [];
    const run = runCampaignWorker(c.campaignId, { ...deps, onRelease: (_ch, n) => releases.push({ at: Date.now(), n }) });
    let finished: unknown;
    void run.then((r) => (finished = r), (e: unknown) => (finished = e));
    while (peers.smsMessages().length < 200 && finished === undefined) await new Promise((r) => setTimeout(r, 20));
    expect(finished, String(finished instanceof Error ? finished.stack : JSON.stringify(finished))).toBeUndefined();
    // The pause is acknowledged when the call returns: it takes effect within a second of that,
    // so at most one second's quota (300 parts, so at most 300 messages) leaves after it. A
    // count, not a clock: a loaded machine releases fewer, never more.
    await pauseCampaign(c.campaignId);
    const pausedAt = Date.now();
    expect((await run).outcome).toBe('PAUSED');
    const returnedAt = Date.now();
    expect(releases.filter((r) => r.at > pausedAt).reduce((k, r) => k + r.n, 0)).toBeLessThanOrEqual(300);
    // Once the worker has returned, nothing more arrives.
    expect(peers.smsMessages().filter((m) => Date.parse(m.at) > returnedAt)).toEqual([]);
    const countAtPause = peers.smsMessages().length;
    expect(countAtPause).toBeLessThan(N);
    // Paused: a worker started now sends nothing.
    expect((await runCampaignWorker(c.campaignId, deps)).outcome).toBe('NOT_RUNNING');
    expect(peers.smsMessages().length).toBe(countAtPause);

    await resumeCampaign(c.campaignId);
    expect((await runCampaignWorker(c.campaignId, deps)).outcome).toBe('COMPLETED');
    const phones = peers.smsMessages().map((m) => m.phoneNumber);
    expect(phones).toHaveLength(N);
    expect(new Set(phones)).toEqual(new Set(Array.from({ length: N }, (_, i) => phoneOf(i))));
    const st = await campaignStatus(c.campaignId);
    expect(st.counters).toMatchObject({ planned: N, sent: N, failed: 0, skipped: 0, suppressed: 0 });
    // A generous limit: 900 SMS through DynamoDB Local on a loaded 2-core machine.
  }, 240_000);

  it('cancels within a second; a cancelled campaign cannot be resumed', async () => {
    await peers.clear();
    const c = await createCampaign({ ...base, rates: { sms: 300 } });
    await startCampaign(c.campaignId);
    const releases: { at: number; n: number }[] = [];
    const run = runCampaignWorker(c.campaignId, { ...deps, onRelease: (_ch, n) => releases.push({ at: Date.now(), n }) });
    let finished: unknown;
    void run.then((r) => (finished = r), (e: unknown) => (finished = e));
    while (peers.smsMessages().length < 100 && finished === undefined) await new Promise((r) => setTimeout(r, 20));
    expect(finished, String(finished instanceof Error ? finished.stack : JSON.stringify(finished))).toBeUndefined();
    await cancelCampaign(c.campaignId);
    const cancelledAt = Date.now();
    expect((await run).outcome).toBe('CANCELLED');
    const returnedAt = Date.now();
    // At most one second's quota after the cancel (see the pause test): a count, not a clock.
    expect(releases.filter((r) => r.at > cancelledAt).reduce((k, r) => k + r.n, 0)).toBeLessThanOrEqual(300);
    expect(peers.smsMessages().filter((m) => Date.parse(m.at) > returnedAt)).toEqual([]);
    const sent = peers.smsMessages().length;
    await refused(resumeCampaign(c.campaignId), 'CONFLICT', /cancelled campaign cannot be resumed/);
    await refused(pauseCampaign(c.campaignId), 'CONFLICT', /is CANCELLED/);
    expect((await getCampaign(c.campaignId))?.state).toBe('CANCELLED');
    expect((await runCampaignWorker(c.campaignId, deps)).outcome).toBe('NOT_RUNNING');
    expect(peers.smsMessages().length).toBe(sent);
    const entries = await ledger(c.campaignId);
    expect(entries.filter((e) => e.status === 'SENT')).toHaveLength(sent);
  }, 240_000);

  it('a provider audience reaches only that provider\'s linked accounts, listing only those links', async () => {
    await peers.clear();
    const c = await createCampaign({ ...base, templateId: 'provider-notice-email', rates: { email: 1000 }, audience: { kind: 'provider', providerId: 'paynext' } });
    await startCampaign(c.campaignId);
    expect((await runCampaignWorker(c.campaignId, deps)).outcome).toBe('COMPLETED');
    const want = new Set<string>();
    for (let i = 0; i < N; i++) if (seedRecipient(i, { secondLinkEvery: 3 }).links.some((l) => l.providerId === 'paynext')) want.add(emailOf(i));
    const mails = await peers.emails();
    expect(new Set(mails.map((m) => m.to[0]))).toEqual(want);
    expect(mails).toHaveLength(want.size);
    expect(mails.every((m) => m.text!.includes('PayNext') && !m.text!.includes('D-Wallet'))).toBe(true);
  });

  it('a supplied list reaches exactly the listed linked accounts (duplicates once, unknown ids skipped)', async () => {
    await peers.clear();
    const c = await createCampaign({ ...base, audience: { kind: 'list', segments: 3 } });
    const ids = [5, 6, 7, 8, 300, 301].map(accountIdOf);
    await loadList(c.campaignId, [...ids, accountIdOf(5), 'acct-unknown', '']);
    await startCampaign(c.campaignId);
    expect((await runCampaignWorker(c.campaignId, deps)).outcome).toBe('COMPLETED');
    expect((await peers.emails()).map((m) => m.to[0]).sort()).toEqual([5, 6, 7, 8, 300, 301].map(emailOf).sort());
    const st = await campaignStatus(c.campaignId);
    expect(st.counters).toMatchObject({ planned: 7, sent: 6, skipped: 1 });
    await refused(loadList(c.campaignId, ['acct-00000009']), 'CONFLICT', /only while DRAFT/);
  });

  it('stops, failing no one, when the provider refuses the campaign itself (template missing), and completes once fixed', async () => {
    await peers.clear(); // also drops the SES templates
    const c = await createCampaign({ ...base, rates: { email: 1000 }, audience: { kind: 'list', segments: 1 } });
    await loadList(c.campaignId, [10, 11, 12].map(accountIdOf));
    await startCampaign(c.campaignId);
    const broken = { ...deps, email: { ...sesEmailSender(), ensureTemplates: async () => {} } };
    await expect(runCampaignWorker(c.campaignId, broken)).rejects.toThrow(/provider refused the campaign's sends/);
    expect(await peers.emails()).toEqual([]);
    const entries = await ledger(c.campaignId);
    expect(entries.map((e) => e.status)).toEqual(['UNSENT', 'UNSENT', 'UNSENT']);
    expect((await campaignStatus(c.campaignId)).counters).toMatchObject({ sent: 0, failed: 0 });
    expect((await runCampaignWorker(c.campaignId, deps)).outcome).toBe('COMPLETED');
    expect((await peers.emails()).map((m) => m.to[0]).sort()).toEqual([10, 11, 12].map(emailOf).sort());
    expect((await campaignStatus(c.campaignId)).counters).toMatchObject({ planned: 3, sent: 3, failed: 0 });
  });
});
