/**
 * Sending the acknowledgement of a reply. Acknowledgements are not alerts (no token, no ledger
 * entry per alert): they go out once per inbound message, which the handler's idempotency
 * guarantees. SMS through SNS as transactional; email through SES v2 from the alert sender, with
 * the configuration set (so bounces of acknowledgements are seen too) and a tag saying what it is.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { sesClient } from '../adapters/ses-client.ts';
import { snsClient } from '../adapters/sns-client.ts';
import { runtimeConfig } from '../config.ts';

export async function sendAckSms(to: string, text: string): Promise<string | undefined> {
  const cfg = runtimeConfig();
  const out = await snsClient().send(
    new PublishCommand({
      PhoneNumber: to,
      Message: text,
      MessageAttributes: {
        'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
        ...(cfg.SMS_SENDER_ID ? { 'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: cfg.SMS_SENDER_ID } } : {}),
        ...(cfg.SMS_ORIGINATION_NUMBER ? { 'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: cfg.SMS_ORIGINATION_NUMBER } } : {}),
      },
    }),
  );
  return out.MessageId;
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
