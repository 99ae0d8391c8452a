/**
 * Loads the Lambda entry points (functions/<name>/handler.ts) into the local runtime and invokes
 * them the way the Lambda service does: a JSON copy of the event, a Context with a deadline, and
 * a JSON copy of the result. Only handlers whose file exists are loaded, so `npm start` works
 * while functions are still being written; a handler that fails to import is reported, not fatal.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { functionNames, type FunctionName } from '../src/routing.ts';

/** A Lambda handler as the Node.js runtime calls it (promise style; middy handlers are this). */
export type LambdaHandler = (event: never, context: Context) => Promise<unknown>;

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const REGION = 'ap-northeast-1';
const ACCOUNT = '000000000000';

export interface LoadedHandlers {
  handlers: Map<FunctionName, LambdaHandler>;
  /** No functions/<name>/handler.ts yet. */
  missing: FunctionName[];
  /** The file exists but did not import or export `handler`; the message says why. */
  failed: { name: FunctionName; error: string }[];
}

export function handlerPath(name: FunctionName, root = REPO_ROOT): string {
  return join(root, 'functions', name, 'handler.ts');
}

/**
 * Imports each existing handler. Call after the runtime environment is set: handlers read their
 * configuration at import (cold start). `overrides` replace or add handlers (tests, benchmarks).
 */
export async function loadHandlers(
  opts: { root?: string; names?: readonly FunctionName[]; overrides?: Partial<Record<FunctionName, LambdaHandler>> } = {},
): Promise<LoadedHandlers> {
  const out: LoadedHandlers = { handlers: new Map(), missing: [], failed: [] };
  for (const name of opts.names ?? functionNames) {
    const override = opts.overrides?.[name];
    if (override) {
      out.handlers.set(name, override);
      continue;
    }
    const file = handlerPath(name, opts.root);
    if (!existsSync(file)) {
      out.missing.push(name);
      continue;
    }
    try {
      const mod = (await import(pathToFileURL(file).href)) as { handler?: unknown };
      if (typeof mod.handler !== 'function') throw new Error('module does not export a function named handler');
      out.handlers.set(name, mod.handler as LambdaHandler);
    } catch (e) {
      out.failed.push({ name, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/** A Lambda Context as the Node.js runtime builds it, with a real deadline. */
export function lambdaContext(name: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = `alerting-${name}`;
  const unsupported = () => {
    throw new Error('callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

export class FunctionNotLoadedError extends Error {
  override readonly name = 'FunctionNotLoadedError';
}

export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

export type Invoke = (name: FunctionName, event: unknown) => Promise<unknown>;

/**
 * Invokes like the Lambda service: the handler gets a JSON copy of the event (no shared objects)
 * and the caller a JSON copy of the result (what cannot be serialised does not survive, as in
 * AWS). A handler still running at its timeout fails the invocation.
 */
export function createInvoker(handlers: ReadonlyMap<FunctionName, LambdaHandler>, opts: { timeoutMs?: number } = {}): Invoke {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return async (name, event) => {
    const handler = handlers.get(name);
    if (!handler) throw new FunctionNotLoadedError(`function ${name} is not loaded (functions/${name}/handler.ts missing or broken)`);
    const copy = JSON.parse(JSON.stringify(event ?? null)) as never;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FunctionTimeoutError(`function ${name} timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const result = await Promise.race([handler(copy, lambdaContext(name, timeoutMs)), timeout]);
      return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown);
    } finally {
      clearTimeout(timer);
    }
  };
}
