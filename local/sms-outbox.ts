/**
 * Local SMS: a small endpoint speaking the SNS Query protocol (what @aws-sdk/client-sns uses:
 * form-encoded POST Action=Publish, XML answers), so the real SNS client publishes SMS to it.
 * What it accepted is listed on an outbox page (newest first) and as JSON at /messages. Errors
 * are SNS XML ErrorResponses: throttling as 400 <Code>Throttling</Code>, 5xx as InternalError,
 * invalid input as 400 InvalidParameter, like the service.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listenLocal } from './free-port.ts';
import { FaultQueue, readBody, send, escapeHtml, type Fault } from './faults.ts';
import { smsSize } from '../src/domain/messages/sms-segments.ts';

export interface LocalSms {
  messageId: string;
  phoneNumber: string;
  message: string;
  attributes: Record<string, string>;
  at: string;
}

export interface LocalSmsOutbox {
  endpoint: string;
  outboxUrl: string;
  messages(): LocalSms[];
  injectFaults(faults: readonly Fault[]): void;
  clear(): void;
  stop(): Promise<void>;
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const E164 = /^\+[1-9]\d{6,14}$/;
/** SNS refuses SMS bodies above 1600 characters. */
const MAX_SMS_CHARS = 1600;

function errorXml(type: 'Sender' | 'Receiver', code: string, message: string): string {
  return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeHtml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

/** MessageAttributes.entry.N.Name / .Value.DataType / .Value.StringValue -> { name: value }. */
export function parseMessageAttributes(form: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (let n = 1; ; n++) {
    const name = form.get(`MessageAttributes.entry.${n}.Name`);
    if (name === null) break;
    out[name] = form.get(`MessageAttributes.entry.${n}.Value.StringValue`) ?? '';
  }
  return out;
}

function outboxPage(messages: readonly LocalSms[]): string {
  const rows = [...messages]
    .reverse()
    .map((m) => {
      const size = smsSize(m.message);
      const linked = escapeHtml(m.message).replace(/(https?:\/\/[^\s<]+)/g, '<a href="$1">$1</a>');
      return `<li><div class="meta"><b>${escapeHtml(m.phoneNumber)}</b> · ${escapeHtml(m.at)} · ${size.units} ${size.encoding === 'GSM-7' ? 'septets' : 'UCS-2 units'}, ${size.segments} segment(s) · ${escapeHtml(m.messageId)}</div><pre>${linked}</pre></li>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local SMS outbox</title>
<meta http-equiv="refresh" content="3">
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}
ul{list-style:none;padding:0}li{border:1px solid #ccc;border-radius:8px;margin:.75rem 0;padding:.75rem}
.meta{color:#555;font-size:.85rem}pre{white-space:pre-wrap;font-size:1rem;margin:.5rem 0 0}</style></head>
<body><h1>Local SMS outbox</h1><p>${messages.length} message(s), newest first. JSON: <a href="/messages">/messages</a>. Refreshes every 3 s.</p>
<ul>
${rows}
</ul></body></html>`;
}

export async function startSmsOutbox(opts: { port?: number } = {}): Promise<LocalSmsOutbox> {
  const messages: LocalSms[] = [];
  const faults = new FaultQueue();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET' && url.pathname === '/messages') {
        send(res, 200, JSON.stringify([...messages].reverse()), { 'content-type': 'application/json' });
        return;
      }
      if (req.method === 'GET' && url.pathname === '/') {
        send(res, 200, outboxPage(messages), { 'content-type': 'text/html; charset=utf-8' });
        return;
      }
      if (req.method !== 'POST') {
        send(res, 404, 'not found');
        return;
      }
      const xml = { 'content-type': 'text/xml' };
      const form = new URLSearchParams((await readBody(req)).toString('utf8'));
      const fault = faults.next();
      if (fault === 'throttle') return send(res, 400, errorXml('Sender', 'Throttling', 'Rate exceeded'), xml);
      if (fault === '5xx') return send(res, 500, errorXml('Receiver', 'InternalError', 'Internal error'), xml);
      if (fault === 'reject') return send(res, 400, errorXml('Sender', 'InvalidParameter', 'Invalid parameter: PhoneNumber Reason: not a valid mobile number'), xml);
      const action = form.get('Action');
      if (action !== 'Publish') {
        return send(res, 400, errorXml('Sender', 'InvalidAction', `The local SMS outbox supports Publish only, not ${action ?? '(none)'}`), xml);
      }
      const phoneNumber = form.get('PhoneNumber') ?? '';
      const message = form.get('Message') ?? '';
      if (!E164.test(phoneNumber)) {
        return send(res, 400, errorXml('Sender', 'InvalidParameter', 'Invalid parameter: PhoneNumber Reason: not an E.164 number'), xml);
      }
      if (message.length === 0 || message.length > MAX_SMS_CHARS) {
        return send(res, 400, errorXml('Sender', 'InvalidParameter', 'Invalid parameter: Message length'), xml);
      }
      const sms: LocalSms = {
        messageId: randomUUID(),
        phoneNumber,
        message,
        attributes: parseMessageAttributes(form),
        at: new Date().toISOString(),
      };
      messages.push(sms);
      send(
        res,
        200,
        `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${sms.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
        xml,
      );
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, errorXml('Receiver', 'InternalError', String(e)), { 'content-type': 'text/xml' });
    });
  });

  const endpoint = await listenLocal(server, opts.port);
  return {
    endpoint,
    outboxUrl: `${endpoint}/`,
    messages: () => [...messages],
    injectFaults: (f) => faults.push(f),
    clear() {
      messages.length = 0;
      faults.clear();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
