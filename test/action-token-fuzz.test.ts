/**
 * Property: a mutated action token changes nothing and gets the clear "this link is not valid"
 * page, never a stack trace.
 *
 * What runs, all of it through the real action Lambda handler against DynamoDB Local:
 * - 10,000 DISTINCT well-formed mutations (22 base64url characters, so each one passes the shape
 *   check and is looked up in the table) of real issued tokens: one to four characters replaced,
 *   neighbours swapped, case flipped, rotated, a character deleted or inserted (length kept),
 *   halves of two tokens spliced. Each is fetched with GET and POSTed with the ORIGINAL token's
 *   valid freeze form (so a lookup that matched the wrong token would act).
 * - 1,000 malformed ones (truncated, extended, padded, odd characters), also GET and POST.
 * - A full table scan before and after: identical, and no event was published.
 * - Positive control: the unmutated token, POSTed with the same form, does freeze the account
 *   (the scan then differs and AccountFrozen is published): the harness can see a change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formCheck } from '../src/domain/action-page/flow.ts';
import { messages } from '../src/domain/action-page/messages.ts';
import { isWellFormedToken } from '../src/domain/tokens.ts';
import { getAccount } from '../src/store/customers.ts';
import type { TokenRecord } from '../src/store/types.ts';
import { changedKeys, scanTable } from './support/table-scan.ts';
import { formBody, httpEvent, invoke, issue, loadHandler, seedAccount, seedLink, setupActionEnv, TEST_PEPPER, type ActionEnv, type Handler } from './action-support.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ODD = ['=', '.', '/', '+', '%', ' ', '\u0000', '\n', 'é', 'Ａ', '😀', '口', '\u200b', 'İ'];
const WELL_FORMED = 10_000;
const MALFORMED = 1_000;
const CONCURRENCY = 24;

/** A well-formed (22 base64url characters) mutation of one of `tokens`. */
function wellFormedMutation(tokens: readonly string[]) {
  const pos = fc.nat({ max: 21 });
  const ch = fc.constantFrom(...ALPHABET.split(''));
  const other = (c: string, d: string) => (c === d ? ALPHABET[(ALPHABET.indexOf(d) + 1) % ALPHABET.length]! : d);
  return fc
    .record({
      t: fc.constantFrom(...tokens),
      u: fc.constantFrom(...tokens),
      kind: fc.constantFrom('replace', 'swap', 'case', 'rotate', 'delete', 'insert', 'splice'),
      at: fc.array(fc.tuple(pos, ch), { minLength: 1, maxLength: 4 }),
      i: pos,
      n: fc.integer({ min: 1, max: 21 }),
      c: ch,
    })
    .map(({ t, u, kind, at, i, n, c }) => {
      const a = [...t];
      switch (kind) {
        case 'replace':
          for (const [p, d] of at) a[p] = other(a[p]!, d);
          return a.join('');
        case 'swap': {
          const j = (i + 1) % 22;
          [a[i], a[j]] = [a[j]!, a[i]!];
          return a.join('');
        }
        case 'case':
          a[i] = a[i]!.toUpperCase() === a[i] ? a[i]!.toLowerCase() : a[i]!.toUpperCase();
          return a.join('');
        case 'rotate':
          return t.slice(n) + t.slice(0, n);
        case 'delete':
          return t.slice(0, i) + t.slice(i + 1) + c;
        case 'insert':
          return (t.slice(0, i) + c + t.slice(i)).slice(0, 22);
        case 'splice':
          return t.slice(0, n) + u.slice(n);
      }
    })
    .filter((m) => isWellFormedToken(m) && !tokens.includes(m));
}

function malformedMutation(tokens: readonly string[]) {
  return fc
    .record({ t: fc.constantFrom(...tokens), kind: fc.constantFrom('truncate', 'extend', 'pad', 'odd', 'long'), i: fc.nat({ max: 21 }), n: fc.integer({ min: 1, max: 30 }), o: fc.constantFrom(...ODD) })
    .map(({ t, kind, i, n, o }) => {
      switch (kind) {
        case 'truncate':
          return t.slice(0, i);
        case 'extend':
          return t + 'A'.repeat(n);
        case 'pad':
          return `${t}${'='.repeat(1 + (n % 2))}`;
        case 'odd':
          return t.slice(0, i) + o + t.slice(i + 1);
        case 'long':
          return t.repeat(n + 20).slice(0, 10 * 1024);
      }
    })
    .filter((m) => !isWellFormedToken(m));
}

/** At least `count` distinct values of `arb`, drawn with fixed seeds (reproducible). */
function distinct(arb: fc.Arbitrary<string>, count: number, seed: number): string[] {
  const out = new Set<string>();
  for (let round = 0; out.size < count && round < 20; round++) {
    for (const v of fc.sample(arb, { numRuns: count, seed: seed + round })) {
      out.add(v);
      if (out.size === count) break;
    }
  }
  return [...out];
}

async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

let env: ActionEnv;
let handler: Handler;
let tokens: string[];
let records: TokenRecord[];
let accountId: string;

beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('action');
  tokens = [];
  records = [];
  // Two customers (ja, en), three alerts' tokens each, every action offered.
  for (const locale of ['ja', 'en'] as const) {
    const a = await seedAccount({ locale });
    accountId ??= a.accountId;
    const linkId = await seedLink(a.accountId, a.customerId);
    for (let k = 0; k < 3; k++) {
      const t = await issue(a.accountId, a.customerId, [{ kind: 'FREEZE_ACCOUNT' }, { kind: 'REVOKE_LINK', linkId }, { kind: 'CONFIRM_LINK', linkId }]);
      tokens.push(t.token);
      records.push(t.record);
    }
  }
});
afterAll(async () => {
  await env.bridge.stop();
});

const request = (method: 'GET' | 'POST', token: string, body: string, lang: 'ja' | 'en') =>
  invoke(
    handler,
    httpEvent({
      method,
      path: `/a/${token}`,
      pathParameters: { token },
      headers: { 'accept-language': lang, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(method === 'POST' ? { body, base64: true } : {}),
    }),
    'action',
  );

describe('mutated action tokens through the real handler and DynamoDB Local', () => {
  it('10,000 distinct well-formed and 1,000 malformed mutations, GET and POST: all the "not valid" page, the table unchanged; the real token acts', async () => {
    const wellFormed = distinct(wellFormedMutation(tokens), WELL_FORMED, 20261129);
    const malformed = distinct(malformedMutation(tokens), MALFORMED, 7);
    expect(new Set(wellFormed).size).toBe(WELL_FORMED);
    expect(wellFormed.every(isWellFormedToken)).toBe(true);
    expect(wellFormed.filter((m) => tokens.includes(m))).toEqual([]);
    expect(new Set(malformed).size).toBe(MALFORMED);

    // The original token's valid freeze form: only the token in the URL is wrong.
    const freezeForm = formBody({ action: 'FREEZE_ACCOUNT', check: formCheck(records[0]!.tokenHash, 'FREEZE_ACCOUNT', TEST_PEPPER) });
    const before = await scanTable();
    const wrong: string[] = [];
    let answered = 0;
    await inBatches([...wellFormed, ...malformed], async (candidate) => {
      for (const method of ['GET', 'POST'] as const) {
        const lang = answered % 2 === 0 ? 'ja' : 'en';
        const res = await request(method, candidate, freezeForm, lang);
        answered++;
        const title = messages[lang].problems.INVALID.title;
        const ok = res.statusCode === 404 && /^text\/html/.test(res.headers['content-type'] ?? '') && res.body.includes(`<h1>${title}</h1>`) && !/at .+\.ts:\d+|Error:/.test(res.body);
        if (!ok) wrong.push(`${method} ${JSON.stringify(candidate)} -> ${res.statusCode}`);
      }
    });
    expect(answered).toBe(2 * (WELL_FORMED + MALFORMED));
    expect(wrong.slice(0, 10)).toEqual([]);
    const after = await scanTable();
    expect(changedKeys(before.items, after.items)).toEqual([]);
    expect(after.text).toBe(before.text);
    expect(env.bridge.publishedEvents()).toHaveLength(0);

    // Positive control, on POST: the unmutated token with the same form freezes the account.
    const real = await request('POST', tokens[0]!, freezeForm, 'ja');
    expect(real.statusCode).toBe(200);
    expect((await getAccount(accountId, true))?.state).toBe('FROZEN');
    const afterReal = await scanTable();
    expect(changedKeys(before.items, afterReal.items).length).toBeGreaterThan(0);
    expect(env.bridge.publishedEvents().map((e) => e.detailType)).toContain('AccountFrozen');
  }, 240_000);
});
