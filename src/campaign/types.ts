/** Campaign shapes shared by the engine, the store, the operations API and the CLI. */
import * as z from 'zod';
import { locale } from '../../events/core.ts';

export const channels = ['email', 'sms'] as const;
export type Channel = (typeof channels)[number];

export type CampaignState = 'DRAFT' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (JST)');

export const AudienceSpec = z.discriminatedUnion('kind', [
  /** Every account with a PENDING or ACTIVE link: parallel scan segments of the Audience index. */
  z.object({ kind: z.literal('all'), segments: z.number().int().min(1).max(1024).default(8) }),
  /** Accounts linked to one provider: a Query of that provider's partition of the index. */
  z.object({ kind: z.literal('provider'), providerId: z.string().min(1).max(64) }),
  /** A supplied list of account ids, loaded into the campaign's own audience partitions. */
  z.object({ kind: z.literal('list'), segments: z.number().int().min(1).max(256).default(8) }),
]);
export type AudienceSpec = z.infer<typeof AudienceSpec>;

export const CreateCampaignInput = z
  .object({
    name: z.string().min(1).max(120),
    templateId: z.string().min(1).max(64),
    /** Locale for customers whose profile has none the template covers. */
    fallbackLocale: z.string().default('ja'),
    /** Per second, per channel: emails (recipients), SMS message parts (a Japanese alert is 2); at least one channel. */
    rates: z
      .object({ email: z.number().optional(), sms: z.number().optional() })
      .refine((r) => r.email !== undefined || r.sms !== undefined, 'at least one channel (email or sms) needs a rate'),
    audience: AudienceSpec,
    /** Optional daily send window in Japan time; sends wait outside it. */
    window: z.object({ start: hhmm, end: hhmm }).optional(),
    createdBy: z.string().min(1).max(64).default('operator'),
  })
  .strict();
export type CreateCampaignInput = z.input<typeof CreateCampaignInput>;

export interface Counters {
  planned: number;
  sent: number;
  failed: number;
  suppressed: number;
  skipped: number;
  /** Billing units of the messages sent: SMS message parts (what End User Messaging's throughput counts), 1 per email. */
  parts: number;
}
export const zeroCounters = (): Counters => ({ planned: 0, sent: 0, failed: 0, suppressed: 0, skipped: 0, parts: 0 });
export const counterNames = ['planned', 'sent', 'failed', 'suppressed', 'skipped', 'parts'] as const;

export interface Campaign {
  campaignId: string;
  name: string;
  templateId: string;
  fallbackLocale: z.infer<typeof locale>;
  rates: Partial<Record<Channel, number>>;
  audience: AudienceSpec;
  window?: { start: string; end: string };
  state: CampaignState;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Size of the audience list (list audiences) once loaded. */
  listSize?: number;
  /** Index entries in the audience at start (links, an upper bound on recipients): for the ETA. */
  audienceEstimate?: number;
  /** Bumped by every start/resume so each run's worker chain is distinct. */
  runNumber: number;
  version: number;
}

/** One unit of planning work: a scan segment (or query) of one channel, with its checkpoint. */
export interface Shard {
  channel: Channel;
  segment: number;
  totalSegments: number;
  /** LastEvaluatedKey of the last committed page (JSON), absent at the start. */
  cursor?: string;
  done: boolean;
  counters: Counters;
  version: number;
}

/** A recipient's entry in the ledger: one per (campaign, channel, account). */
export type LedgerStatus = 'SENDING' | 'UNSENT' | 'SENT' | 'FAILED' | 'SUPPRESSED' | 'SKIPPED' | 'IN_DOUBT';

export interface LedgerEntry {
  campaignId: string;
  channel: Channel;
  accountId: string;
  status: LedgerStatus;
  /** The audience entry that claimed it: a later page seeing the same account is a duplicate. */
  origin: string;
  /** Distinct per send attempt; the writes after a send are conditional on it. */
  attempt?: string;
  /** Hash of the token sent in this attempt (never the token): ties a delivered message to it. */
  tokenHash?: string;
  messageId?: string;
  reason?: string;
  updatedAt: string;
  sentAt?: string;
}

export interface CampaignStatus {
  campaign: Campaign;
  counters: Counters;
  byChannel: Partial<Record<Channel, Counters & { shardsDone: number; shards: number }>>;
}

export class CampaignError extends Error {
  override readonly name = 'CampaignError';
  constructor(
    readonly code: 'INVALID' | 'NOT_FOUND' | 'CONFLICT',
    message: string,
  ) {
    super(message);
  }
}
