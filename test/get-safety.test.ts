/**
 * GET never changes state: mail scanners and chat previews fetch every link in a message.
 *
 * The local runtime (real HTTP, the API Gateway emulation, every handler, DynamoDB Local, the
 * local SES and SMS outbox) sends real alerts (a new link for each demo customer, a cardless-ATM
 * app activation, a withdrawal, a contact change) and a real campaign (whose messages carry
 * `?freeze=1` and `?revoke={linkId}` links). Then every URL those messages actually carry (email
 * HTML and text, SMS) is fetched with GET and HEAD, with `?lang=ja` and `?lang=en`, and every
 * same-page link on the pages that come back (the language switch) is fetched too. A FULL TABLE
 * SCAN before and after must be identical, nothing excluded, and no event may be published.
 * Positive control: one POST from a fetched page's own form does change the scan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { demoCustomers, impostorLinksWallet } from '../local/demo-data.ts';
import { REPO_ROOT } from '../local/handlers.ts';
import { runLocalCampaignWorkers } from '../src/campaign/local-worker.ts';
import type { PutEnvelope } from '../local/event-bus.ts';
import { changedKeys, scanTable } from './support/table-scan.ts';

let rt: LocalRuntime;
beforeAll(async () => {
  rt = await startLocalRuntime({ schedules: false, env: { CAMPAIGN_EMAIL_QUOTA_PER_SECOND: '100', CAMPAIGN_SMS_QUOTA_PER_SECOND: '20' } });
});
afterAll(async () => {
  await rt?.stop();
});

const example = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'events', 'examples', `${name}.json`), 'utf8')) as PutEnvelope & { detail: Record<string, unknown> };
const at = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Mail {
  to: string[];
  subject?: string;
  text?: string;
  html?: string;
}
interface Sms {
  phoneNumber: string;
  message: string;
}

/** Every http(s) URL in a message body; HTML entities in attributes decoded. */
function urlsIn(body: string): string[] {
  const decoded = body.replace(/&amp;/g, '&').replace(/&#x2F;/gi, '/').replace(/&#47;/g, '/');
  return [...decoded.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0].replace(/[.,。、]+$/, ''));
}

/** Waits until every queue with a consumer here is empty (a route whose function is not built yet never drains). */
async function settle(): Promise<void> {
  const busy = () => rt.bus.stats().filter((q) => q.consumer && (q.pending > 0 || q.inFlight > 0));
  const deadline = Date.now() + 60_000;
  while (busy().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(busy()).toEqual([]);
  expect(rt.bus.stats().filter((q) => q.dead > 0)).toEqual([]);
}

async function sendAlertsAndCampaign(): Promise<void> {
  const suffix = Date.now().toString(36);
  const [ja, en] = [demoCustomers[0]!, demoCustomers[1]!];
  const linkJa = impostorLinksWallet(ja, `${suffix}a`);
  const linkEn = impostorLinksWallet(en, `${suffix}b`);
  const app = example('AppActivated');
  app.detail = { ...app.detail, eventId: `evt-app-${suffix}`, occurredAt: at(), accountId: ja.accountId, linkId: `lnk-app-${suffix}` };
  const wd = example('WithdrawalPosted');
  wd.detail = { ...wd.detail, eventId: `evt-wd-${suffix}`, occurredAt: at(), accountId: en.accountId, withdrawalId: `wd-${suffix}`, linkId: (linkEn.detail as { linkId: string }).linkId, amount: 90_000 };
  const contact = example('ContactChanged');
  contact.detail = { ...contact.detail, eventId: `evt-contact-${suffix}`, occurredAt: at(), customerId: en.customerId, previous: { email: en.email, phone: en.phone }, current: { email: en.email, phone: '+818033334444' } };
  rt.publish([linkJa, linkEn]);
  await settle();
  rt.publish([app, wd, contact]);
  await settle();

  // A campaign to every linked account, through the operations API, sent by the local worker.
  const cookie = rt.operatorCookie({ id: 'op-get-safety', groups: ['operators'] });
  const ops = (path: string, body?: unknown) =>
    fetch(`${rt.urls.api}${path}`, { method: body === undefined ? 'POST' : 'POST', headers: { cookie, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const created = await ops('/ops/campaigns', { name: 'get-safety', templateId: 'linked-services-review', rates: { email: 50, sms: 10 }, audience: { kind: 'all' } });
  expect(created.status).toBe(201);
  const { campaignId } = (await created.json()) as { campaignId: string };
  expect((await ops(`/ops/campaigns/${campaignId}/start`)).status).toBe(200);
  const workers = new AbortController();
  const done = runLocalCampaignWorkers({ signal: workers.signal, pollMs: 200 });
  try {
    const deadline = Date.now() + 60_000;
    let state = '';
    while (Date.now() < deadline) {
      const status = (await (await fetch(`${rt.urls.api}/ops/campaigns/${campaignId}`, { headers: { cookie } })).json()) as { campaign: { state: string } };
      state = status.campaign.state;
      if (state === 'COMPLETED' || state === 'FAILED' || state === 'CANCELLED') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(state).toBe('COMPLETED');
  } finally {
    workers.abort();
    await done;
  }
}

/** Resolves once a full scan has stayed identical for `stillMs` (throws after `maxMs`). */
async function tableQuiet(stillMs: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  let last = (await scanTable()).text;
  let since = Date.now();
  while (Date.now() - since < stillMs) {
    if (Date.now() > end) throw new Error(`the table kept changing for ${maxMs} ms before the GETs`);
    await new Promise((r) => setTimeout(r, 1_000));
    const now = (await scanTable()).text;
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

describe('GET and HEAD on every link the messages carry', () => {
  it('change nothing in the whole table and publish nothing; a POST from the page does change it', async () => {
    await sendAlertsAndCampaign();
    const mails = (await (await fetch(`${rt.urls.api}/local/emails.json`)).json()) as Mail[];
    const texts = (await (await fetch(`${rt.urls.api}/local/sms.json`)).json()) as Sms[];
    const carried = new Set<string>();
    for (const m of mails) for (const u of [...urlsIn(m.html ?? ''), ...urlsIn(m.text ?? '')]) carried.add(u);
    for (const s of texts) for (const u of urlsIn(s.message)) carried.add(u);
    // Only the runtime's own links can be fetched here (no other network); every action link is one.
    const ours = [...carried].filter((u) => u.startsWith(rt.urls.api));
    const actionLinks = ours.filter((u) => new URL(u).pathname.startsWith('/a/'));
    // The messages did carry each kind of link: plain, ?freeze=1 and ?revoke=… (and from SMS).
    expect(actionLinks.filter((u) => !new URL(u).search).length).toBeGreaterThan(0);
    expect(actionLinks.filter((u) => new URL(u).searchParams.get('freeze') === '1').length).toBeGreaterThan(0);
    expect(actionLinks.filter((u) => new URL(u).searchParams.has('revoke')).length).toBeGreaterThan(0);
    expect(texts.flatMap((s) => urlsIn(s.message)).filter((u) => u.startsWith(rt.urls.actionBase)).length).toBeGreaterThan(0);

    // Provider status events land after the queues drain (the local SMS status route retries an
    // early event after 2 s and 10 s, as Lambda's async retries would): wait until the table has
    // been still for longer than the last retry, so only the GETs below could change it.
    await tableQuiet(12_000, 120_000);
    const eventsBefore = rt.peers.publishedEvents().length;
    const before = await scanTable();
    expect(before.items.length).toBeGreaterThan(0);

    const fetched = new Map<string, number>();
    const visit = async (url: string, method: 'GET' | 'HEAD') => {
      const res = await fetch(url, { method, redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (compatible; LinkScanner/1.0)' } });
      const body = await res.text();
      fetched.set(`${method} ${url}`, res.status);
      return { status: res.status, body };
    };
    const withLang = (u: string, lang: string) => {
      const url = new URL(u);
      url.searchParams.set('lang', lang);
      return url.toString();
    };
    const pages: { url: string; body: string }[] = [];
    for (const u of ours) {
      for (const url of [u, withLang(u, 'ja'), withLang(u, 'en')]) {
        const got = await visit(url, 'GET');
        expect(got.status, `GET ${url}`).toBeLessThan(500);
        await visit(url, 'HEAD');
        if (new URL(url).pathname.startsWith('/a/')) pages.push({ url, body: got.body });
      }
    }
    // Links on the pages themselves (the language switch, "back to the page"): a scanner follows them too.
    const onPage = new Set<string>();
    for (const p of pages) for (const m of p.body.matchAll(/href="([^"]+)"/g)) onPage.add(new URL(m[1]!.replace(/&amp;/g, '&'), p.url).toString());
    const sameOrigin = [...onPage].filter((u) => u.startsWith(rt.urls.api));
    expect(sameOrigin.length).toBeGreaterThan(0);
    for (const u of sameOrigin) {
      await visit(u, 'GET');
      await visit(u, 'HEAD');
    }
    // Every action link's page was really shown (200), not an error page that never read the token.
    expect(actionLinks.filter((u) => fetched.get(`GET ${u}`) !== 200)).toEqual([]);

    const after = await scanTable();
    expect(changedKeys(before.items, after.items)).toEqual([]);
    expect(after.text).toBe(before.text);
    expect(rt.peers.publishedEvents().length).toBe(eventsBefore);
    console.info(`get safety: ${mails.length} emails, ${texts.length} SMS, ${actionLinks.length} distinct action links, ${fetched.size} requests, ${before.items.length} items unchanged`);

    // Positive control: the freeze form on one fetched page, POSTed, changes the table.
    const withForm = pages.find((p) => /name="action" value="FREEZE_ACCOUNT"/.test(p.body))!;
    expect(withForm).toBeDefined();
    const form = withForm.body.split('<form').slice(1).find((f) => f.includes('value="FREEZE_ACCOUNT"'))!;
    const fields = new URLSearchParams([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')] as [string, string]));
    const posted = await fetch(new URL(withForm.url).origin + new URL(withForm.url).pathname, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() });
    expect(posted.status).toBe(200);
    expect(changedKeys(before.items, (await scanTable()).items).length).toBeGreaterThan(0);
  }, 240_000);
});
