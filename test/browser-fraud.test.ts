/**
 * Fraud operations in a real browser against the whole local runtime (free ports): an attack on
 * many accounts from a few addresses opens an incident that the console's Incidents page lists;
 * suspending the provider from it needs a second operator (the Providers page); revoking a link
 * from the incident opens a reimbursement case that goes OPEN -> REVIEWED -> REPAID on the Cases
 * page, the repayment confirmed by a different operator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { SESSION_COOKIE } from '../local/http-server.ts';
import { attackEvents } from '../local/demo-steps/50-attack.ts';
import { launchBrowser, screenshot, type Browser } from './support/browser.ts';

let rt: LocalRuntime;
let browser: Browser;
const notes: string[] = [];

async function signInAs(operatorId: string, groups: string[]): Promise<void> {
  const cookie = rt.operatorCookie({ id: operatorId, groups });
  await browser.context.clearCookies();
  await browser.context.addCookies([{ name: SESSION_COOKIE, value: cookie.slice(SESSION_COOKIE.length + 1), url: rt.urls.api }]);
}

async function consolePage(hash: string, section: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${rt.urls.api}/console/${hash}`);
  await page.waitForSelector(`body[data-ready="${section}"]`, { timeout: 20_000 });
  expect(errors).toEqual([]);
  return page;
}

async function opsGet(path: string): Promise<Record<string, unknown>> {
  const r = await fetch(`${rt.urls.api}${path}`, { headers: { cookie: rt.operatorCookie({ id: 'op-reader', groups: ['operators'] }).split(';')[0]! } });
  return (await r.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  rt = await startLocalRuntime({ log: (l) => notes.push(l), schedules: false });
  if (!rt.demoDataLoaded) expect(await rt.bus.drain(90_000)).toBe(true);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rt?.stop();
});

describe('fraud operations in the console', () => {
  it('incident listed; suspension needs a second operator; a revoked link\'s case goes to REPAID', async () => {
    const a = attackEvents(`b${Date.now().toString(36)}`);
    rt.publish(a.profiles);
    expect(await rt.bus.drain(90_000)).toBe(true);
    rt.publish([...a.links.slice(0, 18), ...a.charges.slice(0, 2)]);
    expect(await rt.bus.drain(120_000)).toBe(true);

    // The Incidents page lists it; its page has one action per row and "suspend this provider".
    // op-alice is an approver too: what refuses her is being the one who asked.
    await signInAs('op-alice', ['operators', 'approvers']);
    let page = await consolePage('#/incidents', 'incidents');
    const row = page.locator('a[data-incident]').first();
    await row.waitFor();
    const incidentId = await row.getAttribute('data-incident');
    expect(incidentId).toMatch(/^inc-/);
    await row.click();
    await page.waitForSelector('button[data-action="freeze"]');
    expect(await page.locator('button[data-action="freeze"]').count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('button[data-action="revoke"]').count()).toBeGreaterThanOrEqual(5);
    await screenshot(page, 'console-incident');

    // op-alice asks to suspend the provider from the incident.
    const form = page.locator('form[data-control="SUSPEND"]').first();
    await form.locator('input[name="reason"]').fill(`incident ${incidentId}`);
    await form.locator('button').click();
    await page.locator('.status', { hasText: /second operator/ }).waitFor();

    // She cannot approve her own request.
    page = await consolePage('#/providers', 'providers');
    const card = page.locator(`section[data-provider="${a.providerId}"]`);
    await card.locator('button[data-action="approve-control"]').click();
    await page.locator('.status', { hasText: /different operator/ }).waitFor();
    expect(((await opsGet(`/ops/providers/${a.providerId}`)).control as { suspended: boolean }).suspended).toBe(false);

    // op-bob, an approver, can.
    await signInAs('op-bob', ['operators', 'approvers']);
    page = await consolePage('#/providers', 'providers');
    await page.locator(`section[data-provider="${a.providerId}"] button[data-action="approve-control"]`).click();
    await page.waitForSelector(`section[data-provider="${a.providerId}"] .badge.state-SUSPENDED`);
    expect(((await opsGet(`/ops/providers/${a.providerId}`)).control as { suspended: boolean }).suspended).toBe(true);
    await screenshot(page, 'console-providers');

    // op-bob revokes the first (charged) link from the incident: its case opens with the charges.
    const victimLink = (a.charges[0]!.detail as { linkId: string }).linkId;
    const victimAccount = (a.charges[0]!.detail as { accountId: string }).accountId;
    // The incident that holds that link (the address's or the provider's).
    const all = (await opsGet('/ops/incidents')).incidents as { incidentId: string }[];
    let holding: string | undefined;
    for (const i of all) {
      const members = (await opsGet(`/ops/incidents/${i.incidentId}`)).members as { linkId?: string }[];
      if (members.some((m) => m.linkId === victimLink)) holding = i.incidentId;
    }
    expect(holding).toBeDefined();
    page = await consolePage(`#/incidents/${holding}`, 'incidents');
    await page.locator(`button[data-action="revoke"][data-link="${victimLink}"]`).click();
    await page.locator('.status', { hasText: victimLink }).waitFor();
    expect(await rt.bus.drain(60_000)).toBe(true);

    // Cases: op-bob reviews, op-bob cannot confirm the repayment, op-alice (an approver now) does.
    page = await consolePage('#/cases', 'cases');
    const caseId = `${victimAccount}~${victimLink}`;
    await page.waitForSelector(`[data-case="${caseId}"] .badge.state-OPEN`);
    expect(await page.locator('#total-owed').textContent()).toContain('¥9,600');
    const caseRow = page.locator('tr', { has: page.locator(`[data-case="${caseId}"]`) });
    await caseRow.locator('form[data-case-action="review"] input').fill('two charges after the impostor link');
    await caseRow.locator('form[data-case-action="review"] button').click();
    await page.waitForSelector(`[data-case="${caseId}"] .badge.state-REVIEWED`);
    const reviewed = page.locator('tr', { has: page.locator(`[data-case="${caseId}"]`) });
    await reviewed.locator('form[data-case-action="repay"] input').fill('PAY-2026-000777');
    await reviewed.locator('form[data-case-action="repay"] button').click();
    await page.locator('.status', { hasText: /different operator/ }).waitFor();

    await signInAs('op-alice', ['operators', 'approvers']);
    page = await consolePage('#/cases', 'cases');
    const again = page.locator('tr', { has: page.locator(`[data-case="${caseId}"]`) });
    await again.locator('form[data-case-action="repay"] input').fill('PAY-2026-000777');
    await again.locator('form[data-case-action="repay"] button').click();
    await page.waitForSelector(`[data-case="${caseId}"] .badge.state-REPAID`);
    await screenshot(page, 'console-cases');
    const cases = (await opsGet('/ops/cases')).cases as { caseId: string; state: string; repaidBy: string; reviewedBy: string }[];
    expect(cases.find((c) => c.caseId === caseId)).toMatchObject({ state: 'REPAID', reviewedBy: 'op-bob', repaidBy: 'op-alice' });
  }, 400_000);
});
