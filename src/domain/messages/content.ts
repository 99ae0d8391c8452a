/**
 * What an alert says, independent of language and channel: the facts the templates render.
 * Built by the alert decision from the event and the stored customer/account/link; kept on the
 * alert record so a later fallback send renders the same message.
 */
import type { Locale, WithdrawalChannel } from '../../../events/core.ts';

export type AlertKind = 'LINK_CREATED' | 'APP_ACTIVATED' | 'WITHDRAWAL' | 'CONTACT_CHANGED';

export interface AlertOrigin {
  ip?: string;
  device?: string;
  location?: string;
}

interface Common {
  /** When it happened (ISO, from the event). */
  occurredAt: string;
  /** Account the token protects, masked to its last four digits in messages. */
  accountLast4: string;
  origin?: AlertOrigin;
}

export type AlertContent =
  /** providerSuspended: operations had suspended the provider's new links; the bank stopped this one (src/fraud/providers). */
  | (Common & { kind: 'LINK_CREATED'; providerName: string; linkType: 'EPAY' | 'CARDLESS_ATM'; providerSuspended?: boolean })
  | (Common & { kind: 'APP_ACTIVATED'; appName: string; deviceName?: string; throughLink: boolean })
  | (Common & {
      kind: 'WITHDRAWAL';
      channel: WithdrawalChannel;
      /** Minor units. */
      amount: number;
      currency: string;
      counterparty?: string;
      /** Provider of the link the debit went through, when it did. */
      providerName?: string;
    })
  | (Common & {
      kind: 'CONTACT_CHANGED';
      emailChanged: boolean;
      phoneChanged: boolean;
      /** The new contact, masked (h***@example.jp, *****5678): who now receives our messages. */
      newEmailMasked?: string;
      newPhoneMasked?: string;
      /** The customer has other accounts: the link protects one; the message says to call for the rest. */
      otherAccounts: boolean;
    });

export interface RenderContext {
  locale: Locale;
  /** ACTION_BASE_URL + token. */
  actionUrl: string;
  /** Days the link stays valid (TOKEN_TTL_DAYS). */
  ttlDays: number;
  /** Greeting name; optional, escaped in HTML. */
  displayName?: string;
  /** The offered actions, to describe what the page lets the customer do. */
  canRevokeLink: boolean;
  canConfirmLink: boolean;
  /** An app activation's alert: the page offers "deactivate this app" (absent: false). */
  canDeactivateApp?: boolean;
  /** An app activation's alert: its hold (HOLD_WINDOW_HOURS, HOLD_LIMIT_MINOR), said in the email. */
  appHold?: { hours: number; limitMinor: number };
  /** SMS with or without the link (SMS_LINKS, SMS_BANK_CONTACT); absent: with. */
  sms?: { links: 'always' | 'never'; bankContact?: string };
}

/** h***@example.jp: enough for the owner to recognise, useless to anyone else. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/** *****5678. */
export function maskPhone(e164: string): string {
  return `*****${e164.slice(-4)}`;
}
