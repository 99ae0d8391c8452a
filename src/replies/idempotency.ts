/**
 * One reply, one effect: replies are made idempotent by the provider's inbound message id with
 * Powertools idempotency on the single table (pk = IDEMPOTENCY#replies, sk = the key, expiry in
 * the table's TTL attribute). The same SMS or email delivered twice, or a retried invocation,
 * returns the first result: one action, one acknowledgement. A run that crashed half-way leaves
 * an in-progress record that expires with the invocation, so the retry does the work (the actions
 * are idempotent themselves, so nothing is changed twice).
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { dynamoDbClient } from '../adapters/dynamodb-client.ts';
import { runtimeConfig } from '../config.ts';
import { TTL_ATTRIBUTE } from '../store/table.ts';
import type { ReplyResult } from './service.ts';

/** A reply as stored for idempotency: JSON only (the key is its replyId). */
export interface ReplyJob {
  channel: 'SMS' | 'EMAIL';
  from: string;
  text: string;
  replyId: string;
  answersMessageId?: string;
  receivedAt: string;
}

/** Replies are remembered for a day: providers redeliver within minutes, never days later. */
const EXPIRES_AFTER_SECONDS = 86_400;

let built: { table: string; config: IdempotencyConfig; store: DynamoDBPersistenceLayer } | undefined;

function idempotency() {
  const table = runtimeConfig().TABLE_NAME;
  if (!built || built.table !== table) {
    built = {
      table,
      config: new IdempotencyConfig({ eventKeyJmesPath: 'replyId', expiresAfterSeconds: EXPIRES_AFTER_SECONDS, throwOnNoIdempotencyKey: true }),
      store: new DynamoDBPersistenceLayer({
        tableName: table,
        keyAttr: 'pk',
        sortKeyAttr: 'sk',
        staticPkValue: 'IDEMPOTENCY#replies',
        expiryAttr: TTL_ATTRIBUTE,
        awsSdkV3Client: dynamoDbClient(),
      }),
    };
  }
  return built;
}

/** Wraps the reply flow so it runs once per replyId. */
export function oncePerReply(flow: (job: ReplyJob) => Promise<ReplyResult>, context?: Context): (job: ReplyJob) => Promise<ReplyResult> {
  const { config, store } = idempotency();
  if (context) config.registerLambdaContext(context);
  return makeIdempotent(flow, { persistenceStore: store, config, keyPrefix: 'replies' });
}
