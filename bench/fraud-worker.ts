/**
 * The fraud function in a thread of its own for bench/fraud.ts, as in AWS where it runs in its own
 * Lambda instance: its JavaScript does not wait on (or hold up) the alert function's event loop.
 * It shares the process (so process.cpuUsage still counts it) and DynamoDB Local, whose endpoint
 * and table come with process.env at the worker's creation. Each message is one SQS batch; the
 * answer carries its batch item failures and the DynamoDB requests the thread has sent so far
 * (batches overlap, so a per-batch difference would count the others' requests too).
 */
import { parentPort } from 'node:worker_threads';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsClients } from '../src/adapters/clients.ts';

export interface FraudWorkerRequest {
  id: number;
  event: SQSEvent;
  context: Omit<Context, 'getRemainingTimeInMillis' | 'done' | 'fail' | 'succeed'>;
}
export interface FraudWorkerReply {
  id: number;
  failures: number;
  /** DynamoDB requests sent by this thread since it started, and the items they wrote and read. */
  requests: number;
  written: number;
  read: number;
  error?: string;
}

const port = parentPort;
if (!port) throw new Error('bench/fraud-worker.ts runs as a worker thread');
const { handler } = (await import('../functions/fraud/handler.ts')) as unknown as { handler: (e: SQSEvent, c: Context) => Promise<SQSBatchResponse | undefined> };
let requests = 0;
let written = 0;
let read = 0;
awsClients().dynamodb.middlewareStack.add(
  (next) => async (args) => {
    requests++;
    const input = (args as { input: { TransactItems?: unknown[]; RequestItems?: Record<string, { Keys?: unknown[] }>; Key?: unknown; Item?: unknown; UpdateExpression?: string } }).input;
    if (input.TransactItems) written += input.TransactItems.length;
    else if (input.RequestItems) for (const r of Object.values(input.RequestItems)) read += r.Keys?.length ?? 0;
    else if (input.Item || input.UpdateExpression) written++;
    else if (input.Key) read++;
    return next(args);
  },
  { step: 'initialize', name: 'benchWorkerRequestCount' },
);
port.on('message', (m: FraudWorkerRequest) => {
  const context: Context = { ...m.context, getRemainingTimeInMillis: () => 60_000, done: () => undefined, fail: () => undefined, succeed: () => undefined };
  handler(m.event, context).then(
    (r) => port.postMessage({ id: m.id, failures: (r?.batchItemFailures ?? []).length, requests, written, read } satisfies FraudWorkerReply),
    (e: unknown) => port.postMessage({ id: m.id, failures: m.event.Records.length, requests, written, read, error: String(e) } satisfies FraudWorkerReply),
  );
});
