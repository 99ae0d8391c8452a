/**
 * Per-test-file environment: a fresh table in the shared DynamoDB Local, the runtime variables the
 * handlers read, and fresh SDK clients pointed at the local endpoints.
 */
import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTable, LOCAL_AWS_ENV } from '../../local/dynamodb-local.ts';
import { resetRuntimeConfig } from '../../src/config.ts';
import { setAwsClients } from '../../src/adapters/clients.ts';
import { setSmsClient } from '../../src/adapters/sms.ts';

export const TEST_PEPPER = 'test-pepper-0123456789abcdef0123456789abcdef';

export interface TestEnv {
  tableName: string;
  dynamoEndpoint: string;
}

/** Call in beforeAll. Extra variables (e.g. local SES/SNS endpoints) can be passed in. */
export async function setupTestEnv(extra: Record<string, string> = {}): Promise<TestEnv> {
  const dynamoEndpoint = inject('dynamoEndpoint');
  const tableName = `t-${randomUUID()}`;
  await createTable(dynamoEndpoint, tableName);
  Object.assign(process.env, {
    ...LOCAL_AWS_ENV,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    TABLE_NAME: tableName,
    TOKEN_PEPPER: TEST_PEPPER,
    POWERTOOLS_SERVICE_NAME: 'alerting-test',
    POWERTOOLS_METRICS_NAMESPACE: 'BankAlerting',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    ...extra,
  });
  resetRuntimeConfig();
  setAwsClients(undefined);
  setSmsClient(undefined);
  return { tableName, dynamoEndpoint };
}
