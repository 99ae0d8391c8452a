/**
 * Once per test run: one DynamoDB Local (in memory, free port; each test file makes its own table),
 * and the npm-shipped Chromium unpacked with its Japanese fonts (test/support/chromium.ts), so
 * that parallel workers never race to unpack it.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { prepareChromium } from './chromium.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    chromiumPath: string;
    chromiumHome: string;
  }
}

export default async function setup(project: TestProject) {
  const [db, chromium] = await Promise.all([startDynamoDbLocal(), prepareChromium()]);
  project.provide('dynamoEndpoint', db.endpoint);
  project.provide('chromiumPath', chromium.executablePath);
  project.provide('chromiumHome', chromium.home);
  return async () => {
    await db.stop();
  };
}
