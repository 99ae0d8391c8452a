/**
 * From AWS notifications to an InboundReply, or a rejection with its reason. A rejection is final:
 * the handler logs the reason (ids only), counts it and returns normally, so a malformed or
 * unauthenticated message is never retried.
 */
import * as z from 'zod';
import { SesReceivedNotification, SmsInboundMessage, SnsRecord } from '../../events/aws-notifications.ts';
import { addressOf, extractMessageText, firstOwnLine } from './mime.ts';
import type { InboundReply } from './service.ts';

export type Rejection =
  | 'MALFORMED_NOTIFICATION'
  | 'MALFORMED_MESSAGE'
  | 'INVALID_SENDER'
  | 'NOT_AUTHENTICATED'
  | 'SPAM_OR_VIRUS'
  | 'NO_CONTENT';

export type Inbound = { ok: true; reply: InboundReply } | { ok: false; reason: Rejection; detail: string; id?: string };

const E164 = /^\+[1-9]\d{6,14}$/;

/** Numbers as carriers hand them over: spaces, dashes, brackets, a 00 international prefix. */
export function normaliseE164(raw: string): string | undefined {
  const s = raw.normalize('NFKC').replace(/[\s\-().]/g, '').replace(/^00/, '+');
  return E164.test(s) ? s : undefined;
}

const issues = (e: z.ZodError) => e.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/** The SNS record and the JSON it carries. */
export function snsPayload(record: unknown): { ok: true; sns: SnsRecord; payload: unknown } | { ok: false; reason: Rejection; detail: string } {
  const r = SnsRecord.safeParse(record);
  if (!r.success) return { ok: false, reason: 'MALFORMED_NOTIFICATION', detail: `SNS record: ${issues(r.error)}` };
  try {
    return { ok: true, sns: r.data, payload: JSON.parse(r.data.Sns.Message) as unknown };
  } catch {
    return { ok: false, reason: 'MALFORMED_NOTIFICATION', detail: 'SNS Message is not JSON' };
  }
}

export function smsReplyFrom(record: unknown, receivedAt: Date): Inbound {
  const p = snsPayload(record);
  if (!p.ok) return p;
  const m = SmsInboundMessage.safeParse(p.payload);
  if (!m.success) return { ok: false, reason: 'MALFORMED_MESSAGE', detail: `two-way SMS message: ${issues(m.error)}`, id: p.sns.Sns.MessageId };
  const from = normaliseE164(m.data.originationNumber);
  if (!from) return { ok: false, reason: 'INVALID_SENDER', detail: 'originationNumber is not an E.164 number', id: m.data.inboundMessageId };
  return {
    ok: true,
    reply: {
      channel: 'SMS',
      from,
      text: m.data.messageBody,
      replyId: m.data.inboundMessageId,
      ...(m.data.previousPublishedMessageId ? { answersMessageId: m.data.previousPublishedMessageId } : {}),
      receivedAt,
    },
  };
}

/**
 * An email reply is trusted only when SPF, DKIM and DMARC all PASS (DMARC ties the visible From
 * domain to the authenticated one, so the From address is the one we check), it is not spam or a
 * virus, and it has exactly one From address. The keyword is the first own line of its text.
 */
export function emailReplyFrom(record: unknown, receivedAt: Date): Inbound {
  const p = snsPayload(record);
  if (!p.ok) return p;
  const n = SesReceivedNotification.safeParse(p.payload);
  if (!n.success) return { ok: false, reason: 'MALFORMED_MESSAGE', detail: `SES receipt notification: ${issues(n.error)}`, id: p.sns.Sns.MessageId };
  const { receipt, mail, content } = n.data;
  const id = mail.messageId;
  const failed = (['spfVerdict', 'dkimVerdict', 'dmarcVerdict'] as const).filter((v) => receipt[v].status !== 'PASS');
  if (failed.length > 0) return { ok: false, reason: 'NOT_AUTHENTICATED', detail: `not PASS: ${failed.join(', ')}`, id };
  if (receipt.spamVerdict?.status === 'FAIL' || receipt.virusVerdict?.status === 'FAIL') {
    return { ok: false, reason: 'SPAM_OR_VIRUS', detail: 'spam or virus verdict FAIL', id };
  }
  const fromHeaders = mail.commonHeaders?.from ?? [];
  const from = fromHeaders.length === 1 ? addressOf(fromHeaders[0]!) : undefined;
  if (!from) return { ok: false, reason: 'INVALID_SENDER', detail: 'expected exactly one From address', id };
  if (content === undefined) return { ok: false, reason: 'NO_CONTENT', detail: 'no content: the receipt rule must use the SNS action', id };
  const raw = receipt.action.encoding === 'BASE64' ? Buffer.from(content, 'base64') : Buffer.from(content, 'utf8');
  const text = extractMessageText(raw);
  const answers = answeredSesMessageId(mail.headers ?? []);
  return {
    ok: true,
    reply: { channel: 'EMAIL', from, text: (text && firstOwnLine(text)) ?? '', replyId: id, ...(answers ? { answersMessageId: answers } : {}), receivedAt },
  };
}

/**
 * The SES message id our alert had, from the reply's In-Reply-To (or References): SES sets the
 * Message-ID of what it sends to <{messageId}@{region}.amazonses.com>.
 */
export function answeredSesMessageId(headers: readonly { name: string; value: string }[]): string | undefined {
  for (const name of ['in-reply-to', 'references']) {
    const h = headers.find((x) => x.name.toLowerCase() === name);
    const m = h && /<([^<>@\s]{1,200})@[^<>\s]*amazonses\.com>/i.exec(h.value);
    if (m) return m[1];
  }
  return undefined;
}
