/**
 * `npm run demo`: plays the 2020 case against the local runtime, as a list of steps.
 *
 * Against a running `npm start` (found through .local/runtime.json, or LOCAL_RUNTIME_FILE) when
 * there is one; otherwise it starts a temporary runtime in this process on free ports and stops
 * it at the end. `npm run demo -- en` plays it for the English-locale customer.
 *
 * Adding a step: create local/demo-steps/<NN>-<name>.ts exporting `steps: DemoStep[]`. Steps run
 * by `order` (this file's step is 10; later issues: 20 tap freeze, 30 debit denied, 40 reply,
 * 50 bounce...). Steps talk to the runtime only over HTTP through the context (so the demo works
 * against a separate `npm start`), share results in `ctx.state` (this step leaves `actionLink`,
 * `alertEmail`, `alertSms`, `linkEvent`), and are skipped, with a note, when a function they
 * `need` is not loaded yet.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionName } from '../src/routing.ts';
import { demoCustomers, impostorLinksWallet, type DemoCustomer } from './demo-data.ts';
import type { PutEnvelope } from './event-bus.ts';
import { REPO_ROOT } from './handlers.ts';
import type { LocalEmail, LocalSms, PublishedEvent } from './peers.ts';
import { runtimeFilePath, startLocalRuntime, type LocalRuntime } from './runtime.ts';

export interface DemoContext {
  /** The API's base URL, e.g. http://localhost:3000 */
  api: string;
  /** For `auth: 'iam'` routes: header x-api-key. */
  apiKey: string;
  customer: DemoCustomer;
  /** Results shared between steps. */
  state: Record<string, unknown>;
  /** fetch relative to the API (path starting with /), or an absolute URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POST /events with core events; throws with the server's reason on 4xx/5xx. */
  postEvents(events: readonly PutEnvelope[]): Promise<{ EventId: string; routes: string[] }[]>;
  emails(): Promise<LocalEmail[]>;
  smsMessages(): Promise<LocalSms[]>;
  publishedEvents(): Promise<PublishedEvent[]>;
  /** Polls until probe returns a value; throws naming `what` at the timeout. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** Prints an indented line under the step's title. */
  say(text: string): void;
}

export interface DemoStep {
  order: number;
  title: string;
  /** Functions the step needs; it is skipped with a note while one is not loaded. */
  needs?: readonly FunctionName[];
  run(ctx: DemoContext): Promise<void>;
}

/** An action link in a message (any host: the runtime's ACTION_BASE_URL ends in /a/). */
export const ACTION_LINK = /https?:\/\/[^\s"'<>]+\/a\/[A-Za-z0-9_-]+/;

export const impostorStep: DemoStep = {
  order: 10,
  title: '2020: an impostor links an e-payment wallet to the account',
  needs: ['alert'],
  async run(ctx) {
    const since = Date.now() - 1000;
    const event = impostorLinksWallet(ctx.customer);
    const detail = event.detail as { linkId: string; provider: { displayName: string } };
    ctx.say(`core bank -> LinkCreated: ${detail.provider.displayName} linked to ${ctx.customer.accountId} (link ${detail.linkId})`);
    const [entry] = await ctx.postEvents([event]);
    ctx.say(`on the bus as ${entry?.EventId ?? '?'} -> ${entry?.routes.join(', ') || 'no route'}`);
    ctx.state.linkEvent = event;

    const fresh = (at: string) => Date.parse(at) >= since;
    const email = await ctx.waitFor('the alert email in the local mailbox', async () =>
      (await ctx.emails()).find((m) => fresh(m.at) && m.to.includes(ctx.customer.email) && ACTION_LINK.test(`${m.text ?? ''} ${m.html ?? ''}`)),
    );
    const sms = await ctx.waitFor('the alert SMS in the local outbox', async () =>
      (await ctx.smsMessages()).find((m) => fresh(m.at) && m.phoneNumber === ctx.customer.phone && ACTION_LINK.test(m.message)),
    );
    const link = ACTION_LINK.exec(sms.message)![0];
    ctx.state.alertEmail = email;
    ctx.state.alertSms = sms;
    ctx.state.actionLink = link;

    ctx.say(`Email to ${email.to.join(', ')}: "${email.subject}"`);
    for (const line of (email.text ?? '(HTML only)').trim().split('\n')) ctx.say(`  | ${line}`);
    ctx.say(`SMS to ${sms.phoneNumber} (${sms.message.length} chars):`);
    for (const line of sms.message.split('\n')) ctx.say(`  | ${line}`);
    ctx.say(`Action link: ${link}`);
  },
};

const builtInSteps: readonly DemoStep[] = [impostorStep];

async function loadSteps(): Promise<DemoStep[]> {
  const dir = join(REPO_ROOT, 'local', 'demo-steps');
  const steps = [...builtInSteps];
  if (existsSync(dir)) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as { steps?: DemoStep[] };
      steps.push(...(mod.steps ?? []));
    }
  }
  return steps.sort((a, b) => a.order - b.order);
}

interface Target {
  api: string;
  apiKey: string;
  runtime?: LocalRuntime;
}

async function healthy(api: string): Promise<boolean> {
  try {
    return (await fetch(`${api}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** A running `npm start` if its runtime file answers; otherwise a temporary runtime. */
async function findOrStartRuntime(): Promise<Target> {
  const file = runtimeFilePath();
  if (existsSync(file)) {
    const info = JSON.parse(readFileSync(file, 'utf8')) as { urls: { api: string }; apiKey: string };
    if (await healthy(info.urls.api)) {
      console.log(`Using the running local runtime at ${info.urls.api}`);
      return { api: info.urls.api, apiKey: info.apiKey };
    }
  }
  console.log('No running `npm start` found: starting a temporary local runtime (stopped at the end)...');
  const runtime = await startLocalRuntime({ log: (line) => console.log(`  ! ${line}`) });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void runtime.stop().finally(() => process.exit(130)));
  }
  return { api: runtime.urls.api, apiKey: runtime.apiKey, runtime };
}

function context(target: Target, customer: DemoCustomer, indent: string): DemoContext {
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${target.api}${path}`);
    if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
    return (await r.json()) as T;
  };
  return {
    api: target.api,
    apiKey: target.apiKey,
    customer,
    state: {},
    fetch: (path, init) => fetch(path.startsWith('/') ? `${target.api}${path}` : path, init),
    async postEvents(events) {
      const r = await fetch(`${target.api}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
      const body = (await r.json()) as { message?: string; Entries?: { EventId: string; routes: string[] }[] };
      if (!r.ok) throw new Error(`POST /events: ${r.status} ${body.message ?? ''}`);
      return body.Entries ?? [];
    },
    emails: () => get<LocalEmail[]>('/local/emails.json'),
    smsMessages: () => get<LocalSms[]>('/local/sms.json'),
    publishedEvents: () => get<PublishedEvent[]>('/published-events.json'),
    async waitFor(what, probe, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what} (see ${target.api}/dead-letters and the npm start output)`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    say: (text) => console.log(`${indent}${text}`),
  };
}

async function main(): Promise<void> {
  const locale = process.argv.slice(2).find((a) => a === 'ja' || a === 'en') ?? 'ja';
  const customer = demoCustomers.find((c) => c.locale === locale)!;
  const steps = await loadSteps();
  const target = await findOrStartRuntime();
  let failed = false;
  let skipped = 0;
  try {
    const status = (await (await fetch(`${target.api}/local/status.json`)).json()) as { functions: { loaded: FunctionName[] } };
    const ctx = context(target, customer, '    ');
    console.log(`Demo for ${customer.customerId} (${customer.locale}), account ${customer.accountId} ending ${customer.last4}`);
    for (const [i, step] of steps.entries()) {
      console.log(`\n${i + 1}. ${step.title}`);
      const missing = (step.needs ?? []).filter((n) => !status.functions.loaded.includes(n));
      if (missing.length > 0) {
        ctx.say(`skipped: needs functions/${missing.join(', functions/')} (not written yet)`);
        skipped++;
        continue;
      }
      try {
        await step.run(ctx);
      } catch (e) {
        ctx.say(`FAILED: ${e instanceof Error ? e.message : String(e)}`);
        failed = true;
        break;
      }
    }
  } finally {
    await target.runtime?.stop();
  }
  console.log(failed ? '\nDemo stopped at a failed step.' : `\nDemo done${skipped ? ` (${skipped} of ${steps.length} steps skipped)` : ''}.`);
  if (target.runtime) console.log('(The temporary runtime has stopped, so its links no longer open: run `npm start` first to keep them.)');
  process.exit(failed ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(`npm run demo failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
