/**
 * What every AWS SDK client module shares, without loading any SDK client (the imports below are
 * types only, erased at build): the retry settings, the reset hook and the clients a test
 * injects. Each client lives in its own module (dynamodb-client.ts, ses-client.ts,
 * eventbridge-client.ts, sns-client.ts; SMS in sms.ts), built on first use, so a Lambda bundles
 * and loads only the clients it calls: authorize carries DynamoDB and nothing else.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';

/** Retries with backoff are the SDK's standard mode; throttling and 5xx are retried there first. */
export const clientDefaults = { maxAttempts: 4, retryMode: 'standard' as const };

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly ses: SESv2Client;
  readonly sns: SNSClient;
  readonly eventBridge: EventBridgeClient;
}

const resets = new Set<() => void>();
let injected: AwsClients | undefined;

/** A client module registers how to drop its client (tests and the local runtime change endpoints). */
export function onClientsReset(reset: () => void): void {
  resets.add(reset);
}

/** The clients a test installed, read on every use (a test may route them per async context). */
export function injectedClients(): AwsClients | undefined {
  return injected;
}

/**
 * For tests and the local runtime: use `next` for every client, or with no argument drop every
 * client built so far (the next use builds it again from the current environment).
 */
export function setAwsClients(next?: AwsClients): void {
  injected = next;
  if (!next) for (const reset of resets) reset();
}
