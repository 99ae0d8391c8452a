/**
 * End User Messaging SMS status events, as a configuration set's event destination publishes them
 * (AWS End User Messaging User Guide, "Messaging Events", SMS example log): the shape the local
 * SMS outbox emits and the simulator's outcome buttons build, so the delivery function reads
 * locally exactly what it reads in AWS.
 */
import { smsSize } from '../src/domain/messages/sms-segments.ts';
import type { SmsEventType } from '../events/aws-notifications.ts';

/** An End User Messaging SMS event as the configuration set's event destination publishes it. */
export interface SmsStatusEvent {
  eventType: SmsEventType;
  eventVersion: '1.0';
  eventTimestamp: number;
  isFinal: boolean;
  originationPhoneNumber: string;
  destinationPhoneNumber: string;
  isInternationalSend: boolean;
  isoCountryCode: string;
  mcc: string;
  mnc: string;
  messageId: string;
  messageRequestTimestamp: number;
  messageEncoding: 'GSM' | 'UCS2';
  messageType: string;
  messageStatus: string;
  messageStatusDescription: string;
  context?: Record<string, string>;
  totalMessageParts: number;
  totalMessagePrice: number;
  totalCarrierFee: number;
}

/** The bank's two-way number (demo); also what events name as the origination. */
export const LOCAL_BANK_NUMBER = '+81345678900';

const statusDescriptions: Partial<Record<SmsEventType, string>> = {
  TEXT_SUCCESSFUL: 'Message has been accepted by phone carrier',
  TEXT_DELIVERED: 'Message has been delivered to the handset',
  TEXT_BLOCKED: 'Message was blocked by the recipient or their carrier',
  TEXT_CARRIER_BLOCKED: 'Carrier blocked the message',
  TEXT_INVALID: 'Destination phone number is invalid',
  TEXT_CARRIER_UNREACHABLE: 'Carrier is temporarily unreachable',
  TEXT_UNREACHABLE: 'Handset is unreachable',
  TEXT_TTL_EXPIRED: 'Message was not delivered within its time to live',
};

const countryOf = (e164: string) => (e164.startsWith('+81') ? 'JP' : e164.startsWith('+1') ? 'US' : 'ZZ');

/** Events after which the service sends nothing more for the message. */
export const FINAL_SMS_EVENTS: ReadonlySet<SmsEventType> = new Set([
  'TEXT_DELIVERED',
  'TEXT_BLOCKED',
  'TEXT_CARRIER_BLOCKED',
  'TEXT_SPAM',
  'TEXT_PROTECT_BLOCKED',
  'TEXT_INVALID',
  'TEXT_INVALID_MESSAGE',
  'TEXT_TTL_EXPIRED',
]);

/** One status event in the documented shape (also used by the simulator's outcome buttons). */
export function smsStatusEvent(
  eventType: SmsEventType,
  o: {
    messageId: string;
    to: string;
    from?: string;
    context?: Record<string, string>;
    message?: string;
    parts?: number;
    messageType?: string;
    isFinal?: boolean;
    requestedAt?: number;
    at?: number;
  },
): SmsStatusEvent {
  const at = o.at ?? Date.now();
  const size = o.message !== undefined ? smsSize(o.message) : undefined;
  const parts = o.parts ?? size?.segments ?? 1;
  const from = o.from && /^\+\d+$/.test(o.from) ? o.from : LOCAL_BANK_NUMBER;
  return {
    eventType,
    eventVersion: '1.0',
    eventTimestamp: at,
    isFinal: o.isFinal ?? FINAL_SMS_EVENTS.has(eventType),
    originationPhoneNumber: from,
    destinationPhoneNumber: o.to,
    isInternationalSend: countryOf(from) !== countryOf(o.to),
    isoCountryCode: countryOf(o.to),
    mcc: countryOf(o.to) === 'JP' ? '440' : '001',
    mnc: '10',
    messageId: o.messageId,
    messageRequestTimestamp: o.requestedAt ?? at - 1500,
    messageEncoding: size?.encoding === 'GSM-7' ? 'GSM' : 'UCS2',
    messageType: o.messageType ?? 'TRANSACTIONAL',
    messageStatus: eventType.replace(/^TEXT_/, ''),
    messageStatusDescription: statusDescriptions[eventType] ?? 'local simulation',
    ...(o.context ? { context: o.context } : {}),
    totalMessageParts: parts,
    totalMessagePrice: Math.round(parts * 0.0745 * 10_000) / 10_000,
    totalCarrierFee: 0,
  };
}
