/**
 * "It was me" is never one tap: the 6-digit code to the customer's other channel, through the real
 * action handler, against DynamoDB Local and the local SES / SMS outbox (codes really go out and
 * are read back from there). Wrong, expired, reused, another alert's, too many wrong tries, a
 * frozen account: refused, nothing released. Freeze and revoke stay one tap throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../src/store/db.ts';
import { key } from '../src/store/table.ts';
import { getAccount } from '../src/store/customers.ts';
import { getLink } from '../src/store/links.ts';
import { listAudit } from '../src/store/audit.ts';
import { smsSize } from '../src/domain/messages/index.ts';
import { codeEmail, codeSms } from '../src/stepup/messages.ts';
import { formFields, readToken, uniq } from './action-support.ts';
import { openAppHold } from '../src/holds/allowance-store.ts';
import { issueToken } from '../src/store/tokens.ts';
import { TEST_PEPPER } from './support/env.ts';
import { lastEmailCode, lastSmsCode, linkAlertToken, page, seedCustomer, seedPendingLink, setupStepUpEnv, type StepUpEnv } from './stepup-support.ts';

let env: StepUpEnv;
beforeAll(async () => {
  env = await setupStepUpEnv();
});
afterAll(async () => {
  await env.peers.stop();
});

const challengeKey = (accountId: string, alertId: string, linkId: string) => ({ pk: key.account(accountId).pk, sk: `STEPUP#${alertId}#CONFIRM_LINK:${linkId}` });
async function challenge(accountId: string, alertId: string, linkId: string) {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: challengeKey(accountId, alertId, linkId), ConsistentRead: true }));
  return out.Item;
}
const smsTo = (phone: string) => env.peers.smsMessages().filter((m) => m.phoneNumber === phone);
const codeMailsTo = async (address: string) => (await env.peers.emails()).filter((m) => m.to.includes(address) && /確認コード|confirmation code/.test(m.subject));
/** Moves the last send back in time, so the resend delay has passed (the clock, not a sleep). */
async function ageLastSend(accountId: string, alertId: string, linkId: string, extra: Record<string, string> = {}) {
  const sets = ['sentAt = :old', ...Object.keys(extra).map((k, i) => `${k} = :x${i}`)];
  const values: Record<string, string> = { ':old': new Date(Date.now() - 5 * 60_000).toISOString() };
  Object.values(extra).forEach((v, i) => (values[`:x${i}`] = v));
  await db().send(new UpdateCommand({ TableName: tableName(), Key: challengeKey(accountId, alertId, linkId), UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeValues: values }));
}
const pending = async (accountId: string, linkId: string) => (await getLink(accountId, linkId))?.state;
const wrongOf = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('the step-up of "it was me"', () => {
  it('opened from the email: "it was me" only shows where the code will go; the code goes by SMS; typed, it confirms in one transaction with the code spent', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);

    // The old one-tap POST now changes nothing and sends nothing: it shows the step-up.
    const shown = await p.post(await p.confirmFields(linkId));
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain('ご本人の確認');
    expect(shown.body).toContain(`...${c.phone!.slice(-4)}`);
    expect(smsTo(c.phone!)).toHaveLength(0);
    expect(await challenge(c.accountId, t.alertId, linkId)).toBeUndefined();
    expect(await pending(c.accountId, linkId)).toBe('PENDING');
    // The page keeps freeze and revoke one tap away, and loads no script without passkeys.
    expect(formFields(shown.body, 'FREEZE_ACCOUNT')).toBeDefined();
    expect(formFields(shown.body, `REVOKE_LINK:${linkId}`)).toBeDefined();
    expect(shown.body).not.toMatch(/<script/i);

    const sent = await p.sendCode(linkId);
    expect(sent.statusCode).toBe(200);
    expect(sent.body).toMatch(/name="code"[^>]*autocomplete="one-time-code"/);
    const code = lastSmsCode(env.peers, c.phone!);
    expect(code).toMatch(/^\d{6}$/);
    expect(await codeMailsTo(c.email!)).toHaveLength(0);
    const stored = await challenge(c.accountId, t.alertId, linkId);
    expect(stored).toMatchObject({ channel: 'SMS', sends: 1, failures: 0 });
    // Only a hash is kept.
    expect(JSON.stringify(stored)).not.toContain(code!);
    expect((await listAudit(c.accountId)).map((a) => [a.action, a.channel])).toEqual([['sendStepUpCode', 'SMS']]);

    const done = await p.typeCode(linkId, code!);
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('連携を有効にしました');
    expect(await pending(c.accountId, linkId)).toBe('ACTIVE');
    const audit = await listAudit(c.accountId);
    expect(audit.map((a) => [a.action, a.newState, a.stepUp])).toEqual([
      ['sendStepUpCode', 'CODE_SENT', undefined],
      ['confirmLink', 'ACTIVE', 'CODE'],
    ]);
    expect(await challenge(c.accountId, t.alertId, linkId)).toHaveProperty('consumedAt');
    expect((await readToken(t.record.tokenHash))?.used).toHaveProperty(`CONFIRM_LINK:${linkId}`);
    expect(env.peers.publishedEvents().filter((e) => e.detailType === 'LinkConfirmed' && (e.detail as { linkId?: string }).linkId === linkId)).toHaveLength(1);
  });

  it('opened from the SMS: the code goes by email', async () => {
    const c = await seedCustomer({ locale: 'en' });
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'SMS');
    const p = page(env, t.token);
    const sent = await p.sendCode(linkId);
    expect(sent.statusCode).toBe(200);
    expect(sent.body).toContain('We sent a code by email');
    expect(smsTo(c.phone!)).toHaveLength(0);
    const code = await lastEmailCode(env.peers, c.email!);
    expect(code).toMatch(/^\d{6}$/);
    expect((await p.typeCode(linkId, code!)).statusCode).toBe(200);
    expect(await pending(c.accountId, linkId)).toBe('ACTIVE');
  });

  it('one channel only: the code goes to the same one, and the page says so plainly', async () => {
    const c = await seedCustomer({ phone: false });
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);
    const shown = await p.post(await p.confirmFields(linkId));
    expect(shown.body).toContain('id="same-channel"');
    expect(shown.body).toContain('お知らせと同じ宛先にコードをお送りします');
    await p.sendCode(linkId);
    expect(await lastEmailCode(env.peers, c.email!)).toMatch(/^\d{6}$/);
  });

  it('GET never sends a code or changes anything, whatever its query', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const { invoke, httpEvent } = await import('./action-support.ts');
    const queries: Record<string, string>[] = [{}, { step: 'send' }, { step: 'verify', code: '123456', action: `CONFIRM_LINK:${linkId}` }];
    for (const query of queries) {
      const res = await invoke(env.handler, httpEvent({ method: 'GET', path: `/a/${t.token}`, pathParameters: { token: t.token }, query }), 'action');
      expect(res.statusCode).toBe(200);
    }
    expect(smsTo(c.phone!)).toHaveLength(0);
    expect(await challenge(c.accountId, t.alertId, linkId)).toBeUndefined();
    expect(await listAudit(c.accountId)).toEqual([]);
  });

  it('a wrong code is refused and counted; the right one still works afterwards', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);
    await p.sendCode(linkId);
    const code = lastSmsCode(env.peers, c.phone!)!;
    const wrong = await p.typeCode(linkId, wrongOf(code));
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).toContain('あと 4 回');
    expect(await pending(c.accountId, linkId)).toBe('PENDING');
    expect(await challenge(c.accountId, t.alertId, linkId)).toMatchObject({ failures: 1 });
    // Not a code at all (letters, too short): refused, and not counted as a try.
    for (const junk of ['', '12345', 'abcdef', '1234567']) expect((await p.typeCode(linkId, junk)).statusCode).toBe(400);
    expect(await challenge(c.accountId, t.alertId, linkId)).toMatchObject({ failures: 1 });
    // Full-width digits are the same code.
    const fullWidth = code.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
    expect((await p.typeCode(linkId, fullWidth)).statusCode).toBe(200);
    expect(await pending(c.accountId, linkId)).toBe('ACTIVE');
  });

  it('an expired code is refused, nothing released, no try counted', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);
    await p.sendCode(linkId);
    const code = lastSmsCode(env.peers, c.phone!)!;
    // Ten minutes later, as far as the code knows.
    await ageLastSend(c.accountId, t.alertId, linkId, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    const res = await p.typeCode(linkId, code);
    expect(res.statusCode).toBe(410);
    expect(await pending(c.accountId, linkId)).toBe('PENDING');
    expect(await challenge(c.accountId, t.alertId, linkId)).toMatchObject({ failures: 0 });
    expect(await challenge(c.accountId, t.alertId, linkId)).not.toHaveProperty('consumedAt');
  });

  it('a code is spent once: two concurrent submissions make one confirmation; a later reuse is refused', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);
    await p.sendCode(linkId);
    const code = lastSmsCode(env.peers, c.phone!)!;
    const fields = await p.confirmFields(linkId);
    const both = await Promise.all([p.post({ ...fields, step: 'verify', code }), p.post({ ...fields, step: 'verify', code })]);
    expect(both.map((r) => r.statusCode)).toEqual([200, 200]);
    expect((await listAudit(c.accountId)).filter((a) => a.action === 'confirmLink')).toHaveLength(1);
    // Long after (past the double-tap grace): the same code again is refused.
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key.token(t.record.tokenHash),
        UpdateExpression: 'SET #u.#k = :old',
        ExpressionAttributeNames: { '#u': 'used', '#k': `CONFIRM_LINK:${linkId}` },
        ExpressionAttributeValues: { ':old': new Date(Date.now() - 3_600_000).toISOString() },
      }),
    );
    expect((await p.post({ ...fields, step: 'verify', code })).statusCode).toBe(409);
    expect((await listAudit(c.accountId)).filter((a) => a.action === 'confirmLink')).toHaveLength(1);
  });

  it("another alert's code is wrong here (and counted), and releases nothing", async () => {
    const c = await seedCustomer();
    const linkA = await seedPendingLink(c, 'A-Pay');
    const linkB = await seedPendingLink(c, 'B-Pay');
    const a = await linkAlertToken(c, linkA, 'EMAIL');
    const b = await linkAlertToken(c, linkB, 'EMAIL');
    await page(env, a.token).sendCode(linkA);
    const codeA = lastSmsCode(env.peers, c.phone!)!;
    await page(env, b.token).sendCode(linkB);
    const codeB = lastSmsCode(env.peers, c.phone!)!;
    expect(codeB).not.toBe(codeA);
    const res = await page(env, b.token).typeCode(linkB, codeA);
    expect(res.statusCode).toBe(403);
    expect(await pending(c.accountId, linkB)).toBe('PENDING');
    expect(await pending(c.accountId, linkA)).toBe('PENDING');
    expect(await challenge(c.accountId, b.alertId, linkB)).toMatchObject({ failures: 1 });
    // A's code on A's page still works; B is still held.
    expect((await page(env, a.token).typeCode(linkA, codeA)).statusCode).toBe(200);
    expect(await pending(c.accountId, linkA)).toBe('ACTIVE');
    expect(await pending(c.accountId, linkB)).toBe('PENDING');
  });

  it('6 wrong tries: the 5th locks that confirmation; then even the right code is refused and no new code is sent; freeze and revoke still work', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);
    await p.sendCode(linkId);
    const code = lastSmsCode(env.peers, c.phone!)!;
    const statuses: number[] = [];
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await p.typeCode(linkId, i === 5 ? code : wrongOf(code));
      statuses.push(r.statusCode);
      bodies.push(r.body);
    }
    expect(statuses).toEqual([403, 403, 403, 403, 423, 423]);
    expect(bodies.slice(0, 4).map((b) => /あと (\d) 回/.exec(b)?.[1])).toEqual(['4', '3', '2', '1']);
    expect(await pending(c.accountId, linkId)).toBe('PENDING');
    expect(await challenge(c.accountId, t.alertId, linkId)).toMatchObject({ failures: 5, lockedAt: expect.any(String) });
    expect((await listAudit(c.accountId)).map((a) => a.action)).toEqual([
      'sendStepUpCode',
      'rejectStepUpCode',
      'rejectStepUpCode',
      'rejectStepUpCode',
      'rejectStepUpCode',
      'lockStepUp',
    ]);
    // No new code either, however it is asked.
    const before = smsTo(c.phone!).length;
    await ageLastSend(c.accountId, t.alertId, linkId);
    expect((await p.sendCode(linkId)).statusCode).toBe(423);
    expect(smsTo(c.phone!)).toHaveLength(before);
    // The locked page keeps both protective buttons, and they work.
    const locked = bodies[5]!;
    const revoke = formFields(locked, `REVOKE_LINK:${linkId}`)!;
    const freeze = formFields(locked, 'FREEZE_ACCOUNT')!;
    expect((await p.post(revoke)).statusCode).toBe(200);
    expect(await pending(c.accountId, linkId)).toBe('REVOKED');
    expect((await p.post(freeze)).statusCode).toBe(200);
    expect((await getAccount(c.accountId))?.state).toBe('FROZEN');
  });

  it('a code for a frozen account is refused: nothing released, the code not spent', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);
    const fields = await p.confirmFields(linkId);
    await p.sendCode(linkId);
    const code = lastSmsCode(env.peers, c.phone!)!;
    // Frozen from another alert (or by a reply) meanwhile.
    const other = await linkAlertToken(c, linkId, 'SMS');
    const freeze = formFields((await page(env, other.token).get()).body, 'FREEZE_ACCOUNT')!;
    expect((await page(env, other.token).post(freeze)).statusCode).toBe(200);
    const res = await p.post({ ...fields, step: 'verify', code });
    expect(res.statusCode).toBe(409);
    expect(await pending(c.accountId, linkId)).toBe('PENDING');
    expect(await challenge(c.accountId, t.alertId, linkId)).not.toHaveProperty('consumedAt');
    expect((await listAudit(c.accountId)).map((a) => a.action)).not.toContain('confirmLink');
    // And no new code is sent for it.
    const n = smsTo(c.phone!).length;
    expect((await p.post({ ...fields, step: 'send' })).statusCode).toBe(409);
    expect(smsTo(c.phone!)).toHaveLength(n);
  });

  it('requesting codes is limited: one a minute per confirmation, three per confirmation, six an hour per customer', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);
    expect((await p.sendCode(linkId)).statusCode).toBe(200);
    const again = await p.sendCode(linkId);
    expect(again.statusCode).toBe(429);
    expect(again.headers['retry-after']).toBeDefined();
    expect(smsTo(c.phone!)).toHaveLength(1);
    await ageLastSend(c.accountId, t.alertId, linkId);
    expect((await p.sendCode(linkId)).statusCode).toBe(200);
    await ageLastSend(c.accountId, t.alertId, linkId);
    expect((await p.sendCode(linkId)).statusCode).toBe(200);
    await ageLastSend(c.accountId, t.alertId, linkId);
    expect((await p.sendCode(linkId)).statusCode).toBe(429);
    expect(smsTo(c.phone!)).toHaveLength(3);
    // Across alerts: the customer's hourly cap (6) holds, whatever the number of alerts.
    for (let i = 0; i < 4; i++) {
      const l = await seedPendingLink(c);
      const x = await linkAlertToken(c, l, 'EMAIL');
      await page(env, x.token).sendCode(l);
    }
    expect(smsTo(c.phone!)).toHaveLength(6);
    const audits = (await listAudit(c.accountId)).filter((a) => a.action === 'sendStepUpCode');
    expect(audits).toHaveLength(6);
  });

  it('a cardless-ATM app\'s "it was me" needs the code too; "deactivate" stays one tap on the step-up page', async () => {
    const c = await seedCustomer();
    const activationId = uniq('evt-app');
    const now = new Date();
    await openAppHold(
      { eventId: activationId, occurredAt: now.toISOString(), accountId: c.accountId, appId: 'cardless-atm', appName: 'Cardless ATM', deviceName: 'iPhone 15' },
      new Date(now.getTime() + 24 * 3_600_000).toISOString(),
    );
    const { token } = await issueToken(
      {
        accountId: c.accountId,
        customerId: c.customerId,
        alertId: uniq('al'),
        actions: [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'DEACTIVATE_APP', activationId }, { kind: 'CONFIRM_APP', activationId }],
        channel: 'EMAIL',
      },
      { pepper: TEST_PEPPER, ttlDays: 7 },
    );
    const p = page(env, token);
    const key = `CONFIRM_APP:${activationId}`;
    const fields = formFields((await p.get()).body, key)!;
    const shown = await p.post(fields);
    expect(shown.body).toContain('アプリ「Cardless ATM」');
    expect(formFields(shown.body, `DEACTIVATE_APP:${activationId}`)).toBeDefined();
    const appState = async () => (await getAccount(c.accountId))?.apps?.[activationId]?.state;
    expect(await appState()).toBe('PENDING');
    await p.post({ ...fields, step: 'send' });
    const code = lastSmsCode(env.peers, c.phone!)!;
    expect((await p.post({ ...fields, step: 'verify', code: wrongOf(code) })).statusCode).toBe(403);
    expect(await appState()).toBe('PENDING');
    expect((await p.post({ ...fields, step: 'verify', code })).statusCode).toBe(200);
    expect(await appState()).not.toBe('PENDING');
    const audit = await listAudit(c.accountId);
    expect(audit.filter((a) => a.stepUp === 'CODE').map((a) => a.target)).toEqual([`APP#${activationId}`]);
    expect(audit.filter((a) => a.action === 'sendStepUpCode').map((a) => a.target)).toEqual([`APP#${activationId}`]);
  });

  it('a hand-made POST cannot skip the step-up: a code without the page form, or a step on a protective action, is refused', async () => {
    const c = await seedCustomer();
    const linkId = await seedPendingLink(c);
    const t = await linkAlertToken(c, linkId, 'EMAIL');
    const p = page(env, t.token);
    const fields = await p.confirmFields(linkId);
    expect((await p.post({ ...fields, code: '123456' })).statusCode).toBe(400);
    expect((await p.post({ ...fields, step: 'skip' })).statusCode).toBe(400);
    expect((await p.post({ ...fields, step: 'verify' })).statusCode).toBe(400);
    const freeze = formFields((await p.get()).body, 'FREEZE_ACCOUNT')!;
    expect((await p.post({ ...freeze, step: 'send' })).statusCode).toBe(400);
    expect(await pending(c.accountId, linkId)).toBe('PENDING');
    expect((await getAccount(c.accountId))?.state).toBe('ACTIVE');
    expect(smsTo(c.phone!)).toHaveLength(0);
  });
});

describe('the code messages', () => {
  it('carry the code, fit the SMS size, and never ask for a password, PIN or card number, nor carry a link', () => {
    const ja = codeSms('ja', '012345', 10);
    const en = codeSms('en', '012345', 10);
    expect(ja).toContain('012345');
    expect(smsSize(ja)).toMatchObject({ encoding: 'UCS-2' });
    expect(smsSize(ja).segments).toBeLessThanOrEqual(2);
    expect(smsSize(en)).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    const mail = codeEmail('ja', '012345', 10);
    for (const text of [ja, en, mail.text, mail.html, codeEmail('en', '012345', 10).text]) {
      expect(text).not.toMatch(/https?:\/\//);
      expect(text).not.toMatch(/暗証番号|パスワード|カード番号|password|\bPIN\b|card number/i);
    }
  });
});
