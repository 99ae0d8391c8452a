/**
 * A link scanner against a link alert's action pages, in Chromium, against the whole local runtime.
 * Mail security scanners and chat previews open every link and press buttons (they follow
 * client-side redirects too); so does whoever reads the customer's mailbox. The scanner here opens
 * the pages of the email's and the SMS's links and presses every button and every follow-up button
 * (typing a made-up code where a form asks for one), starting with the three buttons of the page in
 * each of their 6 orders, each order on a fresh customer and alert.
 *
 * Afterwards, read from the table: no hold is released (the link is not ACTIVE, no confirmLink in
 * the audit trail, "it was me" never marked used, and a debit through the link above the limit is
 * not ALLOWed). A freeze or a revoke may well have happened: that is the safe failure, by design
 * (protective actions stay one tap); the test records which happened and does not forbid them.
 *
 * First, "opened": a plain fetch of the link records nothing, while the page shown in Chromium
 * sends its beacon and sets the alert's openedAt, once. (A scanner that runs scripts in a real
 * browser produces it too: "opened" is evidence the page was shown, never proof it was read.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Page } from 'playwright-core';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { CORE_SOURCE } from '../events/core.ts';
import { localDocClient } from './support/local-doc.ts';
import { launchBrowser, type Browser } from './support/browser.ts';
import { canonicalJson } from './support/canonical-json.ts';

let rt: LocalRuntime;
let browser: Browser;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  rt = await startLocalRuntime();
  browser = await launchBrowser();
  doc = localDocClient(rt.dynamo.endpoint);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
});

type Top = 'freeze' | 'revoke' | 'confirm';

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}
const ORDERS = permutations<Top>(['freeze', 'revoke', 'confirm']);

let seq = 0;
/** A fresh customer (phone and email) with a new, pending e-payment link: returns the alert's action links. */
async function freshLinkAlert(): Promise<{ accountId: string; linkId: string; links: { email: string; sms: string } }> {
  const id = `${Date.now().toString(36)}${(seq++).toString(36)}`;
  const customerId = `cust-scan-${id}`;
  const accountId = `acct-scan-${id}`;
  const linkId = `lnk-scan-${id}`;
  const email = `scan-${id}@example.jp`;
  const phone = `+8190${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  rt.publish([
    {
      source: CORE_SOURCE,
      'detail-type': 'CustomerProfileUpserted',
      detail: { eventId: `evt-p-${id}`, occurredAt: now, customerId, email, phone, locale: 'ja', accounts: [{ accountId, last4: '4321' }], preferences: {} },
    },
  ]);
  expect(await rt.bus.drain(30_000)).toBe(true);
  rt.publish([
    {
      source: CORE_SOURCE,
      'detail-type': 'LinkCreated',
      detail: { eventId: `evt-l-${id}`, occurredAt: now, accountId, linkId, provider: { id: 'dwallet', displayName: 'D-Wallet' }, linkType: 'EPAY', channel: 'PROVIDER_APP' },
    },
  ]);
  const esc = rt.urls.actionBase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const linkIn = (text: string) => new RegExp(`${esc}[A-Za-z0-9_-]{22}`).exec(text)?.[0];
  const deadline = Date.now() + 45_000;
  for (;;) {
    await rt.bus.drain(10_000);
    const mail = (await rt.peers.emails()).find((m) => m.to.includes(email));
    const sms = rt.peers.smsMessages().find((m) => m.phoneNumber === phone);
    const e = mail && linkIn(`${mail.text ?? ''}${mail.html ?? ''}`);
    const s = sms && linkIn(sms.message);
    if (e && s) return { accountId, linkId, links: { email: e, sms: s } };
    if (Date.now() > deadline) throw new Error('the link alert did not arrive by email and SMS');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Visible, enabled buttons of the page, by their text. */
async function buttonsOf(page: Page): Promise<string[]> {
  const all = page.locator('button:visible');
  const n = await all.count();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = all.nth(i);
    if (await b.isEnabled()) out.push((await b.innerText()).trim());
  }
  return [...new Set(out)];
}

/** Presses the button with this text, as a scanner would: any empty field gets a made-up code. */
async function press(page: Page, label: string): Promise<boolean> {
  const button = page.locator('button:visible', { hasText: label }).first();
  if ((await button.count()) === 0) return false;
  for (const input of await page.locator('input[type="text"]:visible').all()) await input.fill('000000');
  await Promise.all([page.waitForNavigation({ timeout: 10_000 }).catch(() => null), button.click()]);
  await page.waitForLoadState('load');
  return true;
}

interface Scan {
  clicks: number;
  paths: string[][];
}

/**
 * From the page's GET, presses the buttons of `path` in turn (replaying it, since every press
 * navigates), then every button found there, depth first, up to `maxDepth` presses.
 */
async function explore(page: Page, link: string, path: string[], scan: Scan, maxDepth: number): Promise<void> {
  await page.goto(link);
  for (const label of path) {
    if (!(await press(page, label))) return; // gone since (e.g. after a freeze): this branch ends
    scan.clicks++;
  }
  scan.paths.push(path);
  if (path.length >= maxDepth) return;
  for (const next of await buttonsOf(page)) {
    if (path.includes(next)) continue;
    await explore(page, link, [...path, next], scan, maxDepth);
  }
}

async function topLabel(page: Page, link: string, top: Top): Promise<string | undefined> {
  await page.goto(link);
  const b = page.locator(`main form button.${top}`).first();
  return (await b.count()) ? (await b.innerText()).trim() : undefined;
}

async function authorize(accountId: string, linkId: string, requestId: string): Promise<string> {
  const r = await fetch(`${rt.urls.api}/v1/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': rt.apiKey },
    body: JSON.stringify({ accountId, channel: 'EPAY_CHARGE', amount: 50_000, currency: 'JPY', linkId, requestId }),
  });
  return String(((await r.json()) as { decision?: string }).decision);
}

describe('"opened": the page shown in Chromium', () => {
  it('a plain fetch records nothing; the page shown in the browser sets the alert\'s openedAt once, under its CSP, and changes nothing else', async () => {
    const alert = await freshLinkAlert();
    /** The account's partition (every item an action could change), or its items under a prefix. */
    const items = async (prefix?: string) =>
      (
        await doc.send(
          new QueryCommand({
            TableName: rt.dynamo.tableName,
            KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :p)' : 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `ACCT#${alert.accountId}`, ...(prefix ? { ':p': prefix } : {}) },
            ConsistentRead: true,
          }),
        )
      ).Items!;
    // The alert function has finished with the alert (its sentAt) before the comparison starts.
    expect(await rt.bus.drain(30_000)).toBe(true);
    const alerts = await items('ALERT#');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.openedAt).toBeUndefined();
    // The delivery function moves the alert's deliveries (SENT -> DELIVERED) on its own: left out.
    const comparable = (list: Record<string, unknown>[], drop: string[]) =>
      canonicalJson(list.map((i) => (String(i.sk).startsWith('ALERT#') ? Object.fromEntries(Object.entries(i).filter(([k]) => !drop.includes(k))) : i)));
    const before = comparable(await items(), ['deliveries']);

    // What a scanner or a chat preview does (GET, no script): nothing recorded.
    expect((await fetch(alert.links.email)).status).toBe(200);
    expect((await fetch(alert.links.sms, { method: 'HEAD' })).status).toBeLessThan(500);
    expect(comparable(await items(), ['deliveries'])).toBe(before);

    const page = await browser.newPage({ width: 390, height: 844 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const beacon = page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${alert.links.email}/opened`, { timeout: 15_000 });
    expect((await page.goto(alert.links.email))?.status()).toBe(200);
    await beacon;
    let openedAt: unknown;
    for (const end = Date.now() + 10_000; openedAt === undefined && Date.now() < end; await new Promise((r) => setTimeout(r, 100))) openedAt = (await items('ALERT#'))[0]!.openedAt;
    expect(typeof openedAt).toBe('string');

    // Only that: the same items otherwise (account, link, audit, step-up), the alert but for openedAt.
    expect(comparable(await items(), ['deliveries', 'openedAt'])).toBe(before);

    // Again, and the SMS's page: each sends its beacon, openedAt stays the first.
    for (const link of [alert.links.email, alert.links.sms]) {
      const again = page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${link}/opened`, { timeout: 15_000 });
      await page.goto(link);
      expect((await again).status()).toBe(204);
    }
    expect((await items('ALERT#'))[0]!.openedAt).toBe(openedAt);
    // The page's forms still work as before: nothing was used up by opening it.
    expect(await page.locator('main form button.freeze').count()).toBe(1);
    await page.close();
    expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
  }, 120_000);
});

describe('a link scanner presses every button of a link alert, in every order', () => {
  it.each(ORDERS.map((o) => [o.join(' > '), o] as const))('%s: no hold is released, no link confirmed', async (_name, order) => {
    const alert = await freshLinkAlert();
    const page = await browser.newPage({ width: 390, height: 844 });
    const scan: Scan = { clicks: 0, paths: [] };
    for (const link of [alert.links.email, alert.links.sms]) {
      // Both pages open (the SMS's after the email's may have nothing left to press).
      expect((await page.goto(link))?.status()).toBe(200);
      for (const top of order) {
        const label = await topLabel(page, link, top);
        if (label) await explore(page, link, [label], scan, 3);
      }
    }
    await page.close();
    // When "it was me" comes first, the scanner reaches its follow-ups (send a code, type a made-up
    // one, send again); otherwise the freeze or revoke before it has taken "it was me" away.
    const deep = scan.paths.filter((p) => p[0] === '自分で行った操作です' && p.length === 3);
    expect(deep.length > 0).toBe(order[0] === 'confirm');
    expect(scan.clicks).toBeGreaterThanOrEqual(1);

    const link = (await doc.send(new GetCommand({ TableName: rt.dynamo.tableName, Key: { pk: `ACCT#${alert.accountId}`, sk: `LINK#${alert.linkId}` }, ConsistentRead: true }))).Item;
    const account = (await doc.send(new GetCommand({ TableName: rt.dynamo.tableName, Key: { pk: `ACCT#${alert.accountId}`, sk: 'ACCOUNT' }, ConsistentRead: true }))).Item;
    const audit = (
      await doc.send(
        new QueryCommand({
          TableName: rt.dynamo.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
          ExpressionAttributeValues: { ':pk': `ACCT#${alert.accountId}`, ':a': 'AUDIT#' },
          ConsistentRead: true,
        }),
      )
    ).Items!.map((i) => String(i.action));

    // Nothing released.
    expect(link?.state).not.toBe('ACTIVE');
    expect(['PENDING', 'REVOKED']).toContain(link?.state);
    expect(audit).not.toContain('confirmLink');
    expect(await authorize(alert.accountId, alert.linkId, `scan-${alert.linkId}`)).not.toBe('ALLOW');
    // What the scanner did do: protective actions (the safe failure), and at most a few codes.
    const protective = { frozen: account?.state === 'FROZEN', revoked: link?.state === 'REVOKED' };
    expect(protective.frozen || protective.revoked).toBe(true);
    expect(audit.filter((a) => a === 'sendStepUpCode').length).toBeLessThanOrEqual(3);
    console.info(`scanner ${order.join(' > ')}: ${scan.clicks} presses over ${scan.paths.length} paths; frozen=${protective.frozen} revoked=${protective.revoked}; audit: ${audit.join(', ')}`);
  }, 300_000);
});
