/**
 * Local stand-in for the AWS side of replies and delivery: builds the same notifications AWS
 * sends (SNS-wrapped End User Messaging two-way SMS, SES receipt notifications with verdicts and
 * the raw MIME, SES event-publishing records, End User Messaging SMS status events) and hands
 * them to the real handlers. The mailbox / outbox pages use it to reply to a message and to
 * simulate delivered / bounce / blocked outcomes; the tests and the demo use the same builders.
 *
 * SMS status events also flow on their own, as in AWS: the SMS outbox produces them for every
 * message sent with a configuration set, and routeSmsStatusEvents hands them to the delivery
 * function the way the stack deploys it (configuration set event destination -> SNS delivery
 * topic -> Lambda subscription, an asynchronous invoke retried twice on error).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { SmsEventType } from '../events/aws-notifications.ts';
import { smsStatusEvent, LOCAL_BANK_NUMBER, type SmsStatusEvent } from './sms-outbox.ts';

const REGION = 'ap-northeast-1';
const ACCOUNT = '000000000000';
/** The stack's delivery topic: the SES and the SMS configuration sets both publish to it. */
const DELIVERY_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:alerting-delivery-events`;
export const TOPICS = {
  smsInbound: `arn:aws:sns:${REGION}:${ACCOUNT}:alerting-sms-inbound`,
  emailInbound: `arn:aws:sns:${REGION}:${ACCOUNT}:alerting-email-inbound`,
  delivery: DELIVERY_TOPIC,
  sesEvents: DELIVERY_TOPIC,
  smsEvents: DELIVERY_TOPIC,
} as const;
/** The bank's two-way number (demo). */
export const BANK_NUMBER = LOCAL_BANK_NUMBER;
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

export type SmsOutcome = SmsEventType;

/** End User Messaging SMS status event (configuration set event destination -> SNS). */
export function smsEvent(
  eventType: SmsOutcome,
  o: { messageId: string; to: string; isFinal?: boolean; context?: Record<string, string>; message?: string; parts?: number },
) {
  return snsEvent(smsStatusEvent(eventType, o), TOPICS.smsEvents);
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

/**
 * The SNS subscription of the delivery function to the delivery topic, for the SMS outbox's
 * status events: each event is one SNS-wrapped invocation; an invocation that throws (e.g. the
 * alert record is not written yet: NotYetKnownError) is retried twice, as Lambda retries an
 * asynchronous invoke (there after about 1 and 2 minutes; here after `retryDelaysMs`, default 2 s and 10 s).
 * `settled()` resolves once nothing is in flight (tests).
 */
export function routeSmsStatusEvents(
  source: { onSmsStatusEvent(listener: (e: SmsStatusEvent) => Promise<void> | void): void },
  run: (name: 'delivery', event: unknown) => Promise<unknown>,
  opts: { retryDelaysMs?: readonly number[]; log?: (line: string) => void } = {},
): { settled(): Promise<void>; delivered(): number; retries(): number; dropped(): number } {
  // Lambda waits about 1 and 2 minutes; a few seconds here still outlast a busy machine's alert
  // function between its send and its record write.
  const retryDelays = opts.retryDelaysMs ?? [2_000, 10_000];
  let inFlight = 0;
  let delivered = 0;
  let dropped = 0;
  let retries = 0;
  let waiters: (() => void)[] = [];
  const done = () => {
    inFlight--;
    if (inFlight === 0) {
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    }
  };
  source.onSmsStatusEvent(async (e) => {
    inFlight++;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await run('delivery', snsEvent(e, TOPICS.delivery));
          delivered++;
          return;
        } catch (err) {
          if (attempt >= retryDelays.length) {
            dropped++;
            opts.log?.(`SMS status event ${e.eventType} for ${e.messageId} dropped after ${attempt + 1} attempts: ${err instanceof Error ? err.name : 'error'}`);
            return;
          }
          retries++;
          // Unref'd: a retry pending when the runtime stops must not keep the process alive.
          await new Promise((r) => setTimeout(r, retryDelays[attempt]).unref());
        }
      }
    } finally {
      done();
    }
  });
  return {
    settled: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    delivered: () => delivered,
    retries: () => retries,
    dropped: () => dropped,
  };
}

// ---------------------------------------------------------------------------------------------
// Local pages: /local/replies lists the messages in the mailbox and the SMS outbox with a reply
// form and outcome buttons each; the forms post here and go through the real handlers (by the
// runtime's invoker). local/pages/replies.ts mounts them; the local runtime also sweeps the
// undelivered deadlines every minute, as the EventBridge schedule does in AWS.

type Invoke = (name: 'sms-reply' | 'email-reply' | 'delivery', event: unknown) => Promise<unknown>;

export interface SimulatorRuntime {
  peers: {
    smsMessages(): { messageId: string; phoneNumber: string; message: string; at: string; context?: Record<string, string> }[];
    smsStatusEvents?(): { messageId: string; eventType: string }[];
    emails(): Promise<{ messageId: string; to: string[]; subject: string; at: string; tags?: Record<string, string> }[]> };
}

const sesOutcomeNames: readonly SesOutcome[] = ['Delivery', 'Bounce', 'SoftBounce', 'Complaint', 'Reject', 'DeliveryDelay'];
const smsOutcomeNames: readonly SmsOutcome[] = SmsEventType.options;
/** The outcome buttons of an SMS on the simulator page. */
const smsButtons: readonly SmsOutcome[] = ['TEXT_DELIVERED', 'TEXT_BLOCKED', 'TEXT_INVALID', 'TEXT_CARRIER_UNREACHABLE'];

/** The event EventBridge Scheduler / a schedule rule hands the delivery function. */
export function scheduledEvent(at = new Date()) {
  return { version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: ACCOUNT, time: at.toISOString(), region: REGION, resources: [], detail: {} };
}

export class SimulatorInputError extends Error {
  override readonly name = 'SimulatorInputError';
}

/** Runs one simulator form (already parsed) through the handlers (`sms`: the outbox's outcome hook). */
export async function runSimulatorForm(
  path: string,
  f: URLSearchParams,
  run: Invoke,
  sms?: { injectSmsOutcome(phoneNumber: string, events: readonly SmsOutcome[]): void },
): Promise<unknown> {
  const need = (n: string) => {
    const v = f.get(n);
    if (!v) throw new SimulatorInputError(`missing form field ${n}`);
    return v;
  };
  const opt = (n: string) => f.get(n) || undefined;
  switch (path) {
    case '/local/reply/sms': {
      const previous = opt('answers');
      return run('sms-reply', smsInbound({ from: need('from'), body: f.get('body') ?? '', ...(previous ? { previousPublishedMessageId: previous } : {}) }));
    }
    case '/local/reply/email': {
      const answers = opt('answers');
      return run(
        'email-reply',
        emailInbound({ from: need('from'), text: f.get('text') ?? '', ...(answers ? { answers } : {}), ...(f.get('dmarc') === 'FAIL' ? { verdicts: { dmarc: 'FAIL' } } : {}) }),
      );
    }
    case '/local/outcome/email': {
      const outcome = need('outcome') as SesOutcome;
      if (!sesOutcomeNames.includes(outcome)) throw new SimulatorInputError(`outcome: one of ${sesOutcomeNames.join(', ')}`);
      const tags = Object.fromEntries(['alertId', 'channel', 'recipient', 'recipientRef'].flatMap((k) => (f.get(k) ? [[k, f.get(k)!]] : [])));
      return run('delivery', sesEvent(outcome, { messageId: need('messageId'), to: need('to'), tags }));
    }
    case '/local/outcome/sms': {
      const outcome = need('outcome') as SmsOutcome;
      if (!smsOutcomeNames.includes(outcome)) throw new SimulatorInputError(`outcome: one of ${smsOutcomeNames.join(', ')}`);
      // The message's Context comes back with its events, as in AWS.
      const alertId = opt('alertId');
      return run('delivery', smsEvent(outcome, { messageId: need('messageId'), to: need('to'), ...(alertId ? { context: { alertId } } : {}) }));
    }
    case '/local/outcome/sms-next': {
      // What the next SMS to this number will report instead of SUCCESSFUL, DELIVERED.
      const outcome = need('outcome') as SmsOutcome;
      if (!smsOutcomeNames.includes(outcome)) throw new SimulatorInputError(`outcome: one of ${smsOutcomeNames.join(', ')}`);
      const to = need('to');
      if (!/^\+[1-9]\d{6,14}$/.test(to)) throw new SimulatorInputError('to: an E.164 phone number');
      if (!sms) throw new SimulatorInputError('no SMS outbox in this runtime');
      sms.injectSmsOutcome(to, [outcome]);
      return { ok: true, to, next: outcome };
    }
    case '/local/delivery/sweep':
      return run('delivery', scheduledEvent());
    default:
      throw new SimulatorInputError(`unknown simulator path ${path}`);
  }
}

export const SIMULATOR_POSTS = ['/local/reply/sms', '/local/reply/email', '/local/outcome/email', '/local/outcome/sms', '/local/outcome/sms-next', '/local/delivery/sweep'] as const;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const hidden = (fields: Record<string, string | undefined>) =>
  Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v!)}">`)
    .join('');

/** The simulator page: every message with its reply form and outcome buttons (newest first). */
export async function simulatorPageHtml(rt: SimulatorRuntime): Promise<string> {
  const back = { back: '/local/replies' };
  const sms = [...rt.peers.smsMessages()].reverse().slice(0, 30);
  const lastStatus = new Map((rt.peers.smsStatusEvents?.() ?? []).map((e) => [e.messageId, e.eventType]));
  const mails = [...(await rt.peers.emails())].reverse().slice(0, 30);
  const smsRows = sms
    .map(
      (m) => `<tr><td>${esc(m.at)}<br><b>${esc(m.phoneNumber)}</b><br>status: ${esc(lastStatus.get(m.messageId) ?? '-')}</td><td><pre>${esc(m.message)}</pre></td><td>
<form method="post" action="/local/reply/sms">${hidden({ ...back, from: m.phoneNumber, answers: m.messageId })}<input name="body" value="凍結" size="10" aria-label="reply text"> <button>Reply by SMS</button></form>
<form method="post" action="/local/outcome/sms">${hidden({ ...back, messageId: m.messageId, to: m.phoneNumber, alertId: m.context?.alertId })}${smsButtons
        .map((o) => `<button name="outcome" value="${o}">${o.replace('TEXT_', '').replaceAll('_', ' ').toLowerCase()}</button>`)
        .join(' ')}</form></td></tr>`,
    )
    .join('');
  const mailRows = mails
    .map((m) => {
      const to = m.to[0] ?? '';
      const tags = m.tags ?? {};
      return `<tr><td>${esc(m.at)}<br><b>${esc(to)}</b></td><td>${esc(m.subject)}</td><td>
<form method="post" action="/local/reply/email">${hidden({ ...back, from: to, answers: m.messageId })}<input name="text" value="FREEZE" size="10" aria-label="reply first line"> <label><input type="checkbox" name="dmarc" value="FAIL"> spoofed (DMARC fail)</label> <button>Reply by email</button></form>
<form method="post" action="/local/outcome/email">${hidden({ ...back, messageId: m.messageId, to, alertId: tags.alertId, channel: tags.channel, recipient: tags.recipient, recipientRef: tags.recipientRef })}${(['Delivery', 'Bounce', 'Complaint', 'Reject'] as const)
        .map((o) => `<button name="outcome" value="${o}">${o === 'Bounce' ? 'hard bounce' : o.toLowerCase()}</button>`)
        .join(' ')}</form></td></tr>`;
    })
    .join('');
  return `<p>Reply to a message or simulate what the provider reports. Each form builds the notification AWS would send (SNS-wrapped two-way SMS, SES receipt with SPF/DKIM/DMARC verdicts, SES and SMS delivery events) and hands it to the real handler. SMS sent with the configuration set report SUCCESSFUL then DELIVERED on their own, as End User Messaging would; a final status is never replaced, so to see a blocked or failed SMS choose it for the next SMS to a number first. Reply keywords and statuses: docs/replies.md.</p>
<form method="post" action="/local/delivery/sweep">${hidden(back)}<button>Run the undelivered sweep now</button></form>
<form method="post" action="/local/outcome/sms-next">${hidden(back)}<label>Next SMS to <input name="to" placeholder="+819012345678" size="14"></label> <label>reports <select name="outcome">${smsButtons
    .map((o) => `<option value="${o}">${o}</option>`)
    .join('')}</select></label> <button>Set</button></form>
<h2>SMS outbox</h2><table><tr><th>Sent</th><th>Message</th><th>Reply / outcome</th></tr>${smsRows || '<tr><td colspan="3">none yet</td></tr>'}</table>
<h2>Mailbox</h2><table><tr><th>Sent</th><th>Subject</th><th>Reply / outcome</th></tr>${mailRows || '<tr><td colspan="3">none yet</td></tr>'}</table>`;
}
