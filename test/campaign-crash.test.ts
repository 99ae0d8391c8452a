/**
 * A worker killed with SIGKILL mid-campaign, twice, and restarted: every recipient gets exactly
 * one email and one SMS, checked against the ledger and against what the local mailbox and SMS
 * outbox received. The worker runs as a child process (`npm run campaign -- work <id>`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { setupTestEnv } from './support/env.ts';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { resetCampaignConfig } from '../src/campaign/config.ts';
import { campaignStatus, createCampaign, startCampaign } from '../src/campaign/service.ts';
import { ledgerEntries } from '../src/campaign/store.ts';
import { seedAudience, seedRecipient, accountIdOf, emailOf, phoneOf, type SeedOptions } from '../src/campaign/seed.ts';
import type { LedgerEntry } from '../src/campaign/types.ts';

let peers: LocalPeers;
const children: ChildProcess[] = [];

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv({
    ...peers.env,
    CAMPAIGN_EMAIL_QUOTA_PER_SECOND: '5000',
    CAMPAIGN_SMS_QUOTA_PER_SECOND: '5000',
    CAMPAIGN_LOCAL_DELIVERY_LOOKUP: 'true',
    CAMPAIGN_LEASE_SECONDS: '2',
  });
  resetCampaignConfig();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await peers?.stop();
});

function spawnWorker(id: string): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/campaign.ts', 'work', id], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const opts: SeedOptions = { frozenEvery: 25, secondLinkEvery: 5 };
const N = 1500;

describe('a worker killed with SIGKILL mid-campaign and restarted', () => {
  it('sends every recipient exactly once per channel (ledger, mailbox and outbox agree)', async () => {
    await seedAudience(0, N, opts);
    await peers.clear();
    const c = await createCampaign({ name: 'crash', templateId: 'linked-services-review', rates: { email: 400, sms: 400 }, audience: { kind: 'all', segments: 4 } });
    await startCampaign(c.campaignId);

    // Kill twice while sends are flowing, at different points; the third worker finishes.
    for (const atLeast of [250, 700]) {
      const w = spawnWorker(c.campaignId);
      await waitFor(async () => (await peers.emails()).length >= atLeast && peers.smsMessages().length >= atLeast / 2, 90_000, `${atLeast} emails`);
      w.child.kill('SIGKILL');
      await w.exited;
      expect(w.child.signalCode).toBe('SIGKILL');
    }
    const last = spawnWorker(c.campaignId);
    const code = await Promise.race([last.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 150_000))]);
    expect(code, last.output()).toBe(0);

    const eligible = new Set<number>();
    const frozen = new Set<number>();
    for (let i = 0; i < N; i++) (seedRecipient(i, opts).account.state === 'FROZEN' ? frozen : eligible).add(i);

    const entries: LedgerEntry[] = [];
    for await (const e of ledgerEntries(c.campaignId)) entries.push(e);
    for (const ch of ['email', 'sms'] as const) {
      const mine = entries.filter((e) => e.channel === ch);
      expect(mine).toHaveLength(N);
      expect(mine.filter((e) => e.status === 'SENT').map((e) => e.accountId).sort()).toEqual([...eligible].map(accountIdOf).sort());
      expect(mine.filter((e) => e.status === 'SKIPPED')).toHaveLength(frozen.size);
    }

    const emails = await peers.emails();
    const perAddress = new Map<string, number>();
    for (const e of emails) perAddress.set(e.to[0]!, (perAddress.get(e.to[0]!) ?? 0) + 1);
    expect([...perAddress.values()].filter((n) => n > 1)).toEqual([]);
    expect(new Set(perAddress.keys())).toEqual(new Set([...eligible].map(emailOf)));

    const perPhone = new Map<string, number>();
    for (const m of peers.smsMessages()) perPhone.set(m.phoneNumber, (perPhone.get(m.phoneNumber) ?? 0) + 1);
    expect([...perPhone.values()].filter((n) => n > 1)).toEqual([]);
    expect(new Set(perPhone.keys())).toEqual(new Set([...eligible].map(phoneOf)));

    // The ledger's message ids are the ones the providers gave (including those confirmed after a restart).
    const emailIds = new Set(emails.map((e) => e.messageId));
    expect(entries.filter((e) => e.channel === 'email' && e.status === 'SENT').every((e) => emailIds.has(e.messageId!))).toBe(true);

    const st = await campaignStatus(c.campaignId);
    expect(st.campaign.state).toBe('COMPLETED');
    for (const ch of ['email', 'sms'] as const) {
      expect(st.byChannel[ch]).toMatchObject({ planned: N, sent: eligible.size, skipped: frozen.size, failed: 0, suppressed: 0 });
    }
  }, 300_000);
});
