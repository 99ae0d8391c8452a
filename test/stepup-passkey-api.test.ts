/**
 * The passkey calls of the action page (POST /a/{token}/passkey/{op}, JSON) through the real
 * action handler against DynamoDB Local: bad input is a 400 naming the field; a call without the
 * page's check, for an action not offered, with a forged assertion, or a registration without a
 * fresh code confirmation from this browser is refused; nothing is released or stored. The
 * script is served from the same origin, never inline. (The full ceremony with a real
 * authenticator: test/browser-passkey.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLink } from '../src/store/links.ts';
import { listAudit } from '../src/store/audit.ts';
import { listPasskeys } from '../src/stepup/store.ts';
import { httpEvent, invoke, snapshot } from './action-support.ts';
import { linkAlertToken, page, seedCustomer, seedPendingLink, setupStepUpEnv, lastSmsCode, type StepUpEnv } from './stepup-support.ts';

let env: StepUpEnv;
beforeAll(async () => {
  env = await setupStepUpEnv({ ACTION_BASE_URL: 'http://localhost:3999/a/' });
});
afterAll(async () => {
  await env.peers.stop();
});

const call = (token: string, op: string, body: unknown, contentType = 'application/json') =>
  invoke(
    env.handler,
    httpEvent({
      method: 'POST',
      path: `/a/${token}/passkey/${op}`,
      pathParameters: { token, op },
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    'action',
  );

async function scenario() {
  const c = await seedCustomer();
  const linkId = await seedPendingLink(c);
  const t = await linkAlertToken(c, linkId, 'EMAIL');
  const fields = await page(env, t.token).confirmFields(linkId);
  return { c, linkId, t, fields };
}

describe('the passkey calls', () => {
  it('serves the page script from the same origin, identical for every token, without touching the table', async () => {
    const res = await invoke(env.handler, httpEvent({ method: 'GET', path: '/a/AAAAAAAAAAAAAAAAAAAAAA/passkey.js', pathParameters: { token: 'AAAAAAAAAAAAAAAAAAAAAA' } }), 'action');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.body).toContain('navigator.credentials');
  });

  it('bad input gets a 400 naming the field and changes nothing', async () => {
    const { c, t, fields } = await scenario();
    const before = await snapshot(c.accountId, [t.record.tokenHash]);
    const cases: [string, unknown, string, number, string][] = [
      ['auth-options', 'not json', 'application/json', 400, 'body'],
      ['auth-options', { ...fields, extra: 1 }, 'application/json', 400, 'extra'],
      ['auth-options', { check: fields.check }, 'application/json', 400, 'action'],
      ['auth-options', { ...fields, response: {} }, 'application/json', 400, 'response'],
      ['auth-verify', fields, 'application/json', 400, 'response'],
      ['register-options', fields, 'application/json', 400, 'secret'],
      ['auth-options', fields, 'application/x-www-form-urlencoded', 415, 'content-type'],
      ['auth-options', { ...fields, check: 'x'.repeat(22) }, 'application/json', 400, 'check'],
      ['do-something', fields, 'application/json', 404, 'op'],
    ];
    for (const [op, body, type, status, field] of cases) {
      const res = await call(t.token, op, body, type);
      expect([op, res.statusCode]).toEqual([op, status]);
      expect(JSON.parse(res.body)).toMatchObject({ ok: false, field });
    }
    expect(await snapshot(c.accountId, [t.record.tokenHash])).toBe(before);
  });

  it('a customer without a passkey gets no options; a forged assertion releases nothing', async () => {
    const { c, linkId, t, fields } = await scenario();
    expect(JSON.parse((await call(t.token, 'auth-options', fields)).body)).toMatchObject({ ok: false, error: 'NO_PASSKEY' });
    const forged = { id: 'Zm9yZ2Vk', rawId: 'Zm9yZ2Vk', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' } };
    const res = await call(t.token, 'auth-verify', { ...fields, response: forged });
    expect(res.statusCode).toBe(403);
    expect((await getLink(c.accountId, linkId))?.state).toBe('PENDING');
    expect(await listAudit(c.accountId)).toEqual([]);
  });

  it('registering needs this browser\'s fresh code confirmation: without it, or with a made-up secret, nothing is stored', async () => {
    const { c, linkId, t, fields } = await scenario();
    // Before any confirmation.
    expect((await call(t.token, 'register-options', { ...fields, secret: 'A'.repeat(24) })).statusCode).toBe(409);
    // After a code confirmation, someone else with the link (no secret from the done page) cannot.
    const p = page(env, t.token);
    await p.sendCode(linkId);
    const done = await p.typeCode(linkId, lastSmsCode(env.peers, c.phone!)!);
    expect(done.statusCode).toBe(200);
    const secret = /data-secret="([^"]+)"/.exec(done.body)?.[1];
    expect(secret).toBeDefined();
    expect(done.headers['content-security-policy']).toContain("script-src 'self'");
    expect(done.body).not.toMatch(/<script>|<script [^>]*>[^<]/);
    expect((await call(t.token, 'register-options', { ...fields, secret: 'B'.repeat(24) })).statusCode).toBe(403);
    // The real secret gets options (the ceremony itself needs an authenticator: the browser test).
    const ok = await call(t.token, 'register-options', { ...fields, secret });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).options.rp.id).toBe('localhost');
    expect(JSON.parse(ok.body).options.authenticatorSelection.userVerification).toBe('required');
    expect(await listPasskeys(c.customerId)).toEqual([]);
  });
});
