/** Wires the engine to the real adapters from configuration (Lambda, CLI, local runtime). */
import { runtimeConfig } from '../config.ts';
import { tokenPeppers } from '../adapters/pepper.ts';
import { campaignConfig } from './config.ts';
import type { EngineDeps } from './engine.ts';
import { sesEmailSender, snsSmsSender } from './senders.ts';
import { localDeliveryLookup } from './local-lookup.ts';

export async function engineDepsFromEnv(extra: Partial<EngineDeps> = {}): Promise<EngineDeps> {
  const cfg = runtimeConfig();
  const cc = campaignConfig();
  const { current: pepper } = await tokenPeppers();
  const sesEndpoint = process.env.AWS_ENDPOINT_URL_SESV2;
  const smsEndpoint = process.env.AWS_ENDPOINT_URL_SNS;
  return {
    email: cc.CAMPAIGN_TEMPLATES_DEPLOYED ? { ...sesEmailSender(), ensureTemplates: async () => {} } : sesEmailSender(),
    sms: snsSmsSender(),
    ...(cc.CAMPAIGN_LOCAL_DELIVERY_LOOKUP && sesEndpoint && smsEndpoint
      ? { lookup: localDeliveryLookup({ sesEndpoint, smsEndpoint, pepper, actionBaseUrl: cfg.ACTION_BASE_URL }) }
      : {}),
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
