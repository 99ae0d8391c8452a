/**
 * Parks an event that can never succeed (it fails its schema) in the alert queue's dead-letter
 * queue at once, body unchanged, with the reason as message attributes: no pointless retries,
 * and nothing lost. With strict contracts the likeliest cause is the core adding a field before
 * this side knows it; once the contract is updated, a DLQ redrive delivers the parked alerts.
 * Without ALERT_DLQ_URL the event is only logged and counted.
 */
import { SQSClient, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { runtimeConfig } from '../config.ts';

let client: SQSClient | undefined;

/** Tests point the client elsewhere (AWS_ENDPOINT_URL_SQS is read when it is created). */
export function resetDeadLetterClient(): void {
  client?.destroy();
  client = undefined;
}

export async function parkRejectedEvent(
  body: string,
  info: { reason: string; messageId: string; eventId?: string | undefined; detailType?: string | undefined },
): Promise<boolean> {
  const url = runtimeConfig().ALERT_DLQ_URL;
  if (!url) return false;
  client ??= new SQSClient({ maxAttempts: 4, retryMode: 'standard' });
  const attr = (v: string): MessageAttributeValue => ({ DataType: 'String', StringValue: v.slice(0, 256) });
  await client.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: body,
      MessageAttributes: {
        rejectedBy: attr('alert'),
        reason: attr(info.reason),
        sourceMessageId: attr(info.messageId),
        ...(info.eventId ? { eventId: attr(info.eventId) } : {}),
        ...(info.detailType ? { detailType: attr(info.detailType) } : {}),
      },
    }),
  );
  return true;
}
