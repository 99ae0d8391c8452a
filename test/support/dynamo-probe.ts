/**
 * Instruments for tests that must see what the handlers really send to DynamoDB.
 *
 * - `watchReads(client)`: a middleware on the real SDK client's stack that records every read
 *   command (GetItem, Query, Scan, BatchGetItem, TransactGetItems) and whether it was strongly
 *   consistent. DynamoDB Local is always consistent, so a switch to eventually consistent reads
 *   can only be caught by looking at the requests themselves.
 * - `ownConnection(client)`: one piece of work (a freeze racing 1,000 authorisations) sends its
 *   requests through its own HTTP agent, not queued behind the handlers' 50-socket pool.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ReadRecord {
  command: string;
  consistent: boolean;
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);

/** Whether a read asked for the latest committed state. Transactional reads always do. */
function isConsistent(command: string, input: Record<string, unknown>): boolean {
  if (command === 'TransactGetItemsCommand') return true;
  if (command === 'BatchGetItemCommand') {
    const tables = Object.values((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>);
    return tables.length > 0 && tables.every((t) => t.ConsistentRead === true);
  }
  return input.ConsistentRead === true;
}

export interface ReadWatch {
  readonly reads: ReadRecord[];
  /** Reads that were not strongly consistent, as "Command" strings (empty when all were). */
  eventual(): string[];
  clear(): void;
  stop(): void;
}

/**
 * Records every read sent through `client` (a DynamoDBDocumentClient shares its base client's
 * stack); with `when`, only the reads made while it returns true.
 */
export function watchReads(client: DynamoDBClient | DynamoDBDocumentClient, when: () => boolean = () => true): ReadWatch {
  const reads: ReadRecord[] = [];
  const name = `readWatch-${Math.random().toString(36).slice(2)}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName ?? '');
      if (READS.has(command) && when()) reads.push({ command, consistent: isConsistent(command, args.input as Record<string, unknown>) });
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    reads,
    eventual: () => reads.filter((r) => !r.consistent).map((r) => r.command),
    clear: () => void reads.splice(0),
    stop: () => void client.middlewareStack.remove(name),
  };
}

/**
 * Gives one piece of work its own connection to DynamoDB on the same real SDK client: inside
 * `run(fn)`, every request that client sends goes out through a separate DynamoDBClient's HTTP
 * handler (its own agent and socket pool) instead of the shared one. The middleware sits at the
 * very end of the stack, after signing and retries, where the request is handed to the wire.
 */
export function ownConnection(client: DynamoDBClient | DynamoDBDocumentClient): { run<T>(fn: () => Promise<T>): Promise<T>; inside(): boolean; stop(): void } {
  const als = new AsyncLocalStorage<boolean>();
  const own = new DynamoDBClient({});
  const wire = own.config.requestHandler as unknown as { handle(request: unknown): Promise<{ response: unknown }> };
  const name = `ownConnection-${Math.random().toString(36).slice(2)}`;
  client.middlewareStack.add(
    (next) => async (args) => {
      if (!als.getStore()) return next(args);
      const { response } = await wire.handle(args.request);
      return { response, output: undefined as never };
    },
    { step: 'deserialize', priority: 'low', name },
  );
  return {
    run: (fn) => als.run(true, fn),
    inside: () => als.getStore() === true,
    stop: () => {
      client.middlewareStack.remove(name);
      own.destroy();
    },
  };
}
