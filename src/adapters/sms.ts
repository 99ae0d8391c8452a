/**
 * Sends one SMS through AWS End User Messaging SMS (SendTextMessage): TRANSACTIONAL (routed for
 * time-critical traffic), from the configured origination identity (phone number, pool or sender
 * id: SMS_ORIGINATION_IDENTITY), through the configuration set (SMS_CONFIGURATION_SET) whose event
 * destination publishes the status events (TEXT_DELIVERED, TEXT_BLOCKED, ...) the delivery
 * function reads. Without a configuration set no status event is ever published and the alert
 * would only be settled by the undelivered sweep: the stack always sets one.
 *
 * `context` travels with the message and comes back in every status event (`context` field):
 * alerts put their alertId there, so an event finds its alert even before AlertSent is indexed.
 * The service logs it to the event destination: ids only, never a phone number, address or name.
 * The service allows at most 5 entries, keys 1-100 non-blank characters, values 1-800 characters
 * without surrounding blanks; anything else is its ValidationException (a PERMANENT send error).
 *
 * The client is this module's own, built on first use, so a function that never sends SMS never
 * loads it (src/adapters/clients.ts holds the others). Its endpoint comes from the SDK's
 * configuration: AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 points it at the local outbox.
 */
import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { runtimeConfig } from '../config.ts';

let client: PinpointSMSVoiceV2Client | undefined;

export function smsClient(): PinpointSMSVoiceV2Client {
  // Throttling and 5xx are retried by the SDK's standard mode first, like the other clients.
  client ??= new PinpointSMSVoiceV2Client({ maxAttempts: 4, retryMode: 'standard' });
  return client;
}

/** For tests and the local runtime: replace (or with no argument, drop) the client. */
export function setSmsClient(next?: PinpointSMSVoiceV2Client): void {
  client = next;
}

export interface SmsRequest {
  /** E.164. */
  to: string;
  message: string;
  /** Ids that identify the message in its status events (alertId, campaign keys); no personal data. */
  context?: Record<string, string>;
}

export async function sendSms(m: SmsRequest): Promise<{ messageId: string }> {
  const cfg = runtimeConfig();
  const context = m.context && Object.keys(m.context).length > 0 ? m.context : undefined;
  const out = await smsClient().send(
    new SendTextMessageCommand({
      DestinationPhoneNumber: m.to,
      MessageBody: m.message,
      MessageType: 'TRANSACTIONAL',
      ...(cfg.SMS_ORIGINATION_IDENTITY ? { OriginationIdentity: cfg.SMS_ORIGINATION_IDENTITY } : {}),
      ...(cfg.SMS_CONFIGURATION_SET ? { ConfigurationSetName: cfg.SMS_CONFIGURATION_SET } : {}),
      ...(context ? { Context: context } : {}),
    }),
  );
  if (!out.MessageId) throw new Error('End User Messaging accepted the SMS without a MessageId');
  return { messageId: out.MessageId };
}
