/**
 * Sends one alert email with SES v2 SendEmail: from the verified sender, Reply-To the address
 * whose receipt rule reads customers' replies, and, when a configuration set is configured, that
 * set plus EmailTags (alertId, channel, recipientRef) so SES events lead back to the alert and
 * its send-ledger entry.
 */
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { sesClient } from './ses-client.ts';
import { runtimeConfig } from '../config.ts';

export interface OutboundEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Tag values: ASCII letters, digits, _ and - only (SES rule). */
  tags: Record<string, string>;
}

export async function sendEmail(m: OutboundEmail): Promise<{ messageId: string }> {
  const cfg = runtimeConfig();
  const configured = cfg.SES_CONFIGURATION_SET !== '';
  const out = await sesClient().send(
    new SendEmailCommand({
      FromEmailAddress: cfg.SES_FROM_ADDRESS,
      Destination: { ToAddresses: [m.to] },
      ReplyToAddresses: [cfg.SES_REPLY_TO_ADDRESS],
      ...(configured
        ? {
            ConfigurationSetName: cfg.SES_CONFIGURATION_SET,
            EmailTags: Object.entries(m.tags).map(([Name, Value]) => ({ Name, Value })),
          }
        : {}),
      Content: {
        Simple: {
          Subject: { Data: m.subject, Charset: 'UTF-8' },
          Body: { Html: { Data: m.html, Charset: 'UTF-8' }, Text: { Data: m.text, Charset: 'UTF-8' } },
        },
      },
    }),
  );
  if (!out.MessageId) throw new Error('SES accepted the email without a MessageId');
  return { messageId: out.MessageId };
}
