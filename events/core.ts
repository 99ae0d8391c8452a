/**
 * Inbound contracts: what the bank's core publishes on EventBridge with source `bank.core`.
 * The EventBridge `detail-type` is the event name; `detail` is the matching schema below.
 */
import * as z from 'zod';

export const CORE_SOURCE = 'bank.core';

/** Ids are opaque strings from the core; bounded so a hostile payload cannot bloat a key. */
const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
const isoTime = z.iso.datetime({ offset: true });
/** E.164: + then up to 15 digits, no spaces (the core normalises before publishing). */
export const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'E.164 phone number such as +819012345678');
export const emailAddress = z.email().max(254);
export const locale = z.enum(['ja', 'en']);
export type Locale = z.infer<typeof locale>;

/** Where the change came from, when the core knows it (shown to the customer). */
const origin = z
  .object({
    ip: z.union([z.ipv4(), z.ipv6()]).optional(),
    device: z.string().max(120).optional(),
    location: z.string().max(120).optional(),
  })
  .strict();

const envelope = {
  eventId: id,
  occurredAt: isoTime,
  accountId: id,
};

/** An account was linked to an e-payment service or a cardless-ATM app/device. */
export const LinkCreated = z
  .object({
    ...envelope,
    linkId: id,
    provider: z.object({ id, displayName: z.string().min(1).max(60) }).strict(),
    /** EPAY: e-payment wallet/service; CARDLESS_ATM: cardless-ATM app or device. */
    linkType: z.enum(['EPAY', 'CARDLESS_ATM']),
    /** How the link was set up: online banking, the provider's app, a branch. */
    channel: z.enum(['ONLINE', 'PROVIDER_APP', 'BRANCH', 'API']),
    origin: origin.optional(),
  })
  .strict();
export type LinkCreated = z.infer<typeof LinkCreated>;

/** A cardless-ATM or banking app was activated on a device for the account. */
export const AppActivated = z
  .object({
    ...envelope,
    appId: id,
    appName: z.string().min(1).max(60),
    deviceName: z.string().max(60).optional(),
    /** Set when the activation created or belongs to a link. */
    linkId: id.optional(),
    origin: origin.optional(),
  })
  .strict();
export type AppActivated = z.infer<typeof AppActivated>;

export const WithdrawalChannel = z.enum(['ATM_CARD', 'ATM_CARDLESS', 'EPAY_CHARGE', 'TRANSFER']);
export type WithdrawalChannel = z.infer<typeof WithdrawalChannel>;

/** Money left the account. Amount in minor units (JPY has none: 10000 = ¥10,000). */
export const WithdrawalPosted = z
  .object({
    ...envelope,
    withdrawalId: id,
    channel: WithdrawalChannel,
    amount: z.number().int().positive().max(1e13),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code such as JPY'),
    /** Present when the debit went through a link (e-payment charge, cardless app). */
    linkId: id.optional(),
    /** Merchant, ATM location or payee as the core describes it. */
    counterparty: z.string().max(80).optional(),
    origin: origin.optional(),
    /**
     * The `requestId` of the POST /v1/authorize that allowed this debit, when there was one: a
     * debit through a pending link or app is then not counted against the allowance twice.
     * Without it, the posting is counted as one the core never asked about.
     */
    authorizeRequestId: id.optional(),
  })
  .strict();
export type WithdrawalPosted = z.infer<typeof WithdrawalPosted>;

const contacts = z
  .object({ email: emailAddress.optional(), phone: e164.optional() })
  .strict()
  .refine((c) => c.email !== undefined || c.phone !== undefined, 'at least one of email or phone');

/**
 * The customer's email or phone changed. The alert goes to the OLD contact as well as the new,
 * since changing the contact is an attacker's first move.
 */
export const ContactChanged = z
  .object({
    eventId: id,
    occurredAt: isoTime,
    customerId: id,
    previous: contacts,
    current: contacts,
    channel: z.enum(['ONLINE', 'BRANCH', 'CALL_CENTER', 'API']),
    origin: origin.optional(),
  })
  .strict();
export type ContactChanged = z.infer<typeof ContactChanged>;

export const WithdrawalAlertPolicy = z.enum(['ALL', 'LINKED_AND_CARDLESS', 'ABOVE_THRESHOLD']);

/** The projection of the customer this system keeps: contacts, locale, accounts, preferences. */
export const CustomerProfileUpserted = z
  .object({
    eventId: id,
    occurredAt: isoTime,
    customerId: id,
    /** Name used in greetings; optional, never logged. */
    displayName: z.string().max(80).optional(),
    email: emailAddress.optional(),
    phone: e164.optional(),
    locale,
    accounts: z
      .array(
        z
          .object({
            accountId: id,
            /** Last four digits shown masked as ...1234. */
            last4: z.string().regex(/^\d{4}$/),
          })
          .strict(),
      )
      .min(1)
      .max(50),
    preferences: z
      .object({
        /**
         * Which withdrawals raise an alert. Default LINKED_AND_CARDLESS: every cardless,
         * e-payment and linked withdrawal, plus card/transfer ones at or above the threshold.
         */
        withdrawals: WithdrawalAlertPolicy.default('LINKED_AND_CARDLESS'),
        /** Minor units; card ATM and transfers at or above it alert under the default policy. */
        withdrawalThreshold: z.number().int().nonnegative().default(50_000),
        /** Marketing opt-out. Security alerts ignore it by design. */
        marketingOptOut: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type CustomerProfileUpserted = z.infer<typeof CustomerProfileUpserted>;

/** detail-type -> schema. The single list of inbound events. */
export const coreEvents = {
  LinkCreated,
  AppActivated,
  WithdrawalPosted,
  ContactChanged,
  CustomerProfileUpserted,
} as const;
export type CoreEventName = keyof typeof coreEvents;
export const coreEventNames = Object.keys(coreEvents) as CoreEventName[];

export type CoreEvent =
  | { detailType: 'LinkCreated'; detail: LinkCreated }
  | { detailType: 'AppActivated'; detail: AppActivated }
  | { detailType: 'WithdrawalPosted'; detail: WithdrawalPosted }
  | { detailType: 'ContactChanged'; detail: ContactChanged }
  | { detailType: 'CustomerProfileUpserted'; detail: CustomerProfileUpserted };

/** The EventBridge envelope as it reaches SQS (and the local bus). */
export const EventBridgeEnvelope = z.object({
  version: z.string().optional(),
  id: z.string().optional(),
  source: z.string(),
  'detail-type': z.string(),
  time: z.string().optional(),
  account: z.string().optional(),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.unknown(),
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelope>;
