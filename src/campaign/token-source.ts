/**
 * Campaign tokens in bulk: the same 128 random bits per token (22 base64url characters) and the
 * same peppered HMAC-SHA256 hash as src/domain/tokens.ts, with the random bytes drawn from the
 * CSPRNG in 8 KiB blocks instead of one call per token: at millions of recipients the per-call
 * cost of randomBytes(16) was a third of the dry run's CPU. Each block is used once, front to back.
 */
import { randomFillSync } from 'node:crypto';
import { hashToken } from '../domain/tokens.ts';

const TOKEN_BYTES = 16;
const BLOCK = TOKEN_BYTES * 512;
let block = Buffer.alloc(0);
let offset = BLOCK;

export function campaignToken(): string {
  if (offset + TOKEN_BYTES > block.length) {
    block = randomFillSync(Buffer.allocUnsafe(BLOCK));
    offset = 0;
  }
  const token = block.toString('base64url', offset, offset + TOKEN_BYTES);
  offset += TOKEN_BYTES;
  return token;
}

/** A fresh token for a grant: the clear value for the message, its hash for the table. */
export function newToken(pepper: string): { token: string; hash: string } {
  const token = campaignToken();
  return { token, hash: hashToken(token, pepper) };
}
