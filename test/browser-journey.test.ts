/**
 * The customer journey and the operations console in a real browser (Debian chromium through
 * playwright-core), against the whole local runtime on free ports:
 *   LinkCreated -> the email in the local mailbox -> its link -> "revoke this link" ->
 *   POST /v1/authorize through that link is denied -> the console's account view shows the revoke.
 * Then the console: overview charts, a campaign paused, an unfreeze that needs a second operator,
 * the audit export. Action pages are checked with axe-core (no serious or critical violations)
 * in both locales and at 320 px. Screenshots: test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { demoCustomers, impostorLinksWallet } from '../local/demo-data.ts';
import { SESSION_COOKIE } from '../local/http-server.ts';
import { countEvent } from '../src/console-data/metrics.ts';
import { resetCampaignConfig } from '../src/campaign/config.ts';
import { engineDepsFromEnv } from '../src/campaign/deps.ts';
import { runCampaignWorker } from '../src/campaign/engine.ts';
import { campaignStatus, createCampaign, startCampaign } from '../src/campaign/service.ts';
import { launchBrowser, screenshot, seriousAxeViolations, trackExternalRequests, fitsViewportWidth, SCREENSHOT_DIR, type Browser } from './support/browser.ts';

let rt: LocalRuntime;
let browser: Browser;
const notes: string[] = [];
const customer = demoCustomers[0]!;

/** Logs the browser in to the console as this operator (the dev login's session cookie). */
async function signInAs(operatorId: string): Promise<void> {
  const cookie = rt.operatorCookie({ id: operatorId, groups: ['operators', 'approvers'] });
  await browser.context.clearCookies();
  await browser.context.addCookies([{ name: SESSION_COOKIE, value: cookie.slice(SESSION_COOKIE.length + 1), url: rt.urls.api }]);
}

async function consolePage(hash: string, section: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${rt.urls.api}/console/${hash}`);
  await page.waitForSelector(`body[data-ready="${section}"]`, { timeout: 15_000 });
  expect(errors).toEqual([]);
  return page;
}

async function authorize(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${rt.urls.api}/v1/authorize`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': rt.apiKey }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Action links in the newest email to this address (the body is HTML and text). */
async function actionLinksInMail(to: string, after: string): Promise<string[]> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    await rt.bus.drain(10_000);
    const mails = (await rt.peers.emails()).filter((m) => m.to.includes(to) && m.at >= after);
    const mail = mails.at(-1);
    if (mail) {
      const esc = rt.urls.actionBase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const links = [...`${mail.html ?? ''}\n${mail.text ?? ''}`.matchAll(new RegExp(`${esc}[A-Za-z0-9_-]+`, 'g'))].map((m) => m[0]);
      return [...new Set(links)];
    }
    if (Date.now() > deadline) throw new Error(`no email to the customer after ${after}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function expectAccessible(page: Page, what: string): Promise<void> {
  const violations = await seriousAxeViolations(page);
  if (violations.length) notes.push(`${what}: ${JSON.stringify(violations)}`);
  expect(violations, what).toEqual([]);
}

beforeAll(async () => {
  rt = await startLocalRuntime({ log: (l) => notes.push(l) });
  // The demo customers' profiles must be in before their accounts' events (a slow start on a
  // busy machine can return before the bus has delivered them).
  if (!rt.demoDataLoaded) expect(await rt.bus.drain(90_000)).toBe(true);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
  // The README embeds the console and action-page screenshots: refreshed on request only, so a
  // test run never changes tracked files (UPDATE_DOCS_SCREENSHOTS=1 npx vitest run test/browser-journey.test.ts).
  if (process.env.UPDATE_DOCS_SCREENSHOTS !== '1') return;
  const docs = join(process.cwd(), 'docs', 'screenshots');
  mkdirSync(docs, { recursive: true });
  for (const name of ['action-page-ja', 'action-page-en-320px', 'action-page-done', 'console-overview', 'console-account', 'console-campaigns', 'console-unfreeze']) {
    try {
      copyFileSync(join(SCREENSHOT_DIR, `${name}.png`), join(docs, `${name}.png`));
    } catch {
      // a failed test already says why its screenshot is missing
    }
  }
});

describe('the customer journey', () => {
  let linkId: string;

  it('LinkCreated -> email -> revoke from the action page -> debit through the link denied -> revoke in the console', async () => {
    expect(rt.functions.missing).not.toContain('alert');
    const since = new Date().toISOString();
    const event = impostorLinksWallet(customer, `browser${Date.now().toString(36)}`);
    linkId = (event.detail as { linkId: string }).linkId;
    rt.publish([event]);

    // Before the customer acts, a debit through the new (PENDING) link above the limit is held.
    const links = await actionLinksInMail(customer.email, since);
    expect(links.length).toBeGreaterThan(0);
    const held = await authorize({ accountId: customer.accountId, channel: 'EPAY_CHARGE', amount: 50_000, currency: 'JPY', linkId, requestId: 'browser-journey-held' });
    expect(held).toMatchObject({ status: 200, body: { decision: 'HOLD', reason: 'LINK_PENDING_OVER_LIMIT' } });

    const page = await browser.newPage({ width: 390, height: 844 });
    const external = trackExternalRequests(page);
    let found = false;
    for (const link of links) {
      await page.goto(link);
      if ((await page.locator('button.revoke').count()) > 0) {
        found = true;
        break;
      }
    }
    expect(found, 'an action link whose page offers "revoke this link"').toBe(true);
    expect(await page.getAttribute('html', 'lang')).toBe(customer.locale);
    await screenshot(page, `action-page-${customer.locale}`);
    await expectAccessible(page, `action page (${customer.locale})`);

    // The other locale, through the page's own switch, at 320 px.
    await page.setViewportSize({ width: 320, height: 740 });
    await page.click('header nav a');
    await page.waitForLoadState('load');
    const other = customer.locale === 'ja' ? 'en' : 'ja';
    expect(await page.getAttribute('html', 'lang')).toBe(other);
    expect((await fitsViewportWidth(page)).fits, 'no sideways scrolling at 320 px').toBe(true);
    await screenshot(page, `action-page-${other}-320px`);
    await expectAccessible(page, `action page (${other}, 320 px)`);

    // Tap "revoke this link".
    await page.click('button.revoke');
    await page.waitForLoadState('load');
    // The done page names the service whose link was revoked.
    expect(await page.locator('h1').innerText()).toContain((event.detail as { provider: { displayName: string } }).provider.displayName);
    await screenshot(page, 'action-page-done');
    await expectAccessible(page, 'action page after the revoke');
    expect((await fitsViewportWidth(page)).fits).toBe(true);
    expect(external, 'requests outside the local runtime').toEqual([]);
    await page.close();

    // The core bank's debit through that link is now denied.
    const decision = await authorize({ accountId: customer.accountId, channel: 'EPAY_CHARGE', amount: 5_000, currency: 'JPY', linkId, requestId: 'browser-journey-1' });
    expect(decision.status).toBe(200);
    expect(decision.body.decision).toBe('DENY');

    // Operations see the revoke in the account's audit timeline.
    await signInAs('op-alice');
    const ops = await consolePage(`#/accounts/${customer.accountId}`, 'accounts');
    const revoke = ops.locator('#audit-timeline li[data-action="revokeLink"]');
    await expect.poll(() => revoke.count()).toBe(1);
    expect(await revoke.innerText()).toContain(linkId);
    expect(await ops.locator('table.data').first().innerText()).toContain('REVOKED');
    // Contacts are masked.
    const text = await ops.locator('main').innerText();
    expect(text).not.toContain(customer.email);
    expect(text).not.toContain(customer.phone);
    await screenshot(ops, 'console-account');
    await expectAccessible(ops, 'console account view');
    await ops.close();
  });

  it('answers a clear, accessible page for a broken link, in both locales', async () => {
    const page = await browser.newPage({ width: 320, height: 640 });
    for (const lang of ['ja', 'en']) {
      const r = await page.goto(`${rt.urls.actionBase}AAAAAAAAAAAAAAAAAAAAAA?lang=${lang}`);
      expect(r?.status()).toBeGreaterThanOrEqual(400);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      expect(await page.content()).not.toMatch(/at .*\.ts:\d+/); // no stack trace
      expect((await fitsViewportWidth(page)).fits).toBe(true);
      await expectAccessible(page, `problem page (${lang})`);
    }
    await page.close();
  });
});

describe('the operations console', () => {
  it('asks an anonymous visitor to sign in, and shows nothing', async () => {
    await browser.context.clearCookies();
    const page = await browser.newPage();
    await page.goto(`${rt.urls.api}/console/#/accounts/${customer.accountId}`);
    const login = page.locator('#login-link');
    await login.waitFor();
    expect(await login.getAttribute('href')).toBe(`/dev-login?next=${encodeURIComponent(`/console/#/accounts/${customer.accountId}`)}`);
    expect(await page.locator('main').innerText()).not.toContain(customer.accountId);
    const api = await fetch(`${rt.urls.api}/ops/accounts/${customer.accountId}`);
    expect(api.status).toBe(401);
    await page.close();
  });

  it('renders the overview charts with what just happened', async () => {
    await signInAs('op-alice');
    const page = await consolePage('#/overview?range=hour', 'overview');
    expect(await page.locator('svg.chart').count()).toBe(3);
    // The journey above: one LinkCreated alert by email and by SMS, one revoke.
    const metric = async (name: string) => Number(await page.locator(`[data-metric="${name}"] .n`).innerText());
    expect(await metric('alerts-email')).toBeGreaterThanOrEqual(1);
    expect(await metric('alerts-sms')).toBeGreaterThanOrEqual(1);
    expect(await metric('revokes')).toBe(1);
    expect(await page.locator('svg.chart rect.bar').count()).toBeGreaterThan(0);
    await screenshot(page, 'console-overview-hour');
    await expectAccessible(page, 'console overview');

    // A day of earlier traffic (counters written as the publisher writes them), for the day chart.
    const start = Date.now() - 23 * 3_600_000;
    for (let i = 0; i < 120; i++) {
      const at = new Date(start + i * 11 * 60_000);
      await countEvent('alert', i % 3 ? 'EMAIL' : 'SMS', at, { detail: ['LinkCreated', 'WithdrawalPosted', 'AppActivated', 'ContactChanged'][i % 4] });
      if (i % 9 === 0) await countEvent('revoke', 'WEB', at);
      if (i % 14 === 0) await countEvent('freeze', i % 28 ? 'WEB' : 'SMS_REPLY', at);
      if (i % 11 === 0) await countEvent('hold', 'API', at);
      if (i % 40 === 7) await countEvent('undelivered', 'ANY', at);
    }
    await page.click('button:has-text("Last day")');
    await page.waitForSelector('button[aria-pressed="true"]:has-text("Last day")');
    await page.waitForSelector('body[data-ready="overview"] svg.chart');
    expect(await metric('revokes')).toBe(1 + 14);
    expect(await page.locator('svg.chart rect.bar').count()).toBeGreaterThan(20);
    await screenshot(page, 'console-overview');
    await page.click('button:has-text("Last week")');
    await page.waitForSelector('button[aria-pressed="true"]:has-text("Last week")');
    await page.waitForSelector('body[data-ready="overview"] svg.chart');
    await page.close();
  });

  it('pauses a campaign from the console', async () => {
    resetCampaignConfig();
    // The audience is every account with a pending or active link: link the English customer's too.
    rt.publish([impostorLinksWallet(demoCustomers[1]!, `campaign${Date.now().toString(36)}`)]);
    expect(await rt.bus.drain(15_000)).toBe(true);
    // One campaign sent to completion (its progress bar is full) and one waiting for its send
    // window (RUNNING, nothing sent yet), which the operator pauses.
    const done = await createCampaign({ name: 'Linked services review (November)', templateId: 'linked-services-review', rates: { email: 50, sms: 10 }, audience: { kind: 'all' } });
    await startCampaign(done.campaignId);
    const deps = await engineDepsFromEnv();
    expect((await runCampaignWorker(done.campaignId, deps)).state).toBe('COMPLETED');
    const jstHour = (new Date().getUTCHours() + 9 + 3) % 24; // a window opening three hours from now
    const hhmm = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    const waiting = await createCampaign({ name: 'Wallet security notice', templateId: 'linked-services-review', rates: { email: 20 }, audience: { kind: 'all' }, window: { start: hhmm(jstHour), end: hhmm(jstHour + 1) } });
    await startCampaign(waiting.campaignId);

    await signInAs('op-alice');
    const page = await consolePage('#/campaigns', 'campaigns');
    const card = page.locator(`article[data-campaign-id="${waiting.campaignId}"]`);
    expect(await card.getAttribute('data-state')).toBe('RUNNING');
    const completed = page.locator(`article[data-campaign-id="${done.campaignId}"]`);
    expect(await completed.getAttribute('data-state')).toBe('COMPLETED');
    expect(Number(await completed.locator('progress').getAttribute('value'))).toBeGreaterThan(0);
    await card.locator('button[data-action="pause"]').click();
    await page.waitForSelector(`article[data-campaign-id="${waiting.campaignId}"][data-state="PAUSED"]`);
    expect((await campaignStatus(waiting.campaignId)).campaign.state).toBe('PAUSED');
    await screenshot(page, 'console-campaigns');
    await expectAccessible(page, 'console campaigns');
    // Resume is offered for the paused one; the operator cancels it instead (two clicks).
    const paused = page.locator(`article[data-campaign-id="${waiting.campaignId}"]`);
    expect(await paused.locator('button[data-action="resume"]').count()).toBe(1);
    await paused.locator('button[data-action="cancel"]').click();
    await page.waitForSelector(`article[data-campaign-id="${waiting.campaignId}"] button[data-action="cancel"][data-armed="true"]`);
    expect((await campaignStatus(waiting.campaignId)).campaign.state).toBe('PAUSED'); // one click changes nothing
    await paused.locator('button[data-action="cancel"]').click();
    await page.waitForSelector(`article[data-campaign-id="${waiting.campaignId}"][data-state="CANCELLED"]`);
    expect((await campaignStatus(waiting.campaignId)).campaign.state).toBe('CANCELLED');
    await page.close();
  });

  it('needs a second operator to unfreeze', async () => {
    // The customer freezes the account from a fresh alert's page.
    const since = new Date().toISOString();
    rt.publish([impostorLinksWallet(customer, `freeze${Date.now().toString(36)}`)]);
    const links = await actionLinksInMail(customer.email, since);
    const customerPage = await browser.newPage({ width: 390, height: 844 });
    let froze = false;
    for (const link of links) {
      await customerPage.goto(link);
      if ((await customerPage.locator('button.freeze').count()) > 0) {
        await customerPage.click('button.freeze');
        await customerPage.waitForLoadState('load');
        froze = true;
        break;
      }
    }
    expect(froze).toBe(true);
    await customerPage.close();
    expect((await authorize({ accountId: customer.accountId, channel: 'ATM_CARD', amount: 1_000, currency: 'JPY' })).body.decision).toBe('DENY');

    // Operator A requests the unfreeze with the identity-verification reference...
    await signInAs('op-alice');
    const a = await consolePage(`#/accounts/${customer.accountId}`, 'accounts');
    expect(await a.locator('#account-state').innerText()).toBe('FROZEN');
    await a.fill('#verification-ref', 'IDV-2026-000123');
    await a.click('#unfreeze-request-form button[type="submit"]');
    await a.waitForSelector('[data-request-id]');
    // ...and cannot approve it themselves.
    await a.click('[data-action="approve-unfreeze"]');
    await expect.poll(() => a.locator('.status.error').innerText()).toContain('different operator');
    expect(await a.locator('#account-state').innerText()).toBe('FROZEN');
    await screenshot(a, 'console-unfreeze');
    await expectAccessible(a, 'console unfreeze');
    await a.close();
    expect((await authorize({ accountId: customer.accountId, channel: 'ATM_CARD', amount: 1_000, currency: 'JPY' })).body.decision).toBe('DENY');

    // Operator B approves: the account is active again, and the timeline names both.
    await signInAs('op-bob');
    const b = await consolePage(`#/accounts/${customer.accountId}`, 'accounts');
    await b.click('[data-action="approve-unfreeze"]');
    await b.waitForSelector('#account-state .state-ACTIVE');
    const entry = b.locator('#audit-timeline li[data-action="unfreezeAccount"]');
    expect(await entry.innerText()).toMatch(/op-alice.*op-bob.*IDV-2026-000123/s);
    await b.close();
    expect((await authorize({ accountId: customer.accountId, channel: 'ATM_CARD', amount: 1_000, currency: 'JPY' })).body.decision).toBe('ALLOW');
  });

  it('exports the audit trail as CSV and JSON lines', async () => {
    await signInAs('op-alice');
    const page = await consolePage('#/audit', 'audit');
    const today = new Date().toISOString().slice(0, 10);
    await page.fill('#export-from', today);
    await page.fill('#export-to', today);
    for (const format of ['csv', 'jsonl'] as const) {
      await page.selectOption('#export-format', format);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('form button[type="submit"]')]);
      const text = readFileSync((await download.path())!, 'utf8');
      const lines = text.trim().split('\n');
      if (format === 'csv') {
        expect(lines[0]).toMatch(/^at,accountId,action,/);
        expect(text).toContain('revokeLink');
        expect(text).toContain('unfreezeAccount');
      } else {
        const rows = lines.map((l) => JSON.parse(l) as { action: string; accountId: string });
        expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(['revokeLink', 'freezeAccount', 'requestUnfreeze', 'unfreezeAccount']));
      }
      await expect.poll(() => page.locator('#export-status').getAttribute('data-rows')).toBeTruthy();
    }
    await screenshot(page, 'console-audit-export');
    await expectAccessible(page, 'console audit export');
    await page.close();
  });
});
