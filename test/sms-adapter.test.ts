/**
 * The SMS adapter (src/adapters/sms.ts) against the local outbox with the real End User Messaging
 * client (AWS JSON 1.0 over HTTP): what is sent, what is recorded, how the service's refusals
 * reach the send-error classification, and bad input answered like AWS.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalPeers, type LocalPeers } from '../local/peers.ts';
import { setupTestEnv } from './support/env.ts';
import { sendSms } from '../src/adapters/sms.ts';
import { classifySendError, describeSendError } from '../src/alerts/send-errors.ts';
import { resetRuntimeConfig } from '../src/config.ts';

let peers: LocalPeers;
const CONFIG_SET = 'alerting-sms-test';
const IDENTITY = 'arn:aws:sms-voice:ap-northeast-1:000000000000:pool/pool-0123456789abcdef';

beforeAll(async () => {
  peers = await startLocalPeers({ sms: { statusDelayMs: 5 } });
  await setupTestEnv({ ...peers.env, SMS_CONFIGURATION_SET: CONFIG_SET, SMS_ORIGINATION_IDENTITY: IDENTITY });
});
afterAll(async () => {
  await peers?.stop();
});
beforeEach(async () => {
  await peers.clear();
});

/** The raw wire: what any JSON 1.0 client would send. */
async function post(body: string, target = 'PinpointSMSVoiceV2.SendTextMessage', contentType = 'application/x-amz-json-1.0') {
  const res = await fetch(peers.env.AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2!, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-amz-target': target },
    body,
  });
  return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as Record<string, unknown> };
}

const waitFor = async <T>(what: string, f: () => T | undefined, ms = 5000): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('sendSms through End User Messaging (real client, JSON 1.0)', () => {
  it('sends TRANSACTIONAL from the origination identity through the configuration set, with the Context', async () => {
    const text = '【サンプル銀行】口座*1234が「D-Wallet」と連携されました(11/25 15:28)。心当たりがなければ「凍結」と返信、または0120-000-110へ';
    const out = await sendSms({ to: '+819012345678', message: text, context: { alertId: 'al-123' } });
    expect(out.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(peers.smsMessages()).toEqual([
      expect.objectContaining({
        messageId: out.messageId,
        protocol: 'sms-voice-v2',
        phoneNumber: '+819012345678',
        message: text,
        messageType: 'TRANSACTIONAL',
        originationIdentity: IDENTITY,
        configurationSetName: CONFIG_SET,
        context: { alertId: 'al-123' },
        encoding: 'UCS2',
        parts: 2,
      }),
    ]);
  });

  it('a message with a configuration set reports SUCCESSFUL then DELIVERED, carrying its message id, number and Context', async () => {
    const out = await sendSms({ to: '+819011112222', message: 'Example Bank: test', context: { alertId: 'al-ev' } });
    const events = await waitFor('two status events', () => (peers.smsStatusEvents().length >= 2 ? peers.smsStatusEvents() : undefined));
    expect(events.map((e) => [e.eventType, e.messageStatus, e.isFinal])).toEqual([
      ['TEXT_SUCCESSFUL', 'SUCCESSFUL', false],
      ['TEXT_DELIVERED', 'DELIVERED', true],
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ messageId: out.messageId, destinationPhoneNumber: '+819011112222', context: { alertId: 'al-ev' }, messageType: 'TRANSACTIONAL', messageEncoding: 'GSM', totalMessageParts: 1, isoCountryCode: 'JP', eventVersion: '1.0' });
      expect(e.eventTimestamp).toBeGreaterThanOrEqual(e.messageRequestTimestamp);
    }
  });

  it('the outcome hook makes the next message to a number end BLOCKED (and only that one)', async () => {
    peers.injectSmsOutcome('+819033334444', ['TEXT_BLOCKED']);
    const blocked = await sendSms({ to: '+819033334444', message: 'one' });
    const normal = await sendSms({ to: '+819033334444', message: 'two' });
    await waitFor('three events', () => (peers.smsStatusEvents().length >= 3 ? true : undefined));
    const of = (id: string) => peers.smsStatusEvents().filter((e) => e.messageId === id).map((e) => e.eventType);
    expect(of(blocked.messageId)).toEqual(['TEXT_BLOCKED']);
    expect(of(normal.messageId)).toEqual(['TEXT_SUCCESSFUL', 'TEXT_DELIVERED']);
  });

  it('without a configuration set nothing reports back, as in AWS', async () => {
    process.env.SMS_CONFIGURATION_SET = '';
    resetRuntimeConfig();
    try {
      await sendSms({ to: '+819055556666', message: 'no config set' });
      await new Promise((r) => setTimeout(r, 60));
      expect(peers.smsMessages()[0]).not.toHaveProperty('configurationSetName');
      expect(peers.smsStatusEvents()).toEqual([]);
    } finally {
      process.env.SMS_CONFIGURATION_SET = CONFIG_SET;
      resetRuntimeConfig();
    }
  });
});

describe('refusals reach the send-error classification (retries and fallbacks)', () => {
  it('throttling is retried by the SDK; exhausted, it is RETRYABLE and nothing was sent', async () => {
    peers.injectFaults('sms', ['throttle', '5xx']);
    await sendSms({ to: '+819012345678', message: 'through throttling' });
    expect(peers.smsMessages()).toHaveLength(1);
    peers.injectFaults('sms', ['throttle', 'throttle', 'throttle', 'throttle']);
    const e = await sendSms({ to: '+819012345678', message: 'x' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400, attempts: 4 } });
    expect(classifySendError(e)).toBe('RETRYABLE');
    expect(peers.smsMessages()).toHaveLength(1);
  });

  it('an invalid number is a ValidationException: PERMANENT, not retried', async () => {
    const e = await sendSms({ to: '09012345678', message: 'x' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'ValidationException', Reason: 'INVALID_PARAMETER', $metadata: { httpStatusCode: 400, attempts: 1 } });
    expect(classifySendError(e)).toBe('PERMANENT');
    expect(describeSendError(e)).toBe('ValidationException/INVALID_PARAMETER (HTTP 400, 1 attempts)');
    expect(peers.smsMessages()).toHaveLength(0);
  });

  it('an opted-out number is a ConflictException DESTINATION_PHONE_NUMBER_OPTED_OUT: PERMANENT (fall back to email)', async () => {
    peers.optOutSms('+819077778888');
    const e = await sendSms({ to: '+819077778888', message: 'x' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'ConflictException', Reason: 'DESTINATION_PHONE_NUMBER_OPTED_OUT', $metadata: { httpStatusCode: 400 } });
    expect(classifySendError(e)).toBe('PERMANENT');
    expect(peers.smsMessages()).toHaveLength(0);
  });

  it('a Context the service refuses (a blank value, six entries) is refused whole, PERMANENT', async () => {
    for (const context of [{ alertId: ' padded ' }, Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, 'v']))]) {
      const e = await sendSms({ to: '+819012345678', message: 'x', context }).catch((x: unknown) => x);
      expect(e).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect(classifySendError(e)).toBe('PERMANENT');
    }
    expect(peers.smsMessages()).toHaveLength(0);
  });

  it('other conflicts (our own resources) and 5xx stay RETRYABLE; no answer at all is UNKNOWN_OUTCOME', () => {
    const err = (name: string, status: number, Reason?: string) => Object.assign(new Error(name), { name, Reason, $metadata: { httpStatusCode: status } });
    expect(classifySendError(err('ConflictException', 400, 'RESOURCE_NOT_ACTIVE'))).toBe('RETRYABLE');
    expect(classifySendError(err('ServiceQuotaExceededException', 400, 'MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT'))).toBe('RETRYABLE');
    expect(classifySendError(err('InternalServerException', 500))).toBe('RETRYABLE');
    expect(classifySendError(new Error('socket hang up'))).toBe('UNKNOWN_OUTCOME');
  });
});

describe('bad input to the outbox is answered like AWS (JSON 1.0 errors)', () => {
  it('names the field, with the status, __type and Reason the service uses, and records nothing', async () => {
    const valid = { DestinationPhoneNumber: '+819012345678', MessageBody: 'hi' };
    const cases: [string, number, string, string?][] = [
      [JSON.stringify({ ...valid, DestinationPhoneNumber: undefined }), 400, 'ValidationException', 'MISSING_PARAMETER'],
      [JSON.stringify({ ...valid, MessageBody: 'x'.repeat(1601) }), 400, 'ValidationException', 'FIELD_VALIDATION_FAILED'],
      [JSON.stringify({ ...valid, MessageType: 'URGENT' }), 400, 'ValidationException', 'FIELD_VALIDATION_FAILED'],
      [JSON.stringify({ ...valid, ConfigurationSetName: 'bad name!' }), 400, 'ValidationException', 'FIELD_VALIDATION_FAILED'],
      [JSON.stringify({ ...valid, OriginationIdentity: 'sender id with spaces' }), 400, 'ValidationException', 'FIELD_VALIDATION_FAILED'],
      [JSON.stringify({ ...valid, Context: { 'key with space': 'v' } }), 400, 'ValidationException', 'FIELD_VALIDATION_FAILED'],
      [JSON.stringify({ ...valid, TimeToLive: 1 }), 400, 'ValidationException', 'FIELD_VALIDATION_FAILED'],
      [JSON.stringify({ ...valid, Context: { alertId: 7 } }), 400, 'SerializationException'],
      ['{not json', 400, 'SerializationException'],
      ['[]', 400, 'SerializationException'],
    ];
    for (const [body, status, type, reason] of cases) {
      const r = await post(body);
      expect(r.status, body).toBe(status);
      expect(r.type).toBe('application/x-amz-json-1.0');
      expect(r.json.__type, body).toBe(type);
      expect(typeof r.json.message).toBe('string');
      if (reason) expect(r.json.Reason, body).toBe(reason);
    }
    const missing = await post(JSON.stringify({ MessageBody: 'hi' }));
    expect(missing.json.Fields).toEqual([expect.objectContaining({ Name: 'destinationPhoneNumber' })]);
    expect(peers.smsMessages()).toHaveLength(0);
  });

  it('unknown operations and targets: UnknownOperationException; DryRun validates and sends nothing', async () => {
    expect((await post('{}', 'PinpointSMSVoiceV2.SendVoiceMessage')).json.__type).toBe('UnknownOperationException');
    expect((await post('{}', 'SomethingElse.SendTextMessage')).json.__type).toBe('UnknownOperationException');
    const dry = await post(JSON.stringify({ DestinationPhoneNumber: '+819012345678', MessageBody: 'hi', DryRun: true }));
    expect(dry.status).toBe(200);
    expect(dry.json.MessageId).toEqual(expect.any(String));
    expect(peers.smsMessages()).toHaveLength(0);
  });
});
