/**
 * Sending the acknowledgement of a reply. Acknowledgements are not alerts (no token, no ledger
 * entry per alert): they go out once per inbound message, which the handler's idempotency
 * guarantees. SMS through End User Messaging (src/adapters/sms.ts) as transactional; email
 * through SES v2 from the alert sender, with the configuration set (so bounces of
 * acknowledgements are seen too) and a tag saying what it is.
 */
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { sesClient } from '../adapters/ses-client.ts';
import { runtimeConfig } from '../config.ts';
import { sendSms } from '../adapters/sms.ts';

export async function sendAckSms(to: string, text: string): Promise<string | undefined> {
  // The alert adapter: same origination identity and configuration set, so the status of an
  // acknowledgement is published too (no alertId: the delivery function does not match it to an alert).
  return (await sendSms({ to, message: text, context: { kind: 'reply-ack' } })).messageId;
}

export async function sendAckEmail(to: string, subject: string, text: string): Promise<string | undefined> {
  const cfg = runtimeConfig();
  const out = await sesClient().send(
    new SendEmailCommand({
      FromEmailAddress: cfg.SES_FROM_ADDRESS,
      Destination: { ToAddresses: [to] },
      ReplyToAddresses: [cfg.SES_REPLY_TO_ADDRESS],
      Content: { Simple: { Subject: { Data: subject, Charset: 'UTF-8' }, Body: { Text: { Data: text, Charset: 'UTF-8' } } } },
      ...(cfg.SES_CONFIGURATION_SET ? { ConfigurationSetName: cfg.SES_CONFIGURATION_SET } : {}),
      EmailTags: [{ Name: 'kind', Value: 'reply-ack' }],
    }),
  );
  return out.MessageId;
}
