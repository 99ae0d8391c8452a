/**
 * Property: no mutation of a valid action token is accepted.
 *
 * What is exercised, honestly:
 * 1. 12,000 mutations run through the whole action-page flow (src/domain/action-page/service.ts,
 *    POST with the original token's valid form fields) with an in-process token lookup: the real
 *    HMAC of the candidate under the pepper, looked up by exact key in a map of the issued tokens'
 *    hashes, which is what DynamoDB's GetItem on TOKEN#{hash} does. The malformed ones are
 *    refused by the shape check before any lookup; the well-formed ones miss the lookup.
 *    The store's act() is a spy: it must never be called.
 * 2. 400 well-formed mutations go through the real Lambda handler against DynamoDB Local, and the
 *    account's items and the token items are unchanged afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { handleActionPage, type ActionPagePorts } from '../src/domain/action-page/service.ts';
import { formCheck } from '../src/domain/action-page/flow.ts';
import { hashToken, isWellFormedToken } from '../src/domain/tokens.ts';
import { findToken } from '../src/store/tokens.ts';
import type { TokenRecord } from '../src/store/types.ts';
import { formBody, httpEvent, invoke, loadHandler, type Handler, issue, seedAccount, seedLink, setupActionEnv, snapshot, TEST_PEPPER, type ActionEnv } from './action-support.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ODD = ['=', '.', '/', '+', '%', ' ', '\u0000', '\n', 'é', 'Ａ', '😀', '口', '\u200b', 'İ'];

/** One mutation of a token: replace, insert, delete, truncate, extend, swap, case flip, odd chars. */
function mutation(tokens: readonly string[]) {
  const idx = fc.nat({ max: 21 });
  const ch = fc.constantFrom(...ALPHABET.split(''));
  const odd = fc.constantFrom(...ODD);
  return fc
    .record({
      t: fc.constantFrom(...tokens),
      kind: fc.constantFrom('replace', 'insert', 'delete', 'truncate', 'extend', 'swap', 'case', 'odd', 'double', 'long'),
      i: idx,
      j: idx,
      c: ch,
      o: odd,
      n: fc.integer({ min: 1, max: 30 }),
    })
    .map(({ t, kind, i, j, c, o, n }) => {
      switch (kind) {
        case 'replace':
          return t.slice(0, i) + (t[i] === c ? ALPHABET[(ALPHABET.indexOf(c) + 1) % ALPHABET.length] : c) + t.slice(i + 1);
        case 'insert':
          return t.slice(0, i) + c + t.slice(i);
        case 'delete':
          return t.slice(0, i) + t.slice(i + 1);
        case 'truncate':
          return t.slice(0, Math.min(i, 21));
        case 'extend':
          return t + c.repeat(n);
        case 'swap': {
          const a = [...t];
          [a[i], a[j]] = [a[j]!, a[i]!];
          return a.join('') === t ? t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1) : a.join('');
        }
        case 'case': {
          const up = t[i]!.toUpperCase() === t[i] ? t[i]!.toLowerCase() : t[i]!.toUpperCase();
          return up === t[i] ? t.slice(0, i) + (t[i] === '0' ? '1' : '0') + t.slice(i + 1) : t.slice(0, i) + up + t.slice(i + 1);
        }
        case 'odd':
          return t.slice(0, i) + o + t.slice(i + 1);
        case 'double':
          return t.slice(0, i) + ALPHABET[(ALPHABET.indexOf(t[i]!) + n) % ALPHABET.length] + t.slice(i + 1, j) + t.slice(j);
        case 'long':
          return t.repeat(n + 20).slice(0, 10 * 1024);
      }
    })
    .filter((m) => !tokens.includes(m));
}

let env: ActionEnv;
let handler: Handler;
let tokens: string[];
let records: TokenRecord[];
let accountId: string;

beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('action');
  const a = await seedAccount();
  accountId = a.accountId;
  const linkId = await seedLink(a.accountId, a.customerId);
  tokens = [];
  records = [];
  for (let k = 0; k < 3; k++) {
    const t = await issue(a.accountId, a.customerId, [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId }, { kind: 'CONFIRM_LINK', linkId }]);
    tokens.push(t.token);
    records.push(t.record);
  }
});
afterAll(async () => {
  await env.bridge.stop();
});

describe('mutated action tokens', () => {
  it('12,000 mutations through the action flow: 0 accepted, the store never asked to act', async () => {
    const byHash = new Map(records.map((r) => [r.tokenHash, r]));
    let lookups = 0;
    let acts = 0;
    const ports: ActionPagePorts = {
      peppers: async () => [TEST_PEPPER],
      findToken: async (token, peppers) => {
        lookups++;
        for (const p of peppers) {
          const r = byHash.get(hashToken(token, p));
          if (r) return r;
        }
        return undefined;
      },
      loadSubject: async () => {
        throw new Error('an unknown token must not load anything');
      },
      act: async () => {
        acts++;
        return { ok: true, changed: true };
      },
    };
    // The original token's valid form: a mutated URL must be refused before the form is even read.
    const body = formBody({ action: 'FREEZE_ACCOUNT', check: formCheck(records[0]!.tokenHash, 'FREEZE_ACCOUNT', TEST_PEPPER) });
    let runs = 0;
    let wellFormed = 0;
    await fc.assert(
      fc.asyncProperty(mutation(tokens), async (candidate) => {
        runs++;
        if (isWellFormedToken(candidate)) wellFormed++;
        const { response, log } = await handleActionPage({ method: 'POST', token: candidate, body, now: new Date() }, ports);
        expect(response.statusCode).toBe(404);
        expect(['MALFORMED_TOKEN', 'UNKNOWN_TOKEN']).toContain(log.outcome);
      }),
      { numRuns: 12_000, seed: 20261125 },
    );
    expect(runs).toBeGreaterThanOrEqual(10_000);
    expect(acts).toBe(0);
    // Shape-rejected ones never reached a lookup; the well-formed ones all missed it.
    expect(lookups).toBe(wellFormed);
    expect(wellFormed).toBeGreaterThan(2_000);
    // Sanity: the same flow accepts the real token (the property can fail).
    const real = await handleActionPage({ method: 'GET', token: tokens[0]!, now: new Date() }, { ...ports, loadSubject: async () => ({ links: [] }) });
    expect(real.log.outcome).not.toBe('UNKNOWN_TOKEN');
  });

  it('400 well-formed mutations through the handler and DynamoDB Local: all 404, nothing changed', async () => {
    const hashes = records.map((r) => r.tokenHash);
    const before = await snapshot(accountId, hashes);
    const body = formBody({ action: 'FREEZE_ACCOUNT', check: formCheck(records[0]!.tokenHash, 'FREEZE_ACCOUNT', TEST_PEPPER) });
    await fc.assert(
      fc.asyncProperty(mutation(tokens).filter(isWellFormedToken), async (candidate) => {
        const res = await invoke(
          handler,
          httpEvent({ method: 'POST', path: `/a/${candidate}`, pathParameters: { token: candidate }, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, base64: true }),
          'action',
        );
        expect(res.statusCode).toBe(404);
        expect(await findToken(candidate, [TEST_PEPPER])).toBeUndefined();
      }),
      { numRuns: 400, seed: 7 },
    );
    expect(await snapshot(accountId, hashes)).toBe(before);
    expect(env.bridge.publishedEvents()).toHaveLength(0);
  });
});
