/**
 * Delivery: what the providers' events mean for an alert, and what to do about it. Plain rules,
 * no AWS: the delivery function feeds them the stored alert and the event, and carries out the
 * decision (record the status, send the other channel, suppress the address, tell operations).
 *
 * Status of one message (one channel, one recipient):
 *   SENT       accepted by SES / the SMS service, nothing heard since
 *   DELAYED    SES DeliveryDelay, or a non-final SMS failure: still trying
 *   DELIVERED  SES Delivery; SMS TEXT_DELIVERED / TEXT_SUCCESSFUL             (reached)
 *   COMPLAINED delivered, then marked as spam by the recipient                 (reached)
 *   BOUNCED    SES permanent (hard) bounce                                      (failed)
 *   REJECTED   SES Reject (virus in our own message; never retried by SES)      (failed)
 *   BLOCKED    SMS blocked by the handset, carrier, spam filter or opt-out      (failed)
 *   FAILED     SMS invalid number / message, or final unreachable / expired     (failed)
 * A transient bounce is DELAYED: SES keeps retrying, and only a later Permanent bounce or the
 * undelivered deadline decides. Providers deliver events late and out of order, so a final status
 * is never replaced by a non-final one; the only moves out of a final status are DELIVERED ->
 * COMPLAINED and DELIVERED -> BOUNCED (an MTA that accepted, then bounced).
 */
import type { AlertChannel } from '../../events/alerting.ts';
import type { SesEventRecord, SmsDeliveryEvent, SmsEventType } from '../../events/aws-notifications.ts';

export type DeliveryStatus = 'SENT' | 'DELAYED' | 'DELIVERED' | 'COMPLAINED' | 'BOUNCED' | 'REJECTED' | 'BLOCKED' | 'FAILED';
export const deliveryStatuses: readonly DeliveryStatus[] = ['SENT', 'DELAYED', 'DELIVERED', 'COMPLAINED', 'BOUNCED', 'REJECTED', 'BLOCKED', 'FAILED'];

export type ContactProblem = 'HARD_BOUNCE' | 'COMPLAINT' | 'REJECTED' | 'SMS_BLOCKED';

export const reachedStatuses: ReadonlySet<DeliveryStatus> = new Set(['DELIVERED', 'COMPLAINED']);
export const failedStatuses: ReadonlySet<DeliveryStatus> = new Set(['BOUNCED', 'REJECTED', 'BLOCKED', 'FAILED']);
export const isReached = (s: DeliveryStatus | undefined) => s !== undefined && reachedStatuses.has(s);
export const isFailed = (s: DeliveryStatus | undefined) => s !== undefined && failedStatuses.has(s);
export const isFinal = (s: DeliveryStatus | undefined) => isReached(s) || isFailed(s);

/** What one provider event says about one recipient's message. */
export interface DeliveryOutcome {
  channel: AlertChannel;
  /** Email address (lower-cased) or E.164 number the message went to. */
  recipient: string;
  status: DeliveryStatus;
  /** Provider's classification, short and free of personal data (bounce subtype, SMS event type). */
  reason: string;
  at: string;
  /** Set when the contact itself is the problem: suppress (email) and tell operations. */
  contactProblem?: ContactProblem;
}

/** Whether `incoming` may replace `current` (see the header). Undefined current: anything goes. */
export function mayReplace(current: DeliveryStatus | undefined, incoming: DeliveryStatus): boolean {
  if (current === undefined || current === incoming) return current === undefined;
  if (!isFinal(current)) return incoming !== 'SENT';
  if (current === 'DELIVERED') return incoming === 'COMPLAINED' || incoming === 'BOUNCED';
  return false;
}

/** The outcomes of one SES event record, one per recipient named; [] for events that say nothing. */
export function sesOutcomes(r: SesEventRecord): DeliveryOutcome[] {
  const list = (xs: readonly { emailAddress: string }[]) => xs.map((x) => x.emailAddress.trim().toLowerCase());
  const mk = (recipient: string, status: DeliveryStatus, reason: string, at: string, contactProblem?: ContactProblem): DeliveryOutcome => ({
    channel: 'EMAIL',
    recipient,
    status,
    reason,
    at,
    ...(contactProblem ? { contactProblem } : {}),
  });
  switch (r.eventType) {
    case 'Delivery':
      return r.delivery.recipients.map((x) => mk(x.trim().toLowerCase(), 'DELIVERED', 'Delivery', r.delivery.timestamp));
    case 'Bounce': {
      const permanent = r.bounce.bounceType === 'Permanent';
      // Undetermined: SES could not tell; treat as permanent for fallback but do not suppress.
      const status: DeliveryStatus = r.bounce.bounceType === 'Transient' ? 'DELAYED' : 'BOUNCED';
      const reason = `${r.bounce.bounceType}/${r.bounce.bounceSubType}`.slice(0, 80);
      return list(r.bounce.bouncedRecipients).map((x) => mk(x, status, reason, r.bounce.timestamp, permanent ? 'HARD_BOUNCE' : undefined));
    }
    case 'Complaint':
      return list(r.complaint.complainedRecipients).map((x) => mk(x, 'COMPLAINED', 'Complaint', r.complaint.timestamp, 'COMPLAINT'));
    case 'Reject':
      // Reject is about our message (SES found a virus), not the address: fall back, do not suppress.
      return r.mail.destination.map((x) => mk(x.trim().toLowerCase(), 'REJECTED', `Reject/${r.reject.reason}`.slice(0, 80), r.mail.timestamp));
    case 'Rendering Failure':
      return r.mail.destination.map((x) => mk(x.trim().toLowerCase(), 'REJECTED', 'RenderingFailure', r.mail.timestamp));
    case 'DeliveryDelay':
      return list(r.deliveryDelay.delayedRecipients).map((x) => mk(x, 'DELAYED', `DeliveryDelay/${r.deliveryDelay.delayType}`.slice(0, 80), r.deliveryDelay.timestamp));
    default:
      return [];
  }
}

const smsStatus: Record<SmsEventType, { status: DeliveryStatus; problem?: ContactProblem } | 'TRANSIENT'> = {
  TEXT_PENDING: { status: 'SENT' },
  TEXT_QUEUED: { status: 'SENT' },
  TEXT_SUCCESSFUL: { status: 'DELIVERED' },
  TEXT_DELIVERED: { status: 'DELIVERED' },
  TEXT_BLOCKED: { status: 'BLOCKED', problem: 'SMS_BLOCKED' },
  TEXT_CARRIER_BLOCKED: { status: 'BLOCKED' },
  TEXT_SPAM: { status: 'BLOCKED' },
  TEXT_PROTECT_BLOCKED: { status: 'BLOCKED' },
  TEXT_INVALID: { status: 'FAILED', problem: 'SMS_BLOCKED' },
  TEXT_INVALID_MESSAGE: { status: 'FAILED' },
  TEXT_UNREACHABLE: 'TRANSIENT',
  TEXT_CARRIER_UNREACHABLE: 'TRANSIENT',
  TEXT_TTL_EXPIRED: { status: 'FAILED' },
  TEXT_UNKNOWN: 'TRANSIENT',
};

/**
 * The outcome of an SMS delivery event. Unreachable / unknown are failures only when the service
 * says the event is final; before that the carrier is still trying (DELAYED). Blocked by the
 * handset and invalid numbers are the contact's problem (operations are told); carrier, spam
 * and Protect blocks are about the message, not the number.
 */
export function smsOutcome(e: SmsDeliveryEvent): DeliveryOutcome {
  const m = smsStatus[e.eventType];
  const at = new Date(e.eventTimestamp).toISOString();
  const base = { channel: 'SMS' as const, recipient: e.destinationPhoneNumber, reason: e.eventType, at };
  if (m === 'TRANSIENT') return { ...base, status: e.isFinal ? 'FAILED' : 'DELAYED' };
  return { ...base, status: m.status, ...(m.problem ? { contactProblem: m.problem } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Fallback and escalation.

/** One message of an alert as the delivery rules need it. */
export interface MessageView {
  channel: AlertChannel;
  recipient: string;
  status: DeliveryStatus;
}

export interface AlertDeliveryView {
  alertId: string;
  customerId: string;
  accountId?: string;
  /** When the alert was first sent (the undelivered clock starts here). */
  sentAt: string;
  messages: MessageView[];
  /** Set once AlertUndelivered was emitted. */
  undeliveredReportedAt?: string;
}

/** What the customer can still be reached by, as the customer record says now. */
export interface ContactView {
  hasEmail: boolean;
  emailSuppressed: boolean;
  hasPhone: boolean;
}

export interface DeliveryDecision {
  /** Channels to send now through the alert's send path (its ledger makes a repeat harmless). */
  sendChannels: AlertChannel[];
  /** Emit AlertUndelivered now. */
  reportUndelivered: boolean;
  /** No reached message yet and nothing decided: the deadline check should come back at this time. */
  checkAgainAt?: string;
}

const channelsOf = (v: AlertDeliveryView, c: AlertChannel) => v.messages.filter((m) => m.channel === c);

/**
 * After any change of an alert's messages, or when its deadline comes:
 * - reached by any message: done;
 * - a channel has failed for every recipient and the other channel was never sent (and the
 *   customer has a usable contact for it): send the other channel;
 * - every message failed and there is nothing left to send, or the deadline has passed with no
 *   message reached: report undelivered (once).
 */
export function decideDelivery(v: AlertDeliveryView, contact: ContactView, now: Date, undeliveredAfterMinutes: number): DeliveryDecision {
  if (v.messages.some((m) => isReached(m.status))) return { sendChannels: [], reportUndelivered: false };
  const sendChannels: AlertChannel[] = [];
  const email = channelsOf(v, 'EMAIL');
  const sms = channelsOf(v, 'SMS');
  const allFailed = (ms: MessageView[]) => ms.length > 0 && ms.every((m) => isFailed(m.status));
  if (allFailed(email) && sms.length === 0 && contact.hasPhone) sendChannels.push('SMS');
  if (allFailed(sms) && email.length === 0 && contact.hasEmail && !contact.emailSuppressed) sendChannels.push('EMAIL');
  const deadline = new Date(Date.parse(v.sentAt) + undeliveredAfterMinutes * 60_000);
  const everythingFailed = v.messages.length > 0 && v.messages.every((m) => isFailed(m.status)) && sendChannels.length === 0;
  const overdue = now.getTime() >= deadline.getTime();
  const reportUndelivered = v.undeliveredReportedAt === undefined && (everythingFailed || overdue);
  return {
    sendChannels,
    reportUndelivered,
    ...(!reportUndelivered && !overdue && v.undeliveredReportedAt === undefined ? { checkAgainAt: deadline.toISOString() } : {}),
  };
}
