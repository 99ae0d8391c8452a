/**
 * `npm start`: the whole system on this machine (see local/runtime.ts), on fixed ports that the
 * environment can override, until Ctrl-C. Writes .local/runtime.json (URLs and the local API
 * key) for `npm run demo` and other scripts; removes it on exit.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { startLocalRuntime, runtimeFilePath, DEFAULT_PORTS, type LocalRuntime } from './runtime.ts';
import { demoCustomers } from './demo-data.ts';
import { runLocalCampaignWorkers } from '../src/campaign/local-worker.ts';

type PortVar = keyof typeof DEFAULT_PORTS;

function port(name: PortVar): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return DEFAULT_PORTS[name];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number (1-65535), got "${raw}"`);
  return n;
}

function portFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function main(): Promise<void> {
  const ports = Object.fromEntries((Object.keys(DEFAULT_PORTS) as PortVar[]).map((k) => [k, port(k)])) as Record<PortVar, number>;
  for (const [name, p] of Object.entries(ports)) {
    if (!(await portFree(p))) throw new Error(`port ${p} is in use (another npm start?). Set ${name} to a free port.`);
  }
  const pepper = process.env.TOKEN_PEPPER;
  if (pepper !== undefined && pepper.length < 32) throw new Error('TOKEN_PEPPER must be at least 32 characters (or unset it: one is generated per run)');

  console.log('Starting the local runtime (DynamoDB Local, SES v2, SMS outbox, EventBridge, API)...');
  let starting: Promise<LocalRuntime> | undefined;
  let stopping = false;
  const file = runtimeFilePath();
  // Campaigns started from the console or the operations API are sent by a worker here, as the
  // paced SQS workers do in AWS (npm run campaign can also run one in its own terminal).
  const campaignWorkers = new AbortController();
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    rmSync(file, { force: true });
    campaignWorkers.abort();
    try {
      // Ctrl-C during startup: let it finish (or fail and clean up), then stop what started.
      const rt = await starting?.catch(() => undefined);
      await rt?.stop();
      console.log('Stopped.');
    } catch (e) {
      console.error(`Stopping: ${e instanceof Error ? e.message : String(e)}`);
      code = code || 1;
    }
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (stopping) {
        console.log('Still stopping; press Ctrl-C again... (children get SIGKILL after 3 s)');
        return;
      }
      void shutdown(0);
    });
  }
  // npm forwards SIGINT but not SIGTERM, and nothing is forwarded when npm is killed: when our
  // parent goes away we are reparented, and stop rather than leave Java running.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !stopping) {
      console.log('Parent process exited: stopping.');
      void shutdown(0);
    }
  }, 1000).unref();
  // A handler's stray promise: Lambda would fail that invocation; here, say so and stay up.
  process.on('unhandledRejection', (e) => {
    console.error(`  ! unhandled rejection in a handler: ${e instanceof Error ? `${e.name}: ${e.message}` : 'non-error value'}`);
  });
  process.on('uncaughtException', (e) => {
    console.error(`Fatal: ${e.name}: ${e.message}`);
    void shutdown(1);
  });

  starting = startLocalRuntime({
    apiPort: ports.LOCAL_API_PORT,
    dynamoPort: ports.LOCAL_DYNAMODB_PORT,
    sesPort: ports.LOCAL_SES_PORT,
    smsPort: ports.LOCAL_SMS_PORT,
    eventsPort: ports.LOCAL_EVENTS_PORT,
    ...(process.env.TABLE_NAME ? { tableName: process.env.TABLE_NAME } : {}),
    ...(pepper ? { tokenPepper: pepper } : {}),
    ...(process.env.LOCAL_API_KEY ? { apiKey: process.env.LOCAL_API_KEY } : {}),
    log: (line) => console.log(`  ! ${line}`),
  });
  const rt = await starting;
  if (stopping) return;

  mkdirSync(dirname(file), { recursive: true });
  // Scripts (npm run demo, npm run campaign) act as a handler would: same table, pepper, endpoints.
  const info = { pid: process.pid, urls: rt.urls, apiKey: rt.apiKey, tableName: rt.dynamo.tableName, tokenPepper: rt.env.TOKEN_PEPPER, env: rt.env };
  writeFileSync(file, JSON.stringify(info, null, 2), { mode: 0o600 });
  void runLocalCampaignWorkers({ signal: campaignWorkers.signal, log: (line) => console.log(`  campaign: ${line}`) }).catch((e: unknown) =>
    console.error(`  ! campaign workers stopped: ${e instanceof Error ? e.name : 'error'}`),
  );

  const { urls, functions } = rt;
  const notYet = [...functions.missing, ...functions.failed.map((f) => `${f.name} (broken)`)];
  const customers = demoCustomers.map((c) => `${c.customerId} (${c.locale}, ${c.accountId})`).join(', ');
  console.log(
    [
      `Local runtime ready in ${(rt.startedInMs / 1000).toFixed(1)} s`,
      `  Home            ${urls.home}`,
      `  Core events     POST ${urls.events}   e.g. curl -s ${urls.events} -H 'content-type: application/json' -d @events/examples/LinkCreated.json`,
      `  Mailbox         ${urls.mailbox}`,
      `  SMS outbox      ${urls.smsOutbox}`,
      `  Dead letters    ${urls.deadLetters}`,
      `  DynamoDB Local  ${urls.dynamodb}   table ${rt.dynamo.tableName}`,
      `  API key         x-api-key: ${rt.apiKey}   (POST /v1/authorize)`,
      `  Functions       ${functions.loaded.join(', ') || '(none yet)'}${notYet.length ? `   not yet: ${notYet.join(', ')}` : ''}`,
      `  Demo customers  ${customers}${rt.demoDataLoaded ? '' : '   (queued: the alert function is not loaded)'}`,
      'Run `npm run demo` in another terminal. Ctrl-C stops everything.',
    ].join('\n'),
  );
}

main().catch((e: unknown) => {
  console.error(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
