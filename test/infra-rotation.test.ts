/**
 * The pepper rotation function against a small local Secrets Manager peer (an HTTP server
 * speaking the service's JSON protocol for the five calls rotation makes; there is no official
 * local Secrets Manager). The real SDK client talks to it, and the runtime's own pepper loader
 * (src/adapters/pepper.ts) reads the rotated secret back: the two agree on the format.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler, newPepper, rotatedValue, setSecretsManagerClient } from '../infra/rotation/pepper-rotation.ts';
import { resetTokenPeppers, tokenPeppers } from '../src/adapters/pepper.ts';
import { resetRuntimeConfig } from '../src/config.ts';
import { LOCAL_AWS_ENV } from '../local/dynamodb-local.ts';

const ARN = 'arn:aws:secretsmanager:ap-northeast-1:111111111111:secret:pepper-AbCdEf';

interface Version {
  value?: string;
  stages: string[];
}
/** The peer's state: one secret, its versions by id. */
let versions: Map<string, Version>;
let rotationEnabled: boolean;
const calls: string[] = [];

function stageHolder(stage: string): string | undefined {
  return [...versions].find(([, v]) => v.stages.includes(stage))?.[0];
}

type Reply = { status: number; body: unknown };
const notFound = (message: string): Reply => ({ status: 400, body: { __type: 'ResourceNotFoundException', message } });

function answer(op: string, input: Record<string, string | string[] | undefined>): Reply {
  if (input['SecretId'] !== ARN) return notFound('no such secret');
  switch (op) {
    case 'DescribeSecret':
      return {
        status: 200,
        body: { ARN, RotationEnabled: rotationEnabled, VersionIdsToStages: Object.fromEntries([...versions].map(([id, v]) => [id, v.stages])) },
      };
    case 'GetSecretValue': {
      const id = (input['VersionId'] as string | undefined) ?? stageHolder(String(input['VersionStage'] ?? 'AWSCURRENT'));
      const v = id ? versions.get(id) : undefined;
      if (!v || v.value === undefined) return notFound('version has no value');
      if (input['VersionStage'] && !v.stages.includes(String(input['VersionStage']))) return notFound('stage not on version');
      return { status: 200, body: { ARN, VersionId: id, SecretString: v.value, VersionStages: v.stages } };
    }
    case 'PutSecretValue': {
      const id = String(input['ClientRequestToken']);
      const v = versions.get(id) ?? { stages: [] };
      if (v.value !== undefined && v.value !== input['SecretString']) {
        return { status: 400, body: { __type: 'ResourceExistsException', message: 'version exists with another value' } };
      }
      v.value = String(input['SecretString']);
      for (const st of (input['VersionStages'] as string[] | undefined) ?? ['AWSCURRENT']) {
        for (const other of versions.values()) other.stages = other.stages.filter((x) => x !== st);
        v.stages.push(st);
      }
      versions.set(id, v);
      return { status: 200, body: { ARN, VersionId: id } };
    }
    case 'UpdateSecretVersionStage': {
      const stage = String(input['VersionStage']);
      const to = versions.get(String(input['MoveToVersionId']));
      if (!to) return notFound('no such version');
      const from = input['RemoveFromVersionId'] ? versions.get(String(input['RemoveFromVersionId'])) : undefined;
      if (stage === 'AWSCURRENT' && from) from.stages = [...from.stages.filter((x) => x !== 'AWSCURRENT'), 'AWSPREVIOUS'];
      for (const v of versions.values()) if (v !== from) v.stages = v.stages.filter((x) => x !== stage);
      to.stages = [...to.stages.filter((x) => x !== 'AWSPENDING'), stage];
      return { status: 200, body: { ARN } };
    }
    default:
      return { status: 400, body: { __type: 'InvalidRequestException', message: `unsupported ${op}` } };
  }
}

let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
      calls.push(op);
      const r = answer(op, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>);
      res.writeHead(r.status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  setSecretsManagerClient(new SecretsManagerClient({ endpoint, region: 'ap-northeast-1', credentials, maxAttempts: 1 }));
  Object.assign(process.env, {
    ...LOCAL_AWS_ENV,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    TABLE_NAME: 'unused',
    TOKEN_PEPPER_SECRET_ARN: ARN,
  });
  delete process.env['TOKEN_PEPPER'];
  resetRuntimeConfig();
});

afterAll(async () => {
  setSecretsManagerClient(undefined);
  await new Promise<void>((ok) => server.close(() => ok()));
});

const A = 'a'.repeat(64);
beforeEach(() => {
  versions = new Map([['v1', { value: JSON.stringify({ current: A }), stages: ['AWSCURRENT'] }]]);
  rotationEnabled = true;
  calls.length = 0;
  resetTokenPeppers();
});

/** What Secrets Manager does on RotateSecret: a pending version, then the four steps. */
async function rotate(token: string, steps = ['createSecret', 'setSecret', 'testSecret', 'finishSecret']): Promise<void> {
  if (!versions.has(token)) versions.set(token, { stages: ['AWSPENDING'] });
  for (const Step of steps) await handler({ Step, SecretId: ARN, ClientRequestToken: token });
}
const currentValue = () => JSON.parse(versions.get(stageHolder('AWSCURRENT')!)!.value!) as { current: string; previous?: string };

describe('pepper rotation', () => {
  it('new peppers are 64 base64url characters and differ each time', () => {
    const a = newPepper();
    expect(a).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(newPepper()).not.toBe(a);
  });

  it('rotatedValue keeps the old current as previous', () => {
    expect(JSON.parse(rotatedValue(JSON.stringify({ current: A, previous: 'p'.repeat(40) }), 'n'.repeat(64)))).toEqual({ current: 'n'.repeat(64), previous: A });
  });

  it('a full rotation: current is new, previous is the old current, and the runtime loader reads both', async () => {
    await rotate('t2');
    const v = currentValue();
    expect(v.previous).toBe(A);
    expect(v.current).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(stageHolder('AWSCURRENT')).toBe('t2');
    expect(versions.get('v1')!.stages).toEqual(['AWSPREVIOUS']);
    const peppers = await tokenPeppers();
    expect(peppers).toEqual({ current: v.current, all: [v.current, A] });
  });

  it('two rotations: the first rotation pepper becomes previous, the original is dropped', async () => {
    await rotate('t2');
    const first = currentValue().current;
    await rotate('t3');
    expect(currentValue().previous).toBe(first);
    expect(JSON.stringify(currentValue())).not.toContain(A);
  });

  it('a retried createSecret does not make a second pending value', async () => {
    await rotate('t2', ['createSecret']);
    const pending = versions.get('t2')!.value;
    await rotate('t2', ['createSecret']);
    expect(versions.get('t2')!.value).toBe(pending);
    expect(calls.filter((c) => c === 'PutSecretValue')).toHaveLength(1);
  });

  it('a retried finishSecret after success changes nothing', async () => {
    await rotate('t2');
    const before = JSON.stringify([...versions]);
    await handler({ Step: 'finishSecret', SecretId: ARN, ClientRequestToken: 't2' });
    expect(JSON.stringify([...versions])).toBe(before);
  });

  it('a malformed current secret stops the rotation before anything is written', async () => {
    versions.set('v1', { value: JSON.stringify({ current: 'short' }), stages: ['AWSCURRENT'] });
    await expect(rotate('t2', ['createSecret'])).rejects.toThrow();
    expect(calls).not.toContain('PutSecretValue');
    expect(versions.get('t2')!.value).toBeUndefined();
  });

  it('refuses when rotation is disabled, for an unknown token, or for a bad event', async () => {
    rotationEnabled = false;
    await expect(rotate('t2', ['createSecret'])).rejects.toThrow(/rotation is not enabled/);
    rotationEnabled = true;
    await expect(handler({ Step: 'createSecret', SecretId: ARN, ClientRequestToken: 'nope' })).rejects.toThrow(/not a version/);
    await expect(handler({ Step: 'dropSecret', SecretId: ARN, ClientRequestToken: 't2' })).rejects.toThrow();
    expect(calls).not.toContain('PutSecretValue');
  });
});
