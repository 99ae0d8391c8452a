/**
 * Passkeys in Chromium with its virtual authenticator (CDP WebAuthn domain), against the whole
 * local runtime: after "it was me" confirmed with the SMS code, the customer registers a passkey
 * on the done page; on a second alert, the passkey alone confirms (no code is sent), and the
 * core bank's debit through that link is then ALLOWed. The page's script runs under the page's
 * strict Content-Security-Policy (same-origin script, nothing inline): any CSP violation fails.
 * Screenshots (ja): the code page and the page after a freeze.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient, QueryCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { CDPSession, Page } from 'playwright-core';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { CORE_SOURCE } from '../events/core.ts';
import { SESSION_COOKIE } from '../local/http-server.ts';
import { localDocClient } from './support/local-doc.ts';
import { launchBrowser, screenshot, seriousAxeViolations, type Browser } from './support/browser.ts';

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

const id = Date.now().toString(36);
const customer = { customerId: `cust-pk-${id}`, accountId: `acct-pk-${id}`, email: `pk-${id}@example.jp`, phone: `+8190${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` };

async function linkAlert(linkId: string): Promise<string> {
  const since = new Date().toISOString();
  rt.publish([
    {
      source: CORE_SOURCE,
      'detail-type': 'LinkCreated',
      detail: {
        eventId: `evt-${linkId}`,
        occurredAt: since.replace(/\.\d{3}Z$/, 'Z'),
        accountId: customer.accountId,
        linkId,
        provider: { id: 'dwallet', displayName: 'D-Wallet' },
        linkType: 'EPAY',
        channel: 'PROVIDER_APP',
      },
    },
  ]);
  const esc = rt.urls.actionBase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const deadline = Date.now() + 45_000;
  for (;;) {
    await rt.bus.drain(10_000);
    const mail = (await rt.peers.emails()).filter((m) => m.to.includes(customer.email) && m.at >= since && !/確認コード/.test(m.subject)).at(-1);
    const link = mail && new RegExp(`${esc}[A-Za-z0-9_-]{22}`).exec(`${mail.text ?? ''}${mail.html ?? ''}`)?.[0];
    if (link) return link;
    if (Date.now() > deadline) throw new Error('no alert email');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const codeSmses = () => rt.peers.smsMessages().filter((m) => m.phoneNumber === customer.phone && /確認コード/.test(m.message));

async function authorize(linkId: string, requestId: string): Promise<string> {
  const r = await fetch(`${rt.urls.api}/v1/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': rt.apiKey },
    body: JSON.stringify({ accountId: customer.accountId, channel: 'EPAY_CHARGE', amount: 50_000, currency: 'JPY', linkId, requestId }),
  });
  return String(((await r.json()) as { decision?: string }).decision);
}

async function linkState(linkId: string): Promise<string | undefined> {
  const out = await doc.send(new GetCommand({ TableName: rt.dynamo.tableName, Key: { pk: `ACCT#${customer.accountId}`, sk: `LINK#${linkId}` }, ConsistentRead: true }));
  return out.Item?.state as string | undefined;
}

async function confirmAudits(): Promise<Record<string, unknown>[]> {
  const out = await doc.send(
    new QueryCommand({
      TableName: rt.dynamo.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :a)',
      ExpressionAttributeValues: { ':pk': `ACCT#${customer.accountId}`, ':a': 'AUDIT#' },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).filter((i) => i.action === 'confirmLink' || i.action === 'registerPasskey');
}

/** A page with a virtual platform authenticator (user verification succeeds, like a fingerprint). */
async function pageWithAuthenticator(): Promise<{ page: Page; cdp: CDPSession; problems: string[] }> {
  const page = await browser.newPage({ width: 390, height: 844 });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { page, cdp, problems };
}

async function click(page: Page, text: string): Promise<void> {
  await Promise.all([page.waitForNavigation({ timeout: 15_000 }), page.locator('button:visible', { hasText: text }).first().click()]);
}

describe('passkeys replace the code', () => {
  it('register after a code confirmation, then confirm a second alert with the passkey alone; the debit is then ALLOWed', async () => {
    rt.publish([
      {
        source: CORE_SOURCE,
        'detail-type': 'CustomerProfileUpserted',
        detail: { eventId: `evt-p-${id}`, occurredAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), customerId: customer.customerId, email: customer.email, phone: customer.phone, locale: 'ja', accounts: [{ accountId: customer.accountId, last4: '9876' }], preferences: {} },
      },
    ]);
    expect(await rt.bus.drain(30_000)).toBe(true);
    const { page, problems } = await pageWithAuthenticator();

    // Alert 1, opened from the email: "it was me" -> a code by SMS -> typed -> confirmed.
    const link1 = `lnk-pk1-${id}`;
    await page.goto(await linkAlert(link1));
    await click(page, '自分で行った操作です');
    // No passkey yet: no passkey button (and no script on the page).
    expect(await page.locator('#passkey-button:visible').count()).toBe(0);
    await click(page, '確認コードを送る');
    await page.locator('input#code').waitFor();
    await screenshot(page, 'action-page-code-ja');
    expect(await seriousAxeViolations(page)).toEqual([]);
    const code = /\b(\d{6})\b/.exec(codeSmses().at(-1)?.message ?? '')?.[1];
    expect(code).toMatch(/^\d{6}$/);
    await page.fill('input#code', code!);
    await click(page, '確認して保留を解除する');
    expect(await page.locator('h1').innerText()).toContain('連携を有効にしました');
    expect(await linkState(link1)).toBe('ACTIVE');

    // The done page offers a passkey (the script shows the section); register one.
    const register = page.locator('#passkey-button');
    await register.waitFor({ state: 'visible' });
    await register.click();
    await page.locator('#passkey[data-result="done"]').waitFor({ timeout: 15_000 });
    const passkeys = await doc.send(
      new QueryCommand({
        TableName: rt.dynamo.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': `CUST#${customer.customerId}`, ':p': 'PASSKEY#' },
        ConsistentRead: true,
      }),
    );
    expect(passkeys.Items).toHaveLength(1);
    expect(passkeys.Items![0]).toMatchObject({ customerId: customer.customerId, accountId: customer.accountId, counter: expect.any(Number) });

    // Alert 2: the passkey alone confirms; no code is sent.
    const smsBefore = codeSmses().length;
    const link2 = `lnk-pk2-${id}`;
    await page.goto(await linkAlert(link2));
    expect(await authorize(link2, `pk-before-${id}`)).toBe('HOLD');
    await click(page, '自分で行った操作です');
    const withPasskey = page.locator('#passkey-button');
    await withPasskey.waitFor({ state: 'visible' });
    await Promise.all([page.waitForNavigation({ timeout: 15_000 }), withPasskey.click()]);
    expect(codeSmses()).toHaveLength(smsBefore);
    expect(await linkState(link2)).toBe('ACTIVE');
    expect((await confirmAudits()).map((a) => [a.action, a.target, a.stepUp ?? null])).toEqual([
      ['confirmLink', `LINK#${link1}`, 'CODE'],
      ['registerPasskey', `CUSTOMER#${customer.customerId}`, null],
      ['confirmLink', `LINK#${link2}`, 'PASSKEY'],
    ]);
    // The core bank's debit through the confirmed link goes through.
    expect(await authorize(link2, `pk-after-${id}`)).toBe('ALLOW');
    // The page now says the link is active; the script never broke the CSP.
    expect(await page.locator('main').innerText()).toContain('「D-Wallet」との連携は有効です');
    expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);

    // Freeze stays one tap; the page after it says what stops, what works and how it is undone.
    await click(page, '口座を凍結する');
    expect(await page.locator('#after-freeze').innerText()).toContain('0120-000-110');
    await screenshot(page, 'action-page-frozen-ja');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.close();

    // Operations see the passkey in the console's account view and remove it (audited).
    const cookie = rt.operatorCookie({ id: 'op-dana', groups: ['operators'] });
    await browser.context.addCookies([{ name: SESSION_COOKIE, value: cookie.slice(SESSION_COOKIE.length + 1), url: rt.urls.api }]);
    const ops = await browser.newPage();
    await ops.goto(`${rt.urls.api}/console/#/accounts/${customer.accountId}`);
    await ops.waitForSelector('body[data-ready="accounts"]', { timeout: 15_000 });
    const remove = ops.locator('#passkeys button', { hasText: 'Remove' });
    await remove.waitFor();
    expect(await remove.count()).toBe(1);
    await remove.click();
    await ops.locator('#passkeys', { hasText: 'No passkey' }).waitFor({ timeout: 15_000 });
    const left = await doc.send(
      new QueryCommand({
        TableName: rt.dynamo.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': `CUST#${customer.customerId}`, ':p': 'PASSKEY#' },
        ConsistentRead: true,
      }),
    );
    expect(left.Items).toEqual([]);
    await ops.locator('#audit-timeline li[data-action="removePasskey"]').waitFor({ timeout: 15_000 });
    await ops.close();
  }, 240_000);
});
