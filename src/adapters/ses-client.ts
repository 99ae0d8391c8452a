/** The SES v2 client, built on first use (endpoint from AWS_ENDPOINT_URL_SESV2 when set). */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { clientDefaults, injectedClients, onClientsReset } from './client-registry.ts';

let client: SESv2Client | undefined;
onClientsReset(() => {
  client = undefined;
});

export function sesClient(): SESv2Client {
  const injected = injectedClients();
  if (injected) return injected.ses;
  client ??= new SESv2Client(clientDefaults);
  return client;
}
