/**
 * Campaign operations, shared by the CLI, the operations API and the worker function: create,
 * load a list audience, start, pause, resume, cancel, status. Bad input gets a CampaignError and
 * changes nothing. In AWS, start and resume put a message on the campaign queue that wakes a
 * worker; locally the CLI (or the local runtime) hosts the worker.
 */
import { randomBytes } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { locale } from '../../events/core.ts';
import { campaignConfig } from './config.ts';
import { campaignTemplates } from './templates.ts';
import type { Campaign, CampaignStatus, Channel, Counters } from './types.ts';
import { CampaignError, CreateCampaignInput, channels, counterNames, zeroCounters } from './types.ts';
import * as store from './store.ts';

export function newCampaignId(now = new Date()): string {
  return `c-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
}

/** Validates a request; throws CampaignError('INVALID') naming the first problem. */
export function validateCampaign(raw: unknown): ReturnType<typeof CreateCampaignInput.parse> {
  const parsed = CreateCampaignInput.safeParse(raw);
  if (!parsed.success) {
    throw new CampaignError('INVALID', parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  }
  const input = parsed.data;
  const template = campaignTemplates.get(input.templateId);
  if (!template) throw new CampaignError('INVALID', `unknown template "${input.templateId}" (known: ${[...campaignTemplates.keys()].join(', ')})`);
  if (!locale.safeParse(input.fallbackLocale).success) throw new CampaignError('INVALID', `unknown locale "${input.fallbackLocale}" (ja or en)`);
  const cfg = campaignConfig();
  const quota: Record<Channel, number> = { email: cfg.CAMPAIGN_EMAIL_QUOTA_PER_SECOND, sms: cfg.CAMPAIGN_SMS_QUOTA_PER_SECOND };
  for (const ch of channels) {
    const rate = input.rates[ch];
    if (rate === undefined) continue;
    if (!Number.isFinite(rate) || rate <= 0) throw new CampaignError('INVALID', `rates.${ch}: must be above 0 recipients per second`);
    if (rate > quota[ch]) throw new CampaignError('INVALID', `rates.${ch}: ${rate}/s is above the configured quota of ${quota[ch]}/s`);
    const forms = ch === 'email' ? template.email : template.sms;
    if (!forms) throw new CampaignError('INVALID', `template "${template.id}" has no ${ch} form`);
    for (const loc of locale.options) {
      if (!forms[loc]) throw new CampaignError('INVALID', `template "${template.id}" has no ${ch} form in locale ${loc}`);
    }
  }
  return input;
}

export async function createCampaign(raw: unknown, now = new Date()): Promise<Campaign> {
  const input = validateCampaign(raw);
  const c: Campaign = {
    campaignId: newCampaignId(now),
    name: input.name,
    templateId: input.templateId,
    fallbackLocale: locale.parse(input.fallbackLocale),
    rates: Object.fromEntries(channels.filter((ch) => input.rates[ch] !== undefined).map((ch) => [ch, input.rates[ch]])),
    audience: input.audience,
    ...(input.window ? { window: input.window } : {}),
    state: 'DRAFT',
    createdBy: input.createdBy,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    runNumber: 0,
    version: 0,
  };
  await store.putNewCampaign(c);
  return c;
}

async function mustGet(id: string): Promise<Campaign> {
  const c = await store.getCampaign(id);
  if (!c) throw new CampaignError('NOT_FOUND', `no campaign ${id}`);
  return c;
}

/** Loads the account ids of a list audience (only while DRAFT). */
export async function loadList(id: string, accountIds: AsyncIterable<string> | Iterable<string>): Promise<Campaign> {
  const c = await mustGet(id);
  if (c.state !== 'DRAFT') throw new CampaignError('CONFLICT', `campaign ${id} is ${c.state}; its audience can change only while DRAFT`);
  const n = await store.loadAudienceList(c, accountIds);
  await store.setCampaignFields(id, { listSize: (c.listSize ?? 0) + n });
  return mustGet(id);
}

/**
 * Adds accounts to a list audience by customer (only while DRAFT): each customer is one recipient
 * however many of its accounts are added, in one call or over many (a repeat changes nothing), and
 * its message covers all of them (store.addCustomerToList). `listSize` counts customers.
 */
export async function loadCustomerList(id: string, entries: Iterable<{ customerId: string; accountId: string }>): Promise<Campaign> {
  const c = await mustGet(id);
  if (c.state !== 'DRAFT') throw new CampaignError('CONFLICT', `campaign ${id} is ${c.state}; its audience can change only while DRAFT`);
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(`${e.customerId}|${e.accountId}`)) continue;
    seen.add(`${e.customerId}|${e.accountId}`);
    await store.addCustomerToList(c, e.customerId, e.accountId);
  }
  return mustGet(id);
}

let sqs: SQSClient | undefined;
/** Wakes a worker in AWS (no-op locally). The message names the run so stale chains stop. */
export async function kickWorker(c: Pick<Campaign, 'campaignId' | 'runNumber'>, delaySeconds = 0, busyRetries = 0): Promise<void> {
  const url = campaignConfig().CAMPAIGN_QUEUE_URL;
  if (!url) return;
  sqs ??= new SQSClient({});
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: JSON.stringify({ campaignId: c.campaignId, runNumber: c.runNumber, ...(busyRetries ? { busyRetries } : {}) }),
      DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))),
    }),
  );
}

export async function startCampaign(id: string): Promise<Campaign> {
  const c = await mustGet(id);
  if (c.state !== 'DRAFT') throw new CampaignError('CONFLICT', `campaign ${id} is ${c.state}: it has already been started`);
  if (await store.audienceIsEmpty(c)) throw new CampaignError('INVALID', `campaign ${id}: the audience is empty, nothing to send`);
  const shards = await store.listShards(id);
  const expected = store.shardCount(c.audience) * Object.keys(c.rates).length;
  if (shards.length !== expected) throw new CampaignError('CONFLICT', `campaign ${id} was not created completely (${shards.length}/${expected} shards); create it again`);
  const started = await store.transitionCampaign(id, ['DRAFT'], 'RUNNING', { startedAt: new Date().toISOString(), bumpRun: true });
  await kickWorker(started);
  return started;
}

export async function pauseCampaign(id: string): Promise<Campaign> {
  const c = await mustGet(id);
  if (c.state === 'PAUSED') return c;
  return store.transitionCampaign(id, ['RUNNING'], 'PAUSED');
}

export async function resumeCampaign(id: string): Promise<Campaign> {
  const c = await mustGet(id);
  if (c.state === 'CANCELLED') throw new CampaignError('CONFLICT', `campaign ${id} was cancelled; a cancelled campaign cannot be resumed`);
  if (c.state === 'RUNNING') return c;
  const resumed = await store.transitionCampaign(id, ['PAUSED'], 'RUNNING', { bumpRun: true });
  await kickWorker(resumed);
  return resumed;
}

export async function cancelCampaign(id: string): Promise<Campaign> {
  const c = await mustGet(id);
  if (c.state === 'CANCELLED') return c;
  return store.transitionCampaign(id, ['DRAFT', 'RUNNING', 'PAUSED'], 'CANCELLED', { finishedAt: new Date().toISOString() });
}

export async function campaignStatus(id: string): Promise<CampaignStatus> {
  const campaign = await mustGet(id);
  const shards = await store.listShards(id);
  const counters: Counters = zeroCounters();
  const byChannel: CampaignStatus['byChannel'] = {};
  for (const s of shards) {
    const ch = (byChannel[s.channel] ??= { ...zeroCounters(), shardsDone: 0, shards: 0 });
    ch.shards++;
    if (s.done) ch.shardsDone++;
    for (const n of counterNames) {
      ch[n] += s.counters[n];
      counters[n] += s.counters[n];
    }
  }
  return { campaign, counters, byChannel };
}

export const listCampaigns = store.listCampaigns;
