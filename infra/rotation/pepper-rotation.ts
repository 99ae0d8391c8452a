/**
 * Secrets Manager rotation for the token pepper. The secret holds JSON {"current","previous"}
 * (the format src/adapters/pepper.ts reads): a rotation makes a fresh `current` and keeps the old
 * one as `previous`, so action links sent before the rotation verify until they expire. The
 * configuration requires the rotation period to exceed the token TTL, so two peppers suffice.
 *
 * The four steps follow Secrets Manager's protocol; each is idempotent, since the service retries.
 * Secret values are never logged.
 */
import { randomBytes } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';

const RotationEvent = z.object({
  Step: z.enum(['createSecret', 'setSecret', 'testSecret', 'finishSecret']),
  SecretId: z.string().min(1),
  ClientRequestToken: z.string().min(1),
});
const PepperSecret = z.object({ current: z.string().min(32), previous: z.string().min(32).optional() });

/** A new pepper: 48 random bytes, base64url (64 characters). */
export function newPepper(): string {
  return randomBytes(48).toString('base64url');
}

/** The next secret value: a fresh current, the old current kept as previous. */
export function rotatedValue(currentSecretString: string, fresh: string = newPepper()): string {
  const current = PepperSecret.parse(JSON.parse(currentSecretString));
  return JSON.stringify({ current: fresh, previous: current.current });
}

let client: SecretsManagerClient | undefined;
const sm = () => (client ??= new SecretsManagerClient({}));
/** Tests point the function at a local Secrets Manager peer. */
export function setSecretsManagerClient(next?: SecretsManagerClient): void {
  client = next;
}

export async function handler(input: unknown): Promise<void> {
  const event = RotationEvent.parse(input);
  const { SecretId, ClientRequestToken: token } = event;
  const meta = await sm().send(new DescribeSecretCommand({ SecretId }));
  if (!meta.RotationEnabled) throw new Error('rotation is not enabled on the pepper secret');
  const stages = meta.VersionIdsToStages?.[token];
  if (!stages) throw new Error('rotation token is not a version of the pepper secret');
  if (stages.includes('AWSCURRENT')) return; // already finished
  if (!stages.includes('AWSPENDING')) throw new Error('rotation token version is not AWSPENDING');

  switch (event.Step) {
    case 'createSecret': {
      try {
        await sm().send(new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' }));
        return; // created by an earlier attempt
      } catch (e) {
        if (!(e instanceof ResourceNotFoundException)) throw e;
      }
      const current = await sm().send(new GetSecretValueCommand({ SecretId, VersionStage: 'AWSCURRENT' }));
      await sm().send(
        new PutSecretValueCommand({
          SecretId,
          ClientRequestToken: token,
          SecretString: rotatedValue(current.SecretString ?? ''),
          VersionStages: ['AWSPENDING'],
        }),
      );
      return;
    }
    case 'setSecret':
      return; // nothing outside Secrets Manager holds the pepper
    case 'testSecret': {
      const pending = await sm().send(new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' }));
      PepperSecret.parse(JSON.parse(pending.SecretString ?? ''));
      return;
    }
    case 'finishSecret': {
      const currentVersion = Object.entries(meta.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      await sm().send(
        new UpdateSecretVersionStageCommand({
          SecretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(currentVersion ? { RemoveFromVersionId: currentVersion } : {}),
        }),
      );
      return;
    }
  }
}
