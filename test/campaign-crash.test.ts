/**
 * Exactly once across a worker killed with SIGKILL, with the production wiring: the worker process
 * (test/campaign-crash-worker.ts) uses engineDepsFromEnv as the CLI and the Lambda do, the local
 * SES and SMS outbox publish the configuration sets' events, and those go through the real
 * delivery function into the ledger (test/campaign-support.ts). No mailbox lookup.
 *
 * Each kill lands where a crash leaves doubt: after the provider accepted a release on both
 * channels and before the worker wrote its outcome (checked after every kill: SENDING ledger
 * entries whose message is in the mailbox / outbox). A call still in flight at the kill may be
 * accepted too, with nobody left to read the answer: its send event still comes, as in AWS
 * (test/local-ses.test.ts). Then a restarted worker must resolve them:
 *   - events arrive (late: after the restart): every recipient exactly once, under `resend`;
 *   - events stay silent, `hold`: no duplicates; the unresolved are IN_DOUBT, within the in-flight bound;
 *   - events stay silent, `resend`: duplicates only within the in-flight bound, nobody missed.
 * Mailbox, outbox and ledger are compared by provider message id on both channels.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { setupTestEnv } from './support/env.ts';
import { routeProviderEvents, type EventMode, type EventRoute } from './campaign-support.ts';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { resetCampaignConfig } from '../src/campaign/config.ts';
import { campaignStatus, createCampaign, startCampaign } from '../src/campaign/service.ts';
import { ledgerEntries } from '../src/campaign/store.ts';
import { CAMPAIGN_TAG } from '../src/campaign/ledger-key.ts';
import { seedAudience, seedRecipient, accountIdOf, emailOf, phoneOf, type SeedOptions } from '../src/campaign/seed.ts';
import type { Channel, LedgerEntry } from '../src/campaign/types.ts';

const N = 600;
const CONCURRENCY = 4;
/** What one crash can leave in doubt per channel: the batches in flight. */
const IN_FLIGHT_BOUND = CONCURRENCY * 50;
const opts: SeedOptions = { frozenEvery: 25, secondLinkEvery: 5 };

let peers: LocalPeers;
let route: EventRoute;
let events: EventMode = 'deliver';
const children: ChildProcess[] = [];

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv({
    ...peers.env,
    CAMPAIGN_EMAIL_QUOTA_PER_SECOND: '5000',
    CAMPAIGN_SMS_QUOTA_PER_SECOND: '5000',
    CAMPAIGN_LEASE_SECONDS: '2',
    CAMPAIGN_CONCURRENCY: String(CONCURRENCY),
    CAMPAIGN_SES_CONFIGURATION_SET: 'campaigns',
    SMS_CONFIGURATION_SET: 'campaign-sms',
    CAMPAIGN_SEND_EVENT_WAIT_SECONDS: '60',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  resetCampaignConfig();
  route = routeProviderEvents(peers, () => events);
  await seedAudience(0, N, opts);
});

beforeEach(async () => {
  await route.settled();
  await peers.clear();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await route?.settled();
  await peers?.stop();
});

function spawnWorker(id: string, env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/campaign-crash-worker.ts', id], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

const indexOf = (accountId: string) => Number(accountId.slice(5));
const eligible = [...Array(N).keys()].filter((i) => seedRecipient(i, opts).account.state !== 'FROZEN').map(accountIdOf);
const frozen = N - eligible.length;

async function ledger(id: string): Promise<Map<Channel, Map<string, LedgerEntry>>> {
  const out = new Map<Channel, Map<string, LedgerEntry>>([
    ['email', new Map()],
    ['sms', new Map()],
  ]);
  for await (const e of ledgerEntries(id)) out.get(e.channel)!.set(e.accountId, e);
  return out;
}

/** Provider messages of this campaign per channel: message id -> account. */
async function providerMessages(id: string): Promise<Map<Channel, Map<string, string>>> {
  const byEmail = new Map(eligible.map((a) => [emailOf(indexOf(a)), a]));
  const byPhone = new Map(eligible.map((a) => [phoneOf(indexOf(a)), a]));
  const email = new Map<string, string>();
  for (const m of await peers.emails()) if (m.tags?.[CAMPAIGN_TAG] === id) email.set(m.messageId, byEmail.get(m.to[0]!) ?? `unknown:${m.to[0]}`);
  const sms = new Map<string, string>();
  for (const m of peers.smsMessages()) if (m.context?.[CAMPAIGN_TAG] === id) sms.set(m.messageId, byPhone.get(m.phoneNumber) ?? `unknown:${m.phoneNumber}`);
  return new Map([
    ['email', email],
    ['sms', sms],
  ]);
}

/**
 * Late events: the held-back events of the crashed worker reach the delivery function only 8 s
 * after the next worker started (it has long begun looking for them by then), within the bound.
 */
async function releaseHeldLate(exited: Promise<unknown>): Promise<void> {
  if (events !== 'hold') return;
  await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
  route.release();
  events = 'deliver';
}

/** Kills a worker at its crash point and shows the kill left accepted-but-unrecorded recipients on both channels. */
async function crashOnce(id: string, crashAt: number): Promise<Record<Channel, number>> {
  const w = spawnWorker(id, { CRASH_AT: String(crashAt) });
  await w.exited;
  expect(w.child.signalCode, w.output()).toBe('SIGKILL');
  expect(w.output()).toContain('crash:');
  const [l, p] = await Promise.all([ledger(id), providerMessages(id)]);
  const inDoubt = { email: 0, sms: 0 };
  for (const ch of ['email', 'sms'] as const) {
    const accepted = new Set(p.get(ch)!.values());
    inDoubt[ch] = [...l.get(ch)!.values()].filter((e) => e.status === 'SENDING' && accepted.has(e.accountId)).length;
  }
  return inDoubt;
}

let lastOutput = '';
async function finish(id: string): Promise<void> {
  const w = spawnWorker(id, {});
  void w.exited.then(() => (lastOutput = w.output().slice(-2000)));
  await releaseHeldLate(w.exited);
  const code = await Promise.race([w.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 480_000))]);
  expect(code, w.output()).toBe(0);
  await route.settled();
}

interface Verdict {
  duplicates: Record<Channel, number>;
  inDoubt: Record<Channel, string[]>;
  /** For a failure message: the ledger entries of recipients with more than one message. */
  twice: string[];
}

/** Ledger against mailbox and outbox, by message id, on both channels. */
async function compare(id: string): Promise<Verdict> {
  const [l, p] = await Promise.all([ledger(id), providerMessages(id)]);
  const v: Verdict = { duplicates: { email: 0, sms: 0 }, inDoubt: { email: [], sms: [] }, twice: [] };
  for (const ch of ['email', 'sms'] as const) {
    const entries = l.get(ch)!;
    const messages = p.get(ch)!;
    expect(entries.size).toBe(N);
    expect([...entries.values()].filter((e) => e.status === 'SKIPPED')).toHaveLength(frozen);
    // Every eligible recipient is SENT or held IN_DOUBT; nothing else is left (no SENDING, UNSENT, FAILED).
    const settled = [...entries.values()].filter((e) => e.status !== 'SKIPPED');
    expect(settled.map((e) => e.accountId).sort()).toEqual([...eligible].sort());
    expect(settled.filter((e) => e.status !== 'SENT' && e.status !== 'IN_DOUBT')).toEqual([]);
    // Every message the provider took went to an eligible recipient of this campaign.
    expect([...messages.values()].filter((a) => a.startsWith('unknown:'))).toEqual([]);
    // Every SENT entry names a message the provider has, sent to that recipient.
    const wrong = settled.filter((e) => e.status === 'SENT' && messages.get(e.messageId ?? '') !== e.accountId);
    expect(wrong.map((e) => e.accountId)).toEqual([]);
    const perRecipient = new Map<string, number>();
    for (const a of messages.values()) perRecipient.set(a, (perRecipient.get(a) ?? 0) + 1);
    v.duplicates[ch] = [...perRecipient.values()].reduce((n, k) => n + k - 1, 0);
    for (const [a, k] of perRecipient) if (k > 1) v.twice.push(`${ch} ${a}: ${JSON.stringify(entries.get(a))}`);
    v.inDoubt[ch] = settled.filter((e) => e.status === 'IN_DOUBT').map((e) => e.accountId);
    // SENT recipients all got their message.
    expect(settled.filter((e) => e.status === 'SENT' && !perRecipient.has(e.accountId))).toEqual([]);
  }
  const st = await campaignStatus(id);
  expect(st.campaign.state).toBe('COMPLETED');
  for (const ch of ['email', 'sms'] as const) {
    expect(st.byChannel[ch]).toMatchObject({ planned: N, sent: eligible.length - v.inDoubt[ch].length, failed: v.inDoubt[ch].length, skipped: frozen, suppressed: 0 });
  }
  return v;
}

async function newCampaign(name: string): Promise<string> {
  const c = await createCampaign({ name, templateId: 'linked-services-review', rates: { email: 400, sms: 800 }, audience: { kind: 'all', segments: 4 } });
  await startCampaign(c.campaignId);
  return c.campaignId;
}

describe('a worker killed with SIGKILL between the provider accepting and the outcome being written', () => {
  it('send events arriving after the restart settle the in-doubt recipients: exactly one message per recipient per channel (resend policy)', async () => {
    process.env.CAMPAIGN_IN_DOUBT = 'resend';
    // Held back until the restarted worker is already looking for them (within the 60 s bound): it must wait.
    events = 'hold';
    const id = await newCampaign('crash-late-events');
    const left = await crashOnce(id, 3);
    expect(left.email).toBeGreaterThan(0);
    expect(left.sms).toBeGreaterThan(0);
    expect(route.held()).toBeGreaterThan(0);
    await finish(id);
    const v = await compare(id);
    expect(v.duplicates, v.twice.slice(0, 5).join('\n') + lastOutput).toEqual({ email: 0, sms: 0 });
    expect(v.inDoubt).toEqual({ email: [], sms: [] });
    expect(route.delivered()).toBeGreaterThan(0);
    expect(route.held()).toBe(0);
  }, 600_000);

  it('with the events silent, hold sends nobody twice and holds only the in-flight recipients', async () => {
    process.env.CAMPAIGN_IN_DOUBT = 'hold';
    process.env.CAMPAIGN_SEND_EVENT_WAIT_SECONDS = '2';
    events = 'drop';
    try {
      const id = await newCampaign('crash-hold');
      const left = await crashOnce(id, 3);
      expect(left.email).toBeGreaterThan(0);
      expect(left.sms).toBeGreaterThan(0);
      await finish(id);
      const v = await compare(id);
      expect(v.duplicates).toEqual({ email: 0, sms: 0 });
      for (const ch of ['email', 'sms'] as const) {
        expect(v.inDoubt[ch].length).toBeGreaterThanOrEqual(left[ch]);
        expect(v.inDoubt[ch].length).toBeLessThanOrEqual(IN_FLIGHT_BOUND);
      }
    } finally {
      process.env.CAMPAIGN_SEND_EVENT_WAIT_SECONDS = '60';
    }
  }, 600_000);

  it('with the events silent, resend misses nobody and sends twice only within the in-flight bound', async () => {
    process.env.CAMPAIGN_IN_DOUBT = 'resend';
    process.env.CAMPAIGN_SEND_EVENT_WAIT_SECONDS = '2';
    events = 'drop';
    try {
      const id = await newCampaign('crash-resend-silent');
      const left = await crashOnce(id, 3);
      await finish(id);
      const v = await compare(id);
      expect(v.inDoubt).toEqual({ email: [], sms: [] });
      for (const ch of ['email', 'sms'] as const) {
        // The accepted-but-unrecorded ones are sent again: that is the policy's price, and its bound.
        expect(v.duplicates[ch]).toBeGreaterThanOrEqual(left[ch]);
        expect(v.duplicates[ch]).toBeLessThanOrEqual(IN_FLIGHT_BOUND);
      }
    } finally {
      process.env.CAMPAIGN_SEND_EVENT_WAIT_SECONDS = '60';
    }
  }, 600_000);
});
