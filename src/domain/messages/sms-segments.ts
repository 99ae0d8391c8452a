/**
 * SMS segment counting. A message is GSM-7 when every character is in the GSM 03.38 basic set or
 * its extension table (extension characters cost two septets); otherwise the whole message is
 * UCS-2, counted in UTF-16 code units (an emoji costs two). One segment holds 160 septets or 70
 * UCS-2 units; concatenated parts hold 153 / 67, and an escape pair or surrogate pair is never
 * split across parts, so packing is greedy like a handset's.
 */

export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
export const GSM7_EXTENSION = '\f^{}\\[~]|€';

const basic = new Set(GSM7_BASIC);
const extension = new Set(GSM7_EXTENSION);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSize {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

export const isGsm7Char = (c: string): boolean => basic.has(c) || extension.has(c);
export const isGsm7 = (text: string): boolean => [...text].every(isGsm7Char);

/** Septets of one GSM-7 character (2 for the extension table). */
const septets = (c: string) => (extension.has(c) ? 2 : 1);

function pack(costs: number[], single: number, part: number): number {
  const total = costs.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const c of costs) {
    if (used + c > part) {
      segments++;
      used = 0;
    }
    used += c;
  }
  return segments;
}

export function smsSize(text: string): SmsSize {
  const chars = [...text];
  if (chars.every(isGsm7Char)) {
    const costs = chars.map(septets);
    return { encoding: 'GSM-7', units: costs.reduce((a, b) => a + b, 0), segments: pack(costs, 160, 153) };
  }
  const costs = chars.map((c) => c.length);
  return { encoding: 'UCS-2', units: text.length, segments: pack(costs, 70, 67) };
}

/** Cost of a piece of text inside a message of the given encoding. */
export function unitsOf(text: string, encoding: SmsEncoding): number {
  return encoding === 'GSM-7' ? [...text].reduce((n, c) => n + septets(c), 0) : text.length;
}

/**
 * Text made safe for a GSM-7 message: compatibility forms folded (full-width letters and digits
 * become ASCII), typographic quotes and dashes replaced, anything else outside GSM-7 dropped, so
 * one Japanese provider name cannot turn an English SMS into a three-part UCS-2 one.
 */
export function toGsm7(text: string): string {
  const folded = text
    .normalize('NFKC')
    .replace(/[‘’‚‛′]/g, "'")
    .replace(/[“”„‟″]/g, '"')
    .replace(/[‐‑‒–—―−]/g, '-')
    .replace(/…/g, '...')
    .replace(/[\u00A0\u3000]/g, ' ');
  return [...folded]
    .filter(isGsm7Char)
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Shortens `text` to at most `budget` units of `encoding`, ending with an ellipsis when cut
 * (`...` in GSM-7, `…` in UCS-2). Never splits a surrogate pair.
 */
export function truncateUnits(text: string, budget: number, encoding: SmsEncoding): string {
  if (unitsOf(text, encoding) <= budget) return text;
  const ellipsis = encoding === 'GSM-7' ? '...' : '…';
  const room = budget - unitsOf(ellipsis, encoding);
  if (room <= 0) return '';
  let out = '';
  let used = 0;
  for (const c of text) {
    const cost = unitsOf(c, encoding);
    if (used + cost > room) break;
    out += c;
    used += cost;
  }
  return out.trimEnd() + ellipsis;
}
