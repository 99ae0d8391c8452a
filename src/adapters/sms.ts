/**
 * Sends one alert SMS with SNS Publish to a phone number, as a transactional message (delivered
 * ahead of promotional traffic, and not subject to marketing opt-out lists), with the sender id
 * and origination number when configured.
 */
import { PublishCommand, type MessageAttributeValue } from '@aws-sdk/client-sns';
import { awsClients } from './clients.ts';
import { runtimeConfig } from '../config.ts';

export async function sendSms(m: { to: string; message: string }): Promise<{ messageId: string }> {
  const cfg = runtimeConfig();
  const attrs: Record<string, MessageAttributeValue> = {
    'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
  };
  if (cfg.SMS_SENDER_ID) attrs['AWS.SNS.SMS.SenderID'] = { DataType: 'String', StringValue: cfg.SMS_SENDER_ID };
  if (cfg.SMS_ORIGINATION_NUMBER) attrs['AWS.MM.SMS.OriginationNumber'] = { DataType: 'String', StringValue: cfg.SMS_ORIGINATION_NUMBER };
  const out = await awsClients().sns.send(new PublishCommand({ PhoneNumber: m.to, Message: m.message, MessageAttributes: attrs }));
  if (!out.MessageId) throw new Error('SNS accepted the SMS without a MessageId');
  return { messageId: out.MessageId };
}
