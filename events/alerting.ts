/**
 * Outbound contracts: what this system publishes on EventBridge with source `bank.alerting`,
 * for partners (cut off the wallet) and operations (call the customer).
 */
import * as z from 'zod';

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
/**
 * A cardless-ATM app activation: the customer said "not me" (AppDeactivated: the core should
 * deactivate the app on that device; this system denies cardless withdrawals on the account until
 * operations re-enable them) or "it was me" (AppConfirmed: its hold is lifted).
 */
const appChange = { ...change, appId: id, activationId: id, linkId: id.optional() };
export const AppDeactivated = z.object(appChange);
export type AppDeactivated = z.infer<typeof AppDeactivated>;
export const AppConfirmed = z.object(appChange);
export type AppConfirmed = z.infer<typeof AppConfirmed>;

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

/**
 * Fraud operations (src/fraud/): provider controls, incidents across accounts, reimbursement.
 * Provider controls name both operators: who asked and who approved.
 */
const providerControl = { providerId: id, at: isoTime, requestId: id, operatorId: id, approverId: id, reason: z.string().max(500) };
export const ProviderSuspended = z.object({ ...providerControl }).strict();
export type ProviderSuspended = z.infer<typeof ProviderSuspended>;
export const ProviderResumed = z.object({ ...providerControl }).strict();
export type ProviderResumed = z.infer<typeof ProviderResumed>;
/**
 * Every unconfirmed link of a provider revoked as one operation (each link also has its
 * LinkRevoked). `revoked`: the links this request revoked; `accounts`: the distinct accounts
 * those links were on (an account with two such links counts once). Both are counted from the
 * job's records once it is done, so a crash or rerun of the job changes neither.
 */
export const LinksBulkRevoked = z.object({ ...providerControl, revoked: z.number().int().nonnegative(), accounts: z.number().int().nonnegative(), campaignId: id.optional() }).strict();
export type LinksBulkRevoked = z.infer<typeof LinksBulkRevoked>;
/** A detection rule fired: an incident opened (src/fraud/detection). Keys are the rule's, never contacts. */
export const SuspiciousActivityDetected = z
  .object({
    incidentId: id,
    rule: z.enum(['ACCOUNTS_PER_IP', 'ACCOUNTS_PER_DEVICE', 'PROVIDER_LINK_RATE', 'CONTACT_CHANGE_THEN_LINK']),
    key: z.string().max(200),
    providerIds: z.array(id).max(50),
    accounts: z.number().int().nonnegative(),
    links: z.number().int().nonnegative(),
    at: isoTime,
  })
  .strict();
export type SuspiciousActivityDetected = z.infer<typeof SuspiciousActivityDetected>;
/** A reimbursement case was reviewed: the bank owes the customer this (src/fraud/cases). */
export const ReimbursementDue = z
  .object({
    caseId: id,
    accountId: id,
    linkId: id,
    providerId: id,
    /** Minor units per ISO 4217 currency. */
    amounts: z.record(z.string().regex(/^[A-Z]{3}$/), z.number().int().nonnegative()),
    debits: z.number().int().nonnegative(),
    reviewedBy: id,
    at: isoTime,
  })
  .strict();
export type ReimbursementDue = z.infer<typeof ReimbursementDue>;

export const alertingEvents = {
  AlertSent,
  AccountFrozen,
  AccountUnfrozen,
  LinkRevoked,
  LinkConfirmed,
  AppDeactivated,
  AppConfirmed,
  AlertUndelivered,
  ContactNeedsFixing,
  ProviderSuspended,
  ProviderResumed,
  LinksBulkRevoked,
  SuspiciousActivityDetected,
  ReimbursementDue,
} as const;
export type AlertingEventName = keyof typeof alertingEvents;
export type AlertingEvent = {
  [K in AlertingEventName]: { detailType: K; detail: z.infer<(typeof alertingEvents)[K]> };
}[AlertingEventName];
