/** The EventBridge client, built on first use (endpoint from AWS_ENDPOINT_URL_EVENTBRIDGE when set). */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { clientDefaults, injectedClients, onClientsReset } from './client-registry.ts';

let client: EventBridgeClient | undefined;
onClientsReset(() => {
  client = undefined;
});

export function eventBridgeClient(): EventBridgeClient {
  const injected = injectedClients();
  if (injected) return injected.eventBridge;
  client ??= new EventBridgeClient(clientDefaults);
  return client;
}
