/**
 * The 2020 cardless-ATM case end to end through the handlers, against DynamoDB Local and the
 * local SES / SMS / EventBridge peers: AppActivated -> alert (deactivate, "it was me", freeze)
 * -> a ¥200,000 cardless withdrawal is HOLD (whether or not the core names the app) -> "it was
 * me" (the store-level confirmApp: the step-up page path is tested with the step-up) -> ALLOW;
 * and AppActivated -> "deactivate this app" from the alert page (one tap) -> every cardless
 * debit DENY, until operations re-enable (reenableCardless, audited).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { lambdaContext } from '../local/handlers.ts';
import { resetTokenPeppers } from '../src/adapters/pepper.ts';
import { confirmApp, deactivateApp, reenableCardless } from '../src/holds/app-actions.ts';
import { ActionRefusedError } from '../src/store/actions.ts';
import { getAccount } from '../src/store/customers.ts';
import { listAudit } from '../src/store/audit.ts';
import { setupTestEnv } from './support/env.ts';
import { formBody, formFields, httpEvent, invoke, loadHandler, type Handler } from './action-support.ts';

const BASE = 'https://alerts.example-bank.jp/a/';
let peers: LocalPeers;
let alertHandler: (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
let authorizeHandler: Handler;
let actionHandler: Handler;
let opsHandler: Handler;

beforeAll(async () => {
  peers = await startLocalPeers();
  await setupTestEnv({ ...peers.env, ACTION_BASE_URL: BASE, EVENT_BUS_NAME: 'alerting-bus', POWERTOOLS_METRICS_DISABLED: 'true' });
  resetTokenPeppers();
  alertHandler = (await import('../functions/alert/handler.ts')).handler as unknown as typeof alertHandler;
  authorizeHandler = await loadHandler('authorize');
  actionHandler = await loadHandler('action');
  opsHandler = await loadHandler('ops');
});
afterAll(async () => {
  await peers?.stop();
});
beforeEach(async () => {
  await peers.clear();
});

const uid = () => randomUUID().slice(0, 8);

async function coreEvents(...events: { detailType: string; detail: Record<string, unknown> }[]) {
  const out = await alertHandler(
    {
      Records: events.map((e, i) => ({
        messageId: `m-${i}-${uid()}`,
        receiptHandle: 'rh',
        body: JSON.stringify({ version: '0', id: uid(), source: 'bank.core', 'detail-type': e.detailType, time: new Date().toISOString(), region: 'ap-northeast-1', account: '123456789012', resources: [], detail: e.detail }),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'x', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:ap-northeast-1:123456789012:CoreEventsToAlert',
        awsRegion: 'ap-northeast-1',
      })),
    },
    lambdaContext('alert'),
  );
  expect(out.batchItemFailures).toEqual([]);
}

async function customer() {
  const id = uid();
  const c = { customerId: `cust-${id}`, accountId: `acct-${id}`, email: `hanako-${id}@example.jp` };
  await coreEvents({
    detailType: 'CustomerProfileUpserted',
    detail: { eventId: `evt-prof-${id}`, occurredAt: new Date().toISOString(), customerId: c.customerId, email: c.email, phone: '+819012345678', locale: 'ja', accounts: [{ accountId: c.accountId, last4: '4321' }] },
  });
  return c;
}

/** The impostor activates the cardless app with the leaked details. */
async function activate(accountId: string) {
  const detail = { eventId: `evt-app-${uid()}`, occurredAt: new Date().toISOString(), accountId, appId: 'cardless-atm', appName: 'Cardless ATM', deviceName: 'Unknown Android', linkId: `lnk-cl-${uid()}` };
  await coreEvents({ detailType: 'AppActivated', detail });
  return detail;
}

async function authorize(body: Record<string, unknown>) {
  const res = await invoke(authorizeHandler, httpEvent({ method: 'POST', path: '/v1/authorize', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), 'authorize');
  expect(res.statusCode).toBe(200);
  return JSON.parse(res.body) as { decision: string; reason: string; allowance: { remaining: number } };
}

async function alertLink(email: string): Promise<string> {
  const mail = (await peers.emails()).find((m) => m.to.includes(email));
  const token = /\/a\/([A-Za-z0-9_-]{22})/.exec(mail?.text ?? '')?.[1];
  if (!token) throw new Error('no action link in the alert email');
  return token;
}

const page = async (token: string, method: 'GET' | 'POST' = 'GET', body?: string) =>
  invoke(
    actionHandler,
    httpEvent({ method, path: `/a/${token}`, pathParameters: { token }, ...(body ? { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) }),
    'action',
  );

const published = async () => (await peers.publishedEvents()).map((e) => ({ detailType: e.detailType, detail: e.detail as Record<string, unknown> }));

describe('the 2020 cardless case', () => {
  it('activation -> alert -> ¥200,000 cardless withdrawal HOLD -> "it was me" -> ALLOW', async () => {
    const c = await customer();
    const app = await activate(c.accountId);
    const mail = (await peers.emails()).find((m) => m.to.includes(c.email));
    expect(mail?.subject).toContain('アプリが有効化されました');
    // The email says what the hold means and offers to stop the app.
    expect(mail?.text).toContain('カードレスでの出金が合計10,000円を超えると');
    expect(mail?.text).toContain('アプリの停止');

    const withdraw = (amount: number, extra: Record<string, unknown> = {}) => authorize({ accountId: c.accountId, channel: 'ATM_CARDLESS', amount, currency: 'JPY', requestId: `atm-${uid()}`, ...extra });
    // Whether the core names the app, the activation's link, or nothing: HOLD, never DENY for the genuine customer.
    expect(await withdraw(200_000)).toMatchObject({ decision: 'HOLD', reason: 'APP_PENDING_OVER_LIMIT' });
    expect(await withdraw(200_000, { linkId: app.appId })).toMatchObject({ decision: 'HOLD', reason: 'APP_PENDING_OVER_LIMIT' });
    expect(await withdraw(200_000, { linkId: app.linkId })).toMatchObject({ decision: 'HOLD', reason: 'APP_PENDING_OVER_LIMIT' });
    // Split into small withdrawals: stopped at ¥10,000 in total.
    const small = [];
    for (let i = 0; i < 4; i++) small.push((await withdraw(3_000, { linkId: app.appId })).decision);
    expect(small).toEqual(['ALLOW', 'ALLOW', 'ALLOW', 'HOLD']);
    // A card withdrawal is not the app's business.
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARD', amount: 200_000, currency: 'JPY' })).toMatchObject({ decision: 'ALLOW', reason: 'OK' });

    // The page offers "deactivate this app" and "it was me" beside the freeze.
    const token = await alertLink(c.email);
    const html = (await page(token)).body;
    expect(formFields(html, 'FREEZE_ACCOUNT')).toBeDefined();
    expect(formFields(html, `DEACTIVATE_APP:${app.eventId}`)).toBeDefined();
    expect(html).toContain('Cardless ATM');

    const r = await confirmApp(c.accountId, app.eventId, { actor: 'CUSTOMER_WEB' });
    expect(r).toMatchObject({ changed: true, eventPublished: true });
    expect(await withdraw(200_000)).toMatchObject({ decision: 'ALLOW', reason: 'OK' });
    expect(await withdraw(200_000, { linkId: app.appId })).toMatchObject({ decision: 'ALLOW', reason: 'OK' });
    expect((await published()).find((e) => e.detailType === 'AppConfirmed')?.detail).toMatchObject({ accountId: c.accountId, appId: 'cardless-atm', activationId: app.eventId, actor: 'CUSTOMER_WEB' });
    expect((await listAudit(c.accountId)).map((a) => [a.action, a.target, a.oldState, a.newState])).toContainEqual(['confirmApp', `APP#${app.eventId}`, 'PENDING', 'CONFIRMED']);
    // Confirming again changes nothing.
    expect(await confirmApp(c.accountId, app.eventId, { actor: 'CUSTOMER_WEB' })).toEqual({ changed: false });
  });

  it('a later activation of the same app on another device is a new hold an old "it was me" cannot release', async () => {
    const c = await customer();
    const first = await activate(c.accountId);
    await confirmApp(c.accountId, first.eventId, { actor: 'CUSTOMER_WEB' });
    const second = await activate(c.accountId);
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARDLESS', amount: 200_000, currency: 'JPY', linkId: 'cardless-atm' })).toMatchObject({ decision: 'HOLD' });
    expect((await getAccount(c.accountId, true))!.apps![second.eventId]!.state).toBe('PENDING');
  });

  it('activation -> "deactivate this app" (one tap on the alert page) -> every cardless debit DENY', async () => {
    const c = await customer();
    const app = await activate(c.accountId);
    const token = await alertLink(c.email);
    const key = `DEACTIVATE_APP:${app.eventId}`;
    const fields = formFields((await page(token)).body, key);
    expect(fields).toBeDefined();
    const done = await page(token, 'POST', formBody(fields!));
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('停止しました');

    for (const body of [
      { channel: 'ATM_CARDLESS', amount: 1 },
      { channel: 'ATM_CARDLESS', amount: 200_000, linkId: app.appId },
      { channel: 'ATM_CARDLESS', amount: 500, linkId: 'some-other-app' },
      { channel: 'EPAY_CHARGE', amount: 500, linkId: app.linkId },
    ]) {
      expect(await authorize({ accountId: c.accountId, currency: 'JPY', ...body })).toMatchObject({ decision: 'DENY', reason: 'APP_DEACTIVATED' });
    }
    // The account itself is not frozen: a card withdrawal and a transfer still work.
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARD', amount: 10_000, currency: 'JPY' })).toMatchObject({ decision: 'ALLOW', reason: 'OK' });
    expect((await published()).find((e) => e.detailType === 'AppDeactivated')?.detail).toMatchObject({ accountId: c.accountId, activationId: app.eventId, appId: 'cardless-atm', linkId: app.linkId });
    expect((await listAudit(c.accountId)).map((a) => [a.action, a.oldState, a.newState, a.actor])).toContainEqual(['deactivateApp', 'PENDING', 'DEACTIVATED', 'CUSTOMER_WEB']);

    // "It was me" after "not me" is refused; deactivating again changes nothing; a fresh activation does not reopen the channel.
    await expect(confirmApp(c.accountId, app.eventId, { actor: 'CUSTOMER_WEB' })).rejects.toThrow(ActionRefusedError);
    expect(await deactivateApp(c.accountId, app.eventId, { actor: 'CUSTOMER_WEB' })).toEqual({ changed: false });
    await activate(c.accountId);
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARDLESS', amount: 1, currency: 'JPY' })).toMatchObject({ decision: 'DENY', reason: 'APP_DEACTIVATED' });

    // Operations re-enable after checking identity (audited); the newer activation is still held.
    expect(await reenableCardless(c.accountId, app.eventId, { operatorId: 'op-7', verificationRef: 'IDV-2026-0042' })).toEqual({ changed: true });
    await expect(reenableCardless(c.accountId, app.eventId, { operatorId: 'op-7', verificationRef: 'IDV-2026-0042' })).rejects.toMatchObject({ reason: 'ACTION_NOT_AVAILABLE' });
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARDLESS', amount: 1_000, currency: 'JPY' })).toMatchObject({ decision: 'ALLOW', reason: 'APP_PENDING_UNDER_LIMIT' });
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARDLESS', amount: 200_000, currency: 'JPY' })).toMatchObject({ decision: 'HOLD', reason: 'APP_PENDING_OVER_LIMIT' });
    expect((await listAudit(c.accountId)).find((e) => e.action === 'reenableCardless')).toMatchObject({ actor: 'OPERATOR', operatorId: 'op-7', verificationRef: 'IDV-2026-0042', oldState: 'DEACTIVATED', newState: 'REENABLED' });
  });

  it('"it was me" from the page is not one tap: without the step-up the app stays held', async () => {
    const c = await customer();
    const app = await activate(c.accountId);
    const token = await alertLink(c.email);
    const fields = formFields((await page(token)).body, `CONFIRM_APP:${app.eventId}`);
    expect(fields).toBeDefined();
    // Pressing "it was me" (as a scanner would) only leads to the step-up page.
    expect((await page(token, 'POST', formBody(fields!))).statusCode).toBe(200);
    expect((await getAccount(c.accountId, true))!.apps![app.eventId]!.state).toBe('PENDING');
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARDLESS', amount: 200_000, currency: 'JPY' })).toMatchObject({ decision: 'HOLD' });
    // The store refuses a token-carried confirmation that brings no step-up proof.
    await expect(confirmApp(c.accountId, app.eventId, { actor: 'CUSTOMER_WEB', token: { tokenHash: 'x'.repeat(43), actionKey: `CONFIRM_APP:${app.eventId}` } })).rejects.toMatchObject({
      reason: 'ACTION_NOT_AVAILABLE',
    });
  });

  it('a cardless withdrawal the core never asked about consumes the allowance, and its alert names the app', async () => {
    const c = await customer();
    await activate(c.accountId);
    await peers.clear();
    await coreEvents({
      detailType: 'WithdrawalPosted',
      detail: { eventId: `evt-wd-${uid()}`, occurredAt: new Date().toISOString(), accountId: c.accountId, withdrawalId: `wd-${uid()}`, channel: 'ATM_CARDLESS', amount: 9_000, currency: 'JPY', counterparty: 'ATM Shinjuku' },
    });
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARDLESS', amount: 1_001, currency: 'JPY', requestId: 'after' })).toMatchObject({ decision: 'HOLD', allowance: { remaining: 1_000 } });
    const mail = (await peers.emails()).find((m) => m.to.includes(c.email));
    expect(mail?.text).toContain('Cardless ATM');
  });
  it('operations re-enable cardless withdrawals through the operations API: approvers only, an identity check, bad input changes nothing', async () => {
    const c = await customer();
    const app = await activate(c.accountId);
    await deactivateApp(c.accountId, app.eventId, { actor: 'CUSTOMER_WEB' });
    const path = `/ops/accounts/${c.accountId}/apps/${app.eventId}/reenable`;
    const call = (body: string, groups: string[]) =>
      invoke(opsHandler, httpEvent({ method: 'POST', path, operatorId: 'op-9', groups, body, headers: { 'content-type': 'application/json' } }), 'ops');
    const state = async () => (await getAccount(c.accountId, true))!.apps![app.eventId]!.state;

    expect((await call('{"verificationRef":"IDV-1"}', ['operators'])).statusCode).toBe(403);
    const missing = await call('{}', ['operators', 'approvers']);
    expect(missing.statusCode).toBe(400);
    expect(JSON.parse(missing.body)).toMatchObject({ field: 'verificationRef' });
    const unknown = await call('{"verificationRef":"IDV-1","force":true}', ['operators', 'approvers']);
    expect(JSON.parse(unknown.body)).toMatchObject({ field: 'force' });
    expect((await call('not json', ['operators', 'approvers'])).statusCode).toBe(400);
    expect(await state()).toBe('DEACTIVATED');
    expect(await authorize({ accountId: c.accountId, channel: 'ATM_CARDLESS', amount: 1, currency: 'JPY' })).toMatchObject({ decision: 'DENY', reason: 'APP_DEACTIVATED' });

    const ok = await call('{"verificationRef":"IDV-2026-0099"}', ['operators', 'approvers']);
    expect(ok.statusCode).toBe(200);
    expect(await state()).toBe('REENABLED');
    expect((await call('{"verificationRef":"IDV-2026-0099"}', ['operators', 'approvers'])).statusCode).toBe(409);
    expect((await listAudit(c.accountId)).filter((e) => e.action === 'reenableCardless')).toEqual([
      expect.objectContaining({ actor: 'OPERATOR', operatorId: 'op-9', verificationRef: 'IDV-2026-0099' }),
    ]);
    const listed = await invoke(opsHandler, httpEvent({ method: 'GET', path: `/ops/accounts/${c.accountId}/apps`, operatorId: 'op-9' }), 'ops');
    expect(JSON.parse(listed.body)).toMatchObject({ apps: [expect.objectContaining({ activationId: app.eventId, state: 'REENABLED' })] });
  });
});
