/**
 * The send ports of the engine and their AWS adapters: SES v2 SendBulkEmail (up to 50
 * destinations, one stored template per locale, per-destination replacement data) and SNS
 * Publish to a phone number. The adapters use their own SDK clients with the SDK's retries off:
 * the engine decides when to retry, paces every attempt through the token bucket, and knows
 * which failures may have been accepted (a 5xx) and which surely were not (throttling).
 */
import {
  SESv2Client,
  SendBulkEmailCommand,
  CreateEmailTemplateCommand,
  UpdateEmailTemplateCommand,
  type BulkEmailEntryResult,
} from '@aws-sdk/client-sesv2';
import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
import type { Locale } from '../../events/core.ts';
import { runtimeConfig } from '../config.ts';
import type { CampaignTemplate, TemplateData } from './templates.ts';
import { sesTemplateName } from './templates.ts';
import { campaignConfig } from './config.ts';

/**
 * accepted: the provider took it. throttled: surely not accepted, retry. unknown: may have been
 * accepted. rejected: this message never will be. fatal: nothing will be (bad template, sender
 * identity, permissions): the engine stops rather than fail every recipient.
 */
export type SendOutcome =
  | { kind: 'accepted'; messageId: string }
  | { kind: 'fatal'; reason: string }
  | { kind: 'throttled'; reason: string }
  | { kind: 'unknown'; reason: string }
  | { kind: 'rejected'; reason: string };

export interface BulkEntry {
  to: string;
  data: TemplateData;
}

export interface EmailSender {
  /** Creates or updates the provider-side templates of a campaign template (all locales). */
  ensureTemplates(t: CampaignTemplate): Promise<void>;
  sendBulk(templateId: string, loc: Locale, entries: readonly BulkEntry[], tags: Record<string, string>): Promise<SendOutcome[]>;
}

export interface SmsSender {
  send(phone: string, message: string): Promise<SendOutcome>;
}

/** Finds whether a message carrying a given token hash reached the provider (in-doubt recovery). */
export interface DeliveryLookup {
  find(channel: 'email' | 'sms', contact: string, tokenHash: string): Promise<string | undefined>;
}

function classify(e: unknown): SendOutcome {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = err.$metadata?.httpStatusCode;
  const name = err.name ?? 'Error';
  if (/Throttl|TooManyRequests|LimitExceeded|SendingPaused/i.test(name) || status === 429) return { kind: 'throttled', reason: name };
  if (status === 401 || status === 403 || /AccessDenied|Authorization|NotFound|SendingPaused|AccountSuspended|MailFromDomainNotVerified/i.test(name)) return { kind: 'fatal', reason: name };
  if (status !== undefined && status >= 400 && status < 500) return { kind: 'rejected', reason: name };
  // 5xx, timeouts, resets: the request may have been processed.
  return { kind: 'unknown', reason: name };
}

const THROTTLED_ENTRY = new Set(['ACCOUNT_THROTTLED', 'TRANSIENT_FAILURE', 'ACCOUNT_SENDING_PAUSED', 'CONFIGURATION_SET_SENDING_PAUSED', 'ACCOUNT_DAILY_QUOTA_EXCEEDED']);

function entryOutcome(r: BulkEmailEntryResult | undefined): SendOutcome {
  if (!r) return { kind: 'unknown', reason: 'no result for entry' };
  if (r.Status === 'SUCCESS' && r.MessageId) return { kind: 'accepted', messageId: r.MessageId };
  const status = r.Status ?? 'FAILED';
  return THROTTLED_ENTRY.has(status) ? { kind: 'throttled', reason: status } : { kind: 'rejected', reason: status };
}

export function sesEmailSender(client = new SESv2Client({ maxAttempts: 1 }), prefix = campaignConfig().CAMPAIGN_SES_TEMPLATE_PREFIX): EmailSender {
  return {
    async ensureTemplates(t) {
      if (!t.email) return;
      for (const [loc, parts] of Object.entries(t.email) as [Locale, { subject: string; html: string; text: string }][]) {
        const TemplateName = prefix + sesTemplateName(t.id, loc);
        const TemplateContent = { Subject: parts.subject, Html: parts.html, Text: parts.text };
        for (let attempt = 0; ; attempt++) {
          try {
            try {
              await client.send(new CreateEmailTemplateCommand({ TemplateName, TemplateContent }));
            } catch (e) {
              if ((e as { name?: string }).name !== 'AlreadyExistsException' && !/already exists/i.test((e as Error).message ?? '')) throw e;
              await client.send(new UpdateEmailTemplateCommand({ TemplateName, TemplateContent }));
            }
            break;
          } catch (e) {
            // Template calls are idempotent: throttling and 5xx are simply retried.
            if (classify(e).kind === 'rejected' || attempt >= 8) throw e;
            await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
          }
        }
      }
    },
    async sendBulk(templateId, loc, entries, tags) {
      const cfg = runtimeConfig();
      try {
        const out = await client.send(
          new SendBulkEmailCommand({
            FromEmailAddress: cfg.SES_FROM_ADDRESS,
            ReplyToAddresses: [cfg.SES_REPLY_TO_ADDRESS],
            ...(cfg.SES_CONFIGURATION_SET ? { ConfigurationSetName: cfg.SES_CONFIGURATION_SET } : {}),
            DefaultContent: { Template: { TemplateName: prefix + sesTemplateName(templateId, loc), TemplateData: '{}' } },
            DefaultEmailTags: Object.entries(tags).map(([Name, Value]) => ({ Name, Value })),
            BulkEmailEntries: entries.map((e) => ({
              Destination: { ToAddresses: [e.to] },
              ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: JSON.stringify(e.data) } },
            })),
          }),
        );
        const results = out.BulkEmailEntryResults ?? [];
        return entries.map((_, i) => entryOutcome(results[i]));
      } catch (e) {
        const o = classify(e);
        // A whole SendBulkEmail refused for its content (not for one address) fails every batch alike.
        const whole: SendOutcome = o.kind === 'rejected' ? { kind: 'fatal', reason: o.reason } : o;
        return entries.map(() => whole);
      }
    },
  };
}

export function snsSmsSender(client = new SNSClient({ maxAttempts: 1 })): SmsSender {
  return {
    async send(phone, message) {
      const cfg = runtimeConfig();
      const attrs: Record<string, { DataType: string; StringValue: string }> = {
        'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
      };
      if (cfg.SMS_SENDER_ID) attrs['AWS.SNS.SMS.SenderID'] = { DataType: 'String', StringValue: cfg.SMS_SENDER_ID };
      if (cfg.SMS_ORIGINATION_NUMBER) attrs['AWS.MM.SMS.OriginationNumber'] = { DataType: 'String', StringValue: cfg.SMS_ORIGINATION_NUMBER };
      try {
        const out = await client.send(new PublishCommand({ PhoneNumber: phone, Message: message, MessageAttributes: attrs }));
        return out.MessageId ? { kind: 'accepted', messageId: out.MessageId } : { kind: 'unknown', reason: 'no MessageId' };
      } catch (e) {
        return classify(e);
      }
    },
  };
}

/** Sinks that accept everything and send nothing: dry runs and benchmarks. */
export const nullEmailSender: EmailSender = {
  async ensureTemplates() {},
  async sendBulk(_t, _l, entries) {
    return entries.map((_, i) => ({ kind: 'accepted' as const, messageId: `null-${Date.now()}-${i}` }));
  },
};
