/**
 * Runs the official DynamoDB Local (the jar shipped in the npm package amplify-dynamodb-simulator)
 * in memory on a free port. Used by `npm start`, the tests' global setup and the benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand, CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { ChildExitedError, startOnFreePort } from './free-port.ts';
import { createTableInput, TTL_ATTRIBUTE } from '../src/store/table.ts';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

function jarDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

export async function startDynamoDbLocal(opts: { port?: number; timeoutMs?: number } = {}): Promise<DynamoDbLocal> {
  return startOnFreePort(opts.port, (port) => startOn(port, opts.timeoutMs ?? 90_000));
}

async function startOn(port: number, timeoutMs: number): Promise<DynamoDbLocal> {
  const dir = jarDir();
  const javaArgs = [`-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`, '-Xmx1g', '-jar', join(dir, 'DynamoDBLocal.jar'), '-inMemory', '-port', String(port)];
  // A small shell guardian owns the JVM: it stops it when asked (TERM/INT) and also when this
  // process disappears without cleaning up (SIGKILL, crash), so no orphaned Java outlives a run.
  const guardian = `java "$@" & J=$!; trap 'kill $J 2>/dev/null; wait $J; exit 0' TERM INT; while kill -0 ${process.pid} 2>/dev/null && kill -0 $J 2>/dev/null; do sleep 1; done; kill $J 2>/dev/null; wait $J`;
  const child: ChildProcess = spawn('bash', ['-c', guardian, 'dynamodb-local', ...javaArgs], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      process.removeListener('exit', killOnExit);
      throw new ChildExitedError(`DynamoDB Local exited (${child.exitCode}): ${output}`);
    }
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', killOnExit);
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** Region and dummy credentials: what the real SDK clients need to talk to the local peers. */
export const LOCAL_AWS_ENV = { AWS_REGION: 'ap-northeast-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } as const;

export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  });
}

/** Creates the single table (from src/store/table.ts) with TTL enabled. Idempotent. */
export async function createTable(endpoint: string, tableName: string): Promise<void> {
  const client = localDynamoClient(endpoint);
  try {
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
      return;
    } catch (e) {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
    }
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }),
    );
  } finally {
    client.destroy();
  }
}
