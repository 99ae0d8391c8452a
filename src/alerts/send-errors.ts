/**
 * What a provider error means for the send ledger:
 * - RETRYABLE: the provider answered and did not take the message (throttling, 5xx, a paused
 *   account, credentials): release the claim, let SQS bring the event back.
 * - PERMANENT: the provider refused this recipient or message for good (invalid address or
 *   number, rejected): record FAILED, never retry (the delivery function falls back to the other
 *   channel).
 * - UNKNOWN_OUTCOME: no answer at all (timeout, connection reset): the message may have gone
 *   out. Keep the claim; once stale it is resolved by the provider's own event or resent.
 */
export type SendErrorClass = 'RETRYABLE' | 'PERMANENT' | 'UNKNOWN_OUTCOME';

const PERMANENT = new Set([
  // SES v2
  'MessageRejected',
  'BadRequestException',
  'MailFromDomainNotVerifiedException',
  // SNS
  'InvalidParameterException',
  'InvalidParameterValueException',
  // End User Messaging SMS: the request as made can never succeed (invalid number, body,
  // parameters; an identity that cannot send to this country): the same answer on every retry.
  'ValidationException',
]);

/**
 * End User Messaging SMS ConflictException reasons about this recipient: opted out (STOP to our
 * number), not a verified destination (sandbox), blocked by a protect configuration. Other
 * reasons are the state of our own resources (RESOURCE_NOT_ACTIVE, ...): fixable by operations,
 * so retried like a paused account. Throttling, spend limit (ServiceQuotaExceededException),
 * AccessDenied and ResourceNotFound (a configuration set or identity missing) are RETRYABLE too.
 */
const PERMANENT_CONFLICT_REASONS = new Set([
  'DESTINATION_PHONE_NUMBER_OPTED_OUT',
  'DESTINATION_PHONE_NUMBER_NOT_VERIFIED',
  'DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE',
  'DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION',
]);

export function classifySendError(e: unknown): SendErrorClass {
  const err = e as { name?: string; Reason?: string; $metadata?: { httpStatusCode?: number } };
  const status = err?.$metadata?.httpStatusCode;
  if (status === undefined) return 'UNKNOWN_OUTCOME';
  const clientError = status >= 400 && status < 500 && status !== 429;
  if (clientError && err.name && PERMANENT.has(err.name)) return 'PERMANENT';
  if (clientError && err.name === 'ConflictException' && err.Reason && PERMANENT_CONFLICT_REASONS.has(err.Reason)) return 'PERMANENT';
  return 'RETRYABLE';
}

/** A short, data-free description for logs and records (End User Messaging's Reason is an enum). */
export function describeSendError(e: unknown): string {
  const err = e as { name?: string; Reason?: unknown; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const status = err?.$metadata?.httpStatusCode;
  const reason = typeof err?.Reason === 'string' && /^[A-Z_]{1,80}$/.test(err.Reason) ? `/${err.Reason}` : '';
  return `${err?.name ?? 'Error'}${reason}${status ? ` (HTTP ${status}` : ' (no response'}${err?.$metadata?.attempts ? `, ${err.$metadata.attempts} attempts)` : ')'}`;
}
