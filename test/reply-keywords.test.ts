import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KEYWORDS, MAX_KEYWORD_TEXT, parseReply, foldReplyText } from '../src/domain/reply-keywords.ts';

describe('reply keywords', () => {
  it.each([
    ['FREEZE', 'FREEZE'],
    ['freeze', 'FREEZE'],
    ['  Freeze  ', 'FREEZE'],
    ['ＦＲＥＥＺＥ', 'FREEZE'], // full-width
    ['F R E E Z E', 'FREEZE'],
    ['freeze!', 'FREEZE'],
    ['凍結', 'FREEZE'],
    ['凍結。', 'FREEZE'],
    ['「凍結」', 'FREEZE'],
    ['とうけつ', 'FREEZE'],
    ['ﾄｳｹﾂ', 'FREEZE'], // half-width katakana
    ['停止', 'FREEZE'],
    ['利用　停止', 'FREEZE'], // ideographic space
    ['lock', 'FREEZE'],
    ['REVOKE', 'REVOKE'],
    ['ｒｅｖｏｋｅ', 'REVOKE'],
    ['連携解除', 'REVOKE'],
    ['unlink', 'REVOKE'],
  ])('%s is %s', (text, intent) => {
    expect(parseReply(text)).toMatchObject({ intent, keyword: intent });
  });

  it.each(['UNFREEZE', 'unlock', 'It was me', "It's me", 'ＩＴ　ＷＡＳ　ＭＥ', 'yes', 'OK', '凍結解除', 'ロック解除', '本人です', 'はい', '確認'])(
    '%s asks for an unprotective action',
    (text) => {
      expect(parseReply(text).intent).toBe('UNPROTECTIVE');
    },
  );

  it('解除 alone is ambiguous (unlink or unfreeze?)', () => {
    expect(parseReply('解除').intent).toBe('AMBIGUOUS');
    expect(parseReply('ｶｲｼﾞｮ').intent).toBe('AMBIGUOUS');
  });

  it('STOP and the other carrier opt-out keywords never freeze', () => {
    for (const w of ['STOP', 'stop', 'Ｓｔｏｐ', 'UNSUBSCRIBE', 'cancel', 'STOP ALL']) expect(parseReply(w).intent).toBe('OPT_OUT');
  });

  it('help', () => {
    expect(parseReply('HELP').intent).toBe('HELP');
    expect(parseReply('?').intent).toBe('HELP');
    expect(parseReply('ヘルプ').intent).toBe('HELP');
  });

  it('sentences, negations and keywords inside text are not keywords', () => {
    for (const t of ["don't freeze", '凍結しないで', 'FREEZE MY ACCOUNT PLEASE NOW OK', 'freeze? no', 'please revoke']) {
      expect(parseReply(t).intent).toBe('UNRECOGNISED');
    }
  });

  it('empty, long, binary-looking and emoji-only bodies are not keywords', () => {
    expect(parseReply('').intent).toBe('EMPTY');
    expect(parseReply(' \n\t　').intent).toBe('EMPTY');
    expect(parseReply('。').intent).toBe('EMPTY');
    expect(parseReply('FREEZE'.padEnd(5000, 'x')).intent).toBe('UNRECOGNISED');
    expect(parseReply('FREEZE ' + ' '.repeat(4993)).intent).toBe('UNRECOGNISED');
    expect(parseReply('\u0000\u0001\u0002FREEZE\uFFFD').intent).toBe('UNRECOGNISED');
    expect(parseReply('🔒🔒🔒').intent).toBe('UNRECOGNISED');
    expect(parseReply('🧊').intent).toBe('UNRECOGNISED');
  });

  it('no keyword belongs to two intents, and every listed keyword parses to its intent', () => {
    const seen = new Map<string, string>();
    for (const [intent, words] of Object.entries(KEYWORDS)) {
      for (const w of words) {
        expect(foldReplyText(w)).toBe(w);
        expect(seen.get(w), w).toBeUndefined();
        seen.set(w, intent);
        expect(parseReply(w).intent).toBe(intent);
      }
    }
  });

  it('arbitrary text, and keywords wrapped in noise, are read as FREEZE or REVOKE exactly when they fold to a listed keyword', () => {
    const protective = new Set([...KEYWORDS.FREEZE, ...KEYWORDS.REVOKE]);
    // Random text alone almost never folds to a keyword; keywords with a little noise around them
    // (case, spaces, brackets, stray characters) make both answers common, so the property bites.
    const keyword = fc.constantFrom(...protective);
    const noise = fc.oneof({ arbitrary: fc.constant(''), weight: 4 }, { arbitrary: fc.string({ unit: 'grapheme', maxLength: 2 }), weight: 1 });
    const wrapped = fc
      .tuple(fc.constantFrom('', ' ', '　', '「', '(', '*'), noise, keyword, fc.boolean(), noise, fc.constantFrom('', ' ', '」', '。', '!', ')'))
      .map(([open, a, k, lower, b, close]) => `${open}${a}${lower ? k.toLowerCase() : k}${b}${close}`);
    let readAsProtective = 0;
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), wrapped), (s) => {
        const p = parseReply(s);
        const isProtective = p.intent === 'FREEZE' || p.intent === 'REVOKE';
        readAsProtective += Number(isProtective);
        expect(isProtective, JSON.stringify(s)).toBe(protective.has(foldReplyText(s)) && s.length <= MAX_KEYWORD_TEXT);
      }),
      { numRuns: 2000, seed: 20261129 },
    );
    // Both sides of the property were exercised many times.
    expect(readAsProtective).toBeGreaterThan(200);
    expect(readAsProtective).toBeLessThan(1800);
  });
});
