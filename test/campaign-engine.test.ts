/**
 * The campaign engine end to end against DynamoDB Local and the local SES / SMS outbox: who gets
 * a message, exactly once, what it says, the counters, throttling and 5xx from the providers,
 * pause / resume / cancel within a second, and a list audience.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTestEnv, TEST_PEPPER } from './support/env.ts';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { resetCampaignConfig } from '../src/campaign/config.ts';
import { engineDepsFromEnv } from '../src/campaign/deps.ts';
import { runCampaignWorker, type EngineDeps } from '../src/campaign/engine.ts';
import { campaignStatus, cancelCampaign, createCampaign, loadList, pauseCampaign, resumeCampaign, startCampaign } from '../src/campaign/service.ts';
import { ledgerEntries, sendRecordEntries } from '../src/campaign/store.ts';
import { routeProviderEvents, type EventRoute } from './campaign-support.ts';
import { seedAudience, seedRecipient, accountIdOf, emailOf, phoneOf, type SeedOptions } from '../src/campaign/seed.ts';
import { findToken } from '../src/store/tokens.ts';
import { tokensIn } from '../src/campaign/message.ts';
import type { LedgerEntry } from '../src/campaign/types.ts';
import { campaignKeyFromTags } from '../src/campaign/ledger-key.ts';
import { smsSize } from '../src/domain/messages/sms-segments.ts';

let peers: LocalPeers;
let deps: EngineDeps;
let route: EventRoute;
const BASE = 'https://alerts.example-bank.jp/a/';

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv({
    ...peers.env,
    CAMPAIGN_EMAIL_QUOTA_PER_SECOND: '5000',
    CAMPAIGN_SMS_QUOTA_PER_SECOND: '5000',
    CAMPAIGN_LEASE_SECONDS: '3',
    // The configuration sets' events come back through the delivery function (as in AWS);
    // a 5xx the provider did not accept has none, so after 1 s it is sent again.
    CAMPAIGN_SES_CONFIGURATION_SET: 'campaigns',
    SMS_CONFIGURATION_SET: 'campaign-sms',
    CAMPAIGN_SEND_EVENT_WAIT_SECONDS: '1',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  resetCampaignConfig();
  deps = await engineDepsFromEnv();
  route = routeProviderEvents(peers, () => 'deliver');
});

afterAll(async () => {
  await route?.settled();
  await peers?.stop();
});

async function ledger(id: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for await (const e of ledgerEntries(id)) out.push(e);
  return out;
}

const opts: SeedOptions = { frozenEvery: 10, noEmailEvery: 7, noPhoneEvery: 11, suppressedEmailEvery: 13, secondLinkEvery: 4, revokedEvery: 17 };

/** What a recipient i should get on a channel, from the seed rules (independent of the engine). */
function expected(i: number, channel: 'email' | 'sms'): 'SENT' | 'SKIPPED' | 'SUPPRESSED' | 'NONE' {
  const r = seedRecipient(i, opts);
  if (!r.links.some((l) => l.state !== 'REVOKED')) return 'NONE';
  if (r.account.state === 'FROZEN') return 'SKIPPED';
  const contact = channel === 'email' ? r.customer.email : r.customer.phone;
  if (!contact) return 'SKIPPED';
  if (channel === 'email' && r.customer.suppressedEmail) return 'SUPPRESSED';
  return 'SENT';
}

describe('a campaign to every linked account', () => {
  const N = 400;
  let id: string;

  let result: Awaited<ReturnType<typeof runCampaignWorker>>;

  // One campaign for every test below (each runnable alone: the campaign runs here, not in a test).
  beforeAll(async () => {
    await seedAudience(0, N, opts);
    await peers.clear();
    const c = await createCampaign({
      name: 'review linked services',
      templateId: 'linked-services-review',
      rates: { email: 2000, sms: 4000 },
      audience: { kind: 'all', segments: 4 },
    });
    id = c.campaignId;
    // Throttling and 5xx on both providers, at the wire: retried without loss or duplicates.
    peers.injectFaults('ses', ['throttle', '5xx', 'throttle']);
    peers.injectFaults('sms', ['throttle', '5xx', 'throttle', 'throttle']);
    await startCampaign(id);
    result = await runCampaignWorker(id, deps);
    await route.settled();
  }, 120_000);

  it('sends each eligible account exactly one email and one SMS, skips and suppresses the rest, and counts them', async () => {
    expect(result.outcome).toBe('COMPLETED');

    const want = { email: new Map<string, string>(), sms: new Map<string, string>() };
    for (let i = 0; i < N; i++) {
      for (const ch of ['email', 'sms'] as const) {
        const e = expected(i, ch);
        if (e !== 'NONE') want[ch].set(accountIdOf(i), e);
      }
    }
    const entries = await ledger(id);
    for (const ch of ['email', 'sms'] as const) {
      const got = new Map(entries.filter((e) => e.channel === ch).map((e) => [e.accountId, e.status]));
      expect(got).toEqual(want[ch]);
    }

    const emails = await peers.emails();
    const sms = peers.smsMessages();
    const sentEmail = [...want.email].filter(([, s]) => s === 'SENT').map(([a]) => a);
    const sentSms = [...want.sms].filter(([, s]) => s === 'SENT').map(([a]) => a);
    expect(emails).toHaveLength(sentEmail.length);
    expect(sms).toHaveLength(sentSms.length);
    const idx = (a: string) => Number(a.slice(5));
    expect(new Set(emails.map((e) => e.to[0]))).toEqual(new Set(sentEmail.map((a) => emailOf(idx(a)))));
    expect(new Set(sms.map((m) => m.phoneNumber))).toEqual(new Set(sentSms.map((a) => phoneOf(idx(a)))));

    const status = await campaignStatus(id);
    expect(status.campaign.state).toBe('COMPLETED');
    const count = (ch: 'email' | 'sms', s: string) => [...want[ch].values()].filter((v) => v === s).length;
    expect(status.byChannel.email).toMatchObject({ planned: want.email.size, sent: count('email', 'SENT'), skipped: count('email', 'SKIPPED'), suppressed: count('email', 'SUPPRESSED'), failed: 0 });
    expect(status.byChannel.sms).toMatchObject({ planned: want.sms.size, sent: count('sms', 'SENT'), skipped: count('sms', 'SKIPPED'), suppressed: 0, failed: 0 });
    // SMS are counted in message parts, as the provider bills and throttles them.
    const parts = sms.reduce((n, m) => n + smsSize(m.message).segments, 0);
    expect(status.byChannel.sms?.parts).toBe(parts);
    expect(parts).toBeGreaterThan(sms.length);
    expect(status.byChannel.email?.parts).toBe(emails.length);
  });

  it('every message carries its ledger key, and the send events recorded by the delivery function name exactly the ledger\'s message ids', async () => {
    const entries = await ledger(id);
    const records = new Map<string, string[]>();
    for await (const r of sendRecordEntries(id)) records.set(`${r.channel}#${r.accountId}`, r.messageIds);
    const sent = entries.filter((e) => e.status === 'SENT');
    expect(sent.length).toBeGreaterThan(0);
    expect(new Map(sent.map((e) => [`${e.channel}#${e.accountId}`, [e.messageId]]))).toEqual(records);
    const emails = await peers.emails();
    expect(emails.every((m) => m.tags?.campaign === id && m.tags.campaignChannel === 'email' && campaignKeyFromTags((n) => m.tags?.[n])?.accountId !== undefined)).toBe(true);
    expect(peers.smsMessages().every((m) => m.context?.campaign === id && m.context.campaignChannel === 'sms')).toBe(true);
  });

  it('lists each of the recipient\'s own linked services with its own revoke link, and one token carries them all', async () => {
    // Account 3 has two links (secondLinkEvery: 4) and an English profile? 3 % 3 = 0 -> ja.
    const i = 3;
    const r = seedRecipient(i, opts);
    const mail = (await peers.emails()).find((e) => e.to[0] === emailOf(i))!;
    expect(mail).toBeDefined();
    for (const l of r.links) {
      expect(mail.text).toContain(l.providerName);
      expect(mail.text).toContain(`?revoke=${l.linkId}`);
    }
    expect(mail.text).toContain('?freeze=1');
    const [token] = tokensIn(mail.text!, BASE);
    const grant = await findToken(token!, [TEST_PEPPER]);
    expect(grant?.accountId).toBe(accountIdOf(i));
    expect(grant?.actions).toEqual(expect.arrayContaining([{ kind: 'FREEZE_ACCOUNT' }, ...r.links.map((l) => ({ kind: 'REVOKE_LINK', linkId: l.linkId }))]));
    const text = peers.smsMessages().find((m) => m.phoneNumber === phoneOf(i))!.message;
    expect(text.length).toBeLessThanOrEqual(134);
    const [smsToken] = tokensIn(text, BASE);
    expect((await findToken(smsToken!, [TEST_PEPPER]))?.accountId).toBe(accountIdOf(i));
  });

  it('a second worker run on a completed campaign sends nothing more', async () => {
    const before = (await peers.emails()).length;
    const r = await runCampaignWorker(id, deps);
    expect(r.outcome).toBe('NOT_RUNNING');
    expect((await peers.emails()).length).toBe(before);
  });
});
