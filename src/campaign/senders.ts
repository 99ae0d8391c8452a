/**
 * The send ports of the engine and their AWS adapters: SES v2 SendBulkEmail (up to 50
 * destinations, one stored template per locale, per-destination replacement data and tags) and
 * End User Messaging SMS SendTextMessage (with Context). The adapters use their own SDK clients with the SDK's retries off:
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
import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
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
  /** Message tags of this destination: the recipient's ledger key (src/campaign/ledger-key.ts). */
  tags: Record<string, string>;
}

export interface EmailSender {
  /** Creates or updates the provider-side templates of a campaign template (all locales). */
  ensureTemplates(t: CampaignTemplate): Promise<void>;
  sendBulk(templateId: string, loc: Locale, entries: readonly BulkEntry[]): Promise<SendOutcome[]>;
}

export interface SmsSender {
  /** `context`: the recipient's ledger key, for the provider's status events (End User Messaging Context). */
  send(phone: string, message: string, context: Record<string, string>): Promise<SendOutcome>;
}

function classify(e: unknown): SendOutcome {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = err.$metadata?.httpStatusCode;
  const name = err.name ?? 'Error';
  if (/Throttl|TooManyRequests|LimitExceeded|SendingPaused/i.test(name) || status === 429) return { kind: 'throttled', reason: name };
  // ServiceQuotaExceeded: End User Messaging's monthly spend limit; ResourceNotFound: no such
  // configuration set / origination identity. Every further send would fail alike.
  if (status === 401 || status === 403 || /AccessDenied|Authorization|NotFound|SendingPaused|AccountSuspended|MailFromDomainNotVerified|ServiceQuotaExceeded/i.test(name)) return { kind: 'fatal', reason: name };
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

/** Tags every entry has with the same value (SendBulkEmail requires DefaultEmailTags to be present). */
function commonTags(entries: readonly BulkEntry[]): { Name: string; Value: string }[] {
  const first = entries[0]?.tags ?? {};
  return Object.entries(first)
    .filter(([k, v]) => entries.every((e) => e.tags[k] === v))
    .map(([Name, Value]) => ({ Name, Value }));
}

/** The configuration set campaign emails name: its event destination brings their `Send` events back into the ledger. */
export function campaignConfigurationSet(): string {
  return campaignConfig().CAMPAIGN_SES_CONFIGURATION_SET || runtimeConfig().SES_CONFIGURATION_SET;
}

export function sesEmailSender(
  client = new SESv2Client({ maxAttempts: 1 }),
  prefix = campaignConfig().CAMPAIGN_SES_TEMPLATE_PREFIX,
  configurationSet = campaignConfigurationSet(),
): EmailSender {
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
    async sendBulk(templateId, loc, entries) {
      const cfg = runtimeConfig();
      try {
        const out = await client.send(
          new SendBulkEmailCommand({
            FromEmailAddress: cfg.SES_FROM_ADDRESS,
            ReplyToAddresses: [cfg.SES_REPLY_TO_ADDRESS],
            ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
            DefaultContent: { Template: { TemplateName: prefix + sesTemplateName(templateId, loc), TemplateData: '{}' } },
            // The tags common to the call, and each destination's full set (its ledger key): the
            // configuration set's events then lead back to the recipient's ledger entry.
            DefaultEmailTags: commonTags(entries),
            BulkEmailEntries: entries.map((e) => ({
              Destination: { ToAddresses: [e.to] },
              ReplacementTags: Object.entries(e.tags).map(([Name, Value]) => ({ Name, Value })),
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

/**
 * End User Messaging SMS SendTextMessage: TRANSACTIONAL, from the configured origination identity,
 * through the configuration set whose event destination publishes the status events, with the
 * recipient's ledger key as Context (it comes back in every status event: the delivery function
 * records the send in the ledger from it).
 */
export function eumSmsSender(client = new PinpointSMSVoiceV2Client({ maxAttempts: 1 })): SmsSender {
  return {
    async send(phone, message, context) {
      const cfg = runtimeConfig();
      try {
        const out = await client.send(
          new SendTextMessageCommand({
            DestinationPhoneNumber: phone,
            MessageBody: message,
            MessageType: 'TRANSACTIONAL',
            ...(cfg.SMS_ORIGINATION_IDENTITY ? { OriginationIdentity: cfg.SMS_ORIGINATION_IDENTITY } : {}),
            ...(cfg.SMS_CONFIGURATION_SET ? { ConfigurationSetName: cfg.SMS_CONFIGURATION_SET } : {}),
            Context: context,
          }),
        );
        return out.MessageId ? { kind: 'accepted', messageId: out.MessageId } : { kind: 'unknown', reason: 'no MessageId' };
      } catch (e) {
        return classify(e);
      }
    },
  };
}

/** Sinks that accept everything and send nothing: dry runs and benchmarks. */
export const nullSmsSender: SmsSender = {
  async send() {
    return { kind: 'accepted', messageId: `null-sms-${Date.now()}-${Math.random().toString(36).slice(2)}` };
  },
};

export const nullEmailSender: EmailSender = {
  async ensureTemplates() {},
  async sendBulk(_t, _l, entries) {
    return entries.map((_, i) => ({ kind: 'accepted' as const, messageId: `null-${Date.now()}-${i}` }));
  },
};
