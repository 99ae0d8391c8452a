/**
 * Campaign settings, read from the environment like src/config.ts (the CDK construct and the
 * local runtime set the same variables). Quotas are the provider limits this account has been
 * granted: a campaign may ask for any rate up to them, never above.
 */
import * as z from 'zod';

const positive = z.coerce.number().positive();

export const CampaignConfig = z.object({
  /** SES maximum send rate granted to the account (messages per second). */
  CAMPAIGN_EMAIL_QUOTA_PER_SECOND: positive.default(100),
  /** SMS message parts per second granted for the origination identity (End User Messaging counts parts: a Japanese alert is 2). */
  CAMPAIGN_SMS_QUOTA_PER_SECOND: positive.default(20),
  /** SQS queue that drives campaign workers in AWS; empty locally (the CLI or runtime hosts the worker). */
  CAMPAIGN_QUEUE_URL: z.string().default(''),
  /** A worker's hold on a channel of a campaign; another worker takes over only after it lapses. */
  CAMPAIGN_LEASE_SECONDS: positive.default(15),
  /**
   * What to do with a recipient whose send was in flight when a worker died and whom no
   * send event confirms within the bound: 'resend' (at-least-once for that one batch) or 'hold' (mark
   * IN_DOUBT and count it failed for an operator to review).
   */
  CAMPAIGN_IN_DOUBT: z.enum(['resend', 'hold']).default('resend'),
  /**
   * How long a worker waits for the provider's send event of an uncertain send (a crash between
   * the provider call and its outcome, or a 5xx) before CAMPAIGN_IN_DOUBT decides. SES and End
   * User Messaging publish within seconds; the bound counts from the attempt, so a worker that
   * restarts late (SQS visibility timeout) does not wait at all.
   */
  CAMPAIGN_SEND_EVENT_WAIT_SECONDS: z.coerce.number().min(0).max(900).default(60),
  /** SES configuration set of campaign emails (its event destination feeds the delivery function); empty: SES_CONFIGURATION_SET. */
  CAMPAIGN_SES_CONFIGURATION_SET: z.string().regex(/^[A-Za-z0-9_-]*$/).default(''),
  /**
   * 'true' where the SES templates are deployed with the stack (infra/campaigns.ts): the worker
   * then never creates or updates them (and needs no permission to).
   */
  CAMPAIGN_TEMPLATES_DEPLOYED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Prefix of the SES template names (the environment's name prefix in AWS: one account, several stacks). */
  CAMPAIGN_SES_TEMPLATE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]*$/).default(''),
  /** Audience items read and sent per batch (SES SendBulkEmail takes at most 50 destinations). */
  CAMPAIGN_BATCH_SIZE: z.coerce.number().int().min(1).max(50).default(50),
  /** Batches in flight per channel: enough to hide round-trip latency at the configured rate. */
  CAMPAIGN_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
});
export type CampaignConfig = z.infer<typeof CampaignConfig>;

let cached: CampaignConfig | undefined;
export function campaignConfig(): CampaignConfig {
  if (!cached) {
    const r = CampaignConfig.safeParse(process.env);
    if (!r.success) {
      throw new Error(`invalid campaign configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    cached = r.data;
  }
  return cached;
}
export function resetCampaignConfig(): void {
  cached = undefined;
}
