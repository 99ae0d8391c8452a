/**
 * The action page through the action Lambda handler (API Gateway payload 2.0 events) against
 * DynamoDB Local and the local EventBridge: GET never changes state, POST acts once, and every
 * bad input gets a clear page with its status and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getAccount } from '../src/store/customers.ts';
import { getLink } from '../src/store/links.ts';
import { listAudit } from '../src/store/audit.ts';
import { db, tableName } from '../src/store/db.ts';
import { key } from '../src/store/table.ts';
import { generateToken } from '../src/domain/tokens.ts';
import { recordAlert, type AlertRecord } from '../src/store/alerts.ts';
import { formCheck } from '../src/domain/action-page/flow.ts';
import { OPENED_SCRIPT } from '../src/domain/action-page/opened-script.ts';
import {
  formBody,
  formFields,
  httpEvent,
  invoke,
  loadHandler,
  type Handler,
  issue,
  readToken,
  seedAccount,
  seedAlertScenario,
  seedLink,
  setupActionEnv,
  snapshot,
  TEST_PEPPER,
  type ActionEnv,
} from './action-support.ts';

let env: ActionEnv;
let handler: Handler;
beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('action');
});
afterAll(async () => {
  await env.bridge.stop();
});

const get = (token: string, query?: Record<string, string>, headers?: Record<string, string>) =>
  invoke(handler, httpEvent({ method: 'GET', path: `/a/${token}`, pathParameters: { token }, ...(query ? { query } : {}), ...(headers ? { headers } : {}) }), 'action');
/** As the local server and API Gateway deliver a form post: base64-encoded. */
const post = (token: string, body: string, query?: Record<string, string>) =>
  invoke(
    handler,
    httpEvent({
      method: 'POST',
      path: `/a/${token}`,
      pathParameters: { token },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      base64: true,
      ...(query ? { query } : {}),
    }),
    'action',
  );

const eventsFor = (accountId: string) => env.bridge.publishedEvents().filter((e) => (e.detail as { accountId?: string }).accountId === accountId);

function expectCleanPage(res: { body: string; headers: Record<string, string> }, lang?: 'ja' | 'en') {
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.body).toMatch(lang ? new RegExp(`<html lang="${lang}">`) : /<html lang="(ja|en)">/);
  expect(res.body).not.toMatch(/\bat [\w.<>]+ \(|Error:|\.ts:\d+|stack/i);
  // No script but the "opened" beacon of GET's page: inline, exactly its text (allowed by its hash).
  const rest = res.body.replace(/\n<script data-opened="[A-Za-z0-9_-]{22}\/opened">([\s\S]*?)<\/script>/, (_m, js: string) => (js === OPENED_SCRIPT ? '' : '<script altered>'));
  expect(rest).not.toMatch(/<script/i);
  expect(Buffer.byteLength(res.body)).toBeLessThan(50 * 1024);
}

describe('GET /a/{token}', () => {
  it('shows what happened (provider, JST time, masked account) with one button per action, in the customer locale, and changes nothing', async () => {
    const s = await seedAlertScenario({ locale: 'ja' });
    const before = await snapshot(s.accountId, [s.record.tokenHash]);
    const res = await get(s.token);
    expect(res.statusCode).toBe(200);
    expectCleanPage(res, 'ja');
    expect(res.body).toContain('D-Wallet');
    expect(res.body).toContain('...1234');
    expect(res.body).toContain('日本時間');
    expect(res.body).toContain('口座を凍結する');
    expect(res.body).toContain('自分で行った操作です');
    expect(res.body.match(/<form method="post"/g)).toHaveLength(3);
    expect(formFields(res.body, 'FREEZE_ACCOUNT')).toBeDefined();
    expect(formFields(res.body, `REVOKE_LINK:${s.linkId}`)).toBeDefined();
    expect(formFields(res.body, `CONFIRM_LINK:${s.linkId}`)).toBeDefined();
    // Scanners fetch every link: a GET, however often, changes nothing and publishes nothing.
    await get(s.token);
    await get(s.token, { lang: 'en' });
    expect(await snapshot(s.accountId, [s.record.tokenHash])).toBe(before);
    expect(eventsFor(s.accountId)).toHaveLength(0);
  });

  it('answers with the security headers: CSP without any source but its own stylesheet, no caching, no referrer, no framing', async () => {
    const s = await seedAlertScenario();
    const res = await get(s.token);
    const csp = res.headers['content-security-policy']!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // Nothing external: no http(s) URL is loaded or linked.
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    // The stylesheet matches its hash in the CSP.
    const css = /<style>([\s\S]*?)<\/style>/.exec(res.body)![1]!;
    const { createHash } = await import('node:crypto');
    expect(csp).toContain(`'sha256-${createHash('sha256').update(css).digest('base64')}'`);
  });

  it('switches language with ?lang=en|ja and follows an English customer by default', async () => {
    const ja = await seedAlertScenario({ locale: 'ja' });
    const en = await get(ja.token, { lang: 'en' });
    expectCleanPage(en, 'en');
    expect(en.body).toContain('Freeze my account');
    expect(en.body).toContain('JST');
    expect(en.body).toContain('href="?lang=ja"');
    expect(en.headers['content-language']).toBe('en');
    const enCustomer = await seedAlertScenario({ locale: 'en' });
    const page = await get(enCustomer.token);
    expectCleanPage(page, 'en');
    expect(page.body).toContain('This wasn&#39;t me: revoke the link to D-Wallet');
    expect((await get(enCustomer.token, { lang: 'ja' })).body).toContain('<html lang="ja">');
    // An unknown ?lang value is ignored, not reflected.
    const odd = await get(ja.token, { lang: '<script>' });
    expectCleanPage(odd, 'ja');
  });
});

describe('GET /a/{token} from the alert record', () => {
  const alertRecord = (over: Partial<AlertRecord> & Pick<AlertRecord, 'alertId' | 'customerId' | 'content' | 'sourceEventType'>): AlertRecord => ({
    sourceEventId: `evt-${over.alertId}`,
    tokenAccountId: over.accountId ?? 'x',
    actions: [],
    locale: 'ja',
    occurredAt: '2026-11-25T09:30:00.000Z',
    createdAt: '2026-11-25T09:30:01.000Z',
    deliveries: {},
    ...over,
  });

  it('summarises a withdrawal through a link: amount, provider, place, time in JST', async () => {
    const { accountId, customerId } = await seedAccount({ last4: '9876' });
    const linkId = await seedLink(accountId, customerId, { providerName: 'PayPay-ish' });
    const t = await issue(accountId, customerId, [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId }]);
    await recordAlert(
      alertRecord({
        alertId: t.alertId,
        accountId,
        customerId,
        sourceEventType: 'WithdrawalPosted',
        content: {
          kind: 'WITHDRAWAL',
          occurredAt: '2026-11-25T09:30:00.000Z',
          accountLast4: '9876',
          channel: 'EPAY_CHARGE',
          amount: 12_000,
          currency: 'JPY',
          providerName: 'PayPay-ish',
          counterparty: 'Online shop <b>',
          origin: { location: 'Osaka', device: 'Android' },
        },
      }),
    );
    const ja = await get(t.token);
    expect(ja.statusCode).toBe(200);
    expect(ja.body).toContain('口座 ...9876 から 12,000円 が出金されました（PayPay-ish）。');
    expect(ja.body).toContain('2026/11/25 18:30（日本時間）');
    expect(ja.body).toContain('Osaka');
    expect(ja.body).toContain('Online shop &lt;b&gt;');
    expect(ja.body.match(/<form method="post"/g)).toHaveLength(2);
    const en = await get(t.token, { lang: 'en' });
    expect(en.body).toContain('¥12,000 was withdrawn from your account ...9876 (PayPay-ish).');
    expect(en.body).toContain('2026/11/25 18:30 JST');
  });

  it('summarises a contact change from the alert kept under the customer, offering the freeze only', async () => {
    const { accountId, customerId } = await seedAccount({ locale: 'en' });
    const t = await issue(accountId, customerId, [{ kind: 'FREEZE_ACCOUNT' }]);
    await recordAlert(
      alertRecord({
        alertId: t.alertId,
        customerId,
        tokenAccountId: accountId,
        sourceEventType: 'ContactChanged',
        content: { kind: 'CONTACT_CHANGED', occurredAt: '2026-11-25T09:30:00.000Z', accountLast4: '1234', emailChanged: true, phoneChanged: false, otherAccounts: false },
      }),
    );
    const res = await get(t.token);
    expect(res.body).toContain('Your contact details (email address or phone number) were changed.');
    expect(res.body.match(/<form method="post"/g)).toHaveLength(1);
    expect(formFields(res.body, 'FREEZE_ACCOUNT')).toBeDefined();
  });
});

describe('POST /a/{token}', () => {
  it('freezes the account once: state, token use, audit entry (who, when, old -> new) and AccountFrozen event', async () => {
    const s = await seedAlertScenario();
    const page = await get(s.token);
    const res = await post(s.token, formBody(formFields(page.body, 'FREEZE_ACCOUNT')!));
    expect(res.statusCode).toBe(200);
    expectCleanPage(res, 'ja');
    expect(res.body).toContain('口座を凍結しました');
    // What the freeze stops, what still works, and how it is undone (only the bank, the fraud line).
    const explained = /<section[^>]*id="after-freeze"[^]*?<\/section>/.exec(res.body)?.[0] ?? '';
    for (const words of ['止まるもの', '出金', '電子決済サービス', 'お振込み', '引き続きできること', 'お金の受け取り', '凍結の解除', '本人の確認', '0120-000-110']) expect(explained).toContain(words);
    const en = await post(s.token, formBody(formFields(page.body, 'FREEZE_ACCOUNT')!), { lang: 'en' });
    for (const words of ['What stops', 'Withdrawals', 'e-payment', 'Transfers out', 'What still works', 'Money coming in', 'How it is undone', 'checking your identity', '0120-000-110']) expect(en.body).toContain(words);
    expect((await getAccount(s.accountId))?.state).toBe('FROZEN');
    expect((await readToken(s.record.tokenHash))?.used.FREEZE_ACCOUNT).toBeDefined();
    const audit = await listAudit(s.accountId);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: 'freezeAccount',
      actor: 'CUSTOMER_WEB',
      alertId: s.alertId,
      tokenRef: s.record.tokenHash.slice(0, 8),
      oldState: 'ACTIVE',
      newState: 'FROZEN',
      target: `ACCOUNT#${s.accountId}`,
    });
    expect(Date.now() - Date.parse(audit[0]!.at)).toBeLessThan(60_000);
    const events = eventsFor(s.accountId);
    expect(events.map((e) => e.detailType)).toEqual(['AccountFrozen']);
    expect(events[0]!.source).toBe('bank.alerting');
    expect(events[0]!.detail).toMatchObject({ accountId: s.accountId, actor: 'CUSTOMER_WEB', alertId: s.alertId });

    // Afterwards the page no longer offers "it was me" (nor a second freeze); revoking still is.
    const after = await get(s.token);
    expect(after.body).not.toContain('自分で行った操作です');
    expect(formFields(after.body, 'FREEZE_ACCOUNT')).toBeUndefined();
    expect(formFields(after.body, `REVOKE_LINK:${s.linkId}`)).toBeDefined();
    expect(after.body).toContain('この口座は凍結されています');
    // And a hand-made "it was me" POST is refused, changing nothing.
    const before = await snapshot(s.accountId, [s.record.tokenHash]);
    const confirm = `CONFIRM_LINK:${s.linkId}`;
    const refused = await post(s.token, formBody({ action: confirm, check: formCheck(s.record.tokenHash, confirm, TEST_PEPPER) }));
    expect(refused.statusCode).toBe(409);
    expectCleanPage(refused, 'ja');
    expect(await snapshot(s.accountId, [s.record.tokenHash])).toBe(before);
  });

  it('revokes the link ("not me"), takes it out of the campaign audience, offers a freeze, and refuses "it was me" afterwards', async () => {
    const s = await seedAlertScenario({ locale: 'en' });
    const page = await get(s.token);
    const res = await post(s.token, formBody(formFields(page.body, `REVOKE_LINK:${s.linkId}`)!), { lang: 'en' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('The link to D-Wallet is revoked.');
    // The success page offers the freeze as a working form.
    const freeze = formFields(res.body, 'FREEZE_ACCOUNT');
    expect(freeze).toBeDefined();
    const link = await db().send(new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: tableName(), Key: key.link(s.accountId, s.linkId), ConsistentRead: true }));
    expect(link.Item?.state).toBe('REVOKED');
    expect(link.Item?.audiencePk).toBeUndefined();
    expect(link.Item?.audienceSk).toBeUndefined();
    const audit = await listAudit(s.accountId);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'revokeLink', actor: 'CUSTOMER_WEB', alertId: s.alertId, target: `LINK#${s.linkId}`, oldState: 'PENDING', newState: 'REVOKED' });
    expect(eventsFor(s.accountId).map((e) => [e.detailType, (e.detail as { linkId: string }).linkId, (e.detail as { providerId: string }).providerId])).toEqual([
      ['LinkRevoked', s.linkId, 'dwallet'],
    ]);
    const after = await get(s.token, { lang: 'en' });
    expect(after.body).not.toContain('It was me');
    const confirm = `CONFIRM_LINK:${s.linkId}`;
    const before = await snapshot(s.accountId, [s.record.tokenHash]);
    const refused = await post(s.token, formBody({ action: confirm, check: formCheck(s.record.tokenHash, confirm, TEST_PEPPER) }));
    expect(refused.statusCode).toBe(409);
    expect(await snapshot(s.accountId, [s.record.tokenHash])).toBe(before);
    // The offered freeze works from the success page.
    const frozen = await post(s.token, formBody(freeze!));
    expect(frozen.statusCode).toBe(200);
    expect((await getAccount(s.accountId))?.state).toBe('FROZEN');
  });

  it('"it was me" is never one tap: its button leads to the step-up (code to the other channel) and changes nothing', async () => {
    const s = await seedAlertScenario();
    const page = await get(s.token);
    const before = await snapshot(s.accountId, [s.record.tokenHash]);
    const res = await post(s.token, formBody(formFields(page.body, `CONFIRM_LINK:${s.linkId}`)!));
    expect(res.statusCode).toBe(200);
    expectCleanPage(res, 'ja');
    expect(res.body).toContain('ご本人の確認');
    expect(res.body).toMatch(/name="step" value="send"/);
    expect(res.body).not.toContain('連携を有効にしました');
    expect(await snapshot(s.accountId, [s.record.tokenHash])).toBe(before);
    expect((await getLink(s.accountId, s.linkId))?.state).toBe('PENDING');
    expect(eventsFor(s.accountId)).toEqual([]);
    // Freeze and revoke stay one tap on the step-up page. The code itself: test/stepup-codes.test.ts.
    expect(formFields(res.body, 'FREEZE_ACCOUNT')).toBeDefined();
    expect(formFields(res.body, `REVOKE_LINK:${s.linkId}`)).toBeDefined();
  });

  it('two concurrent POSTs of the same action: one change, one audit entry, one event, both see the success page', async () => {
    const s = await seedAlertScenario();
    const fields = formFields((await get(s.token)).body, 'FREEZE_ACCOUNT')!;
    const results = await Promise.all(Array.from({ length: 6 }, () => post(s.token, formBody(fields))));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const r of results) expect(r.body).toContain('口座を凍結しました');
    expect(await getAccount(s.accountId)).toMatchObject({ state: 'FROZEN', version: 1 });
    expect(await listAudit(s.accountId)).toHaveLength(1);
    expect(eventsFor(s.accountId)).toHaveLength(1);

    const r = await seedAlertScenario();
    const revoke = formFields((await get(r.token)).body, `REVOKE_LINK:${r.linkId}`)!;
    const two = await Promise.all([post(r.token, formBody(revoke)), post(r.token, formBody(revoke))]);
    expect(two.map((x) => x.statusCode)).toEqual([200, 200]);
    expect(await listAudit(r.accountId)).toHaveLength(1);
    expect(eventsFor(r.accountId)).toHaveLength(1);
  });

  it('a repeat of a used action soon after (refresh, double tap) sees success; a later reuse gets "already used" and changes nothing', async () => {
    const s = await seedAlertScenario();
    const fields = formFields((await get(s.token)).body, 'FREEZE_ACCOUNT')!;
    expect((await post(s.token, formBody(fields))).statusCode).toBe(200);
    const again = await post(s.token, formBody(fields));
    expect(again.statusCode).toBe(200);
    expect(await listAudit(s.accountId)).toHaveLength(1);
    // Ten minutes later.
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.token(s.record.tokenHash),
        UpdateExpression: 'SET used.FREEZE_ACCOUNT = :t',
        ExpressionAttributeValues: { ':t': new Date(Date.now() - 10 * 60_000).toISOString() },
      }),
    );
    const before = await snapshot(s.accountId, [s.record.tokenHash]);
    const late = await post(s.token, formBody(fields));
    expect(late.statusCode).toBe(409);
    expectCleanPage(late, 'ja');
    expect(late.body).toContain('すでに使用されています');
    expect(late.body).toContain('この口座は凍結されています');
    expect(await snapshot(s.accountId, [s.record.tokenHash])).toBe(before);
    expect(eventsFor(s.accountId)).toHaveLength(1);
  });

  it('freezing an account already frozen by another alert: success page, no second change, the token use is still marked', async () => {
    const s = await seedAlertScenario();
    const other = await issue(s.accountId, s.customerId, [{ kind: 'FREEZE_ACCOUNT' }]);
    expect((await post(other.token, formBody(formFields((await get(other.token)).body, 'FREEZE_ACCOUNT')!))).statusCode).toBe(200);
    const res = await post(s.token, formBody(formFields((await get(s.token)).body, `REVOKE_LINK:${s.linkId}`)!));
    expect(res.statusCode).toBe(200);
    // The freeze form from before the other freeze still answers success, without a second change.
    const fields = { action: 'FREEZE_ACCOUNT', check: formCheck(s.record.tokenHash, 'FREEZE_ACCOUNT', TEST_PEPPER) };
    const frozenAgain = await post(s.token, formBody(fields));
    expect(frozenAgain.statusCode).toBe(200);
    expect((await readToken(s.record.tokenHash))?.used.FREEZE_ACCOUNT).toBeDefined();
    expect((await listAudit(s.accountId)).map((a) => a.action).sort()).toEqual(['freezeAccount', 'revokeLink']);
    expect(await getAccount(s.accountId)).toMatchObject({ state: 'FROZEN', version: 1 });
  });

  it('commits the freeze and shows success even when the partner event cannot be published (counted and logged)', async () => {
    const s = await seedAlertScenario();
    const fields = formFields((await get(s.token)).body, 'FREEZE_ACCOUNT')!;
    env.bridge.injectFaults(['5xx', '5xx', '5xx', '5xx', '5xx']);
    const res = await post(s.token, formBody(fields));
    env.bridge.clear();
    expect(res.statusCode).toBe(200);
    expect((await getAccount(s.accountId))?.state).toBe('FROZEN');
    expect(await listAudit(s.accountId)).toHaveLength(1);
  });
});

describe('bad input: a clear page with its status, and nothing changes', () => {
  async function expectNothingChanged(s: { accountId: string; record: { tokenHash: string } }, run: () => Promise<{ statusCode: number; body: string; headers: Record<string, string> }>, status: number) {
    const before = await snapshot(s.accountId, [s.record.tokenHash]);
    const eventsBefore = eventsFor(s.accountId).length;
    const res = await run();
    expect(res.statusCode).toBe(status);
    expectCleanPage(res);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await snapshot(s.accountId, [s.record.tokenHash])).toBe(before);
    expect(eventsFor(s.accountId)).toHaveLength(eventsBefore);
    return res;
  }
  let s: Awaited<ReturnType<typeof seedAlertScenario>>;
  let fields: { action: string; check: string };
  beforeAll(async () => {
    s = await seedAlertScenario();
    fields = formFields((await get(s.token)).body, 'FREEZE_ACCOUNT')!;
  });

  it('a forged token (well-formed, never issued)', async () => {
    const forged = generateToken();
    await expectNothingChanged(s, () => get(forged), 404);
    await expectNothingChanged(s, () => post(forged, formBody(fields)), 404);
  });

  it('an altered token: each single-character change of a real one', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < s.token.length; i++) {
      const c = alphabet[(alphabet.indexOf(s.token[i]!) + 1 + i) % alphabet.length]!;
      const altered = s.token.slice(0, i) + c + s.token.slice(i + 1);
      await expectNothingChanged(s, () => post(altered, formBody(fields)), 404);
    }
    const res = await expectNothingChanged(s, () => get(`${s.token.slice(0, 5)}${s.token[5] === 'a' ? 'b' : 'a'}${s.token.slice(6)}`), 404);
    expect(res.body).toContain('このリンクは無効です');
  });

  it('an expired token', async () => {
    const e = await issue(s.accountId, s.customerId, [{ kind: 'FREEZE_ACCOUNT' }], { now: new Date(Date.now() - 8 * 86_400_000), ttlDays: 7 });
    const form = { action: 'FREEZE_ACCOUNT', check: formCheck(e.record.tokenHash, 'FREEZE_ACCOUNT', TEST_PEPPER) };
    const page = await expectNothingChanged({ accountId: s.accountId, record: e.record }, () => get(e.token), 410);
    expect(page.body).toContain('有効期限');
    expect(page.body).not.toContain('<form');
    await expectNothingChanged({ accountId: s.accountId, record: e.record }, () => post(e.token, formBody(form)), 410);
  });

  it('a truncated, a 10 KB long, an empty and a padded token', async () => {
    for (const bad of [s.token.slice(0, 21), s.token.slice(0, 8), `${s.token}${'A'.repeat(10 * 1024 - 22)}`, '', `${s.token.slice(0, 21)}=`, `${s.token}/extra`]) {
      await expectNothingChanged(s, () => get(bad), 404);
      await expectNothingChanged(s, () => post(bad, formBody(fields)), 404);
    }
  });

  it('non-ASCII tokens (accented, full-width, emoji, NUL)', async () => {
    for (const bad of [`${s.token.slice(0, 21)}é`, `${s.token.slice(0, 20)}ＡＢ`, `${s.token.slice(0, 20)}😀`, `${s.token.slice(0, 21)}\u0000`, '口座凍結'.repeat(6)]) {
      await expectNothingChanged(s, () => get(bad), 404);
      await expectNothingChanged(s, () => post(bad, formBody(fields)), 404);
    }
  });

  it("another account's token never acts on this account, even for a link with the same id", async () => {
    const a = await seedAccount();
    const b = await seedAccount();
    const shared = 'lnk-same-id';
    await seedLink(a.accountId, a.customerId, { linkId: shared });
    await seedLink(b.accountId, b.customerId, { linkId: shared });
    const tokA = await issue(a.accountId, a.customerId, [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId: shared }]);
    const tokB = await issue(b.accountId, b.customerId, [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId: shared }]);
    const aFields = formFields((await get(tokA.token)).body, `REVOKE_LINK:${shared}`)!;
    const aState = { accountId: a.accountId, record: tokA.record };
    // A's form posted with B's token: its check is for A's token, so it is refused, and A is untouched.
    const beforeA = await snapshot(a.accountId, [tokA.record.tokenHash]);
    await expectNothingChanged({ accountId: b.accountId, record: tokB.record }, () => post(tokB.token, formBody(aFields)), 400);
    expect(await snapshot(a.accountId, [tokA.record.tokenHash])).toBe(beforeA);
    // B's own revoke changes B's link only.
    const bFields = formFields((await get(tokB.token)).body, `REVOKE_LINK:${shared}`)!;
    const before = await snapshot(aState.accountId, [tokA.record.tokenHash]);
    expect((await post(tokB.token, formBody(bFields))).statusCode).toBe(200);
    expect((await getLink(b.accountId, shared))?.state).toBe('REVOKED');
    expect(await snapshot(aState.accountId, [tokA.record.tokenHash])).toBe(before);
    expect((await getLink(a.accountId, shared))?.state).toBe('PENDING');
  });

  it("a POST without the page's form fields, with a wrong check, or with extra fields", async () => {
    for (const body of [
      '',
      formBody({ action: 'FREEZE_ACCOUNT' }),
      formBody({ check: fields.check }),
      formBody({ action: 'FREEZE_ACCOUNT', check: 'A'.repeat(22) }),
      formBody({ action: 'FREEZE_ACCOUNT', check: fields.check.slice(0, 21) }),
      formBody({ ...fields, accountId: 'someone-else' }),
      `${formBody(fields)}&action=FREEZE_ACCOUNT`,
      formBody({ ...fields, pad: 'x'.repeat(5000) }),
      '\u0000\u0001garbage',
    ]) {
      const res = await expectNothingChanged(s, () => post(s.token, body), 400);
      expect(res.body).toContain('ページのボタンからお手続きください');
    }
    // A JSON body instead of the form.
    await expectNothingChanged(
      s,
      () =>
        invoke(handler, httpEvent({ method: 'POST', path: `/a/${s.token}`, pathParameters: { token: s.token }, headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) }), 'action'),
      400,
    );
  });

  it('an unknown action', async () => {
    for (const action of ['DELETE_ACCOUNT', 'UNFREEZE_ACCOUNT', 'freeze_account', 'REVOKE_LINK:', 'REVOKE_LINK:<x>']) {
      await expectNothingChanged(s, () => post(s.token, formBody({ action, check: formCheck(s.record.tokenHash, action, TEST_PEPPER) })), 400);
    }
  });

  it('an action the alert did not offer', async () => {
    const only = await issue(s.accountId, s.customerId, [{ kind: 'FREEZE_ACCOUNT' }]);
    const other = await seedLink(s.accountId, s.customerId);
    const target = { accountId: s.accountId, record: only.record };
    for (const action of [`REVOKE_LINK:${s.linkId}`, `CONFIRM_LINK:${s.linkId}`, `REVOKE_LINK:${other}`]) {
      const res = await expectNothingChanged(target, () => post(only.token, formBody({ action, check: formCheck(only.record.tokenHash, action, TEST_PEPPER) })), 403);
      expect(res.body).toContain('このリンクからは行えません');
    }
  });

  it('a method other than GET and POST', async () => {
    await expectNothingChanged(s, () => invoke(handler, { ...httpEvent({ method: 'GET', path: `/a/${s.token}`, pathParameters: { token: s.token } }), requestContext: { ...httpEvent({ method: 'GET', path: '/' }).requestContext, http: { method: 'DELETE', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' } } }, 'action'), 405);
  });
});
