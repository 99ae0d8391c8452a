/**
 * Mass-notification campaigns from the command line, against the local runtime or AWS:
 *
 *   npm run campaign -- create --template linked-services-review --email-rate 100 --sms-rate 20 \
 *                      [--audience all|provider:<id>|list:<file>] [--segments 8] [--window 09:00-20:00] [--name "..."]
 *   npm run campaign -- start <id>        start; locally also runs the worker here, with a progress bar
 *   npm run campaign -- pause|resume|cancel <id>
 *   npm run campaign -- status <id> [--watch]
 *   npm run campaign -- list
 *   npm run campaign -- work <id>         run a worker until the campaign completes or is cancelled
 *
 * Rates are per second: emails (recipients) and SMS message parts (a Japanese SMS is 2 parts).
 *
 * Locally the settings come from `npm start`'s .local/runtime.json (DynamoDB, SES and SMS
 * endpoints) plus TABLE_NAME (default alerting-local) and TOKEN_PEPPER (the runtime's: start it
 * with the same TOKEN_PEPPER so the action pages accept the campaign's links). With --aws (or
 * CAMPAIGN_QUEUE_URL set) the AWS credentials of the shell are used and workers run in Lambda.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CampaignError, type CampaignStatus } from '../src/campaign/types.ts';
import { LOCAL_AWS_ENV } from '../local/dynamodb-local.ts';

const HELP = readFileSync(new URL(import.meta.url)).toString().split('*/')[0]!.replace(/^\/\*\*\n?/, '').replace(/^ \* ?/gm, '');

function localEnv(aws: boolean): void {
  if (aws) return;
  const file = process.env.LOCAL_RUNTIME_FILE ?? join(process.cwd(), '.local', 'runtime.json');
  if (!existsSync(file)) return;
  const rt = JSON.parse(readFileSync(file, 'utf8')) as { urls?: Record<string, string>; tableName?: string; tokenPepper?: string };
  const origin = (u: string | undefined) => (u ? new URL(u).origin : undefined);
  const set = (k: string, v: string | undefined) => {
    if (v && process.env[k] === undefined) process.env[k] = v;
  };
  set('AWS_ENDPOINT_URL_DYNAMODB', rt.urls?.dynamodb);
  set('AWS_ENDPOINT_URL_SESV2', origin(rt.urls?.mailbox));
  set('AWS_ENDPOINT_URL_SNS', origin(rt.urls?.smsOutbox));
  set('AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2', origin(rt.urls?.smsOutbox));
  // The local runtime's SMS configuration set (LOCAL_SMS_CONFIGURATION_SET in local/runtime.ts):
  // the outbox then publishes status events with the Context into npm start's delivery function.
  set('SMS_CONFIGURATION_SET', 'alerting-local-sms');
  set('ACTION_BASE_URL', rt.urls?.actionBase);
  set('TABLE_NAME', rt.tableName ?? 'alerting-local');
  set('TOKEN_PEPPER', rt.tokenPepper);
  for (const [k, v] of Object.entries(LOCAL_AWS_ENV)) set(k, v);
  // npm start's local SES emits the configuration set's Send events into its delivery function,
  // which records them in the campaign ledger: a restarted worker resolves in-doubt sends from them.
  set('CAMPAIGN_SES_CONFIGURATION_SET', 'local-campaigns');
}

const fmtN = (n: number) => n.toLocaleString('en-US');
function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** One line: bar, done/total, rate over the last few seconds, ETA; per channel. */
export function progressLine(st: CampaignStatus, rates: Map<string, number>): string {
  const parts: string[] = [`${st.campaign.campaignId} ${st.campaign.state}`];
  for (const [ch, c] of Object.entries(st.byChannel)) {
    const done = c.sent + c.failed + c.suppressed + c.skipped;
    const total = c.shardsDone === c.shards ? c.planned : Math.max(c.planned, st.campaign.audienceEstimate ?? c.planned);
    const share = total > 0 ? Math.min(1, done / total) : c.shardsDone === c.shards ? 1 : 0;
    const width = 20;
    const bar = '#'.repeat(Math.round(share * width)).padEnd(width, '.');
    const rate = rates.get(ch) ?? 0;
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    parts.push(`${ch} [${bar}] ${fmtN(done)}/${fmtN(total)} ${rate.toFixed(0)}/s ETA ${share >= 1 ? '0s' : fmtDuration(eta)} (sent ${fmtN(c.sent)}${ch === 'sms' ? ` in ${fmtN(c.parts)} parts` : ''}, failed ${c.failed}, suppressed ${c.suppressed}, skipped ${c.skipped})`);
  }
  return parts.join(' | ');
}

async function watch(id: string, until: () => boolean): Promise<CampaignStatus> {
  const { campaignStatus } = await import('../src/campaign/service.ts');
  const history: { t: number; done: Record<string, number> }[] = [];
  const tty = process.stdout.isTTY;
  let st = await campaignStatus(id);
  for (;;) {
    st = await campaignStatus(id);
    const now = Date.now();
    const done = Object.fromEntries(Object.entries(st.byChannel).map(([ch, c]) => [ch, c.sent + c.failed + c.suppressed + c.skipped]));
    history.push({ t: now, done });
    while (history.length > 1 && now - history[0]!.t > 5000) history.shift();
    const first = history[0]!;
    const rates = new Map(Object.keys(done).map((ch) => [ch, now > first.t ? ((done[ch]! - (first.done[ch] ?? 0)) * 1000) / (now - first.t) : 0]));
    const line = progressLine(st, rates);
    if (tty) process.stdout.write(`\r\x1b[2K${line}`);
    else console.log(line);
    if (until() || ['COMPLETED', 'CANCELLED'].includes(st.campaign.state)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (tty) process.stdout.write('\n');
  return st;
}

/** Runs a worker until the campaign completes or is cancelled (waits out pauses and the send window). */
async function work(id: string, signal: AbortSignal, exitOnPause: boolean): Promise<string> {
  const { engineDepsFromEnv } = await import('../src/campaign/deps.ts');
  const { runCampaignWorker } = await import('../src/campaign/engine.ts');
  const { getCampaign } = await import('../src/campaign/store.ts');
  const deps = await engineDepsFromEnv();
  for (;;) {
    if (signal.aborted) return 'STOPPED';
    const r = await runCampaignWorker(id, deps, { signal });
    if (r.outcome === 'COMPLETED' || r.state === 'CANCELLED' || r.state === 'COMPLETED') return r.state ?? r.outcome;
    if (r.state === 'PAUSED' && exitOnPause) return 'PAUSED';
    if (r.state === 'DRAFT') return 'DRAFT';
    const wait = r.outcome === 'WINDOW' || r.outcome === 'BUSY' ? Math.min(r.waitMs ?? 1000, 60_000) : 1000;
    await new Promise((res) => setTimeout(res, wait));
    const c = await getCampaign(id);
    if (!c) return 'MISSING';
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      template: { type: 'string' },
      name: { type: 'string' },
      'email-rate': { type: 'string' },
      'sms-rate': { type: 'string' },
      audience: { type: 'string', default: 'all' },
      segments: { type: 'string' },
      window: { type: 'string' },
      locale: { type: 'string' },
      watch: { type: 'boolean', default: false },
      'no-worker': { type: 'boolean', default: false },
      'exit-on-pause': { type: 'boolean', default: false },
      aws: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, id] = positionals;
  if (values.help || !command) {
    console.log(HELP);
    return command ? 0 : 2;
  }
  const aws = values.aws || Boolean(process.env.CAMPAIGN_QUEUE_URL);
  localEnv(aws);
  const svc = await import('../src/campaign/service.ts');
  const needId = () => {
    if (!id) throw new CampaignError('INVALID', `${command} needs a campaign id`);
    return id;
  };
  const print = (x: unknown) => console.log(values.json ? JSON.stringify(x) : JSON.stringify(x, null, 2));
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  switch (command) {
    case 'create': {
      const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      const a = values.audience ?? 'all';
      const segments = values.segments ? Number(values.segments) : undefined;
      const audience = a === 'all' ? { kind: 'all', ...(segments ? { segments } : {}) } : a.startsWith('provider:') ? { kind: 'provider', providerId: a.slice(9) } : a.startsWith('list:') ? { kind: 'list', ...(segments ? { segments } : {}) } : undefined;
      if (!audience) throw new CampaignError('INVALID', `--audience: all, provider:<id> or list:<file>, not ${a}`);
      const [start, end] = values.window?.split('-') ?? [];
      const c = await svc.createCampaign({
        name: values.name ?? `campaign ${new Date().toISOString().slice(0, 16)}`,
        templateId: values.template ?? '',
        ...(values.locale ? { fallbackLocale: values.locale } : {}),
        rates: { ...(values['email-rate'] ? { email: num(values['email-rate']) } : {}), ...(values['sms-rate'] ? { sms: num(values['sms-rate']) } : {}) },
        audience,
        ...(values.window ? { window: { start, end } } : {}),
        createdBy: process.env.USER ?? 'operator',
      });
      if (a.startsWith('list:')) {
        const lines = createInterface({ input: createReadStream(a.slice(5)), crlfDelay: Infinity });
        const loaded = await svc.loadList(c.campaignId, lines);
        console.error(`loaded ${fmtN(loaded.listSize ?? 0)} account ids`);
      }
      print({ campaignId: c.campaignId, state: c.state });
      return 0;
    }
    case 'start': {
      const c = await svc.startCampaign(needId());
      console.error(`started ${c.campaignId}`);
      if (aws || values['no-worker']) {
        if (values.watch) await watch(c.campaignId, () => stop.signal.aborted);
        return 0;
      }
      let finished = false;
      const worker = work(c.campaignId, stop.signal, false).finally(() => (finished = true));
      const st = await watch(c.campaignId, () => finished || stop.signal.aborted);
      const outcome = await worker;
      console.error(`worker: ${outcome}; ${st.campaign.state}`);
      return 0;
    }
    case 'work': {
      const outcome = await work(needId(), stop.signal, values['exit-on-pause']);
      console.error(`worker: ${outcome}`);
      return 0;
    }
    case 'pause':
      print(await svc.pauseCampaign(needId()));
      return 0;
    case 'resume': {
      const c = await svc.resumeCampaign(needId());
      print(c);
      return 0;
    }
    case 'cancel':
      print(await svc.cancelCampaign(needId()));
      return 0;
    case 'status': {
      if (values.watch) await watch(needId(), () => stop.signal.aborted);
      else print(await svc.campaignStatus(needId()));
      return 0;
    }
    case 'list':
      print((await svc.listCampaigns()).map((c) => ({ campaignId: c.campaignId, name: c.name, state: c.state, createdAt: c.createdAt })));
      return 0;
    default:
      console.error(`unknown command ${command}\n\n${HELP}`);
      return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof CampaignError) {
        console.error(`error (${e.code}): ${e.message}`);
        process.exit(e.code === 'NOT_FOUND' ? 3 : 1);
      }
      console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      process.exit(1);
    },
  );
}
