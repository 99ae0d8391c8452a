/**
 * The DynamoDB client and its document client, built once per container on first use. The
 * endpoint comes from the SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB), which is how the
 * local runtime and the tests point the real client at DynamoDB Local.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientDefaults, injectedClients, onClientsReset } from './client-registry.ts';

let client: DynamoDBClient | undefined;
let doc: DynamoDBDocumentClient | undefined;
onClientsReset(() => {
  client = undefined;
  doc = undefined;
});

export function dynamoDbClient(): DynamoDBClient {
  const injected = injectedClients();
  if (injected) return injected.dynamodb;
  client ??= new DynamoDBClient(clientDefaults);
  return client;
}

export function documentClient(): DynamoDBDocumentClient {
  const injected = injectedClients();
  if (injected) return injected.doc;
  doc ??= DynamoDBDocumentClient.from(dynamoDbClient(), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return doc;
}
