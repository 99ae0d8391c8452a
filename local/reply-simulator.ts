/**
 * Local stand-in for the AWS side of replies and delivery: builds the same notifications AWS
 * sends (SNS-wrapped End User Messaging two-way SMS, SES receipt notifications with verdicts and
 * the raw MIME, SES event-publishing records, End User Messaging SMS delivery events) and hands
 * them to the real handlers. The mailbox / outbox pages use it to reply to a message and to
 * simulate delivered / bounce / blocked outcomes; the tests and the demo use the same builders.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';

const REGION = 'ap-northeast-1';
const ACCOUNT = '000000000000';
export const TOPICS = {
  smsInbound: `arn:aws:sns:${REGION}:${ACCOUNT}:alerting-sms-inbound`,
  emailInbound: `arn:aws:sns:${REGION}:${ACCOUNT}:alerting-email-inbound`,
  sesEvents: `arn:aws:sns:${REGION}:${ACCOUNT}:alerting-ses-events`,
  smsEvents: `arn:aws:sns:${REGION}:${ACCOUNT}:alerting-sms-events`,
} as const;
/** The bank's two-way number (demo). */
export const BANK_NUMBER = '+81345678900';
export const REPLY_ADDRESS = 'reply@alerts.example-bank.jp';

/** The event Lambda receives from an SNS subscription, carrying `message` as JSON. */
export function snsEvent(message: unknown, topicArn: string, at = new Date()) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: topicArn,
          Subject: null,
          Message: typeof message === 'string' ? message : JSON.stringify(message),
          Timestamp: at.toISOString(),
          SignatureVersion: '1',
          Signature: 'local',
          SigningCertUrl: 'https://sns.ap-northeast-1.amazonaws.com/local.pem',
          UnsubscribeUrl: 'https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}

/** End User Messaging two-way SMS: a customer texts the bank's number. */
export function smsInbound(o: { from: string; body: string; inboundMessageId?: string; previousPublishedMessageId?: string }) {
  return snsEvent(
    {
      originationNumber: o.from,
      destinationNumber: BANK_NUMBER,
      messageKeyword: 'KEYWORD_000000000000',
      messageBody: o.body,
      inboundMessageId: o.inboundMessageId ?? randomUUID(),
      ...(o.previousPublishedMessageId ? { previousPublishedMessageId: o.previousPublishedMessageId } : {}),
    },
    TOPICS.smsInbound,
  );
}

export type Verdict = 'PASS' | 'FAIL' | 'GRAY' | 'PROCESSING_FAILED';

/** A plain-text reply mail (UTF-8, base64 body) quoting the original below the customer's line. */
export function replyMime(o: { from: string; subject?: string; text: string; quoted?: string; messageId?: string }): string {
  const body = `${o.text}\r\n\r\n${o.quoted ? o.quoted.split('\n').map((l) => `> ${l}`).join('\r\n') : ''}`;
  const b64 = Buffer.from(body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${o.from}`,
    `To: ${REPLY_ADDRESS}`,
    `Subject: =?UTF-8?B?${Buffer.from(o.subject ?? 'Re:', 'utf8').toString('base64')}?=`,
    `Message-ID: <${o.messageId ?? randomUUID()}@mail.example.jp>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64,
    '',
  ].join('\r\n');
}

/** SES receipt notification (SNS action, BASE64) for a mail to the reply address. */
export function emailInbound(o: {
  from: string;
  text: string;
  quoted?: string;
  messageId?: string;
  verdicts?: Partial<Record<'spf' | 'dkim' | 'dmarc' | 'spam' | 'virus', Verdict>>;
  /** Replace the MIME entirely (binary-looking bodies, odd encodings). */
  raw?: Buffer;
  fromHeaders?: string[];
  /** SES message id of the alert being answered (the reply's In-Reply-To). */
  answers?: string;
}) {
  const v = { spf: 'PASS', dkim: 'PASS', dmarc: 'PASS', spam: 'PASS', virus: 'PASS', ...o.verdicts };
  const messageId = o.messageId ?? randomUUID().replaceAll('-', '');
  const now = new Date().toISOString();
  const raw = o.raw ?? Buffer.from(replyMime({ from: o.from, text: o.text, ...(o.quoted ? { quoted: o.quoted } : {}) }), 'utf8');
  return snsEvent(
    {
      notificationType: 'Received',
      receipt: {
        timestamp: now,
        processingTimeMillis: 120,
        recipients: [REPLY_ADDRESS],
        spamVerdict: { status: v.spam },
        virusVerdict: { status: v.virus },
        spfVerdict: { status: v.spf },
        dkimVerdict: { status: v.dkim },
        dmarcVerdict: { status: v.dmarc },
        ...(v.dmarc === 'FAIL' ? { dmarcPolicy: 'reject' } : {}),
        action: { type: 'SNS', topicArn: TOPICS.emailInbound, encoding: 'BASE64' },
      },
      mail: {
        timestamp: now,
        source: o.from.replace(/^.*<|>.*$/g, ''),
        messageId,
        destination: [REPLY_ADDRESS],
        headersTruncated: false,
        headers: [
          { name: 'From', value: o.from },
          ...(o.answers ? [{ name: 'In-Reply-To', value: `<${o.answers}@ap-northeast-1.amazonses.com>` }] : []),
        ],
        commonHeaders: { from: o.fromHeaders ?? [o.from], to: [REPLY_ADDRESS], subject: 'Re:', messageId: `<${messageId}@mail.example.jp>` },
      },
      content: raw.toString('base64'),
    },
    TOPICS.emailInbound,
  );
}

export type SesOutcome = 'Delivery' | 'Bounce' | 'SoftBounce' | 'Complaint' | 'Reject' | 'DeliveryDelay';

/** SES event publishing record (configuration set -> SNS) for a message we sent. */
export function sesEvent(outcome: SesOutcome, o: { messageId: string; to: string; tags?: Record<string, string> }) {
  const now = new Date().toISOString();
  const mail = {
    timestamp: now,
    source: 'alerts@example-bank.jp',
    sendingAccountId: ACCOUNT,
    messageId: o.messageId,
    destination: [o.to],
    headersTruncated: false,
    tags: { 'ses:configuration-set': ['alerts'], ...Object.fromEntries(Object.entries(o.tags ?? {}).map(([k, v]) => [k, [v]])) },
  };
  const rcpt = [{ emailAddress: o.to, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }];
  const record =
    outcome === 'Delivery'
      ? { eventType: 'Delivery', mail, delivery: { timestamp: now, processingTimeMillis: 500, recipients: [o.to], smtpResponse: '250 2.0.0 OK', reportingMTA: 'a1.local' } }
      : outcome === 'Bounce' || outcome === 'SoftBounce'
        ? {
            eventType: 'Bounce',
            mail,
            bounce: {
              bounceType: outcome === 'Bounce' ? 'Permanent' : 'Transient',
              bounceSubType: outcome === 'Bounce' ? 'General' : 'MailboxFull',
              bouncedRecipients: rcpt,
              timestamp: now,
              feedbackId: randomUUID(),
              reportingMTA: 'dsn; a1.local',
            },
          }
        : outcome === 'Complaint'
          ? { eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: o.to }], timestamp: now, feedbackId: randomUUID(), complaintFeedbackType: 'abuse' } }
          : outcome === 'Reject'
            ? { eventType: 'Reject', mail, reject: { reason: 'Bad content' } }
            : { eventType: 'DeliveryDelay', mail, deliveryDelay: { timestamp: now, delayType: 'MailboxFull', expirationTime: now, delayedRecipients: [{ emailAddress: o.to, status: '4.2.2' }] } };
  return snsEvent(record, TOPICS.sesEvents);
}

export type SmsOutcome = 'TEXT_DELIVERED' | 'TEXT_BLOCKED' | 'TEXT_INVALID' | 'TEXT_UNREACHABLE' | 'TEXT_CARRIER_BLOCKED';

/** End User Messaging SMS event (configuration set event destination -> SNS). */
export function smsEvent(eventType: SmsOutcome, o: { messageId: string; to: string; isFinal?: boolean; context?: Record<string, string> }) {
  const now = Date.now();
  return snsEvent(
    {
      eventType,
      eventVersion: '1.0',
      eventTimestamp: now,
      isFinal: o.isFinal ?? true,
      originationPhoneNumber: BANK_NUMBER,
      destinationPhoneNumber: o.to,
      isoCountryCode: 'JP',
      messageId: o.messageId,
      messageRequestTimestamp: now - 1500,
      messageEncoding: 'UCS2',
      messageType: 'TRANSACTIONAL',
      messageStatus: eventType.replace('TEXT_', ''),
      messageStatusDescription: 'local simulation',
      ...(o.context ? { context: o.context } : {}),
      totalMessageParts: 2,
      totalMessagePrice: 0.07,
    },
    TOPICS.smsEvents,
  );
}

// ---------------------------------------------------------------------------------------------
// Invoking the handlers.

type Handler = (event: unknown, context: Context) => Promise<unknown>;

function context(name: string): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `alerting-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:alerting-${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/alerting-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Handlers are imported on first use: they read their configuration at import, like a cold start. */
async function load(name: 'sms-reply' | 'email-reply' | 'delivery'): Promise<Handler> {
  const mod = (await import(`../functions/${name}/handler.ts`)) as { handler: Handler };
  return mod.handler;
}

export async function invoke(name: 'sms-reply' | 'email-reply' | 'delivery', event: unknown): Promise<unknown> {
  // A JSON copy, as the Lambda service hands it over.
  return (await load(name))(JSON.parse(JSON.stringify(event)), context(name));
}

export const replyBySms = (o: Parameters<typeof smsInbound>[0]) => invoke('sms-reply', smsInbound(o));
export const replyByEmail = (o: Parameters<typeof emailInbound>[0]) => invoke('email-reply', emailInbound(o));
export const simulateSesOutcome = (outcome: SesOutcome, o: Parameters<typeof sesEvent>[1]) => invoke('delivery', sesEvent(outcome, o));
export const simulateSmsOutcome = (outcome: SmsOutcome, o: Parameters<typeof smsEvent>[1]) => invoke('delivery', smsEvent(outcome, o));

// ---------------------------------------------------------------------------------------------
// The pages' form posts: POST /local/reply/sms, /local/reply/email, /local/outcome/email,
// /local/outcome/sms (form-encoded). The local HTTP server mounts `handleSimulatorRequest`.

export const SIMULATOR_PATHS = ['/local/reply/sms', '/local/reply/email', '/local/outcome/email', '/local/outcome/sms'] as const;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(c as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const sesOutcomes: readonly string[] = ['Delivery', 'Bounce', 'SoftBounce', 'Complaint', 'Reject', 'DeliveryDelay'];
const smsOutcomes: readonly string[] = ['TEXT_DELIVERED', 'TEXT_BLOCKED', 'TEXT_INVALID', 'TEXT_UNREACHABLE', 'TEXT_CARRIER_BLOCKED'];

/**
 * Handles a simulator form post; returns false when the path is not one of ours. Answers JSON
 * with the handler's result, or redirects back when the form says `back`.
 */
export async function handleSimulatorRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (!(SIMULATOR_PATHS as readonly string[]).includes(url.pathname)) return false;
  const answer = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'POST') {
    answer(405, { error: 'POST a form' });
    return true;
  }
  try {
    const f = await readForm(req);
    const need = (n: string) => {
      const v = f.get(n);
      if (!v) throw new Error(`missing form field ${n}`);
      return v;
    };
    let result: unknown;
    if (url.pathname === '/local/reply/sms') result = await replyBySms({ from: need('from'), body: f.get('body') ?? '' });
    else if (url.pathname === '/local/reply/email') {
      const dmarc = f.get('dmarc');
      result = await replyByEmail({ from: need('from'), text: f.get('text') ?? '', ...(dmarc === 'FAIL' ? { verdicts: { dmarc: 'FAIL' } } : {}) });
    } else if (url.pathname === '/local/outcome/email') {
      const outcome = need('outcome');
      if (!sesOutcomes.includes(outcome)) throw new Error(`outcome: one of ${sesOutcomes.join(', ')}`);
      const tags = Object.fromEntries(['alertId', 'channel'].flatMap((k) => (f.get(k) ? [[k, f.get(k)!]] : [])));
      result = await simulateSesOutcome(outcome as SesOutcome, { messageId: need('messageId'), to: need('to'), tags });
    } else {
      const outcome = need('outcome');
      if (!smsOutcomes.includes(outcome)) throw new Error(`outcome: one of ${smsOutcomes.join(', ')}`);
      result = await simulateSmsOutcome(outcome as SmsOutcome, { messageId: need('messageId'), to: need('to') });
    }
    const back = f.get('back');
    if (back && back.startsWith('/')) {
      res.writeHead(303, { location: back });
      res.end();
    } else answer(200, result ?? { ok: true });
  } catch (e) {
    answer(400, { error: e instanceof Error ? e.message : 'bad request' });
  }
  return true;
}
