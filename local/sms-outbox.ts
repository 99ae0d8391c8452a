/**
 * Local SMS: a small endpoint speaking AWS End User Messaging SMS's protocol (AWS JSON 1.0, what
 * @aws-sdk/client-pinpoint-sms-voice-v2 uses: POST / with `X-Amz-Target:
 * PinpointSMSVoiceV2.SendTextMessage`, JSON bodies and answers), so the real client sends to it
 * (AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2). Input is checked as the service documents it and
 * refused the same way: `{__type, message, Reason, Fields}` with HTTP 400 (ValidationException,
 * ConflictException for an opted-out number, ResourceNotFoundException, ThrottlingException,
 * SerializationException, UnknownOperationException), 500 InternalServerException.
 *
 * Like the service, a message sent with a configuration set produces status events, in the
 * documented shape (local/sms-status-events.ts: eventType, messageId, context,
 * destinationPhoneNumber, messageStatus, totalMessageParts, ...): by default TEXT_SUCCESSFUL then TEXT_DELIVERED, shortly after the
 * accept; `injectOutcome(number, [...])` makes the next message to that number end otherwise
 * (TEXT_BLOCKED, TEXT_INVALID, nothing at all). Listeners (`onStatusEvent`) get them: the local
 * runtime hands them to the delivery function the way the configuration set's SNS event
 * destination does (local/reply-simulator.ts routeSmsStatusEvents). No configuration set, no
 * events, as in AWS.
 *
 * Transitional: it also still accepts SNS Publish to a phone number (Query protocol, form POST,
 * XML answers) for senders not yet moved to src/adapters/sms.ts; those produce no events, since
 * SNS names no configuration set.
 *
 * Everything accepted is listed on an outbox page (newest first) and as JSON at /messages.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listenLocal } from './free-port.ts';
import { FaultQueue, readBody, send, escapeHtml, type Fault } from './faults.ts';
import { smsSize } from '../src/domain/messages/sms-segments.ts';
import type { SmsEventType } from '../events/aws-notifications.ts';
import { FINAL_SMS_EVENTS, smsStatusEvent, type SmsStatusEvent } from './sms-status-events.ts';

export { LOCAL_BANK_NUMBER, smsStatusEvent, type SmsStatusEvent } from './sms-status-events.ts';

export interface LocalSms {
  messageId: string;
  phoneNumber: string;
  message: string;
  /** Which API sent it: End User Messaging SendTextMessage, or (legacy) SNS Publish. */
  protocol: 'sms-voice-v2' | 'sns';
  /** SNS message attributes (legacy path); {} for End User Messaging. */
  attributes: Record<string, string>;
  messageType?: string;
  originationIdentity?: string;
  configurationSetName?: string;
  /** SendTextMessage Context, as given: it comes back in every status event. */
  context?: Record<string, string>;
  /** Message parts (segments) as a handset and the service count them, and the encoding. */
  parts: number;
  encoding: 'GSM' | 'UCS2';
  at: string;
}

export type SmsStatusListener = (event: SmsStatusEvent) => Promise<void> | void;

export interface LocalSmsOutbox {
  endpoint: string;
  outboxUrl: string;
  messages(): LocalSms[];
  /** Every status event produced so far, oldest first. */
  statusEvents(): SmsStatusEvent[];
  onStatusEvent(listener: SmsStatusListener): void;
  /** The next message to this number ends with these events instead ([] = never heard of again). */
  injectOutcome(phoneNumber: string, events: readonly SmsEventType[]): void;
  /** Numbers that texted STOP: SendTextMessage answers ConflictException DESTINATION_PHONE_NUMBER_OPTED_OUT. */
  optOut(phoneNumber: string): void;
  injectFaults(faults: readonly Fault[]): void;
  clear(): void;
  stop(): Promise<void>;
}

export interface SmsOutboxOptions {
  port?: number;
  /** Delay before the first status event and between events (default 100 ms). */
  statusDelayMs?: number;
  /** What a message becomes when nothing was injected (default TEXT_SUCCESSFUL, TEXT_DELIVERED). */
  defaultOutcome?: readonly SmsEventType[];
  /** When set, any other ConfigurationSetName is ResourceNotFoundException, as in an account without it. */
  configurationSets?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// AWS JSON 1.0: SendTextMessage as the service documents it.

const TARGET_PREFIX = 'PinpointSMSVoiceV2.';
const JSON_TYPE = { 'content-type': 'application/x-amz-json-1.0' };
const E164 = /^\+[1-9]\d{6,14}$/;
const MAX_BODY_CHARS = 1600;

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const invalid = (field: string, message: string, reason = 'FIELD_VALIDATION_FAILED') =>
  new AwsError(400, 'ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${message}`, {
    Reason: reason,
    Fields: [{ Name: field, Message: message }],
  });
const serialization = (message: string) => new AwsError(400, 'SerializationException', message);

export interface SendTextMessageInput {
  DestinationPhoneNumber: string;
  MessageBody: string;
  MessageType?: string;
  OriginationIdentity?: string;
  ConfigurationSetName?: string;
  Context?: Record<string, string>;
  TimeToLive?: number;
  DryRun?: boolean;
}

const optionalString = (o: Record<string, unknown>, k: string): string | undefined => {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw serialization(`${k}: expected a string`);
  return v;
};

/** Checks a SendTextMessage request the way the service does; throws the service's answer. */
export function parseSendTextMessage(body: unknown): SendTextMessageInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw serialization('Request body is not a JSON object');
  const o = body as Record<string, unknown>;
  const to = optionalString(o, 'DestinationPhoneNumber');
  if (to === undefined) throw invalid('destinationPhoneNumber', 'Member must not be null', 'MISSING_PARAMETER');
  if (!E164.test(to)) throw invalid('destinationPhoneNumber', 'Member must be a phone number in E.164 format', 'INVALID_PARAMETER');
  const message = optionalString(o, 'MessageBody');
  if (message === undefined) throw invalid('messageBody', 'Member must not be null', 'MISSING_PARAMETER');
  if (message.length < 1 || message.length > MAX_BODY_CHARS) throw invalid('messageBody', `Member must have length between 1 and ${MAX_BODY_CHARS}`);
  const type = optionalString(o, 'MessageType');
  if (type !== undefined && type !== 'TRANSACTIONAL' && type !== 'PROMOTIONAL') throw invalid('messageType', 'Member must satisfy enum value set: [TRANSACTIONAL, PROMOTIONAL]');
  const identity = optionalString(o, 'OriginationIdentity');
  if (identity !== undefined && !/^[A-Za-z0-9_:/+-]{1,256}$/.test(identity)) throw invalid('originationIdentity', 'Member must satisfy regular expression pattern: [A-Za-z0-9_:/\\+-]+');
  const configurationSet = optionalString(o, 'ConfigurationSetName');
  if (configurationSet !== undefined && !/^[A-Za-z0-9_:/-]{1,256}$/.test(configurationSet)) throw invalid('configurationSetName', 'Member must satisfy regular expression pattern: [A-Za-z0-9_:/-]+');
  let context: Record<string, string> | undefined;
  if (o.Context !== undefined && o.Context !== null) {
    if (typeof o.Context !== 'object' || Array.isArray(o.Context)) throw serialization('Context: expected a map of strings');
    const entries = Object.entries(o.Context as Record<string, unknown>);
    if (entries.length > 5) throw invalid('context', 'Member must have length less than or equal to 5');
    for (const [k, v] of entries) {
      if (typeof v !== 'string') throw serialization(`Context.${k}: expected a string`);
      if (!/^\S{1,100}$/.test(k)) throw invalid('context', 'Map keys must satisfy constraint: [Member must have length between 1 and 100, Member must satisfy regular expression pattern: \\S+]');
      if (v.length < 1 || v.length > 800 || v.trim() !== v) throw invalid('context', 'Map value must have length between 1 and 800 and no leading or trailing whitespace');
    }
    context = Object.fromEntries(entries) as Record<string, string>;
  }
  const ttl = o.TimeToLive;
  if (ttl !== undefined && ttl !== null && (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 5 || ttl > 259_200)) throw invalid('timeToLive', 'Member must have value between 5 and 259200');
  if (o.DryRun !== undefined && o.DryRun !== null && typeof o.DryRun !== 'boolean') throw serialization('DryRun: expected a boolean');
  return {
    DestinationPhoneNumber: to,
    MessageBody: message,
    ...(type !== undefined ? { MessageType: type } : {}),
    ...(identity !== undefined ? { OriginationIdentity: identity } : {}),
    ...(configurationSet !== undefined ? { ConfigurationSetName: configurationSet } : {}),
    ...(context ? { Context: context } : {}),
    ...(typeof ttl === 'number' ? { TimeToLive: ttl } : {}),
    ...(o.DryRun === true ? { DryRun: true } : {}),
  };
}

function sendAwsError(res: ServerResponse, e: AwsError): void {
  send(res, e.status, JSON.stringify({ __type: e.type, message: e.message, Message: e.message, ...e.extra }), { ...JSON_TYPE, 'x-amzn-requestid': randomUUID() });
}

function faultError(fault: Fault): AwsError {
  if (fault === 'throttle') return new AwsError(400, 'ThrottlingException', 'Rate exceeded');
  if (fault === '5xx') return new AwsError(500, 'InternalServerException', 'Internal server error', { RequestId: randomUUID() });
  // A permanent refusal of this recipient, e.g. a landline.
  return invalid('destinationPhoneNumber', 'Destination phone number is not a valid mobile number', 'INVALID_PARAMETER');
}

// ---------------------------------------------------------------------------------------------
// Legacy SNS Query protocol (Publish to a phone number).

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

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

function outboxPage(messages: readonly LocalSms[], events: readonly SmsStatusEvent[]): string {
  const lastStatus = new Map<string, string>();
  for (const e of events) lastStatus.set(e.messageId, e.eventType);
  const rows = [...messages]
    .reverse()
    .map((m) => {
      const size = smsSize(m.message);
      const linked = escapeHtml(m.message).replace(/(https?:\/\/[^\s<]+)/g, '<a href="$1">$1</a>');
      const ctx = m.context ? ` · context ${escapeHtml(JSON.stringify(m.context))}` : '';
      const via = m.protocol === 'sns' ? 'SNS Publish (no configuration set)' : `configuration set ${escapeHtml(m.configurationSetName ?? '(none)')}`;
      return `<li><div class="meta"><b>${escapeHtml(m.phoneNumber)}</b> · ${escapeHtml(m.at)} · ${size.units} ${size.encoding === 'GSM-7' ? 'septets' : 'UCS-2 units'}, ${m.parts} part(s) · ${via}${ctx} · ${escapeHtml(m.messageId)} · status ${escapeHtml(lastStatus.get(m.messageId) ?? '-')}</div><pre>${linked}</pre></li>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local SMS outbox</title>
<meta http-equiv="refresh" content="3">
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}
ul{list-style:none;padding:0}li{border:1px solid #ccc;border-radius:8px;margin:.75rem 0;padding:.75rem}
.meta{color:#555;font-size:.85rem}pre{white-space:pre-wrap;font-size:1rem;margin:.5rem 0 0}</style></head>
<body><h1>Local SMS outbox</h1><p>${messages.length} message(s), newest first. JSON: <a href="/messages">/messages</a>, status events: <a href="/status-events">/status-events</a>. Refreshes every 3 s.</p>
<ul>
${rows}
</ul></body></html>`;
}

export async function startSmsOutbox(opts: SmsOutboxOptions = {}): Promise<LocalSmsOutbox> {
  const messages: LocalSms[] = [];
  const events: SmsStatusEvent[] = [];
  const listeners: SmsStatusListener[] = [];
  const outcomes = new Map<string, (readonly SmsEventType[])[]>();
  const optedOut = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const faults = new FaultQueue();
  const delay = opts.statusDelayMs ?? 100;
  const defaultOutcome = opts.defaultOutcome ?? (['TEXT_SUCCESSFUL', 'TEXT_DELIVERED'] as const);

  const emit = (e: SmsStatusEvent) => {
    events.push(e);
    for (const l of listeners) {
      // A listener's failure is its own business (the runtime's route retries); never the outbox's.
      void Promise.resolve()
        .then(() => l(e))
        .catch(() => undefined);
    }
  };

  function scheduleStatus(sms: LocalSms): void {
    const queued = outcomes.get(sms.phoneNumber);
    const plan = queued?.shift() ?? defaultOutcome;
    if (queued && queued.length === 0) outcomes.delete(sms.phoneNumber);
    const requestedAt = Date.parse(sms.at);
    plan.forEach((eventType, i) => {
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          emit(
            smsStatusEvent(eventType, {
              messageId: sms.messageId,
              to: sms.phoneNumber,
              message: sms.message,
              requestedAt,
              ...(sms.originationIdentity ? { from: sms.originationIdentity } : {}),
              ...(sms.context ? { context: sms.context } : {}),
              ...(sms.messageType ? { messageType: sms.messageType } : {}),
              // The last event of a plan is what the service settles on.
              isFinal: i === plan.length - 1 || FINAL_SMS_EVENTS.has(eventType),
            }),
          );
        },
        delay * (i + 1),
      );
      timer.unref();
      timers.add(timer);
    });
  }

  function accept(sms: Omit<LocalSms, 'parts' | 'encoding' | 'at' | 'messageId'>): LocalSms {
    const size = smsSize(sms.message);
    const full: LocalSms = { messageId: randomUUID(), ...sms, parts: size.segments, encoding: size.encoding === 'GSM-7' ? 'GSM' : 'UCS2', at: new Date().toISOString() };
    messages.push(full);
    return full;
  }

  async function sendTextMessage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const raw = (await readBody(req, 1024 * 1024)).toString('utf8');
    const fault = faults.next();
    if (fault) return sendAwsError(res, faultError(fault));
    if (!target.startsWith(TARGET_PREFIX)) throw new AwsError(400, 'UnknownOperationException', `Unknown target ${target || '(none)'}`);
    const operation = target.slice(TARGET_PREFIX.length);
    if (operation !== 'SendTextMessage') throw new AwsError(400, 'UnknownOperationException', `The local SMS outbox supports SendTextMessage only, not ${operation}`);
    let body: unknown;
    try {
      body = JSON.parse(raw || '{}');
    } catch {
      throw serialization('Request body is not valid JSON');
    }
    const input = parseSendTextMessage(body);
    if (input.ConfigurationSetName && opts.configurationSets && !opts.configurationSets.includes(input.ConfigurationSetName)) {
      throw new AwsError(400, 'ResourceNotFoundException', `Configuration set ${input.ConfigurationSetName} does not exist`, { ResourceType: 'configuration-set', ResourceId: input.ConfigurationSetName });
    }
    if (optedOut.has(input.DestinationPhoneNumber)) {
      throw new AwsError(400, 'ConflictException', 'The destination phone number is opted out', { Reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT', ResourceType: 'opted-out-number', ResourceId: input.DestinationPhoneNumber });
    }
    if (input.DryRun) return send(res, 200, JSON.stringify({ MessageId: randomUUID() }), JSON_TYPE);
    const sms = accept({
      phoneNumber: input.DestinationPhoneNumber,
      message: input.MessageBody,
      protocol: 'sms-voice-v2',
      attributes: {},
      ...(input.MessageType ? { messageType: input.MessageType } : {}),
      ...(input.OriginationIdentity ? { originationIdentity: input.OriginationIdentity } : {}),
      ...(input.ConfigurationSetName ? { configurationSetName: input.ConfigurationSetName } : {}),
      ...(input.Context ? { context: input.Context } : {}),
    });
    send(res, 200, JSON.stringify({ MessageId: sms.messageId }), JSON_TYPE);
    // Only a configuration set with an event destination publishes events.
    if (sms.configurationSetName) scheduleStatus(sms);
  }

  async function snsPublish(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const xml = { 'content-type': 'text/xml' };
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const fault = faults.next();
    if (fault === 'throttle') return send(res, 400, errorXml('Sender', 'Throttling', 'Rate exceeded'), xml);
    if (fault === '5xx') return send(res, 500, errorXml('Receiver', 'InternalError', 'Internal error'), xml);
    if (fault === 'reject') return send(res, 400, errorXml('Sender', 'InvalidParameter', 'Invalid parameter: PhoneNumber Reason: not a valid mobile number'), xml);
    const action = form.get('Action');
    if (action !== 'Publish') return send(res, 400, errorXml('Sender', 'InvalidAction', `The local SMS outbox supports Publish only, not ${action ?? '(none)'}`), xml);
    const phoneNumber = form.get('PhoneNumber') ?? '';
    const message = form.get('Message') ?? '';
    if (!E164.test(phoneNumber)) return send(res, 400, errorXml('Sender', 'InvalidParameter', 'Invalid parameter: PhoneNumber Reason: not an E.164 number'), xml);
    if (message.length === 0 || message.length > MAX_BODY_CHARS) return send(res, 400, errorXml('Sender', 'InvalidParameter', 'Invalid parameter: Message length'), xml);
    const sms = accept({ phoneNumber, message, protocol: 'sns', attributes: parseMessageAttributes(form) });
    send(
      res,
      200,
      `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${sms.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      xml,
    );
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isJson = req.headers['x-amz-target'] !== undefined || String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json');
    void (async () => {
      if (req.method === 'GET' && url.pathname === '/messages') return send(res, 200, JSON.stringify([...messages].reverse()), { 'content-type': 'application/json' });
      if (req.method === 'GET' && url.pathname === '/status-events') return send(res, 200, JSON.stringify(events), { 'content-type': 'application/json' });
      if (req.method === 'GET' && url.pathname === '/') return send(res, 200, outboxPage(messages, events), { 'content-type': 'text/html; charset=utf-8' });
      if (req.method !== 'POST') return send(res, 404, 'not found');
      return isJson ? sendTextMessage(req, res) : snsPublish(req, res);
    })().catch((e: unknown) => {
      if (res.headersSent) return;
      if (e instanceof AwsError) return sendAwsError(res, e);
      if (isJson) return sendAwsError(res, new AwsError(500, 'InternalServerException', 'Internal server error'));
      send(res, 500, errorXml('Receiver', 'InternalError', 'Internal error'), { 'content-type': 'text/xml' });
    });
  });

  const endpoint = await listenLocal(server, opts.port);
  return {
    endpoint,
    outboxUrl: `${endpoint}/`,
    messages: () => [...messages],
    statusEvents: () => [...events],
    onStatusEvent: (l) => void listeners.push(l),
    injectOutcome(phoneNumber, plan) {
      const list = outcomes.get(phoneNumber) ?? [];
      list.push([...plan]);
      outcomes.set(phoneNumber, list);
    },
    optOut: (n) => void optedOut.add(n),
    injectFaults: (f) => faults.push(f),
    clear() {
      messages.length = 0;
      events.length = 0;
      outcomes.clear();
      optedOut.clear();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      faults.clear();
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
