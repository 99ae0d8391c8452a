/**
 * The token pepper(s). Locally TOKEN_PEPPER; in AWS a Secrets Manager secret (rotated) holding
 * JSON {"current": "...", "previous": "..."}: tokens are issued with `current` and looked up with
 * both, so a rotation does not break links already sent. Read once per container.
 */
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { runtimeConfig } from '../config.ts';

const PepperSecret = z.object({ current: z.string().min(32), previous: z.string().min(32).optional() });
export interface Peppers {
  current: string;
  all: string[];
}

let cached: Promise<Peppers> | undefined;

export function tokenPeppers(): Promise<Peppers> {
  cached ??= load().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

export function resetTokenPeppers(): void {
  cached = undefined;
}

async function load(): Promise<Peppers> {
  const cfg = runtimeConfig();
  if (cfg.TOKEN_PEPPER) return { current: cfg.TOKEN_PEPPER, all: [cfg.TOKEN_PEPPER] };
  const client = new SecretsManagerClient({});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: cfg.TOKEN_PEPPER_SECRET_ARN }));
    const parsed = PepperSecret.safeParse(JSON.parse(out.SecretString ?? '{}'));
    if (!parsed.success) throw new Error('token pepper secret: expected JSON {"current": 32+ chars, "previous"?}');
    const { current, previous } = parsed.data;
    return { current, all: previous ? [current, previous] : [current] };
  } finally {
    client.destroy();
  }
}
