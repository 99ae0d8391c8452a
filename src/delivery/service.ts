/**
 * The delivery function's flows.
 *
 * Provider events (SNS: SES configuration-set events and End User Messaging SMS events):
 *   1. read the event into per-recipient outcomes (src/domain/delivery.ts);
 *   2. find the alert: SES events carry the alertId tag (the recipient's ledger entry names the
 *      alert's owner); SMS events carry only the message id, looked up in the MSGID# index
 *      written from AlertSent;
 *   3. move the message's status on the alert record (recordDeliveryStatus: never undoes a
 *      final status);
 *   4. hard bounce / complaint: suppress the address (if still the one on file) and tell
 *      operations (ContactNeedsFixing); SMS blocked by the handset or an invalid number: tell
 *      operations;
 *   5. decide (decideDelivery): send the other channel (fallback), or report AlertUndelivered.
 *   SES 'Send' events also confirm the send ledger (recordProviderAccepted), so a send whose
 *   function crashed after SES accepted it is not sent again.
 *
 *   An event about a message not indexed yet is parked (ORPHAN#) rather than retried: its
 *   AlertSent may still be on its way, or it is not an alert message at all (acknowledgements,
 *   campaigns). No Lambda retries, nothing in the dead-letter queue for ordinary traffic.
 *
 * AlertSent (SQS, routed by src/routing.ts): remember which alert the provider message id
 *   belongs to, start the alert's undelivered clock (a DUE# watch item), and replay any parked
 *   events of that message.
 *
 * Scheduled sweep (EventBridge schedule, every minute; locally a timer): the alerts whose
 *   deadline has passed are decided again; nothing reached -> AlertUndelivered, once.
 *
 * Why a watch list and a sweep rather than a delay queue: SQS delays stop at 15 minutes while
 * UNDELIVERED_AFTER_MINUTES is configurable, and an alert nobody hears anything about (an SMS
 * lost without a single event) must still be reported. Each delivery event also decides at
 * once, so "every channel failed" is reported without waiting for the sweep.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { AlertSent, type AlertingEvent, type AlertChannel } from '../../events/alerting.ts';
import { SesEventRecord, SmsDeliveryEvent } from '../../events/aws-notifications.ts';
import { EventBridgeEnvelope } from '../../events/core.ts';
import { decideDelivery, isFailed, sesOutcomes, smsOutcome, type AlertDeliveryView, type DeliveryOutcome, type DeliveryStatus } from '../domain/delivery.ts';
import type { AlertOwner } from '../store/table.ts';
import { normaliseAddress } from '../domain/alert-decision.ts';
import type { AlertRecord } from '../store/alerts.ts';
import type { CustomerRecord } from '../store/types.ts';
import type { FallbackResult } from './fallback.ts';
import type { MessageRef } from './store.ts';

export interface DeliveryPorts {
  findMessage(messageId: string): Promise<MessageRef | undefined>;
  /** The owner of an alert from its send-ledger entry for this recipient. */
  ownerFromLedger(alertId: string, channel: AlertChannel, recipient: string): Promise<AlertOwner | undefined>;
  recordDeliveryStatus(ref: MessageRef, o: DeliveryOutcome, messageId: string): Promise<'UPDATED' | 'UNCHANGED' | 'NOT_FOUND'>;
  recordProviderAccepted(alertId: string, recipient: string, messageId: string, at: Date): Promise<boolean>;
  findAlert(owner: AlertOwner, alertId: string): Promise<AlertRecord | undefined>;
  getCustomer(customerId: string): Promise<CustomerRecord | undefined>;
  suppressEmail(customerId: string, address: string, reason: string, at: Date): Promise<boolean>;
  sendFallback(alert: AlertRecord, channel: AlertChannel, customer: CustomerRecord, now: Date): Promise<FallbackResult>;
  markUndeliveredReported(owner: AlertOwner, alertId: string, at: Date): Promise<boolean>;
  publish(events: AlertingEvent[]): Promise<void>;
  rememberMessage(messageId: string, ref: MessageRef, at: Date): Promise<void>;
  watchDeadline(ref: Omit<MessageRef, 'channel'>, dueAt: Date): Promise<void>;
  dueIn(bucket: string): Promise<Omit<MessageRef, 'channel'>[]>;
  forgetDue(bucket: string, alertId: string): Promise<void>;
  parkOrphan(messageId: string, payload: string, at: Date): Promise<void>;
  orphansOf(messageId: string): Promise<string[]>;
  forgetOrphans(messageId: string): Promise<void>;
  /** Campaign messages (tagged with their ledger key): record the send in the campaign ledger; true if it was one (src/delivery/campaign-sends.ts). */
  recordCampaignSend?(payload: unknown, now: Date): Promise<boolean>;
}

export interface DeliveryConfig {
  undeliveredAfterMinutes: number;
}

/**
 * The alert record does not list the message yet (the alert function publishes AlertSent just
 * before it writes the record): thrown so that Lambda / SQS retry shortly.
 */
export class NotYetKnownError extends Error {
  override readonly name = 'NotYetKnownError';
}
/** Events older than this about a message the alert record does not list are dropped. */
const UNKNOWN_RETRY_WINDOW_MS = 15 * 60_000;

export type ProviderEventResult =
  | { kind: 'REJECTED'; reason: string }
  | { kind: 'IGNORED'; reason: 'NO_OUTCOME' | 'UNKNOWN_MESSAGE' | 'PARKED' | 'CAMPAIGN' }
  | {
      kind: 'APPLIED';
      alertId: string;
      updated: number;
      fallback: { channel: AlertChannel; result: FallbackResult }[];
      undeliveredReported: boolean;
      contactNeedsFixing: boolean;
    };

const issues = (e: z.ZodError) => e.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

export async function handleProviderEvent(
  payload: unknown,
  ports: DeliveryPorts,
  cfg: DeliveryConfig,
  now = new Date(),
  opts: { replaying?: boolean } = {},
): Promise<ProviderEventResult> {
  const p = payload as { eventType?: unknown; mail?: unknown } | null;
  if (!p || typeof p !== 'object' || typeof p.eventType !== 'string') return { kind: 'REJECTED', reason: 'not a delivery event: no eventType' };
  if (ports.recordCampaignSend && (await ports.recordCampaignSend(payload, now))) return { kind: 'IGNORED', reason: 'CAMPAIGN' };

  let outcomes: DeliveryOutcome[];
  let messageId: string;
  let ref: MessageRef | undefined;
  let eventAt: Date;
  if (p.eventType.startsWith('TEXT_')) {
    const e = SmsDeliveryEvent.safeParse(payload);
    if (!e.success) return { kind: 'REJECTED', reason: `SMS event: ${issues(e.error)}` };
    outcomes = [smsOutcome(e.data)];
    messageId = e.data.messageId;
    eventAt = new Date(e.data.eventTimestamp);
    ref = await ports.findMessage(messageId);
    // Sent through End User Messaging with a Context: the alert id comes with the event.
    const alertId = e.data.context?.alertId;
    if (!ref && alertId) {
      const owner = await ports.ownerFromLedger(alertId, 'SMS', e.data.destinationPhoneNumber);
      if (owner) ref = { alertId, channel: 'SMS', owner };
    }
  } else {
    const e = SesEventRecord.safeParse(payload);
    if (!e.success) return { kind: 'REJECTED', reason: `SES event: ${issues(e.error)}` };
    const r = e.data;
    messageId = r.mail.messageId;
    eventAt = new Date(Date.parse(r.mail.timestamp) || now.getTime());
    const alertId = r.mail.tags?.alertId?.[0];
    if (r.eventType === 'Send') {
      if (alertId) for (const to of r.mail.destination) await ports.recordProviderAccepted(alertId, to, messageId, now);
      return { kind: 'IGNORED', reason: 'NO_OUTCOME' };
    }
    outcomes = sesOutcomes(r);
    if (outcomes.length === 0) return { kind: 'IGNORED', reason: 'NO_OUTCOME' };
    const owner = alertId ? await ports.ownerFromLedger(alertId, 'EMAIL', outcomes[0]!.recipient) : undefined;
    ref = alertId && owner ? { alertId, channel: 'EMAIL', owner } : await ports.findMessage(messageId);
  }
  if (outcomes.length === 0) return { kind: 'IGNORED', reason: 'NO_OUTCOME' };
  if (!ref) {
    // Its AlertSent has not been seen yet, or it is not an alert message (a reply acknowledgement,
    // a campaign): parked for the AlertSent handler to replay, else it expires. No retries, no DLQ.
    if (opts.replaying) return { kind: 'IGNORED', reason: 'UNKNOWN_MESSAGE' };
    await ports.parkOrphan(messageId, JSON.stringify(payload), now);
    return { kind: 'IGNORED', reason: 'PARKED' };
  }

  let updated = 0;
  let contactNeedsFixing = false;
  const [customer, before] = await Promise.all([ports.getCustomer(ref.owner.customerId), ports.findAlert(ref.owner, ref.alertId)]);
  // Found through the ledger (SMS Context) before the alert function wrote its record: retry. Going
  // on would let the record appear between this read and the status write, and the contact check
  // (which needs the record) would be skipped for good.
  if (!before && now.getTime() - eventAt.getTime() < UNKNOWN_RETRY_WINDOW_MS) throw new NotYetKnownError(`alert ${ref.alertId} is not recorded yet`);
  for (const o of outcomes) {
    // Operations are told BEFORE the status moves, so a failure in between is retried (at least
    // once) instead of lost: a redelivered event finds the status moved / the address suppressed.
    if (o.contactProblem && customer && before) contactNeedsFixing = (await contactProblem(o, customer, before, ports, now)) || contactNeedsFixing;
    const r = await ports.recordDeliveryStatus(ref, o, messageId);
    if (r === 'NOT_FOUND') {
      if (now.getTime() - eventAt.getTime() < UNKNOWN_RETRY_WINDOW_MS) throw new NotYetKnownError(`alert ${ref.alertId} does not record this message yet`);
      continue;
    }
    if (r === 'UPDATED') updated++;
  }
  const decided = await decide(ref.owner, ref.alertId, ports, cfg, now);
  return { kind: 'APPLIED', alertId: ref.alertId, updated, contactNeedsFixing, ...decided };
}

/**
 * Hard bounce / complaint of the address on file: tell operations, then suppress it. Handset
 * block or invalid number on file: tell operations, once per message (its status not final yet).
 */
async function contactProblem(o: DeliveryOutcome, customer: CustomerRecord, alert: AlertRecord, ports: DeliveryPorts, now: Date): Promise<boolean> {
  if (!o.contactProblem) return false;
  const message = Object.values(alert.deliveries ?? {}).find((d) => d.channel === o.channel && normaliseAddress(o.channel, d.recipient) === o.recipient);
  if (!message) return false;
  if (o.channel === 'EMAIL') {
    // A contact change alert also went to the OLD address: its bounce must not silence the new one.
    if (customer.suppressedEmail || !customer.email || normaliseAddress('EMAIL', customer.email) !== o.recipient) return false;
  } else if (customer.phone !== o.recipient || isFailed(message.status === 'PENDING' ? undefined : message.status)) {
    return false;
  }
  await ports.publish([{ detailType: 'ContactNeedsFixing', detail: { customerId: customer.customerId, channel: o.channel, reason: o.contactProblem, at: now.toISOString() } }]);
  if (o.channel === 'EMAIL') await ports.suppressEmail(customer.customerId, o.recipient, o.contactProblem, now);
  return true;
}

/** The alert record as the delivery rules see it. PENDING (not yet accepted) counts as in progress. */
export function deliveryView(a: AlertRecord): AlertDeliveryView {
  return {
    alertId: a.alertId,
    customerId: a.customerId,
    ...(a.accountId ? { accountId: a.accountId } : {}),
    sentAt: a.sentAt ?? a.createdAt,
    messages: Object.values(a.deliveries ?? {}).map((d) => ({
      channel: d.channel,
      recipient: d.recipient,
      status: (d.status === 'PENDING' ? 'SENT' : d.status) as DeliveryStatus,
    })),
    ...(a.undeliveredReportedAt ? { undeliveredReportedAt: a.undeliveredReportedAt } : {}),
  };
}

async function decide(
  owner: AlertOwner,
  alertId: string,
  ports: DeliveryPorts,
  cfg: DeliveryConfig,
  now: Date,
): Promise<{ fallback: { channel: AlertChannel; result: FallbackResult }[]; undeliveredReported: boolean; done: boolean }> {
  const alert = await ports.findAlert(owner, alertId);
  if (!alert) return { fallback: [], undeliveredReported: false, done: true };
  const customer = await ports.getCustomer(alert.customerId);
  const contact = {
    hasEmail: Boolean(customer?.email),
    emailSuppressed: customer?.suppressedEmail === true,
    hasPhone: Boolean(customer?.phone),
  };
  const view = deliveryView(alert);
  const d = decideDelivery(view, contact, now, cfg.undeliveredAfterMinutes);
  const fallback: { channel: AlertChannel; result: FallbackResult }[] = [];
  for (const channel of d.sendChannels) {
    if (!customer) break;
    fallback.push({ channel, result: await ports.sendFallback(alert, channel, customer, now) });
  }
  // A fallback that could not go out leaves nothing else to try: report now rather than wait.
  const fallbackHopeless = d.sendChannels.length > 0 && fallback.every((f) => f.result === 'NO_CONTACT' || f.result === 'FAILED');
  let undeliveredReported = false;
  if ((d.reportUndelivered || fallbackHopeless) && !view.undeliveredReportedAt) {
    // Published first, marked after: at least once (operations key their call on alertId).
    await ports.publish([
      {
        detailType: 'AlertUndelivered',
        detail: {
          alertId,
          ...(alert.accountId ? { accountId: alert.accountId } : {}),
          customerId: alert.customerId,
          channels: Object.values(alert.deliveries ?? {}).map((x) => ({ channel: x.channel, status: x.status, ...(x.detail ? { reason: x.detail } : {}) })),
          at: now.toISOString(),
        },
      },
    ]);
    await ports.markUndeliveredReported(owner, alertId, now);
    undeliveredReported = true;
  }
  const reached = view.messages.some((m) => m.status === 'DELIVERED' || m.status === 'COMPLAINED');
  return { fallback, undeliveredReported, done: reached || undeliveredReported || Boolean(view.undeliveredReportedAt) };
}

/** AlertSent: index the message id and start the undelivered clock. */
export async function handleAlertSent(body: string, ports: DeliveryPorts, cfg: DeliveryConfig): Promise<{ ok: true } | { ok: false; reason: string }> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'SQS body is not JSON' };
  }
  const env = EventBridgeEnvelope.safeParse(json);
  if (!env.success) return { ok: false, reason: `EventBridge envelope: ${issues(env.error)}` };
  if (env.data['detail-type'] !== 'AlertSent') return { ok: false, reason: `unexpected detail-type ${env.data['detail-type']}` };
  const s = AlertSent.safeParse(env.data.detail);
  if (!s.success) return { ok: false, reason: `AlertSent: ${issues(s.error)}` };
  const owner = { customerId: s.data.customerId, ...(s.data.accountId ? { accountId: s.data.accountId } : {}) };
  const sentAt = new Date(s.data.sentAt);
  await ports.rememberMessage(s.data.messageId, { alertId: s.data.alertId, channel: s.data.channel, owner }, sentAt);
  await ports.watchDeadline({ alertId: s.data.alertId, owner }, new Date(sentAt.getTime() + cfg.undeliveredAfterMinutes * 60_000));
  // Provider events that came first: apply them now (a NotYetKnownError retries this record).
  const orphans = await ports.orphansOf(s.data.messageId);
  for (const o of orphans) await handleProviderEvent(JSON.parse(o) as unknown, ports, cfg, new Date(), { replaying: true });
  if (orphans.length > 0) await ports.forgetOrphans(s.data.messageId);
  return { ok: true };
}

/** How far back the sweep looks for deadlines it has not settled (missed runs, retries). */
export const SWEEP_LOOKBACK_MINUTES = 120;

export async function sweepDeadlines(ports: DeliveryPorts, cfg: DeliveryConfig, now = new Date()): Promise<{ checked: number; reported: number; runId: string }> {
  let checked = 0;
  let reported = 0;
  for (let m = SWEEP_LOOKBACK_MINUTES; m >= 0; m--) {
    const bucket = new Date(now.getTime() - m * 60_000).toISOString().slice(0, 16);
    for (const due of await ports.dueIn(bucket)) {
      checked++;
      const d = await decide(due.owner, due.alertId, ports, cfg, now);
      if (d.undeliveredReported) reported++;
      if (d.done) await ports.forgetDue(bucket, due.alertId);
    }
  }
  return { checked, reported, runId: randomUUID() };
}
