/** Wires the engine to the real adapters from configuration (Lambda, CLI, local runtime). */
import { runtimeConfig } from '../config.ts';
import { tokenPeppers } from '../adapters/pepper.ts';
import { campaignConfig } from './config.ts';
import type { EngineDeps } from './engine.ts';
import { campaignConfigurationSet, eumSmsSender, sesEmailSender } from './senders.ts';

export async function engineDepsFromEnv(extra: Partial<EngineDeps> = {}): Promise<EngineDeps> {
  const cfg = runtimeConfig();
  const cc = campaignConfig();
  const { current: pepper } = await tokenPeppers();
  return {
    email: cc.CAMPAIGN_TEMPLATES_DEPLOYED ? { ...sesEmailSender(), ensureTemplates: async () => {} } : sesEmailSender(),
    sms: eumSmsSender(),
    // Send events come back only for messages sent with a configuration set (SES) / Context (SMS).
    sendEvents: { email: campaignConfigurationSet() !== '', sms: cfg.SMS_CONFIGURATION_SET !== '' },
    sendEventWaitMs: cc.CAMPAIGN_SEND_EVENT_WAIT_SECONDS * 1000,
    pepper,
    actionBaseUrl: cfg.ACTION_BASE_URL,
    tokenTtlDays: cfg.TOKEN_TTL_DAYS,
    inDoubt: cc.CAMPAIGN_IN_DOUBT,
    batchSize: cc.CAMPAIGN_BATCH_SIZE,
    concurrency: cc.CAMPAIGN_CONCURRENCY,
    leaseSeconds: cc.CAMPAIGN_LEASE_SECONDS,
    ...extra,
  };
}
