/**
 * AWS SDK clients, created once per container and shared by the adapters. Endpoints come from
 * the SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SESV2,
 * AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_EVENTBRIDGE, ...), which is how the local runtime
 * and the tests point the real clients at local peers. Tests may inject their own.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

export interface AwsClients {
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  ses: SESv2Client;
  sns: SNSClient;
  eventBridge: EventBridgeClient;
}

let clients: AwsClients | undefined;

/**
 * Each client is built on first use: a function pays the cold-start cost only of the clients it
 * really calls (authorize never touches SES or SNS).
 */
export function createClients(): AwsClients {
  // Retries with backoff are the SDK's standard mode; throttling and 5xx are retried there first.
  const common = { maxAttempts: 4, retryMode: 'standard' as const };
  const made: Partial<AwsClients> = {};
  return {
    get dynamodb() {
      return (made.dynamodb ??= new DynamoDBClient(common));
    },
    get doc() {
      return (made.doc ??= DynamoDBDocumentClient.from(this.dynamodb, {
        marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
      }));
    },
    get ses() {
      return (made.ses ??= new SESv2Client(common));
    },
    get sns() {
      return (made.sns ??= new SNSClient(common));
    },
    get eventBridge() {
      return (made.eventBridge ??= new EventBridgeClient(common));
    },
  };
}

export function awsClients(): AwsClients {
  clients ??= createClients();
  return clients;
}

/** For tests: replace (or with no argument, drop) the shared clients. */
export function setAwsClients(next?: AwsClients): void {
  clients = next;
}
