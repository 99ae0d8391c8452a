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
]);

export function classifySendError(e: unknown): SendErrorClass {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = err?.$metadata?.httpStatusCode;
  if (status === undefined) return 'UNKNOWN_OUTCOME';
  if (status >= 400 && status < 500 && status !== 429 && err.name && PERMANENT.has(err.name)) return 'PERMANENT';
  return 'RETRYABLE';
}

/** A short, data-free description for logs and records. */
export function describeSendError(e: unknown): string {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const status = err?.$metadata?.httpStatusCode;
  return `${err?.name ?? 'Error'}${status ? ` (HTTP ${status}` : ' (no response'}${err?.$metadata?.attempts ? `, ${err.$metadata.attempts} attempts)` : ')'}`;
}
