/** Action tokens as stored: only the hash, with the grant and a TTL so DynamoDB removes them. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './db.ts';
import { key, TTL_ATTRIBUTE } from './table.ts';
import type { TokenRecord } from './types.ts';
import { hashToken, generateToken, tokenExpiry, type TokenGrant, type TokenAction } from '../domain/tokens.ts';

/** Keep expired tokens a little while so a late tap gets "expired" rather than "unknown". */
const TTL_GRACE_SECONDS = 30 * 86_400;

/** Issues a token for an alert; returns the clear token (for the message) once. */
export async function issueToken(
  grant: Omit<TokenGrant, 'issuedAt' | 'expiresAt'>,
  opts: { pepper: string; ttlDays: number; now?: Date },
): Promise<{ token: string; record: TokenRecord }> {
  const now = opts.now ?? new Date();
  const token = generateToken();
  const record: TokenRecord = {
    tokenHash: hashToken(token, opts.pepper),
    ...grant,
    issuedAt: now.toISOString(),
    expiresAt: tokenExpiry(now, opts.ttlDays).toISOString(),
    used: {},
  };
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...key.token(record.tokenHash),
        ...record,
        [TTL_ATTRIBUTE]: Math.floor(Date.parse(record.expiresAt) / 1000) + TTL_GRACE_SECONDS,
      },
      // 128 random bits never collide in practice; the condition makes sure of it.
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return { token, record };
}

/** Looks a clear token up under each pepper (current first). Strongly consistent. */
export async function findToken(token: string, peppers: readonly string[]): Promise<TokenRecord | undefined> {
  for (const pepper of peppers) {
    const out = await db().send(
      new GetCommand({ TableName: tableName(), Key: key.token(hashToken(token, pepper)), ConsistentRead: true }),
    );
    if (out.Item) {
      const { pk: _pk, sk: _sk, [TTL_ATTRIBUTE]: _ttl, ...rest } = out.Item;
      return rest as TokenRecord;
    }
  }
  return undefined;
}

export type { TokenAction };
