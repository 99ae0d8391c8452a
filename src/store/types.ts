/** What the store keeps, as the domain sees it (without key attributes). */
import type { Locale } from '../../events/core.ts';
import type { TokenAction } from '../domain/tokens.ts';
import type { Allowance, AppHold } from '../domain/allowance.ts';

export type AccountState = 'ACTIVE' | 'FROZEN';
/** SUSPENDED: created while its provider's new links were suspended by operations (src/fraud/providers). */
export type LinkState = 'PENDING' | 'ACTIVE' | 'REVOKED' | 'SUSPENDED';

export interface CustomerRecord {
  customerId: string;
  displayName?: string;
  email?: string;
  phone?: string;
  locale: Locale;
  accountIds: string[];
  preferences: {
    withdrawals: 'ALL' | 'LINKED_AND_CARDLESS' | 'ABOVE_THRESHOLD';
    withdrawalThreshold: number;
    marketingOptOut: boolean;
  };
  /** Addresses/numbers suppressed after hard bounces or complaints. */
  suppressedEmail?: boolean;
  suppressedPhone?: boolean;
  profileOccurredAt: string;
  updatedAt: string;
}

export interface AccountRecord {
  accountId: string;
  customerId: string;
  last4: string;
  state: AccountState;
  version: number;
  updatedAt: string;
  /** Cardless-ATM app activations held like links, by activation id (src/holds/). */
  apps?: Record<string, AppHold>;
  /** The one allowance of the account's pending links and apps (src/domain/allowance.ts). */
  allowance?: Allowance;
}

export interface LinkRecord {
  accountId: string;
  linkId: string;
  customerId: string;
  providerId: string;
  providerName: string;
  linkType: 'EPAY' | 'CARDLESS_ATM';
  state: LinkState;
  createdAt: string;
  /** End of the hold window: PENDING counts as ACTIVE after it. */
  holdUntil: string;
  version: number;
  updatedAt: string;
}

export interface TokenRecord {
  tokenHash: string;
  accountId: string;
  customerId: string;
  alertId: string;
  actions: TokenAction[];
  issuedAt: string;
  expiresAt: string;
  /** actionKey -> ISO time it was used. */
  used: Record<string, string>;
  /** The channel whose message carried this token (the step-up code goes to the other one). */
  channel?: 'EMAIL' | 'SMS';
}

export interface AuditEntry {
  accountId: string;
  at: string;
  entryId: string;
  /** freezeAccount, revokeLink, confirmLink, unfreezeAccount, ... */
  action: string;
  actor: 'CUSTOMER_WEB' | 'CUSTOMER_SMS_REPLY' | 'CUSTOMER_EMAIL_REPLY' | 'OPERATOR' | 'SYSTEM';
  alertId?: string;
  /** First 8 characters of the token hash: identifies the token without being usable. */
  tokenRef?: string;
  operatorId?: string;
  approverId?: string;
  verificationRef?: string;
  target: string;
  oldState: string;
  newState: string;
  /** A releasing action's step-up ("CODE" or "PASSKEY"), or the channel a step-up code went by. */
  stepUp?: 'CODE' | 'PASSKEY';
  channel?: 'EMAIL' | 'SMS';
  /** First 8 characters of a passkey's credential id (registration, use, removal). */
  credentialRef?: string;
}
