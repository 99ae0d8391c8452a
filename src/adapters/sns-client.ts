/** The SNS client, built on first use (endpoint from AWS_ENDPOINT_URL_SNS when set). */
import { SNSClient } from '@aws-sdk/client-sns';
import { clientDefaults, injectedClients, onClientsReset } from './client-registry.ts';

let client: SNSClient | undefined;
onClientsReset(() => {
  client = undefined;
});

export function snsClient(): SNSClient {
  const injected = injectedClients();
  if (injected) return injected.sns;
  client ??= new SNSClient(clientDefaults);
  return client;
}
