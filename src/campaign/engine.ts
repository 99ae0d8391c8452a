/**
 * The campaign engine: one worker sends one campaign, each channel (email, SMS) as its own lane
 * with its own rate, lease, shards and token bucket.
 *
 * A lane reads its shards (scan segments of the sparse Audience index, a provider's partition of
 * it, or the campaign's own list) page by page, a page being one batch, and keeps up to
 * `concurrency` batches in flight. Per batch: resolve the recipients (account, customer, links),
 * decide skip / suppress / send, wait for the token bucket, claim them in the ledger with their
 * tokens (one conditional transaction), send (SES SendBulkEmail or SNS Publish), and record the
 * outcome conditional on the attempt. A shard's cursor and counters move together, in page order,
 * only past pages that finished, so a restart reprocesses at most the pages in flight, and the
 * ledger turns those into "already done" (counted once, never re-sent) or "in doubt" (resolved
 * against the provider's records where there are any). Memory holds only the pages in flight.
 */
import { randomUUID } from 'node:crypto';
import type { Locale } from '../../events/core.ts';
import type { Campaign, CampaignState, Channel, Counters, LedgerEntry, LedgerStatus } from './types.ts';
import { CampaignError, counterNames, zeroCounters } from './types.ts';
import { campaignTemplates, type CampaignTemplate } from './templates.ts';
import { campaignAlertId, grantActions, messageData, renderSms, type RecipientView } from './message.ts';
import { TokenBucket, Aborted, backoffMs, sleep, msUntilWindowOpens, perRelease } from './pacing.ts';
import type { EmailSender, SendOutcome, SmsSender } from './senders.ts';
import * as store from './store.ts';
import { campaignMessageTags } from './ledger-key.ts';
import { smsSize } from '../domain/messages/sms-segments.ts';

/** The storage the engine needs: DynamoDB (store.ts) everywhere but the pacing benchmark's in-memory ledger. */
export type CampaignStorePort = Pick<
  typeof store,
  | 'getCampaign'
  | 'pollCampaignState'
  | 'listShards'
  | 'commitShard'
  | 'acquireLease'
  | 'releaseLease'
  | 'readAudiencePage'
  | 'resolveRecipients'
  | 'claimRecipients'
  | 'reattempt'
  | 'recordOutcomes'
  | 'sendRecords'
  | 'countAudience'
  | 'setCampaignFields'
  | 'transitionCampaign'
>;

export interface EngineDeps {
  store?: CampaignStorePort;
  email?: EmailSender;
  sms?: SmsSender;
  pepper: string;
  actionBaseUrl: string;
  tokenTtlDays: number;
  /**
   * A recipient whose send may have been accepted (the worker died after the call, or the call
   * answered 5xx) and whom no send event confirms within `sendEventWaitMs`: sent again
   * ('resend') or marked IN_DOUBT for an operator ('hold').
   */
  inDoubt: 'resend' | 'hold';
  /**
   * Per channel: whether the provider's send events come back into the ledger (a configuration
   * set with an event destination routed to the delivery function). Without them nothing is
   * waited for: the policy decides at once.
   */
  sendEvents: Partial<Record<Channel, boolean>>;
  /** How long after an uncertain send to wait for its send event before the policy decides. */
  sendEventWaitMs: number;
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  /** Called when a batch is released to the provider (benchmarks measure pacing with it). */
  onRelease?: (channel: Channel, recipients: number, atMs: number) => void;
  /**
   * Called after the provider answered a release and before its outcomes are written: the one
   * window a crash leaves recipients in doubt. The crash test kills the worker here.
   */
  afterSend?: (channel: Channel, recipients: number) => Promise<void> | void;
  log?: (message: string, ids: Record<string, string | number>) => void;
}

export type WorkerOutcome = 'COMPLETED' | 'PAUSED' | 'CANCELLED' | 'DEADLINE' | 'WINDOW' | 'BUSY' | 'NOT_RUNNING' | 'LOST';

export interface WorkerResult {
  outcome: WorkerOutcome;
  state?: CampaignState;
  /** For WINDOW: when the send window opens; for BUSY: when to try again. */
  waitMs?: number;
}

type StopReason = Exclude<WorkerOutcome, 'COMPLETED' | 'BUSY' | 'NOT_RUNNING'> | 'STOPPED' | 'ERROR';

/** Shared stop signal of a worker: polls the campaign item (every 500 ms) and renews leases. */
class Control {
  readonly abort = new AbortController();
  reason: StopReason | undefined;
  error: unknown;
  private timer: NodeJS.Timeout | undefined;
  private readonly leases = new Set<Channel>();
  private lastRenew = Date.now();

  constructor(
    private readonly st: CampaignStorePort,
    private readonly campaign: Campaign,
    private readonly workerId: string,
    private readonly deadline: number,
    private readonly leaseSeconds: number,
    outer?: AbortSignal,
  ) {
    outer?.addEventListener('abort', () => this.stop('STOPPED'), { once: true });
    if (outer?.aborted) this.stop('STOPPED');
  }

  get stopped(): boolean {
    return this.reason !== undefined;
  }
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  stop(reason: StopReason, error?: unknown): void {
    if (this.reason) return;
    this.reason = reason;
    this.error = error;
    this.abort.abort();
  }

  hold(channel: Channel): void {
    this.leases.add(channel);
  }

  private polledAt = 0;
  private polling: Promise<void> | undefined;

  private async checkState(): Promise<void> {
    const started = Date.now();
    const state = await this.st.pollCampaignState(this.campaign.campaignId);
    this.polledAt = Math.max(this.polledAt, started);
    if (!state || state === 'CANCELLED') return this.stop('CANCELLED');
    if (state === 'PAUSED') return this.stop('PAUSED');
    if (state !== 'RUNNING') return this.stop('STOPPED');
  }

  /**
   * Called right before a batch is released: true only if the campaign was seen RUNNING by a
   * read that started less than `maxAgeMs` ago (reads are shared by the batches asking at once).
   */
  async stillRunning(maxAgeMs = 250): Promise<boolean> {
    const asked = Date.now();
    while (!this.stopped && this.polledAt < asked - maxAgeMs) {
      this.polling ??= this.checkState().finally(() => (this.polling = undefined));
      // A failed read is simply read again: the batch waits rather than go out unconfirmed.
      await this.polling.catch(() => sleep(100, this.signal));
    }
    return !this.stopped;
  }

  start(): void {
    const tick = async () => {
      try {
        if (Date.now() >= this.deadline) return this.stop('DEADLINE');
        if (msUntilWindowOpens(this.campaign.window, new Date()) > 0) return this.stop('WINDOW');
        await this.checkState();
        if (this.stopped) return;
        if (Date.now() - this.lastRenew >= (this.leaseSeconds * 1000) / 3) {
          this.lastRenew = Date.now();
          for (const ch of this.leases) {
            if (!(await this.st.acquireLease(this.campaign.campaignId, ch, this.workerId, this.leaseSeconds))) return this.stop('LOST');
          }
        }
      } catch {
        // A failed poll is retried next tick; a persistent failure ends at the deadline or lease.
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), 500);
    };
    this.timer = setTimeout(() => void tick(), 500);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (this.free > 0) {
      this.free--;
      return true;
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== go);
        resolve(false);
      };
      const go = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      };
      this.waiters.push(go);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

const add = (a: Counters, b: Counters) => {
  for (const n of counterNames) a[n] += b[n];
};

type Plan =
  | { kind: 'terminal'; status: 'SKIPPED' | 'SUPPRESSED'; reason: string }
  | { kind: 'send'; contact: string; view: RecipientView };

/** Who gets what: skipped (frozen, no contact, no links any more), suppressed, or a send. */
/** A link revoked after the campaign was created: what a "we revoked these links" notice lists (src/fraud/providers). */
const revokedSince = (l: { state: string }, createdAt: string) => l.state === 'REVOKED' && String((l as { revokedAt?: unknown }).revokedAt ?? '') >= createdAt;

export function planRecipient(r: store.ResolvedRecipient, c: Campaign, channel: Channel, template: CampaignTemplate): Plan {
  const first = r.account;
  if (!first) return { kind: 'terminal', status: 'SKIPPED', reason: 'unknown-account' };
  // A customer list entry covers several accounts of one customer (src/fraud/providers/bulk.ts):
  // one message about all of them, offering to freeze the first one not frozen already.
  const multi = r.otherAccounts !== undefined;
  const accounts = multi ? [first, ...r.otherAccounts!.filter((a) => a.customerId === first.customerId)] : [first];
  const about = first.state === 'FROZEN' ? accounts.find((a) => a.state !== 'FROZEN') : first;
  if (!about) return { kind: 'terminal', status: 'SKIPPED', reason: 'frozen' };
  const cust = r.customer;
  const contact = channel === 'email' ? cust?.email : cust?.phone;
  if (!cust || !contact) return { kind: 'terminal', status: 'SKIPPED', reason: 'no-contact' };
  if (channel === 'email' ? cust.suppressedEmail : cust.suppressedPhone) return { kind: 'terminal', status: 'SUPPRESSED', reason: 'suppressed' };
  const links = r.links
    .filter(
      (l) =>
        (template.lists === 'revoked-since-created' ? revokedSince(l, c.createdAt) : l.state === 'PENDING' || l.state === 'ACTIVE') &&
        (c.audience.kind !== 'provider' || l.providerId === c.audience.providerId) &&
        (!multi || accounts.some((a) => a.accountId === l.accountId)),
    )
    .sort((a, b) => (a.providerName === b.providerName ? a.linkId.localeCompare(b.linkId) : a.providerName.localeCompare(b.providerName)));
  if (links.length === 0) return { kind: 'terminal', status: 'SKIPPED', reason: 'no-links' };
  const forms = channel === 'email' ? template.email : template.sms;
  const loc: Locale = forms && cust.locale in forms ? cust.locale : c.fallbackLocale;
  return {
    kind: 'send',
    contact,
    view: {
      accountId: about.accountId,
      customerId: cust.customerId,
      last4: about.last4,
      displayName: cust.displayName,
      locale: loc,
      links: links.map((l) => ({
        linkId: l.linkId,
        providerName: l.providerName,
        ...(multi ? { accountId: l.accountId, accountLast4: accounts.find((a) => a.accountId === l.accountId)!.last4 } : { accountId: first.accountId, accountLast4: first.last4 }),
      })),
    },
  };
}

interface Pending {
  accountId: string;
  contact: string;
  view: RecipientView;
  token: string;
  attempt: string;
  /** The SMS text (rendered before pacing: the bucket counts its parts). */
  text?: string;
  /** Billing units the provider counts: SMS message parts (segments); 1 per email. */
  parts: number;
}

const terminalCounter: Record<LedgerStatus, keyof Counters | undefined> = {
  SENT: 'sent',
  FAILED: 'failed',
  IN_DOUBT: 'failed',
  SUPPRESSED: 'suppressed',
  SKIPPED: 'skipped',
  SENDING: undefined,
  UNSENT: undefined,
};

class Lane {
  private readonly bucket: TokenBucket;
  private readonly sem: Semaphore;
  private readonly st: CampaignStorePort;

  constructor(
    private readonly c: Campaign,
    private readonly channel: Channel,
    private readonly template: CampaignTemplate,
    private readonly ctl: Control,
    private readonly deps: EngineDeps,
    private readonly workerId: string,
  ) {
    this.bucket = new TokenBucket(c.rates[channel]!);
    this.sem = new Semaphore(deps.concurrency);
    this.st = deps.store ?? store;
  }

  async run(): Promise<'DONE' | 'STOPPED'> {
    // A shard stops early when one of its pages could not finish (a send left for later); its
    // cursor stayed before that page, so it simply runs again from there.
    for (;;) {
      const shards = (await this.st.listShards(this.c.campaignId, this.channel)).filter((s) => !s.done);
      if (shards.length === 0) return 'DONE';
      if (this.ctl.stopped) return 'STOPPED';
      await Promise.all(shards.map((s) => this.runShard(s)));
      if (this.ctl.stopped) return 'STOPPED';
    }
  }

  private async runShard(s: Awaited<ReturnType<typeof store.listShards>>[number]): Promise<void> {
    interface Slot {
      next: string | undefined;
      finished: boolean;
      ok: boolean;
      counts: Counters;
    }
    const queue: Slot[] = [];
    const inflight = new Set<Promise<void>>();
    let version = s.version;
    let cursor = s.cursor;
    let broken = false;
    let committing: Promise<void> = Promise.resolve();

    const commitReady = () => {
      committing = committing
        .then(async () => {
          if (broken) return;
          const sum = zeroCounters();
          let last: Slot | undefined;
          while (queue.length > 0 && queue[0]!.finished && queue[0]!.ok) {
            last = queue.shift()!;
            add(sum, last.counts);
          }
          if (queue.length > 0 && queue[0]!.finished && !queue[0]!.ok) broken = true;
          if (!last) return;
          const ok = await this.st.commitShard(this.c.campaignId, s, version, { cursor: last.next, done: last.next === undefined, add: sum });
          if (!ok) return this.ctl.stop('LOST');
          version++;
        })
        .catch((e: unknown) => this.ctl.stop('ERROR', e));
    };

    while (!this.ctl.stopped && !broken) {
      if (!(await this.sem.acquire(this.ctl.signal))) break;
      let page: store.AudiencePage;
      try {
        page = await this.st.readAudiencePage(this.c, s.segment, cursor, this.deps.batchSize);
      } catch (e) {
        this.sem.release();
        this.ctl.stop('ERROR', e);
        break;
      }
      const slot: Slot = { next: page.next, finished: false, ok: false, counts: zeroCounters() };
      queue.push(slot);
      const p = this.processBatch(page.entries)
        .then(
          (r) => {
            slot.ok = r.ok;
            slot.counts = r.counts;
          },
          (e: unknown) => this.ctl.stop('ERROR', e),
        )
        .finally(() => {
          slot.finished = true;
          this.sem.release();
          commitReady();
        });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      cursor = page.next;
      if (page.next === undefined) break;
    }
    await Promise.all([...inflight]);
    await committing;
  }

  private async processBatch(entries: readonly store.AudienceEntry[]): Promise<{ ok: boolean; counts: Counters }> {
    const counts = zeroCounters();
    if (this.ctl.stopped) return { ok: false, counts };
    const seen = new Set<string>();
    const uniq = entries.filter((e) => (seen.has(e.accountId) ? false : (seen.add(e.accountId), true)));
    if (uniq.length === 0) return { ok: true, counts };
    const resolved = await this.st.resolveRecipients(uniq);
    const plans = resolved.map((r) => planRecipient(r, this.c, this.channel, this.template));

    if (this.ctl.stopped) return { ok: false, counts };

    const attempt = `${this.workerId}:${randomUUID()}`;
    const now = new Date().toISOString();
    const tokens = plans.map((p) => (p.kind === 'send' ? store.newToken(this.deps.pepper) : undefined));
    const claims: store.Claim[] = plans.map((p, i) => {
      const base = { campaignId: this.c.campaignId, channel: this.channel, accountId: uniq[i]!.accountId, origin: uniq[i]!.origin, updatedAt: now };
      if (p.kind === 'terminal') return { entry: { ...base, status: p.status, reason: p.reason } };
      return {
        entry: { ...base, status: 'SENDING', attempt, tokenHash: tokens[i]!.hash },
        token: { hash: tokens[i]!.hash, grant: this.grant(p.view), ttlDays: this.deps.tokenTtlDays },
      };
    });
    const results = await this.st.claimRecipients(claims);

    const toSend: Pending[] = [];
    const settle: store.Outcome[] = [];
    const unfinished: { existing: LedgerEntry; plan: Plan }[] = [];
    let incomplete = false;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      const r = results[i]!;
      if (r.claimed) {
        counts.planned++;
        if (p.kind === 'terminal') counts[p.status === 'SKIPPED' ? 'skipped' : 'suppressed']++;
        // The ledger key is the entry's account (the view's account may differ: planRecipient).
        else toSend.push(this.pending(uniq[i]!.accountId, p.contact, p.view, tokens[i]!.token, attempt));
        continue;
      }
      // Another index entry of the same account claimed it first: not this page's recipient.
      if (r.existing.origin !== claims[i]!.entry.origin) continue;
      counts.planned++;
      const done = terminalCounter[r.existing.status];
      if (done) {
        counts[done]++;
        continue;
      }
      unfinished.push({ existing: r.existing, plan: p });
    }
    // This shard's own entries from an earlier run: what the providers' send events say first.
    const inDoubt = unfinished.filter((u) => u.existing.status === 'SENDING');
    const since = Math.max(0, ...inDoubt.map((u) => Date.parse(u.existing.updatedAt)));
    const heard = inDoubt.length > 0 ? await this.awaitSendEvents(inDoubt.map((u) => u.existing.accountId), since) : { found: new Map<string, string>(), complete: true };
    for (const u of unfinished) {
      if (u.existing.status === 'SENDING' && !heard.found.has(u.existing.accountId) && !heard.complete) {
        // Stopped while waiting for its event: left as it is (in doubt) for the next run.
        incomplete = true;
        continue;
      }
      const recovered = await this.recover(u.existing, u.plan, attempt, heard.found.get(u.existing.accountId));
      if (recovered.kind === 'outcome') settle.push(recovered.outcome);
      else toSend.push(recovered.pending);
    }
    if (settle.length) {
      await this.st.recordOutcomes(settle);
      for (const o of settle) counts[terminalCounter[o.status]!]++;
    }
    if (toSend.length === 0) return { ok: !incomplete, counts };
    const sent = await this.sendWithRetry(toSend);
    add(counts, sent.counts);
    return { ok: sent.ok && !incomplete, counts };
  }

  private pending(accountId: string, contact: string, view: RecipientView, token: string, attempt: string): Pending {
    if (this.channel !== 'sms') return { accountId, contact, view, token, attempt, parts: 1 };
    const text = renderSms(this.template, view.locale, messageData(view, token, this.deps.actionBaseUrl));
    return { accountId, contact, view, token, attempt, text, parts: smsSize(text).segments };
  }

  /**
   * Waits for the providers' send events of these recipients (recorded in the ledger by the
   * delivery function) until `sinceMs + sendEventWaitMs`: a late event still counts. `complete`
   * is false when the worker was stopped before the bound, so that silence proves nothing yet.
   */
  private async awaitSendEvents(accountIds: readonly string[], sinceMs: number): Promise<{ found: Map<string, string>; complete: boolean }> {
    const found = new Map<string, string>();
    if (!this.deps.sendEvents[this.channel]) return { found, complete: true };
    const deadline = sinceMs + this.deps.sendEventWaitMs;
    let waiting = [...accountIds];
    for (;;) {
      const records = await this.st.sendRecords(this.c.campaignId, this.channel, waiting);
      for (const [accountId, ids] of records) {
        found.set(accountId, ids[0]!);
        if (ids.length > 1) this.deps.log?.('campaign recipient has more than one accepted message', { campaignId: this.c.campaignId, accountId, messages: ids.length });
      }
      waiting = waiting.filter((a) => !found.has(a));
      if (waiting.length === 0 || Date.now() >= deadline) return { found, complete: true };
      if (this.ctl.stopped) return { found, complete: false };
      await sleep(Math.min(250, Math.max(1, deadline - Date.now())), this.ctl.signal);
    }
  }

  private grant(view: RecipientView) {
    return { accountId: view.accountId, customerId: view.customerId, alertId: campaignAlertId(this.c.campaignId), actions: grantActions(view.links, view.accountId) };
  }

  /**
   * This shard's own entry from an earlier run that did not finish. SENDING: the earlier worker
   * died between the provider call and its outcome; a send event for it (`heard`) settles it as
   * SENT, silence past the bound follows the policy. UNSENT: known not sent, sent now.
   */
  private async recover(
    existing: LedgerEntry,
    plan: Plan,
    attempt: string,
    heard: string | undefined,
  ): Promise<{ kind: 'outcome'; outcome: store.Outcome } | { kind: 'send'; pending: Pending }> {
    const id = { campaignId: this.c.campaignId, channel: this.channel, accountId: existing.accountId, attempt: existing.attempt ?? '' };
    if (existing.status === 'SENDING') {
      if (heard) return { kind: 'outcome', outcome: { ...id, status: 'SENT', messageId: heard, reason: 'confirmed-by-send-event' } };
      if (this.deps.inDoubt === 'hold') return { kind: 'outcome', outcome: { ...id, status: 'IN_DOUBT', reason: 'no-send-event-within-bound' } };
    }
    if (plan.kind === 'terminal') {
      // Skipped or suppressed since the earlier attempt (e.g. the account was frozen meanwhile).
      return { kind: 'outcome', outcome: { ...id, status: plan.status, reason: plan.reason } };
    }
    const t = store.newToken(this.deps.pepper);
    const ok = await this.st.reattempt(existing, attempt, { hash: t.hash, grant: this.grant(plan.view), ttlDays: this.deps.tokenTtlDays });
    if (!ok) throw new Error(`ledger entry changed under a held lease (campaign ${this.c.campaignId})`);
    this.deps.log?.('campaign recipient re-attempted after restart', { campaignId: this.c.campaignId, accountId: existing.accountId });
    return { kind: 'send', pending: this.pending(existing.accountId, plan.contact, plan.view, t.token, attempt) };
  }

  private async sendOnce(batch: readonly Pending[]): Promise<SendOutcome[]> {
    this.deps.onRelease?.(this.channel, batch.length, this.bucket.lastRelease);
    const tags = (p: Pending) => campaignMessageTags({ campaignId: this.c.campaignId, channel: this.channel, accountId: p.accountId });
    if (this.channel === 'sms') {
      const sms = this.deps.sms;
      if (!sms) throw new Error('no SMS sender configured');
      return Promise.all(batch.map((p) => sms.send(p.contact, p.text!, tags(p))));
    }
    const data = batch.map((p) => messageData(p.view, p.token, this.deps.actionBaseUrl));
    const email = this.deps.email;
    if (!email) throw new Error('no email sender configured');
    const out: SendOutcome[] = new Array<SendOutcome>(batch.length);
    const byLocale = new Map<Locale, number[]>();
    batch.forEach((p, i) => byLocale.set(p.view.locale, [...(byLocale.get(p.view.locale) ?? []), i]));
    await Promise.all(
      [...byLocale].map(async ([loc, idx]) => {
        const res = await email.sendBulk(
          this.template.id,
          loc,
          idx.map((i) => ({ to: batch[i]!.contact, data: data[i]!, tags: tags(batch[i]!) })),
        );
        idx.forEach((i, n) => (out[i] = res[n]!));
      }),
    );
    return out;
  }

  /**
   * Pieces of at most one second's quota in the bucket's units (recipients for email, message
   * parts for SMS: End User Messaging's throughput is parts per second), never less than one
   * message.
   */
  private pieces(pending: readonly Pending[]): Pending[][] {
    const budget = perRelease(this.bucket.rate, this.channel === 'sms' ? Number.POSITIVE_INFINITY : this.deps.batchSize);
    const out: Pending[][] = [];
    let cur: Pending[] = [];
    let units = 0;
    for (const p of pending) {
      if (cur.length > 0 && (units + p.parts > budget || cur.length >= this.deps.batchSize)) {
        out.push(cur);
        cur = [];
        units = 0;
      }
      cur.push(p);
      units += p.parts;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  private async sendWithRetry(batch: Pending[]): Promise<{ ok: boolean; counts: Counters }> {
    const counts = zeroCounters();
    let pending = batch;
    const outcomes: store.Outcome[] = [];
    const parts = new Map<string, number>();
    const outcome = (p: Pending, status: store.Outcome['status'], extra: { messageId?: string; reason?: string } = {}) => {
      outcomes.push({ campaignId: this.c.campaignId, channel: this.channel, accountId: p.accountId, attempt: p.attempt, status, ...extra });
      if (status === 'SENT') parts.set(p.accountId, p.parts);
    };
    let ok = true;
    let fatal: string | undefined;
    for (let round = 0; pending.length > 0; round++) {
      // Release in pieces of at most one second's quota, each right after its tokens, each only
      // if the campaign is still running; what is not released is known unsent.
      const results: SendOutcome[] = [];
      let offered = 0;
      for (const piece of this.pieces(pending)) {
        let released = false;
        if (await this.ctl.stillRunning()) {
          try {
            await this.bucket.take(piece.reduce((n, p) => n + p.parts, 0), this.ctl.signal);
            released = true;
          } catch (e) {
            if (!(e instanceof Aborted)) throw e;
          }
        }
        if (!released) {
          for (const p of pending.slice(offered)) outcome(p, 'UNSENT', { reason: 'stopped-before-send' });
          pending = pending.slice(0, offered);
          ok = false;
          break;
        }
        results.push(...(await this.sendOnce(piece)));
        offered += piece.length;
        await this.deps.afterSend?.(this.channel, piece.length);
      }
      const retry: Pending[] = [];
      const uncertain: Pending[] = [];
      let throttled = false;
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i]!;
        const r = results[i]!;
        if (r.kind === 'accepted') outcome(p, 'SENT', { messageId: r.messageId });
        else if (r.kind === 'rejected') outcome(p, 'FAILED', { reason: r.reason });
        else if (r.kind === 'fatal') {
          fatal ??= r.reason;
          outcome(p, 'UNSENT', { reason: r.reason });
        } else if (r.kind === 'throttled') {
          throttled = true;
          retry.push(p);
        } else uncertain.push(p);
      }
      if (uncertain.length > 0) {
        // May have been accepted (5xx, timeout): the provider's send events tell; silence past
        // the bound follows the policy. Stopped before the bound: left in doubt for the next run.
        const heard = await this.awaitSendEvents(
          uncertain.map((p) => p.accountId),
          Date.now(),
        );
        for (const p of uncertain) {
          const found = heard.found.get(p.accountId);
          if (found) outcome(p, 'SENT', { messageId: found, reason: 'confirmed-by-send-event' });
          else if (!heard.complete) ok = false;
          else if (this.deps.inDoubt === 'resend') retry.push(p);
          else outcome(p, 'IN_DOUBT', { reason: 'provider-error-no-send-event' });
        }
      }
      if (throttled) this.bucket.throttled();
      else this.bucket.recovered();
      if (fatal) {
        for (const p of retry) outcome(p, 'UNSENT', { reason: 'stopped-on-fatal-error' });
        break;
      }
      if (retry.length === 0) break;
      this.deps.log?.('campaign send retried', { campaignId: this.c.campaignId, recipients: retry.length, round });
      await sleep(backoffMs(round), this.ctl.signal);
      if (this.ctl.stopped) {
        // Throttled (surely not accepted) or silent past the bound: the next run sends them.
        for (const p of retry) outcome(p, 'UNSENT', { reason: 'stopped-before-retry' });
        ok = false;
        break;
      }
      pending = retry;
    }
    await this.st.recordOutcomes(outcomes);
    if (fatal) throw new CampaignError('INVALID', `the provider refused the campaign's sends (${fatal}); nothing more is sent until it is fixed`);
    for (const o of outcomes) {
      const c = terminalCounter[o.status];
      if (c) counts[c]++;
    }
    for (const n of parts.values()) counts.parts += n;
    return { ok, counts };
  }
}

/**
 * Runs one campaign until it completes, is paused or cancelled, the deadline passes, or the send
 * window closes. Safe to run again at any time (after a crash, by a duplicate message): leases
 * keep one worker per channel, and the ledger keeps every recipient to one message.
 */
export async function runCampaignWorker(
  campaignId: string,
  deps: EngineDeps,
  opts: { workerId?: string; deadline?: number; signal?: AbortSignal } = {},
): Promise<WorkerResult> {
  const workerId = opts.workerId ?? `w-${randomUUID().slice(0, 8)}`;
  const st = deps.store ?? store;
  const c = await st.getCampaign(campaignId);
  if (!c) throw new CampaignError('NOT_FOUND', `no campaign ${campaignId}`);
  if (c.state !== 'RUNNING') return { outcome: 'NOT_RUNNING', state: c.state };
  const wait = msUntilWindowOpens(c.window, new Date());
  if (wait > 0) return { outcome: 'WINDOW', state: c.state, waitMs: wait };
  const template = campaignTemplates.get(c.templateId);
  if (!template) throw new CampaignError('INVALID', `unknown template ${c.templateId}`);
  const channelsUsed = (['email', 'sms'] as const).filter((ch) => c.rates[ch] !== undefined);

  const held: Channel[] = [];
  for (const ch of channelsUsed) {
    if (await st.acquireLease(campaignId, ch, workerId, deps.leaseSeconds)) held.push(ch);
  }
  const ctl = new Control(st, c, workerId, opts.deadline ?? Number.POSITIVE_INFINITY, deps.leaseSeconds, opts.signal);
  try {
    if (held.length === 0) return { outcome: 'BUSY', state: c.state, waitMs: deps.leaseSeconds * 1000 };
    for (const ch of held) ctl.hold(ch);
    if (held.includes('email')) await deps.email?.ensureTemplates(template);
    if (c.audienceEstimate === undefined) {
      void st
        .countAudience(c)
        .then((n) => st.setCampaignFields(campaignId, { audienceEstimate: n }))
        .catch(() => undefined);
    }
    ctl.start();
    const lanes = await Promise.all(held.map((ch) => new Lane(c, ch, template, ctl, deps, workerId).run()));
    if (ctl.reason === 'ERROR') throw ctl.error;
    if (lanes.every((l) => l === 'DONE') && held.length === channelsUsed.length) {
      const allDone = (await st.listShards(campaignId)).every((s) => s.done);
      if (allDone) {
        try {
          const done = await st.transitionCampaign(campaignId, ['RUNNING'], 'COMPLETED', { finishedAt: new Date().toISOString() });
          return { outcome: 'COMPLETED', state: done.state };
        } catch (e) {
          if (!(e instanceof CampaignError)) throw e;
        }
      }
    }
    const now = await st.getCampaign(campaignId);
    const reason = ctl.reason;
    if (reason === 'WINDOW') return { outcome: 'WINDOW', state: now?.state ?? c.state, waitMs: msUntilWindowOpens(c.window, new Date()) };
    if (reason === 'PAUSED' || reason === 'CANCELLED' || reason === 'DEADLINE' || reason === 'LOST') return { outcome: reason, state: now?.state ?? c.state };
    if (now?.state === 'COMPLETED') return { outcome: 'COMPLETED', state: 'COMPLETED' };
    if (held.length < channelsUsed.length) return { outcome: 'BUSY', state: c.state, waitMs: deps.leaseSeconds * 1000 };
    return { outcome: now?.state === 'RUNNING' ? 'DEADLINE' : 'NOT_RUNNING', state: now?.state ?? c.state };
  } finally {
    ctl.close();
    await Promise.all(held.map((ch) => st.releaseLease(campaignId, ch, workerId).catch(() => undefined)));
  }
}
