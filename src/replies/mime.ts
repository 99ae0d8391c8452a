/**
 * Just enough MIME to read a customer's reply: the text of the first text/plain part (or the
 * first text/html part, tags stripped), transfer encodings base64 / quoted-printable / 7bit /
 * 8bit, and the charsets phones and mail clients in Japan use (UTF-8, ISO-2022-JP, Shift_JIS,
 * EUC-JP: Node's TextDecoder has them). Bounded in depth, parts and size, because the input is
 * whatever a stranger mailed us. Attachments are never decoded.
 */

const MAX_DEPTH = 4;
const MAX_PARTS = 40;
/** A reply keyword sits at the top: decoding more than this of a body is pointless. */
const MAX_TEXT_BYTES = 64 * 1024;

interface Part {
  headers: Map<string, string>;
  /** The body as a binary (latin1) string: one char per byte, so byte-exact splitting works. */
  body: string;
}

function splitHeaders(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = new Map<string, string>();
  // Unfold continuation lines, then keep the first occurrence of each header.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(i + 1).trim());
  }
  return { headers, body };
}

interface ContentType {
  type: string;
  params: Map<string, string>;
}

export function parseContentType(value: string | undefined): ContentType {
  if (!value) return { type: 'text/plain', params: new Map([['charset', 'us-ascii']]) };
  const [type = '', ...rest] = value.split(';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i <= 0) continue;
    params.set(p.slice(0, i).trim().toLowerCase(), p.slice(i + 1).trim().replace(/^"(.*)"$/s, '$1'));
  }
  return { type: type.trim().toLowerCase() || 'text/plain', params };
}

function decodeQuotedPrintable(s: string): string {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function transferDecode(body: string, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '7bit').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') return Buffer.from(decodeQuotedPrintable(body), 'latin1');
  return Buffer.from(body, 'latin1');
}

function charsetDecode(bytes: Buffer, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').toLowerCase();
  try {
    return new TextDecoder(label === 'us-ascii' ? 'utf-8' : label).decode(bytes);
  } catch {
    // Unknown label: UTF-8 with replacement characters is the best guess and cannot throw.
    return new TextDecoder('utf-8').decode(bytes);
  }
}

export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)[\s\S]*?<\/\1>/gi, '')
    .replace(/<blockquote[\s\S]*?<\/blockquote>/gi, '\n')
    .replace(/<(br|\/p|\/div|\/li|\/h\d)\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

interface Found {
  plain?: string;
  html?: string;
}

function walk(part: Part, depth: number, budget: { parts: number }, found: Found): void {
  if (budget.parts-- <= 0 || depth > MAX_DEPTH) return;
  const ct = parseContentType(part.headers.get('content-type'));
  const disposition = (part.headers.get('content-disposition') ?? '').toLowerCase();
  if (disposition.startsWith('attachment')) return;
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.get('boundary');
    if (!boundary || boundary.length > 200) return;
    const delimiter = `--${boundary}`;
    const pieces = part.body.split(new RegExp(`\\r?\\n?${escapeRegExp(delimiter)}(?:--)?[ \\t]*\\r?\\n?`));
    // pieces[0] is the preamble; the last one after the close delimiter is the epilogue.
    for (const piece of pieces.slice(1)) {
      if (found.plain !== undefined) return;
      if (piece.trim().length === 0) continue;
      walk(splitHeaders(piece), depth + 1, budget, found);
    }
    return;
  }
  if (ct.type !== 'text/plain' && ct.type !== 'text/html') return;
  const bytes = transferDecode(part.body.slice(0, MAX_TEXT_BYTES * 2), part.headers.get('content-transfer-encoding')).subarray(0, MAX_TEXT_BYTES);
  const text = charsetDecode(bytes, ct.params.get('charset'));
  if (ct.type === 'text/plain') found.plain ??= text;
  else found.html ??= text;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The readable text of a raw RFC 5322 message, or undefined when it has none. */
export function extractMessageText(raw: Buffer): string | undefined {
  const found: Found = {};
  walk(splitHeaders(raw.toString('latin1')), 0, { parts: MAX_PARTS }, found);
  if (found.plain !== undefined) return found.plain;
  if (found.html !== undefined) return htmlToText(found.html);
  return undefined;
}

/**
 * The customer's own first line: the first line that is neither empty nor quoted (">"), read only
 * above any quoted original or "On ... wrote:" header. Undefined when there is none.
 */
export function firstOwnLine(text: string): string | undefined {
  for (const rawLine of text.split(/\r?\n/, 200)) {
    const line = rawLine.replace(/\u00A0/g, ' ').trim();
    if (line.length === 0) continue;
    if (line.startsWith('>') || line.startsWith('＞')) return undefined;
    return line;
  }
  return undefined;
}

/** The first address in a From header value: `"Name" <a@b>` or `a@b`. Lower-cased. */
export function addressOf(from: string): string | undefined {
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(from);
  const bare = angle?.[1] ?? /([^\s<>"',;]+@[^\s<>"',;]+)/.exec(from)?.[1];
  return bare?.trim().toLowerCase();
}
