/**
 * An in-memory CampaignStorePort over a generated audience (seed.ts): the same conditional
 * semantics as the DynamoDB store (claims only if absent, outcomes only for the current attempt,
 * cursor + counters moved together) without DynamoDB. The pacing benchmark uses it to drive the
 * engine at provider quotas DynamoDB Local cannot serve on a small machine; never used in AWS.
 */
import type { CampaignStorePort } from './engine.ts';
import type { AudienceEntry, Claim, ClaimResult, Outcome, ResolvedRecipient } from './store.ts';
import type { Campaign, CampaignState, Channel, Counters, LedgerEntry, Shard } from './types.ts';
import { CampaignError, counterNames, zeroCounters } from './types.ts';
import { accountIdOf, customerIdOf, seedRecipient, type SeedOptions } from './seed.ts';

export interface MemoryStore extends CampaignStorePort {
  ledger: Map<string, LedgerEntry>;
  /** Send events recorded per `${channel}#${accountId}` (what the delivery function writes in AWS). */
  sends: Map<string, string[]>;
  tokens: number;
  campaign: Campaign;
  setState(s: CampaignState): void;
}

export function memoryStore(c: Campaign, size: number, seed: SeedOptions = {}): MemoryStore {
  const channels = (Object.keys(c.rates) as Channel[]).filter((ch) => c.rates[ch] !== undefined);
  const segments = c.audience.kind === 'all' ? c.audience.segments : 1;
  const shards = new Map<string, Shard>();
  for (const channel of channels) for (let segment = 0; segment < segments; segment++) shards.set(`${channel}#${segment}`, { channel, segment, totalSegments: segments, done: false, counters: zeroCounters(), version: 0 });
  const leases = new Map<Channel, { owner: string; until: number }>();
  const ledger = new Map<string, LedgerEntry>();
  const lkey = (e: { channel: Channel; accountId: string }) => `${e.channel}#${e.accountId}`;
  const sends = new Map<string, string[]>();
  const st: MemoryStore = {
    ledger,
    sends,
    tokens: 0,
    campaign: c,
    setState(s) {
      st.campaign = { ...st.campaign, state: s };
    },
    async getCampaign() {
      return st.campaign;
    },
    async pollCampaignState() {
      return st.campaign.state;
    },
    async listShards(_id: string, channel?: Channel) {
      return [...shards.values()].filter((s) => !channel || s.channel === channel).map((s) => ({ ...s, counters: { ...s.counters }, sk: `${s.channel}#${s.segment}` }));
    },
    async commitShard(_id: string, sh: { channel: Channel; segment: number }, expect: number, next: { cursor: string | undefined; done: boolean; add: Counters }) {
      const s = shards.get(`${sh.channel}#${sh.segment}`)!;
      if (s.version !== expect) return false;
      s.version++;
      s.done = next.done;
      if (next.cursor !== undefined) s.cursor = next.cursor;
      for (const n of counterNames) s.counters[n] += next.add[n];
      return true;
    },
    async acquireLease(_id: string, channel: Channel, owner: string, seconds: number, now = Date.now()) {
      const l = leases.get(channel);
      if (l && l.owner !== owner && l.until >= now) return false;
      leases.set(channel, { owner, until: now + seconds * 1000 });
      return true;
    },
    async releaseLease(_id: string, channel: Channel, owner: string) {
      if (leases.get(channel)?.owner === owner) leases.delete(channel);
    },
    /** Segment s holds recipients i with i % segments === s; the cursor is the next i. */
    async readAudiencePage(_c: Campaign, segment: number, cursor: string | undefined, limit: number) {
      const entries: AudienceEntry[] = [];
      let i = cursor ? Number(cursor) : segment;
      for (; i < size && entries.length < limit; i += segments) entries.push({ accountId: accountIdOf(i), customerId: customerIdOf(i), origin: `gen#${i}` });
      return { entries, ...(i < size ? { next: String(i) } : {}) };
    },
    async resolveRecipients(entries: readonly AudienceEntry[]): Promise<ResolvedRecipient[]> {
      return entries.map((e) => {
        const r = seedRecipient(Number(e.accountId.slice(5)), seed);
        return { accountId: e.accountId, account: r.account, customer: r.customer, links: r.links };
      });
    },
    async claimRecipients(claims: readonly Claim[]): Promise<ClaimResult[]> {
      return claims.map((cl) => {
        const existing = ledger.get(lkey(cl.entry));
        if (existing) return { claimed: false, existing: { ...existing } };
        ledger.set(lkey(cl.entry), { ...cl.entry });
        if (cl.token) st.tokens++;
        return { claimed: true };
      });
    },
    async reattempt(existing: LedgerEntry, attempt: string, token: { hash: string }) {
      const e = ledger.get(lkey(existing));
      if (!e || e.attempt !== existing.attempt) return false;
      Object.assign(e, { status: 'SENDING', attempt, tokenHash: token.hash });
      st.tokens++;
      return true;
    },
    async recordOutcomes(outcomes: readonly Outcome[]) {
      for (const o of outcomes) {
        const e = ledger.get(lkey(o));
        if (!e || e.attempt !== o.attempt) throw new CampaignError('CONFLICT', 'attempt changed');
        Object.assign(e, { status: o.status, ...(o.messageId ? { messageId: o.messageId } : {}), ...(o.reason ? { reason: o.reason } : {}) });
      }
    },
    async sendRecords(_id: string, channel: Channel, accountIds: readonly string[]) {
      const out = new Map<string, string[]>();
      for (const a of accountIds) {
        const ids = sends.get(lkey({ channel, accountId: a }));
        if (ids?.length) out.set(a, [...ids]);
      }
      return out;
    },
    async countAudience() {
      return size;
    },
    async setCampaignFields(_id: string, f: Partial<Pick<Campaign, 'listSize' | 'audienceEstimate'>>) {
      st.campaign = { ...st.campaign, ...f };
    },
    async transitionCampaign(_id: string, from: readonly CampaignState[], to: CampaignState) {
      if (!from.includes(st.campaign.state)) throw new CampaignError('CONFLICT', `is ${st.campaign.state}`);
      st.campaign = { ...st.campaign, state: to };
      return st.campaign;
    },
  };
  return st;
}
