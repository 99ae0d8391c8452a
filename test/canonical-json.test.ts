/**
 * The "nothing changed" checks compare items as canonical JSON (test/support/canonical-json.ts):
 * the order DynamoDB lists attributes in must not count as a change, and a change inside a set
 * must (plain JSON.stringify writes every Set as `{}`).
 */
import { expect, it } from 'vitest';
import { canonicalJson } from './support/canonical-json.ts';

it('ignores the order of attributes and of set members', () => {
  const a = { pk: 'ACCT#1', sk: 'ALERT#x', tags: new Set(['b', 'a']), nested: { y: 1, x: [2, 1] } };
  const b = { nested: { x: [2, 1], y: 1 }, tags: new Set(['a', 'b']), sk: 'ALERT#x', pk: 'ACCT#1' };
  expect(canonicalJson([a])).toBe(canonicalJson([b]));
});

it('sees a change in a value, a set member, a list order or a missing attribute', () => {
  const base = { pk: 'ACCT#1', n: 1, tags: new Set(['a']), list: [1, 2] };
  const json = canonicalJson(base);
  expect(JSON.stringify(new Set(['a']))).toBe(JSON.stringify(new Set(['b'])));
  for (const changed of [
    { ...base, n: 2 },
    { ...base, tags: new Set(['b']) },
    { ...base, tags: new Set(['a', 'b']) },
    { ...base, list: [2, 1] },
    { pk: 'ACCT#1', n: 1, tags: new Set(['a']) },
  ]) {
    expect(canonicalJson(changed)).not.toBe(json);
  }
});
