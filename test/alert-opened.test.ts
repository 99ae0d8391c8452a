/**
 * "Opened" without any GET writing: the action page's beacon (POST /a/{token}/opened) through the
 * real action handler against DynamoDB Local and the local EventBridge.
 * - The first beacon sets the alert's openedAt and changes nothing else in the whole table; a
 *   repeat, the other message's token, or a burst of them at once change nothing more.
 * - Bad, unknown and expired tokens get the very answer GET gives them, and nothing is written
 *   (1,000 distinct mutations of real tokens whose alerts were never opened: all 404, table unchanged);
 *   a large body, another method, a token without an alert record: nothing written either.
 * - It spends no action: the freeze still works afterwards.
 * - GET and HEAD of the page still write nothing; the page carries the beacon inline, allowed by
 *   its hash, and no other script.
 * - Reimbursement cases: a case opened after the page was opened has the openedAt in its timeline;
 *   one opened from a reply has none (and gains it on read if the page is opened later).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { LinkRevoked } from '../events/alerting.ts';
import { OPENED_SCRIPT, OPENED_SCRIPT_HASH } from '../src/domain/action-page/opened-script.ts';
import fc from 'fast-check';
import { generateToken, isWellFormedToken } from '../src/domain/tokens.ts';
import { getCase, listCases, openCase } from '../src/fraud/cases/store.ts';
import { revokeLink } from '../src/store/actions.ts';
import { recordAlert, type AlertRecord } from '../src/store/alerts.ts';
import { db, tableName } from '../src/store/db.ts';
import { getAccount } from '../src/store/customers.ts';
import { key, type AlertOwner } from '../src/store/table.ts';
import { changedKeys, scanTable } from './support/table-scan.ts';
import {
  formBody,
  formFields,
  httpEvent,
  invoke,
  issue,
  loadHandler,
  readToken,
  seedAccount,
  seedLink,
  setupActionEnv,
  type ActionEnv,
  type Handler,
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

const get = (token: string, query?: Record<string, string>) => invoke(handler, httpEvent({ method: 'GET', path: `/a/${token}`, pathParameters: { token }, ...(query ? { query } : {}) }), 'action');
/** As a browser's sendBeacon() without data sends it: POST, no body, no content type. */
const opened = (token: string, opts: { body?: string; method?: 'GET' | 'POST'; query?: Record<string, string> } = {}) =>
  invoke(
    handler,
    httpEvent({
      method: opts.method ?? 'POST',
      path: `/a/${token}/opened`,
      pathParameters: { token },
      ...(opts.body !== undefined ? { body: opts.body, base64: true, headers: { 'content-type': 'text/plain;charset=UTF-8' } } : {}),
      ...(opts.query ? { query: opts.query } : {}),
    }),
    'action',
  );
const post = (token: string, body: string) =>
  invoke(handler, httpEvent({ method: 'POST', path: `/a/${token}`, pathParameters: { token }, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, base64: true }), 'action');

const published = () => env.bridge.publishedEvents().length;

async function alertItem(owner: AlertOwner, alertId: string): Promise<Record<string, unknown> | undefined> {
  return (await db().send(new GetCommand({ TableName: tableName(), Key: key.alert(owner, alertId), ConsistentRead: true }))).Item;
}

/** A link alert as the alert function records it (sent, delivered by email), and one token per message. */
async function linkAlert() {
  const { accountId, customerId } = await seedAccount();
  const linkId = await seedLink(accountId, customerId);
  const actions = [{ kind: 'FREEZE_ACCOUNT' as const }, { kind: 'REVOKE_LINK' as const, linkId }, { kind: 'CONFIRM_LINK' as const, linkId }];
  const email = await issue(accountId, customerId, actions);
  const sms = await issue(accountId, customerId, actions, { alertId: email.alertId });
  const sentAt = new Date(Date.now() - 60_000).toISOString();
  const alert: AlertRecord = {
    alertId: email.alertId,
    sourceEventId: `evt-${email.alertId}`,
    sourceEventType: 'LinkCreated',
    accountId,
    customerId,
    tokenAccountId: accountId,
    actions,
    locale: 'ja',
    content: { kind: 'LINK_CREATED', occurredAt: sentAt, accountLast4: '1234', providerName: 'D-Wallet', linkType: 'EPAY' },
    occurredAt: sentAt,
    createdAt: sentAt,
    sentAt,
    deliveries: {
      'EMAIL#r1': { channel: 'EMAIL', recipientRef: 'r1', recipient: `${customerId}@example.jp`, role: 'PROFILE', status: 'DELIVERED', sentAt, updatedAt: new Date(Date.now() - 50_000).toISOString() },
    },
  };
  await recordAlert(alert);
  return { accountId, customerId, linkId, alertId: email.alertId, email, sms, sentAt };
}

describe('POST /a/{token}/opened', () => {
  it('records openedAt once on the alert and nothing else; a repeat, the other message or a burst change nothing', async () => {
    const a = await linkAlert();
    const events = published();
    const before = await scanTable();
    const first = await opened(a.email.token);
    expect(first.statusCode).toBe(204);
    expect(first.body).toBe('');
    expect(first.headers['cache-control']).toBe('no-store');
    const after = await scanTable();
    // Exactly one item changed, the alert, and only by its new openedAt.
    const alertKey = key.alert({ accountId: a.accountId, customerId: a.customerId }, a.alertId);
    expect(changedKeys(before.items, after.items)).toEqual([`${alertKey.pk} ${alertKey.sk}`]);
    const was = before.items.find((i) => i.pk === alertKey.pk && i.sk === alertKey.sk)!;
    const now = after.items.find((i) => i.pk === alertKey.pk && i.sk === alertKey.sk)!;
    const { openedAt, ...rest } = now;
    expect(rest).toEqual(was);
    expect(Date.parse(String(openedAt))).toBeGreaterThan(Date.now() - 60_000);
    // No token used, no audit entry, no event.
    expect((await readToken(a.email.record.tokenHash))?.used).toEqual({});
    expect(published()).toBe(events);

    // Repeats: the same page again, the SMS's page, several at once: 204 each, the table unchanged.
    expect((await opened(a.email.token)).statusCode).toBe(204);
    expect((await opened(a.sms.token, { query: { lang: 'en' } })).statusCode).toBe(204);
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => opened(i % 2 ? a.email.token : a.sms.token)));
    expect(burst.map((r) => r.statusCode)).toEqual(Array(8).fill(204));
    expect((await scanTable()).text).toBe(after.text);
    expect(published()).toBe(events);
  });

  it('spends no action: the page still offers everything and the freeze still works, once', async () => {
    const a = await linkAlert();
    await opened(a.sms.token);
    const page = await get(a.sms.token);
    expect(page.body.match(/<form method="post"/g)).toHaveLength(3);
    const res = await post(a.sms.token, formBody(formFields(page.body, 'FREEZE_ACCOUNT')!));
    expect(res.statusCode).toBe(200);
    expect((await getAccount(a.accountId))?.state).toBe('FROZEN');
    // After the freeze, opening is still only the alert's first openedAt.
    const openedAt = (await alertItem({ accountId: a.accountId, customerId: a.customerId }, a.alertId))?.openedAt;
    expect((await opened(a.email.token)).statusCode).toBe(204);
    expect((await alertItem({ accountId: a.accountId, customerId: a.customerId }, a.alertId))?.openedAt).toBe(openedAt);
  });

  it('bad, unknown and expired tokens get the same answer as GET of the page, and nothing is written', async () => {
    const a = await linkAlert();
    const expired = await issue(a.accountId, a.customerId, [{ kind: 'FREEZE_ACCOUNT' }], { alertId: a.alertId, ttlDays: 1, now: new Date(Date.now() - 2 * 86_400_000) });
    const events = published();
    const before = await scanTable();
    const cases: [string, number][] = [
      ['AAAA', 404], // malformed: refused before any lookup
      [`${a.email.token}x`, 404],
      ['%2e%2e%2f', 404],
      [generateToken(), 404], // well-formed, unknown
      [a.email.token.slice(0, 21) + (a.email.token[21] === 'A' ? 'B' : 'A'), 404], // one character off a real one
      [expired.token, 410],
    ];
    for (const [token, status] of cases) {
      const beacon = await opened(token);
      const page = await get(token);
      expect(page.statusCode, token).toBe(status);
      expect(beacon.statusCode, token).toBe(status);
      expect(beacon.body, token).toBe(page.body);
      expect(beacon.headers['content-type']).toBe('text/html; charset=utf-8');
    }
    // A large body, and any method but POST, are refused before the token is looked up.
    const big = await opened(a.email.token, { body: 'x'.repeat(4096) });
    expect(big.statusCode).toBe(413);
    const viaGet = await opened(a.email.token, { method: 'GET' });
    expect(viaGet.statusCode).toBe(405);
    expect(viaGet.headers.allow).toBe('POST');
    // The passkey calls' path is not a beacon, even ending in "opened".
    const passkey = await invoke(handler, httpEvent({ method: 'POST', path: `/a/${a.email.token}/passkey/opened`, pathParameters: { token: a.email.token, op: 'opened' }, headers: { 'content-type': 'application/json' }, body: '{}' }), 'action');
    expect(passkey.statusCode).toBe(404);
    const after = await scanTable();
    expect(changedKeys(before.items, after.items)).toEqual([]);
    expect(after.text).toBe(before.text);
    expect(published()).toBe(events);
    // A small body is ignored: the beacon still counts.
    expect((await opened(a.email.token, { body: 'hello' })).statusCode).toBe(204);
    expect((await alertItem({ accountId: a.accountId, customerId: a.customerId }, a.alertId))?.openedAt).toBeDefined();
  });

  it('1,000 distinct mutations of real tokens (whose alerts exist and were never opened): every one 404, nothing written; the real ones record', async () => {
    const alerts = [await linkAlert(), await linkAlert()];
    const real = alerts.flatMap((a) => [a.email.token, a.sms.token]);
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const mutation = fc
      .record({ t: fc.constantFrom(...real), at: fc.array(fc.tuple(fc.nat({ max: 21 }), fc.constantFrom(...ALPHABET.split(''))), { minLength: 1, maxLength: 4 }), swap: fc.nat({ max: 20 }), kind: fc.constantFrom('replace', 'swap', 'case') })
      .map(({ t, at, swap, kind }) => {
        const c = [...t];
        if (kind === 'replace') for (const [i, ch] of at) c[i] = ch;
        else if (kind === 'swap') [c[swap], c[swap + 1]] = [c[swap + 1]!, c[swap]!];
        else c[swap] = c[swap]!.toUpperCase() === c[swap] ? c[swap]!.toLowerCase() : c[swap]!.toUpperCase();
        return c.join('');
      })
      .filter((m) => isWellFormedToken(m) && !real.includes(m));
    const candidates = new Set<string>();
    for (let seed = 1; candidates.size < 1_000; seed++) for (const m of fc.sample(mutation, { numRuns: 1_000, seed })) if (candidates.size < 1_000) candidates.add(m);
    const events = published();
    const before = await scanTable();
    const list = [...candidates];
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => { while (next < list.length) statuses.push((await opened(list[next++]!)).statusCode); }));
    expect(statuses.filter((x) => x !== 404)).toEqual([]);
    expect(statuses).toHaveLength(1_000);
    expect((await scanTable()).text).toBe(before.text);
    expect(published()).toBe(events);
    // Positive control: the real tokens do record (once per alert).
    for (const t of real) expect((await opened(t)).statusCode).toBe(204);
    expect(changedKeys(before.items, (await scanTable()).items)).toHaveLength(2);
  }, 120_000);

  it('writes nothing for a token without an alert record (a campaign\'s), and finds a contact-change alert under the customer', async () => {
    const { accountId, customerId } = await seedAccount();
    const campaign = await issue(accountId, customerId, [{ kind: 'FREEZE_ACCOUNT' }], { alertId: 'campaign-test' });
    const before = await scanTable();
    expect((await opened(campaign.token)).statusCode).toBe(204);
    expect((await scanTable()).text).toBe(before.text);

    const t = await issue(accountId, customerId, [{ kind: 'FREEZE_ACCOUNT' }]);
    await recordAlert({
      alertId: t.alertId,
      sourceEventId: `evt-${t.alertId}`,
      sourceEventType: 'ContactChanged',
      customerId,
      tokenAccountId: accountId,
      actions: [{ kind: 'FREEZE_ACCOUNT' }],
      locale: 'ja',
      content: { kind: 'CONTACT_CHANGED', occurredAt: new Date().toISOString(), accountLast4: '1234', emailChanged: true, phoneChanged: false, otherAccounts: false },
      occurredAt: new Date().toISOString(),
      createdAt: new Date().toISOString(),
      deliveries: {},
    });
    expect((await opened(t.token)).statusCode).toBe(204);
    expect((await alertItem({ customerId }, t.alertId))?.openedAt).toBeDefined();
    expect(await alertItem({ accountId, customerId }, t.alertId)).toBeUndefined();
  });
});

describe('GET of the page', () => {
  it('carries the beacon inline, allowed by its hash alone, and still writes nothing (GET, HEAD, both languages)', async () => {
    const a = await linkAlert();
    const before = await scanTable();
    const page = await get(a.email.token);
    expect(page.statusCode).toBe(200);
    const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]![1]).toBe(` data-opened="${a.email.token}/opened"`);
    expect(scripts[0]![2]).toBe(OPENED_SCRIPT);
    const csp = page.headers['content-security-policy']!;
    expect(csp).toContain(`script-src 'sha256-${OPENED_SCRIPT_HASH}'; connect-src 'self'`);
    expect(csp).not.toMatch(/unsafe-inline|script-src[^;]*'self'/);
    // The forms still post without any script (the page works without JavaScript).
    expect(formFields(page.body, 'FREEZE_ACCOUNT')).toBeDefined();
    await get(a.email.token, { lang: 'en' });
    await get(a.sms.token);
    const head = httpEvent({ method: 'GET', path: `/a/${a.email.token}`, pathParameters: { token: a.email.token } });
    head.requestContext.http.method = 'HEAD';
    expect((await invoke(handler, head, 'action')).statusCode).toBeLessThan(500);
    expect((await scanTable()).text).toBe(before.text);
  });
});

describe('the reimbursement case\'s timeline', () => {
  const revokedEvent = (linkId: string): LinkRevoked => {
    const e = env.bridge.publishedEvents().find((x) => x.detailType === 'LinkRevoked' && (x.detail as { linkId: string }).linkId === linkId);
    expect(e).toBeDefined();
    return e!.detail as LinkRevoked;
  };

  it('a case opened after the page was opened has its openedAt; the case item keeps it', async () => {
    const a = await linkAlert();
    expect((await opened(a.email.token)).statusCode).toBe(204);
    const openedAt = String((await alertItem({ accountId: a.accountId, customerId: a.customerId }, a.alertId))?.openedAt);
    // "Not me" on the page.
    const page = await get(a.email.token);
    expect((await post(a.email.token, formBody(formFields(page.body, `REVOKE_LINK:${a.linkId}`)!))).statusCode).toBe(200);
    const r = revokedEvent(a.linkId);
    expect(await openCase(r)).toMatchObject({ opened: true });
    const c = await getCase(a.accountId, a.linkId);
    expect(c?.timeline).toMatchObject({ alertId: a.alertId, sentAt: a.sentAt, openedAt, actedAt: r.at, actedBy: 'CUSTOMER_WEB' });
    expect(c!.timeline.deliveredAt).toBeDefined();
    expect(openedAt <= r.at).toBe(true);
    // Kept with the case when it opened, not only read from the alert.
    const stored = (await db().send(new GetCommand({ TableName: tableName(), Key: { pk: 'CASES', sk: `CASE#${a.accountId}#${a.linkId}` }, ConsistentRead: true }))).Item;
    expect((stored?.timeline as { openedAt?: string }).openedAt).toBe(openedAt);
    expect((await listCases()).find((x) => x.caseId === c!.caseId)?.timeline.openedAt).toBe(openedAt);
  });

  it('a case opened from a reply (no page) has none; opening the page later shows on the next read without rewriting the case', async () => {
    const a = await linkAlert();
    await revokeLink(a.accountId, a.linkId, { actor: 'CUSTOMER_SMS_REPLY', alertId: a.alertId });
    expect(await openCase(revokedEvent(a.linkId))).toMatchObject({ opened: true });
    const c = await getCase(a.accountId, a.linkId);
    expect(c?.timeline).toMatchObject({ alertId: a.alertId, sentAt: a.sentAt, actedBy: 'CUSTOMER_SMS_REPLY' });
    expect(c?.timeline.openedAt).toBeUndefined();
    expect((await listCases()).find((x) => x.caseId === c!.caseId)?.timeline.openedAt).toBeUndefined();

    // Later the customer opens the link: the case, read again, shows when (after it was acted on).
    const caseKey = { pk: 'CASES', sk: `CASE#${a.accountId}#${a.linkId}` };
    const stored = JSON.stringify((await db().send(new GetCommand({ TableName: tableName(), Key: caseKey, ConsistentRead: true }))).Item);
    expect((await opened(a.sms.token)).statusCode).toBe(204);
    const later = await getCase(a.accountId, a.linkId);
    expect(later?.timeline.openedAt).toBeDefined();
    expect(later!.timeline.openedAt! >= later!.timeline.actedAt).toBe(true);
    expect((await listCases()).find((x) => x.caseId === c!.caseId)?.timeline.openedAt).toBe(later!.timeline.openedAt);
    expect(JSON.stringify((await db().send(new GetCommand({ TableName: tableName(), Key: caseKey, ConsistentRead: true }))).Item)).toBe(stored);
  });
});
