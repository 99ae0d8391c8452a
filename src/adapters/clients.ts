/**
 * Every AWS client at once, for tests, benches and the local runtime only. No Lambda code
 * imports this module: a function imports the client module it calls (dynamodb-client.ts,
 * ses-client.ts, eventbridge-client.ts, sns-client.ts, sms.ts), so its bundle carries and its
 * cold start loads nothing else (bench/bundles.ts reports any function bundle that contains
 * this file). Endpoints come from the SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB,
 * AWS_ENDPOINT_URL_SESV2, AWS_ENDPOINT_URL_EVENTBRIDGE, ...), which is how the local runtime
 * and the tests point the real clients at local peers.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { clientDefaults, setAwsClients, type AwsClients } from './client-registry.ts';
import { documentClient, dynamoDbClient } from './dynamodb-client.ts';
import { sesClient } from './ses-client.ts';
import { snsClient } from './sns-client.ts';
import { eventBridgeClient } from './eventbridge-client.ts';

export { setAwsClients, type AwsClients };

/** The process-wide clients (each built on first use), as the function code sees them. */
export function awsClients(): AwsClients {
  return {
    get dynamodb() {
      return dynamoDbClient();
    },
    get doc() {
      return documentClient();
    },
    get ses() {
      return sesClient();
    },
    get sns() {
      return snsClient();
    },
    get eventBridge() {
      return eventBridgeClient();
    },
  };
}

/** A separate set of clients (own HTTP agents), each built on first use; for setAwsClients. */
export function createClients(): AwsClients {
  const made: { dynamodb?: DynamoDBClient; doc?: DynamoDBDocumentClient; ses?: SESv2Client; sns?: SNSClient; eventBridge?: EventBridgeClient } = {};
  return {
    get dynamodb() {
      return (made.dynamodb ??= new DynamoDBClient(clientDefaults));
    },
    get doc() {
      return (made.doc ??= DynamoDBDocumentClient.from(this.dynamodb, {
        marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
      }));
    },
    get ses() {
      return (made.ses ??= new SESv2Client(clientDefaults));
    },
    get sns() {
      return (made.sns ??= new SNSClient(clientDefaults));
    },
    get eventBridge() {
      return (made.eventBridge ??= new EventBridgeClient(clientDefaults));
    },
  };
}
