/**
 * One bank.core event through the alert pipeline: validate, apply profile projections, look up
 * the customer, decide, issue the token, render, send each message exactly once (send ledger),
 * publish AlertSent, record the alert.
 *
 * Order per message: claim (ledger) -> provider -> ledger SENT and AlertSent together -> alert
 * record. Neither of the middle two needs the other: a crash after AlertSent but before SENT is
 * the same case as a crash right after the provider accepted (the claim goes stale, the provider's
 * own Send event confirms it or it is sent again), and AlertSent is at-least-once anyway.
 * Publishing before the record means a crash in between re-publishes on retry rather than never
 * publishing: consumers dedupe on (alertId, channel, messageId); the console counts it once.
 * Token: issued once per attempt that actually sends something; a retry that sends the
 * remaining channel issues another token for the same alert and actions (the first one's clear
 * value exists nowhere but in the message already sent). Both are valid; each action works once
 * per token and freezing or revoking twice changes nothing.
 *
 * Outcomes are returned for the handler to log and count; anything that must be retried throws
 * AlertRetryError after every message that could go out has gone out and been recorded.
 */
import { CORE_SOURCE, EventBridgeEnvelope, coreEvents, type CoreEventName, type CustomerProfileUpserted, type WithdrawalPosted } from '../../events/core.ts';
import type { AlertChannel, AlertingEvent } from '../../events/alerting.ts';
import { runtimeConfig } from '../config.ts';
import { decideAlert, type AlertableEvent, type AlertPlan, type CustomerView, type Recipient, type AccountView, type LinkView } from '../domain/alert-decision.ts';
import { renderAlertMessages, type RenderedAlert } from '../domain/messages/index.ts';
import { getAccount, getCustomer, upsertCustomerProfile } from '../store/customers.ts';
import { createLink, getLink, isProviderSuspended } from '../store/links.ts';
import { openAppHold, openHoldPeriod, recordPostedWithdrawal } from '../holds/allowance-store.ts';
import { assessDebit } from '../domain/authorize.ts';
import type { AccountRecord } from '../store/types.ts';
import { issueToken } from '../store/tokens.ts';
import { tokenPeppers } from '../adapters/pepper.ts';
import { sendEmail } from '../adapters/email.ts';
import { sendSms } from '../adapters/sms.ts';
import { publishEvents } from '../adapters/publisher.ts';
import { claimSend, markSendFailed, markSendSent, recipientRef, releaseSend, LedgerConflictError } from '../store/send-ledger.ts';
import { deliveryKey, findAlert, recordAlert, type AlertDelivery, type AlertRecord } from '../store/alerts.ts';
import { classifySendError, describeSendError } from './send-errors.ts';

/** Test seams to inject a crash at the points that matter for exactly-once. */
export interface AlertHooks {
  /** The provider accepted the message; the ledger does not say SENT yet. */
  afterProviderAccepted?(info: { alertId: string; channel: AlertChannel; recipientRef: string; messageId: string }): void | Promise<void>;
  /** Every ledger entry is settled; the alert record is not written yet. */
  beforeAlertRecord?(info: { alertId: string }): void | Promise<void>;
}
let hooks: AlertHooks = {};
export function setAlertHooks(next: AlertHooks = {}): void {
  hooks = next;
}

export type DeliveryResultKind = 'SENT' | 'ALREADY_SENT' | 'IN_FLIGHT' | 'RETRYABLE' | 'UNKNOWN_OUTCOME' | 'FAILED';

export interface DeliveryResult {
  channel: AlertChannel;
  recipientRef: string;
  result: DeliveryResultKind;
  messageId?: string;
  sentAt?: string;
  /** Error name and HTTP status only. */
  error?: string;
}

export type EventOutcome =
  | { status: 'INVALID'; reason: string; eventId?: string; detailType?: string }
  | { status: 'PROFILE_APPLIED' | 'PROFILE_STALE'; eventId: string; customerId: string }
  | { status: 'UNKNOWN_ACCOUNT'; eventId: string; detailType: string; accountId?: string; customerId?: string }
  | { status: 'NO_ALERT'; eventId: string; detailType: string; reason: string }
  | { status: 'ALERTED'; eventId: string; detailType: string; alertId: string; occurredAt: string; deliveries: DeliveryResult[] };

export class AlertRetryError extends Error {
  override readonly name = 'AlertRetryError';
  constructor(
    readonly alertId: string,
    readonly eventId: string,
    readonly deliveries: DeliveryResult[],
  ) {
    super(
      `alert ${alertId} (event ${eventId}) not complete: ${deliveries
        .filter((d) => retryKinds.has(d.result))
        .map((d) => `${d.channel}/${d.recipientRef} ${d.result}${d.error ? ` ${d.error}` : ''}`)
        .join('; ')}`,
    );
  }
}
const retryKinds = new Set<DeliveryResultKind>(['IN_FLIGHT', 'RETRYABLE', 'UNKNOWN_OUTCOME']);

const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const safeId = (v: unknown) => (typeof v === 'string' && SAFE_ID.test(v) ? v : undefined);

type ParsedEvent = AlertableEvent | { detailType: 'CustomerProfileUpserted'; detail: CustomerProfileUpserted };

/** Validates the EventBridge envelope and the detail. The reason names fields, never values. */
export function parseCoreEvent(body: unknown): { ok: true; event: ParsedEvent } | { ok: false; reason: string; eventId?: string; detailType?: string } {
  const env = EventBridgeEnvelope.safeParse(body);
  if (!env.success) return { ok: false, reason: `envelope: ${issues(env.error.issues)}` };
  const detailType = env.data['detail-type'];
  const eventId = safeId((env.data.detail as { eventId?: unknown } | null)?.eventId);
  const ids = { ...(eventId ? { eventId } : {}), ...(safeId(detailType) ? { detailType } : {}) };
  if (env.data.source !== CORE_SOURCE) return { ok: false, reason: `source is not ${CORE_SOURCE}`, ...ids };
  if (!Object.hasOwn(coreEvents, detailType)) return { ok: false, reason: 'unknown detail-type', ...ids };
  const schema = coreEvents[detailType as CoreEventName];
  const detail = schema.safeParse(env.data.detail);
  if (!detail.success) return { ok: false, reason: `detail: ${issues(detail.error.issues)}`, ...ids };
  return { ok: true, event: { detailType, detail: detail.data } as ParsedEvent };
}

function issues(list: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return list
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ')
    .slice(0, 500);
}

function customerView(c: NonNullable<Awaited<ReturnType<typeof getCustomer>>>): CustomerView {
  return c;
}

export async function processCoreEvent(body: unknown, opts: { now?: Date } = {}): Promise<EventOutcome> {
  const now = opts.now ?? new Date();
  const parsed = parseCoreEvent(body);
  if (!parsed.ok) return { status: 'INVALID', reason: parsed.reason, ...(parsed.eventId ? { eventId: parsed.eventId } : {}), ...(parsed.detailType ? { detailType: parsed.detailType } : {}) };
  const event = parsed.event;
  if (event.detailType === 'CustomerProfileUpserted') {
    const applied = await upsertCustomerProfile(event.detail, now);
    return { status: applied ? 'PROFILE_APPLIED' : 'PROFILE_STALE', eventId: event.detail.eventId, customerId: event.detail.customerId };
  }
  const cfg = runtimeConfig();
  const { eventId } = event.detail;
  const unknown = (ids: { accountId?: string; customerId?: string }): EventOutcome => ({ status: 'UNKNOWN_ACCOUNT', eventId, detailType: event.detailType, ...ids });

  let customer: CustomerView | undefined;
  let account: AccountView | undefined;
  let link: LinkView | undefined;
  let providerSuspended = false;
  if (event.detailType === 'ContactChanged') {
    const c = await getCustomer(event.detail.customerId, true);
    if (!c) return unknown({ customerId: event.detail.customerId });
    customer = customerView(c);
    const firstAccountId = c.accountIds[0];
    const a = firstAccountId ? await getAccount(firstAccountId) : undefined;
    if (!a) return unknown({ customerId: c.customerId, ...(firstAccountId ? { accountId: firstAccountId } : {}) });
    account = a;
  } else {
    const { accountId } = event.detail;
    const linkId = event.detailType === 'WithdrawalPosted' ? event.detail.linkId : undefined;
    // A new link of a suspended provider is stopped (createLink decides, in its transaction); the alert says so.
    const [a, l, suspended] = await Promise.all([
      getAccount(accountId),
      linkId ? getLink(accountId, linkId) : Promise.resolve(undefined),
      event.detailType === 'LinkCreated' ? isProviderSuspended(event.detail.provider.id) : Promise.resolve(false),
    ]);
    providerSuspended = suspended;
    if (!a) return unknown({ accountId });
    const c = await getCustomer(a.customerId, true);
    if (!c) return unknown({ accountId, customerId: a.customerId });
    customer = customerView(c);
    account = a;
    link = l ?? (event.detailType === 'WithdrawalPosted' ? pendingAppAsLink(event.detail, a, now) : undefined);
  }

  // The link record and the alert do not depend on each other: write it while the alert goes out.
  let linkWrite: Promise<unknown> = Promise.resolve(undefined);
  if (event.detailType === 'LinkCreated') {
    const d = event.detail;
    linkWrite = createLink(
      {
        accountId: d.accountId,
        linkId: d.linkId,
        customerId: customer.customerId,
        providerId: d.provider.id,
        providerName: d.provider.displayName,
        linkType: d.linkType,
        createdAt: d.occurredAt,
        holdUntil: new Date(Date.parse(d.occurredAt) + cfg.HOLD_WINDOW_HOURS * 3_600_000).toISOString(),
      },
      now,
    ).then(
      () => undefined,
      (e: unknown) => e ?? new Error('createLink failed'),
    );
  }
  linkWrite = Promise.all([linkWrite, recordHold(event, cfg, now)]).then(([e, h]) => e ?? h);

  const decision = decideAlert(event, { customer, account, ...(link ? { link } : {}), now, providerSuspended });
  if (!decision.alert) {
    const linkError = await linkWrite;
    if (linkError) throw linkError;
    return { status: 'NO_ALERT', eventId, detailType: event.detailType, reason: decision.reason };
  }
  const [deliveries, linkError] = await Promise.all([deliver(decision.plan, customer, now), linkWrite]);
  if (linkError) throw linkError;
  const outcome: EventOutcome = { status: 'ALERTED', eventId, detailType: event.detailType, alertId: decision.plan.alertId, occurredAt: decision.plan.content.occurredAt, deliveries };
  if (deliveries.some((d) => retryKinds.has(d.result))) throw new AlertRetryError(decision.plan.alertId, eventId, deliveries);
  return outcome;
}

/**
 * The holds (src/holds/): a new link opens or extends the account's allowance period, an app
 * activation opens a pending app hold, a withdrawal through a pending hold that the core never
 * reserved consumes the allowance. Each is idempotent (a redelivered event changes nothing); a
 * failure is returned like the link write's, so the event is retried.
 */
function recordHold(event: AlertableEvent, cfg: ReturnType<typeof runtimeConfig>, now: Date): Promise<unknown> {
  const holdUntil = (occurredAt: string) => new Date(Date.parse(occurredAt) + cfg.HOLD_WINDOW_HOURS * 3_600_000).toISOString();
  let write: Promise<unknown>;
  switch (event.detailType) {
    case 'LinkCreated':
      write = openHoldPeriod(event.detail.accountId, holdUntil(event.detail.occurredAt), now);
      break;
    case 'AppActivated':
      write = openAppHold(event.detail, holdUntil(event.detail.occurredAt), now);
      break;
    case 'WithdrawalPosted':
      write = recordPostedWithdrawal(event.detail, { limitMinor: cfg.HOLD_LIMIT_MINOR, limitCurrency: 'JPY' }, now);
      break;
    default:
      return Promise.resolve(undefined);
  }
  return write.then(
    () => undefined,
    (e: unknown) => e ?? new Error('hold write failed'),
  );
}

/** A cardless withdrawal through a pending app hold alerts like one through a pending link, naming the app. */
function pendingAppAsLink(w: WithdrawalPosted, a: AccountRecord, now: Date): LinkView | undefined {
  const assessed = assessDebit(w, { ...a, state: 'ACTIVE' }, undefined, new Date(Math.min(Date.parse(w.occurredAt), now.getTime())));
  if (!('through' in assessed) || assessed.through.holdKind !== 'APP') return undefined;
  const app = a.apps?.[assessed.through.holdId];
  return app ? { providerName: app.appName, state: 'PENDING', holdUntil: app.holdUntil } : undefined;
}

async function deliver(plan: AlertPlan, customer: CustomerView, now: Date): Promise<DeliveryResult[]> {
  const cfg = runtimeConfig();
  const targets = plan.recipients.map((r) => ({ ...r, ref: recipientRef(r.channel, r.address) }));
  const claims = await Promise.all(
    targets.map((t) => claimSend(plan.alertId, t.channel, t.ref, plan.owner, { staleSeconds: cfg.SEND_CLAIM_STALE_SECONDS, now })),
  );

  let rendered: RenderedAlert | undefined;
  if (claims.some((c) => c.kind === 'CLAIMED')) {
    try {
      const { current } = await tokenPeppers();
      // One token per channel sending now: the action page then knows which message it was opened
      // from and sends the "it was me" code to the other channel (src/stepup/codes.ts).
      const channels = [...new Set(targets.filter((_, i) => claims[i]!.kind === 'CLAIMED').map((t) => t.channel))];
      const urls: Partial<Record<AlertChannel, string>> = {};
      // The tokens do not depend on each other: issued at once, not one after the other.
      await Promise.all(
        channels.map(async (channel) => {
          const { token } = await issueToken(
            { accountId: plan.tokenAccountId, customerId: customer.customerId, alertId: plan.alertId, actions: plan.actions, channel },
            { pepper: current, ttlDays: cfg.TOKEN_TTL_DAYS, now },
          );
          urls[channel] = cfg.ACTION_BASE_URL + token;
        }),
      );
      const renderWith = (actionUrl: string) => renderAlertMessages(plan.content, {
        locale: plan.locale,
        actionUrl,
        ttlDays: cfg.TOKEN_TTL_DAYS,
        ...(plan.displayName ? { displayName: plan.displayName } : {}),
        canRevokeLink: plan.actions.some((a) => a.kind === 'REVOKE_LINK'),
        canConfirmLink: plan.actions.some((a) => a.kind === 'CONFIRM_LINK'),
        canDeactivateApp: plan.actions.some((a) => a.kind === 'DEACTIVATE_APP'),
        ...(plan.sourceEventType === 'AppActivated' ? { appHold: { hours: cfg.HOLD_WINDOW_HOURS, limitMinor: cfg.HOLD_LIMIT_MINOR } } : {}),
        sms: { links: cfg.SMS_LINKS, bankContact: cfg.SMS_BANK_CONTACT },
      });
      const byEmail = urls.EMAIL ? renderWith(urls.EMAIL) : undefined;
      const bySms = urls.SMS ? renderWith(urls.SMS) : undefined;
      rendered = { email: (byEmail ?? bySms)!.email, sms: (bySms ?? byEmail)!.sms };
    } catch (e) {
      // Nothing was sent: give the claims back so the retry can take them at once.
      await Promise.all(claims.map((c, i) => (c.kind === 'CLAIMED' ? releaseSend(plan.alertId, targets[i]!.channel, targets[i]!.ref, c.attemptId) : undefined)));
      throw e;
    }
  }

  const settled = await Promise.allSettled(
    targets.map(async (t, i): Promise<DeliveryResult> => {
      const claim = claims[i]!;
      const base = { channel: t.channel, recipientRef: t.ref };
      switch (claim.kind) {
        case 'ALREADY_SENT':
          return { ...base, result: 'ALREADY_SENT', messageId: claim.messageId, sentAt: claim.sentAt };
        case 'IN_FLIGHT':
          return { ...base, result: 'IN_FLIGHT' };
        case 'FAILED':
          return { ...base, result: 'FAILED', error: claim.failure };
        case 'CLAIMED':
          return sendOne(plan, t, claim.attemptId, rendered!);
      }
    }),
  );

  const markSent = (results: (DeliveryResult | undefined)[]) =>
    results.map((r, i) => {
      const claim = claims[i]!;
      return r?.result === 'SENT' && claim.kind === 'CLAIMED' ? recordSent(plan, targets[i]!, claim.attemptId, r) : undefined;
    });
  const failed = settled.find((x) => x.status === 'rejected');
  if (failed) {
    // One message's step threw: what did go out is still marked SENT, then the attempt fails.
    await Promise.all(markSent(settled.map((x) => (x.status === 'fulfilled' ? x.value : undefined))));
    throw failed.reason;
  }
  const results = settled.map((x) => (x as PromiseFulfilledResult<DeliveryResult>).value);
  // The ledger's SENT and AlertSent do not depend on each other: both go at once. The alert
  // record waits for both: a retry reads it to decide whether AlertSent must still go out.
  await Promise.all([...markSent(results), publishAlertSent(plan, results)]);
  await hooks.beforeAlertRecord?.({ alertId: plan.alertId });
  await recordAlert(alertRecord(plan, targets, results, now));
  return results;
}

async function sendOne(plan: AlertPlan, t: Recipient & { ref: string }, attemptId: string, m: RenderedAlert): Promise<DeliveryResult> {
  const base = { channel: t.channel, recipientRef: t.ref };
  let messageId: string;
  try {
    messageId =
      t.channel === 'EMAIL'
        ? (await sendEmail({ to: t.address, ...m.email, tags: { alertId: plan.alertId, channel: 'EMAIL', recipientRef: t.ref } })).messageId
        : (await sendSms({ to: t.address, message: m.sms, context: { alertId: plan.alertId } })).messageId;
  } catch (e) {
    const kind = classifySendError(e);
    const error = describeSendError(e);
    if (kind === 'RETRYABLE') await releaseSend(plan.alertId, t.channel, t.ref, attemptId);
    if (kind === 'PERMANENT') await markSendFailed(plan.alertId, t.channel, t.ref, attemptId, error);
    return { ...base, result: kind === 'PERMANENT' ? 'FAILED' : kind, error };
  }
  await hooks.afterProviderAccepted?.({ alertId: plan.alertId, channel: t.channel, recipientRef: t.ref, messageId });
  return { ...base, result: 'SENT', messageId, sentAt: new Date().toISOString() };
}

/** The ledger says SENT, right after the provider accepted (the caller publishes AlertSent meanwhile). */
async function recordSent(plan: AlertPlan, t: Recipient & { ref: string }, attemptId: string, r: DeliveryResult): Promise<void> {
  try {
    await markSendSent(plan.alertId, t.channel, t.ref, attemptId, r.messageId!, new Date(r.sentAt!));
  } catch (e) {
    // The message went out; a stale takeover raced us. Say so, but record what happened.
    if (!(e instanceof LedgerConflictError)) throw e;
  }
}

/**
 * AlertSent for messages sent now, and for ones an earlier attempt sent but never recorded on
 * the alert (it crashed in between): a plain redelivery publishes nothing again.
 */
async function publishAlertSent(plan: AlertPlan, results: DeliveryResult[]): Promise<void> {
  let earlier = results.filter((r) => r.result === 'ALREADY_SENT');
  if (earlier.length > 0) {
    const existing = await findAlert(plan.owner, plan.alertId);
    earlier = earlier.filter((r) => existing?.deliveries?.[deliveryKey(r.channel, r.recipientRef)]?.status === undefined || existing.deliveries[deliveryKey(r.channel, r.recipientRef)]!.status === 'PENDING');
  }
  const events: AlertingEvent[] = [...results.filter((r) => r.result === 'SENT'), ...earlier].map((r) => ({
    detailType: 'AlertSent',
    detail: {
      alertId: plan.alertId,
      sourceEventId: plan.sourceEventId,
      sourceEventType: plan.sourceEventType,
      ...(plan.owner.accountId ? { accountId: plan.owner.accountId } : {}),
      customerId: plan.owner.customerId,
      channel: r.channel,
      messageId: r.messageId!,
      sentAt: r.sentAt!,
    },
  }));
  if (events.length > 0) await publishEvents(events);
}

function alertRecord(plan: AlertPlan, targets: (Recipient & { ref: string })[], results: DeliveryResult[], now: Date): AlertRecord {
  const updatedAt = now.toISOString();
  const deliveries: Record<string, AlertDelivery> = {};
  results.forEach((r, i) => {
    const t = targets[i]!;
    const sent = r.result === 'SENT' || r.result === 'ALREADY_SENT';
    deliveries[deliveryKey(r.channel, r.recipientRef)] = {
      channel: r.channel,
      recipientRef: r.recipientRef,
      recipient: t.address,
      role: t.role,
      status: sent ? 'SENT' : r.result === 'FAILED' ? 'FAILED' : 'PENDING',
      ...(r.messageId ? { messageId: r.messageId } : {}),
      ...(r.sentAt ? { sentAt: r.sentAt } : {}),
      updatedAt,
      ...(r.error ? { detail: r.error } : {}),
    };
  });
  const sentTimes = results.map((r) => r.sentAt).filter((x): x is string => x !== undefined).sort();
  return {
    alertId: plan.alertId,
    sourceEventId: plan.sourceEventId,
    sourceEventType: plan.sourceEventType,
    ...(plan.owner.accountId ? { accountId: plan.owner.accountId } : {}),
    customerId: plan.owner.customerId,
    tokenAccountId: plan.tokenAccountId,
    actions: plan.actions,
    locale: plan.locale,
    content: plan.content,
    occurredAt: plan.content.occurredAt,
    createdAt: updatedAt,
    ...(sentTimes[0] ? { sentAt: sentTimes[0] } : {}),
    deliveries,
  };
}
