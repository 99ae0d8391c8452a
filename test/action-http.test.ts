/**
 * The customer's and the core bank's journey over real HTTP, through the local API Gateway
 * emulation (local/http-server.ts) and the Lambda handlers: open the action link, tap "freeze",
 * the next debit is denied; operations unfreeze with two people; the debit is allowed again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHttpServer, sessionCookie, type LocalHttpServer } from '../local/http-server.ts';
import { createInvoker, type LambdaHandler } from '../local/handlers.ts';
import type { FunctionName } from '../src/routing.ts';
import { getAccount } from '../src/store/customers.ts';
import { formBody, formFields, loadHandler, seedAlertScenario, setupActionEnv, type ActionEnv } from './action-support.ts';

const API_KEY = 'test-api-key-0123456789';
const SECRET = 'test-session-secret-0123456789abcdef';
let env: ActionEnv;
let server: LocalHttpServer;

beforeAll(async () => {
  env = await setupActionEnv();
  const handlers = new Map<FunctionName, LambdaHandler>();
  for (const name of ['action', 'authorize', 'ops'] as const) handlers.set(name, (await loadHandler(name)) as LambdaHandler);
  server = await startLocalHttpServer({ invoke: createInvoker(handlers), apiKey: API_KEY, sessionSecret: SECRET });
});
afterAll(async () => {
  await server?.close();
  await env.bridge.stop();
});

const cookie = (id: string) => sessionCookie(SECRET, { id, groups: ['operators', 'approvers'] }).split(';')[0]!;

describe('over HTTP through the local API Gateway', () => {
  it('alert link -> tap freeze -> debit denied -> two-person unfreeze -> debit allowed', async () => {
    const s = await seedAlertScenario();
    const page = await fetch(`${server.url}/a/${s.token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    const fields = formFields(html, 'FREEZE_ACCOUNT')!;
    // The form posts to the page's own URL (relative action); the browser resolves it like this.
    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!;
    const target = new URL(action.replaceAll('&amp;', '&'), `${server.url}/a/${s.token}`);
    expect(target.pathname).toBe(`/a/${s.token}`);
    const tapped = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: formBody(fields) });
    expect(tapped.status).toBe(200);
    expect(await tapped.text()).toContain('口座を凍結しました');
    expect((await getAccount(s.accountId))?.state).toBe('FROZEN');

    const debit = (headers: Record<string, string> = { 'x-api-key': API_KEY }) =>
      fetch(`${server.url}/v1/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ accountId: s.accountId, channel: 'ATM_CARDLESS', amount: 50_000, currency: 'JPY' }),
      });
    const denied = await debit();
    expect(denied.status).toBe(200);
    expect(await denied.json()).toMatchObject({ decision: 'DENY', reason: 'ACCOUNT_FROZEN' });
    expect((await debit({})).status).toBe(401);
    expect((await debit({ 'x-api-key': 'wrong' })).status).toBe(401);

    const opsPost = (path: string, who: string | undefined, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(who ? { cookie: cookie(who) } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    expect((await opsPost(`/ops/accounts/${s.accountId}/unfreeze-requests`, undefined, { verificationRef: 'IDV-9' })).status).toBe(401);
    const req = await opsPost(`/ops/accounts/${s.accountId}/unfreeze-requests`, 'op-alice', { verificationRef: 'IDV-9' });
    expect(req.status).toBe(201);
    const { requestId } = (await req.json()) as { requestId: string };
    expect((await opsPost(`/ops/accounts/${s.accountId}/unfreeze-requests/${requestId}/approve`, 'op-alice')).status).toBe(403);
    expect((await opsPost(`/ops/accounts/${s.accountId}/unfreeze-requests/${requestId}/approve`, 'op-bob')).status).toBe(200);
    expect(await (await debit()).json()).toMatchObject({ decision: 'ALLOW', reason: 'OK' });
  });

  it('a broken link over HTTP: a clear page, not a stack trace', async () => {
    for (const bad of ['short', 'x'.repeat(10 * 1024), '%E5%8F%A3%E5%BA%A7', 'AAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await fetch(`${server.url}/a/${bad}`);
      expect(res.status).toBe(404);
      const text = await res.text();
      expect(text).toContain('<html lang="ja">');
      expect(text).not.toMatch(/Error:|\.ts:\d+/);
    }
  });
});
