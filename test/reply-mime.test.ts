import { describe, expect, it } from 'vitest';
import { addressOf, extractMessageText, firstOwnLine } from '../src/replies/mime.ts';

const crlf = (s: string) => s.replace(/\n/g, '\r\n');

describe('reading a reply email', () => {
  it('plain UTF-8 text, top-posted above the quoted alert', () => {
    const raw = crlf('From: a@example.jp\nContent-Type: text/plain; charset=UTF-8\n\n凍結\n\n2026年11月25日 10:00 Bank <alerts@example-bank.jp>:\n> 口座が連携されました\n');
    const text = extractMessageText(Buffer.from(raw, 'utf8'))!;
    expect(firstOwnLine(text)).toBe('凍結');
  });

  it('multipart/alternative with base64 UTF-8 and quoted-printable ISO-2022-JP', () => {
    const b64 = Buffer.from('FREEZE\r\n\r\nOn Wed wrote:\r\n> hi', 'utf8').toString('base64');
    const raw = crlf(`From: "Hanako" <Hanako@Example.jp>\nMIME-Version: 1.0\nContent-Type: multipart/alternative;\n boundary="b1"\n\npreamble\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n${b64}\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>FREEZE</p>\n--b1--\n`);
    expect(firstOwnLine(extractMessageText(Buffer.from(raw, 'latin1'))!)).toBe('FREEZE');
    // 凍結 in ISO-2022-JP: ESC $ B 45 5F 37 4B ESC ( B
    const jis = Buffer.from('1b24424560376b1b2842', 'hex').toString('latin1');
    const raw2 = crlf(`Content-Type: multipart/mixed; boundary=xx\n\n--xx\nContent-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n${jis}\n--xx\nContent-Type: application/pdf\nContent-Disposition: attachment\n\nAAAA\n--xx--\n`);
    expect(firstOwnLine(extractMessageText(Buffer.from(raw2, 'latin1'))!)).toBe('凍結');
    const qp = crlf('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n=E5=87=8D=E7=B5=90\n');
    expect(firstOwnLine(extractMessageText(Buffer.from(qp, 'latin1'))!)).toBe('凍結');
  });

  it('HTML-only mail: tags and quoted blockquotes dropped', () => {
    const raw = crlf('Content-Type: text/html; charset=utf-8\n\n<div>revoke</div><blockquote>FREEZE</blockquote>');
    expect(firstOwnLine(extractMessageText(Buffer.from(raw, 'utf8'))!)).toBe('revoke');
  });

  it('nothing above the quote, no text part, unknown charset: no line, no crash', () => {
    expect(firstOwnLine('\n\n> FREEZE\n')).toBeUndefined();
    expect(extractMessageText(Buffer.from(crlf('Content-Type: image/png\n\nxxxx'), 'latin1'))).toBeUndefined();
    expect(extractMessageText(Buffer.from(crlf('Content-Type: text/plain; charset=x-made-up\n\nFREEZE'), 'latin1'))).toBe('FREEZE');
    expect(extractMessageText(Buffer.from(crlf('Content-Type: multipart/mixed\n\n--x\n'), 'latin1'))).toBeUndefined();
    expect(extractMessageText(Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10, 0, 0]))).toBeDefined();
  });

  it('takes the address out of a From header', () => {
    expect(addressOf('"山田 花子" <Hanako.Yamada@Example.JP>')).toBe('hanako.yamada@example.jp');
    expect(addressOf('a@b.jp')).toBe('a@b.jp');
    expect(addressOf('no address')).toBeUndefined();
  });
});
