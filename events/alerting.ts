/**
 * Outbound contracts: what this system publishes on EventBridge with source `bank.alerting`,
 * for partners (cut off the wallet) and operations (call the customer).
 */
import { z } from 'zod';

export const ALERTING_SOURCE = 'bank.alerting';

const id = z.string().min(1).max(128);
const isoTime = z.iso.datetime({ offset: true });
export const AlertChannel = z.enum(['EMAIL', 'SMS']);
export type AlertChannel = z.infer<typeof AlertChannel>;
/** Who or what made a change: a token from an alert via the web page, a reply, or an operator. */
export const Actor = z.enum(['CUSTOMER_WEB', 'CUSTOMER_SMS_REPLY', 'CUSTOMER_EMAIL_REPLY', 'OPERATOR', 'SYSTEM']);
export type Actor = z.infer<typeof Actor>;

export const AlertSent = z.object({
  alertId: id,
  sourceEventId: id,
  sourceEventType: z.string(),
  accountId: id.optional(),
  customerId: id,
  channel: AlertChannel,
  messageId: z.string(),
  sentAt: isoTime,
});
export type AlertSent = z.infer<typeof AlertSent>;

const change = {
  accountId: id,
  at: isoTime,
  actor: Actor,
  /** The alert whose token or reply made the change; absent for operators. */
  alertId: id.optional(),
  operatorId: id.optional(),
};

export const AccountFrozen = z.object({ ...change });
export type AccountFrozen = z.infer<typeof AccountFrozen>;
export const AccountUnfrozen = z.object({ ...change, verificationRef: z.string() });
export type AccountUnfrozen = z.infer<typeof AccountUnfrozen>;
export const LinkRevoked = z.object({ ...change, linkId: id, providerId: id });
export type LinkRevoked = z.infer<typeof LinkRevoked>;
export const LinkConfirmed = z.object({ ...change, linkId: id, providerId: id });
export type LinkConfirmed = z.infer<typeof LinkConfirmed>;

export const AlertUndelivered = z.object({
  alertId: id,
  accountId: id.optional(),
  customerId: id,
  channels: z.array(z.object({ channel: AlertChannel, status: z.string(), reason: z.string().optional() })),
  at: isoTime,
});
export type AlertUndelivered = z.infer<typeof AlertUndelivered>;

export const ContactNeedsFixing = z.object({
  customerId: id,
  channel: AlertChannel,
  reason: z.enum(['HARD_BOUNCE', 'COMPLAINT', 'REJECTED', 'SMS_BLOCKED']),
  at: isoTime,
});
export type ContactNeedsFixing = z.infer<typeof ContactNeedsFixing>;

export const alertingEvents = {
  AlertSent,
  AccountFrozen,
  AccountUnfrozen,
  LinkRevoked,
  LinkConfirmed,
  AlertUndelivered,
  ContactNeedsFixing,
} as const;
export type AlertingEventName = keyof typeof alertingEvents;
export type AlertingEvent = {
  [K in AlertingEventName]: { detailType: K; detail: z.infer<(typeof alertingEvents)[K]> };
}[AlertingEventName];
