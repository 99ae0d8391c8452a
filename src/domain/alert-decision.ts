/**
 * Whether and how to alert for one core event: who receives it on which channel, which
 * protective actions its token offers, and what the message says. Plain rules, no AWS.
 *
 * - Links, app activations and contact changes always alert.
 * - Withdrawals follow the customer's preference. The default, LINKED_AND_CARDLESS, alerts on
 *   every cardless-ATM, e-payment and linked withdrawal, and on card-ATM and transfer ones at or
 *   above the threshold. ALL alerts on every withdrawal; ABOVE_THRESHOLD only at or above the
 *   threshold. Whatever the preference, a debit through a link still in its hold window alerts:
 *   that is the 2020 pattern (a wallet linked by an impostor and drained at once).
 *   The threshold is compared in the withdrawal's minor units (the core debits in JPY).
 * - Every alert here is a security alert: the marketing opt-out is never consulted.
 * - One alert per source event: the alert id is derived from the event id, so a redelivered
 *   event maps to the same alert, the same send-ledger entries and the same record.
 * - A token covers one account. A contact change belongs to the customer, so its token freezes
 *   the customer's first account and the message says to call for the others.
 */
import { createHash } from 'node:crypto';
import type { ContactChanged, CoreEvent, Locale, WithdrawalPosted } from '../../events/core.ts';
import type { AlertChannel } from '../../events/alerting.ts';
import type { TokenAction } from './tokens.ts';
import { maskEmail, maskPhone, type AlertContent, type AlertOrigin } from './messages/content.ts';

/** Every inbound event but the profile projection, which never raises an alert. */
export type AlertableEvent = Exclude<CoreEvent, { detailType: 'CustomerProfileUpserted' }>;

export interface CustomerView {
  customerId: string;
  displayName?: string;
  email?: string;
  phone?: string;
  locale: Locale;
  accountIds: string[];
  preferences: { withdrawals: 'ALL' | 'LINKED_AND_CARDLESS' | 'ABOVE_THRESHOLD'; withdrawalThreshold: number };
  suppressedEmail?: boolean;
  suppressedPhone?: boolean;
}

export interface AccountView {
  accountId: string;
  last4: string;
}

export interface LinkView {
  providerName: string;
  state: 'PENDING' | 'ACTIVE' | 'REVOKED' | 'SUSPENDED';
  holdUntil: string;
}

/** Where a recipient came from: the stored profile, or the old / new contact of a change. */
export type RecipientRole = 'PROFILE' | 'PREVIOUS' | 'CURRENT';

export interface Recipient {
  channel: AlertChannel;
  /** Email address (lower-cased) or E.164 number. */
  address: string;
  role: RecipientRole;
}

export interface AlertOwner {
  accountId?: string;
  customerId: string;
}

export interface AlertPlan {
  alertId: string;
  sourceEventId: string;
  sourceEventType: AlertableEvent['detailType'];
  owner: AlertOwner;
  /** The account the token protects. */
  tokenAccountId: string;
  actions: TokenAction[];
  locale: Locale;
  displayName?: string;
  content: AlertContent;
  recipients: Recipient[];
}

export type AlertDecision = { alert: true; plan: AlertPlan } | { alert: false; reason: 'PREFERENCE' };

/** Deterministic per source event: 22 base64url characters of SHA-256("alert:" + eventId). */
export function alertIdFor(eventId: string): string {
  return createHash('sha256').update(`alert:${eventId}`, 'utf8').digest('base64url').slice(0, 22);
}

export function normaliseAddress(channel: AlertChannel, address: string): string {
  return channel === 'EMAIL' ? address.trim().toLowerCase() : address.trim();
}

/** The withdrawal preference rule (see the header). */
export function withdrawalNeedsAlert(
  w: Pick<WithdrawalPosted, 'channel' | 'amount' | 'linkId'>,
  prefs: CustomerView['preferences'],
  throughPendingLink: boolean,
): boolean {
  if (throughPendingLink) return true;
  const aboveThreshold = w.amount >= prefs.withdrawalThreshold;
  switch (prefs.withdrawals) {
    case 'ALL':
      return true;
    case 'ABOVE_THRESHOLD':
      return aboveThreshold;
    case 'LINKED_AND_CARDLESS':
      return w.channel === 'ATM_CARDLESS' || w.channel === 'EPAY_CHARGE' || w.linkId !== undefined || aboveThreshold;
  }
}

/** The protective actions a token offers for an event (REVOKE/CONFIRM need a link, the app ones an activation). */
export function tokenActionsFor(event: AlertableEvent): TokenAction[] {
  const freeze: TokenAction = { kind: 'FREEZE_ACCOUNT' };
  switch (event.detailType) {
    case 'LinkCreated':
      return [freeze, { kind: 'REVOKE_LINK', linkId: event.detail.linkId }, { kind: 'CONFIRM_LINK', linkId: event.detail.linkId }];
    case 'AppActivated':
      // The activation is held like a link (src/holds/): "not me" deactivates it (and stops
      // cardless withdrawals on the account), "it was me" lifts its hold. Keyed by the event id:
      // a later activation of the same app on another device is another hold.
      return [freeze, { kind: 'DEACTIVATE_APP', activationId: event.detail.eventId }, { kind: 'CONFIRM_APP', activationId: event.detail.eventId }];
    case 'WithdrawalPosted':
      return event.detail.linkId ? [freeze, { kind: 'REVOKE_LINK', linkId: event.detail.linkId }] : [freeze];
    case 'ContactChanged':
      return [freeze];
  }
}

function dedupe(list: Recipient[]): Recipient[] {
  const seen = new Set<string>();
  const out: Recipient[] = [];
  for (const r of list) {
    const address = normaliseAddress(r.channel, r.address);
    const k = `${r.channel} ${address}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ ...r, address });
  }
  return out;
}

/** The customer's stored contacts, minus suppressed ones (hard bounces, complaints). */
export function profileRecipients(c: CustomerView): Recipient[] {
  return dedupe([
    ...(c.email && !c.suppressedEmail ? [{ channel: 'EMAIL' as const, address: c.email, role: 'PROFILE' as const }] : []),
    ...(c.phone && !c.suppressedPhone ? [{ channel: 'SMS' as const, address: c.phone, role: 'PROFILE' as const }] : []),
  ]);
}

/**
 * A contact change goes to the old and the new address and number, and to the stored profile
 * contacts as well: when only the email changed, the phone on file is the one the real customer
 * still holds. Suppression does not apply to the old/new contacts named by the change itself.
 */
export function contactChangeRecipients(e: ContactChanged, c: CustomerView): Recipient[] {
  const named: Recipient[] = [];
  if (e.previous.email) named.push({ channel: 'EMAIL', address: e.previous.email, role: 'PREVIOUS' });
  if (e.current.email) named.push({ channel: 'EMAIL', address: e.current.email, role: 'CURRENT' });
  if (e.previous.phone) named.push({ channel: 'SMS', address: e.previous.phone, role: 'PREVIOUS' });
  if (e.current.phone) named.push({ channel: 'SMS', address: e.current.phone, role: 'CURRENT' });
  return dedupe([...named, ...profileRecipients(c)]);
}

function originOf(o: { ip?: string | undefined; device?: string | undefined; location?: string | undefined } | undefined): { origin?: AlertOrigin } {
  if (!o) return {};
  const origin: AlertOrigin = {
    ...(o.ip ? { ip: o.ip } : {}),
    ...(o.device ? { device: o.device } : {}),
    ...(o.location ? { location: o.location } : {}),
  };
  return Object.keys(origin).length > 0 ? { origin } : {};
}

/**
 * Decides for one event. `account` is the event's account (for a contact change: the customer's
 * first account); `link` is the link a withdrawal went through, when known.
 */
export function decideAlert(
  event: AlertableEvent,
  ctx: { customer: CustomerView; account: AccountView; link?: LinkView; now: Date; providerSuspended?: boolean },
): AlertDecision {
  const { customer, account } = ctx;
  const base = {
    alertId: alertIdFor(event.detail.eventId),
    sourceEventId: event.detail.eventId,
    sourceEventType: event.detailType,
    tokenAccountId: account.accountId,
    actions: tokenActionsFor(event),
    locale: customer.locale,
    ...(customer.displayName ? { displayName: customer.displayName } : {}),
  };
  const accountOwner = { accountId: account.accountId, customerId: customer.customerId };
  const common = { occurredAt: event.detail.occurredAt, accountLast4: account.last4, ...originOf(event.detail.origin) };
  switch (event.detailType) {
    case 'LinkCreated': {
      const d = event.detail;
      // A link made while operations suspend its provider is stopped already: offer freeze and revoke, never "it was me".
      const suspended = ctx.providerSuspended === true;
      return {
        alert: true,
        plan: {
          ...base,
          ...(suspended ? { actions: base.actions.filter((a) => a.kind !== 'CONFIRM_LINK') } : {}),
          owner: accountOwner,
          content: { kind: 'LINK_CREATED', ...common, providerName: d.provider.displayName, linkType: d.linkType, ...(suspended ? { providerSuspended: true } : {}) },
          recipients: profileRecipients(customer),
        },
      };
    }
    case 'AppActivated': {
      const d = event.detail;
      return {
        alert: true,
        plan: {
          ...base,
          owner: accountOwner,
          content: { kind: 'APP_ACTIVATED', ...common, appName: d.appName, ...(d.deviceName ? { deviceName: d.deviceName } : {}), throughLink: d.linkId !== undefined },
          recipients: profileRecipients(customer),
        },
      };
    }
    case 'WithdrawalPosted': {
      const d = event.detail;
      const pending = ctx.link !== undefined && ctx.link.state === 'PENDING' && ctx.now.getTime() < Date.parse(ctx.link.holdUntil);
      if (!withdrawalNeedsAlert(d, customer.preferences, pending)) return { alert: false, reason: 'PREFERENCE' };
      return {
        alert: true,
        plan: {
          ...base,
          owner: accountOwner,
          content: {
            kind: 'WITHDRAWAL',
            ...common,
            channel: d.channel,
            amount: d.amount,
            currency: d.currency,
            ...(d.counterparty ? { counterparty: d.counterparty } : {}),
            ...(ctx.link ? { providerName: ctx.link.providerName } : {}),
          },
          recipients: profileRecipients(customer),
        },
      };
    }
    case 'ContactChanged': {
      const d = event.detail;
      let emailChanged = (d.previous.email ?? '').toLowerCase() !== (d.current.email ?? '').toLowerCase();
      let phoneChanged = (d.previous.phone ?? '') !== (d.current.phone ?? '');
      if (!emailChanged && !phoneChanged) {
        emailChanged = d.current.email !== undefined;
        phoneChanged = !emailChanged;
      }
      return {
        alert: true,
        plan: {
          ...base,
          owner: { customerId: customer.customerId },
          content: {
            kind: 'CONTACT_CHANGED',
            ...common,
            emailChanged,
            phoneChanged,
            ...(emailChanged && d.current.email ? { newEmailMasked: maskEmail(d.current.email) } : {}),
            ...(phoneChanged && d.current.phone ? { newPhoneMasked: maskPhone(d.current.phone) } : {}),
            otherAccounts: customer.accountIds.length > 1,
          },
          recipients: contactChangeRecipients(d, customer),
        },
      };
    }
  }
}
