/**
 * Campaign figures (`npm run bench -- campaign`); every figure is the median of BENCH_CAMPAIGN_RUNS
 * (default 3) runs, with its spread (min-max):
 * 1. Dry run over generated recipients in a child process: plan, one token (128 random bits +
 *    HMAC), render (the SES replacement data as JSON and the SMS text), batch by 50 to a null
 *    sink, no rate limit; beside it, in the same child, the floor of as many bare HMAC-SHA256
 *    operations (order alternating between runs). The recipients come from a pre-generated pool,
 *    so the generator's cost is not counted as the campaign's. Peak RSS at 1 million and at the end.
 * 2. The whole engine against DynamoDB Local (null senders, quota far above what DynamoDB Local
 *    serves) against its floor: the same DynamoDB calls for the same recipients on the same
 *    table (index page scan, account/customer BatchGet, link reads, conditional claim transaction
 *    with the tokens, conditional outcome transaction), issued bare with as many pages in flight,
 *    interleaved with the engine runs.
 * 3. Pacing at a quota of 2,000/s through the engine with the in-memory ledger
 *    (src/campaign/memory-store.ts) to a null sink, the local SES (SendBulkEmail) and the local
 *    SMS outbox (End User Messaging SendTextMessage, paced in message parts): achieved rate as a
 *    share of the quota and the busiest (t, t+1 s] window measured from the arrival times the
 *    mailbox and the outbox record (for SMS in parts).
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './section.ts';
import { fmt, fmtSpread, interleaved, spread } from './section.ts';
import { LOCAL_AWS_ENV } from '../local/dynamodb-local.ts';

const RUNS = Number(process.env.BENCH_CAMPAIGN_RUNS ?? 3);
const DRY_N = Number(process.env.BENCH_CAMPAIGN_DRY_N ?? 2_000_000);
const DRY_BUDGET_S = Number(process.env.BENCH_CAMPAIGN_DRY_BUDGET_S ?? 60);
const LOCAL_N = Number(process.env.BENCH_CAMPAIGN_LOCAL_N ?? 1_000);
const PACED_N = Number(process.env.BENCH_CAMPAIGN_PACED_N ?? 40_000);
const PACED_SENDER_N = Number(process.env.BENCH_CAMPAIGN_PACED_SENDER_N ?? 10_000);
const QUOTA = 2000;
const PEPPER = 'bench-pepper-0123456789abcdef0123456789abcdef';
const BASE = 'https://alerts.example-bank.jp/a/';
const POOL = 20_000;

interface DryPoint {
  kind: 'pipeline' | 'floor';
  n: number;
  wallMs: number;
  cpuUs: number;
  maxRssMb: number;
  rssMb: number;
}

/** The dry run itself (in the child): prints one JSON line per checkpoint. */
async function dryRunChild(n: number, budgetMs: number, floorFirst: boolean): Promise<void> {
  const { seedRecipient } = await import('../src/campaign/seed.ts');
  const { planRecipient } = await import('../src/campaign/engine.ts');
  const { campaignTemplates } = await import('../src/campaign/templates.ts');
  const { messageData, renderSms } = await import('../src/campaign/message.ts');
  const { newToken } = await import('../src/campaign/token-source.ts');
  const { generateToken } = await import('../src/domain/tokens.ts');
  const template = campaignTemplates.get('linked-services-review')!;
  const campaign = {
    campaignId: 'c-dry',
    name: 'dry',
    templateId: template.id,
    fallbackLocale: 'ja' as const,
    rates: { email: 1, sms: 1 },
    audience: { kind: 'all' as const, segments: 8 },
    state: 'RUNNING' as const,
    createdBy: 'bench',
    createdAt: '',
    updatedAt: '',
    runNumber: 1,
    version: 1,
  };
  const emit = (p: DryPoint) => process.stdout.write(`${JSON.stringify(p)}\n`);
  const point = (kind: DryPoint['kind'], i: number, t0: number, c0: NodeJS.CpuUsage): DryPoint => {
    const c = process.cpuUsage(c0);
    return { kind, n: i, wallMs: performance.now() - t0, cpuUs: c.user + c.system, maxRssMb: process.resourceUsage().maxRSS / 1024, rssMb: process.memoryUsage().rss / 2 ** 20 };
  };
  // The input: a pool of generated recipients, cycled (what the index and BatchGet would hand over).
  const pool = Array.from({ length: POOL }, (_, i) => {
    const r = seedRecipient(i, { frozenEvery: 50, secondLinkEvery: 4 });
    return { accountId: r.account.accountId, account: r.account, customer: r.customer, links: r.links };
  });

  const floor = () => {
    const token = generateToken();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let sink = 0;
    let i = 0;
    for (; i < n; i++) {
      sink += createHmac('sha256', PEPPER).update(token, 'utf8').digest('base64url').length;
      if ((i & 0xffff) === 0 && performance.now() - t0 > budgetMs / 3) break;
    }
    if (sink === 0) throw new Error('unreachable');
    emit(point('floor', i, t0, c0));
  };

  const pipeline = () => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let batch: string[] = [];
    let sunk = 0;
    const nullSink = (b: string[]) => {
      for (const m of b) sunk += m.length;
    };
    let i = 0;
    for (; i < n; i++) {
      const plan = planRecipient(pool[i % POOL]!, campaign, 'email', template);
      if (plan.kind === 'send') {
        const t = newToken(PEPPER);
        const data = messageData(plan.view, t.token, BASE);
        batch.push(JSON.stringify(data), renderSms(template, plan.view.locale, data), t.hash);
        if (batch.length >= 150) {
          nullSink(batch);
          batch = [];
        }
      }
      if (i + 1 === 1_000_000) emit(point('pipeline', i + 1, t0, c0));
      if ((i & 0x3fff) === 0 && performance.now() - t0 > budgetMs) {
        i++;
        break;
      }
    }
    nullSink(batch);
    if (sunk === 0) throw new Error('unreachable');
    emit(point('pipeline', i, t0, c0));
  };
  // Warm-up of both (JIT, the pool's first pass), not measured.
  {
    const measured = n;
    n = Math.min(n, 100_000);
    const out = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    floor();
    pipeline();
    process.stdout.write = out;
    n = measured;
  }
  if (floorFirst) {
    floor();
    pipeline();
  } else {
    pipeline();
    floor();
  }
}

async function dryRunOnce(floorFirst: boolean): Promise<DryPoint[]> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--dry-run-child', String(DRY_N), String(DRY_BUDGET_S * 1000), floorFirst ? '1' : '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dry run child exited ${code}`)))));
  return out.trim().split('\n').map((l) => JSON.parse(l) as DryPoint);
}

async function dryRun(): Promise<BenchSection> {
  const runs: DryPoint[][] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await dryRunOnce(r % 2 === 0));
  const ends = runs.map((pts) => pts.filter((p) => p.kind === 'pipeline').at(-1)!);
  const floors = runs.map((pts) => pts.find((p) => p.kind === 'floor')!);
  const per = spread(ends.map((e) => e.cpuUs / e.n));
  const floorPer = spread(floors.map((f) => f.cpuUs / f.n));
  const ratio = spread(ends.map((e, i) => e.cpuUs / e.n / (floors[i]!.cpuUs / floors[i]!.n)));
  const rate = spread(ends.map((e) => e.n / (e.wallMs / 1000)));
  const floorRate = spread(floors.map((f) => f.n / (f.wallMs / 1000)));
  const flat = runs
    .map((pts) => ({ at1m: pts.find((p) => p.kind === 'pipeline' && p.n === 1_000_000), end: pts.filter((p) => p.kind === 'pipeline').at(-1)! }))
    .filter((x) => x.at1m && x.end.n > 1_000_000);
  const rssRatio = spread(flat.map((x) => x.end.maxRssMb / x.at1m!.maxRssMb));
  const n = spread(ends.map((e) => e.n));
  return {
    title: 'Campaign dry run (no DynamoDB, no rate limit)',
    method: `${RUNS} child processes each stream up to ${DRY_N.toLocaleString('en-US')} recipients (cycled from ${POOL.toLocaleString('en-US')} pre-generated ones) through plan, token, render and batch to a null sink, and run the floor of as many bare HMAC-SHA256 operations in the same process (floor first in odd runs, last in even ones). Median (min–max, n).`,
    columns: ['figure', 'value'],
    rows: [
      ['recipients processed per run', fmtSpread(n, 0)],
      ['pipeline recipients/s', fmtSpread(rate, 0)],
      ['pipeline CPU µs per recipient', fmtSpread(per, 2)],
      ['floor: bare HMAC-SHA256 per second', fmtSpread(floorRate, 0)],
      ['floor: CPU µs per HMAC', fmtSpread(floorPer, 2)],
      ['**CPU per recipient / per bare HMAC** (target ≤ 2.5x)', `**${fmtSpread(ratio, 2)}x**`],
      ['peak RSS at the end / at 1,000,000 recipients', flat.length ? fmtSpread(rssRatio, 2) : 'runs did not pass 1,000,000'],
    ],
    notes: [
      'Per recipient: plan (skip frozen / no contact / suppressed), one token (16 bytes from an 8 KiB CSPRNG block + HMAC-SHA256 with the pepper), SES replacement data as JSON, the SMS text, into batches of 50 for a sink that only counts bytes. Every 50th account is frozen (skipped: no token, no render).',
      'The token hash is the floor itself, so the ratio counts everything else the campaign does per recipient in units of one HMAC.',
    ],
  };
}

/** The busiest (t, t+1 s] window: most units arriving in any one second that opens just after an arrival. */
function busiestSecond(arrivals: { at: number; n: number }[]): number {
  const a = [...arrivals].sort((x, y) => x.at - y.at);
  let best = 0;
  let sum = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    if (j <= i) {
      j = i + 1;
      sum = 0;
    }
    while (j < a.length && a[j]!.at <= a[i]!.at + 1000) sum += a[j++]!.n;
    best = Math.max(best, sum);
    if (j > i + 1) sum -= a[i + 1]!.n;
  }
  return best;
}

/**
 * The floor for the engine against DynamoDB Local: the DynamoDB calls the engine makes for the
 * same recipients, bare. Per page of one shard and channel: the index page, one BatchGet of the
 * accounts and customers, the link reads the engine makes, the claim (ledger entries + tokens,
 * conditional, one transaction), the outcome (conditional updates, one transaction). As many
 * pages in flight per channel as the engine keeps; both channels at once, as the engine runs them.
 */
async function dynamoFloor(floorId: string, segments: number, concurrency: number): Promise<number> {
  const { ScanCommand, BatchGetCommand, TransactWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { db, tableName } = await import('../src/store/db.ts');
  const { key } = await import('../src/store/table.ts');
  const { ckey, readLinks } = await import('../src/campaign/store.ts');
  const { newToken } = await import('../src/campaign/token-source.ts');
  const table = tableName();
  let recipients = 0;
  const lane = async (channel: 'email' | 'sms') => {
    const cursors: (Record<string, unknown> | undefined | null)[] = Array.from({ length: segments }, () => undefined);
    let active = 0;
    const pages: Promise<void>[] = [];
    const page = async (segment: number) => {
      const out = await db().send(new ScanCommand({ TableName: table, IndexName: 'Audience', Segment: segment, TotalSegments: segments, Limit: 50, ExclusiveStartKey: cursors[segment] ?? undefined }));
      cursors[segment] = out.LastEvaluatedKey ?? null;
      const entries = (out.Items ?? []).map((i) => ({ accountId: String(i.accountId), customerId: String(i.customerId) }));
      const ids = [...new Set(entries.map((e) => e.accountId))];
      if (ids.length === 0) return;
      await db().send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [...ids.map((a) => key.account(a)), ...[...new Set(entries.map((e) => e.customerId))].map((c) => key.customer(c))] } } }));
      await readLinks(ids);
      const now = new Date().toISOString();
      await db().send(
        new TransactWriteCommand({
          TransactItems: ids.flatMap((a) => {
            const t = newToken(PEPPER);
            return [
              { Put: { TableName: table, Item: { ...ckey.ledger(floorId, channel, a), status: 'SENDING', attempt: 'x', tokenHash: t.hash, updatedAt: now }, ConditionExpression: 'attribute_not_exists(pk)' } },
              { Put: { TableName: table, Item: { ...key.token(t.hash), tokenHash: t.hash, accountId: a, issuedAt: now }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ];
          }),
        }),
      );
      await db().send(
        new TransactWriteCommand({
          TransactItems: ids.map((a) => ({
            Update: {
              TableName: table,
              Key: ckey.ledger(floorId, channel, a),
              UpdateExpression: 'SET #s = :s, messageId = :m, updatedAt = :u',
              ConditionExpression: 'attempt = :a',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':s': 'SENT', ':m': `m-${a}`, ':u': now, ':a': 'x' },
            },
          })),
        }),
      );
      recipients += ids.length;
    };
    // Segments in turn, up to `concurrency` pages in flight (a segment's pages follow its cursor).
    const busy = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      const pump = () => {
        let started = false;
        for (let sgm = 0; sgm < segments && active < concurrency; sgm++) {
          if (busy.has(sgm) || cursors[sgm] === null) continue;
          busy.add(sgm);
          active++;
          started = true;
          pages.push(
            page(sgm).then(
              () => {
                busy.delete(sgm);
                active--;
                pump();
              },
              reject,
            ),
          );
        }
        if (!started && active === 0) resolve();
      };
      pump();
    });
  };
  const t0 = performance.now();
  await Promise.all([lane('email'), lane('sms')]);
  return recipients / ((performance.now() - t0) / 1000);
}

async function localStack(): Promise<BenchSection> {
  const { startDynamoDbLocal, createTable } = await import('../local/dynamodb-local.ts');
  const { resetRuntimeConfig } = await import('../src/config.ts');
  const { setAwsClients } = await import('../src/adapters/clients.ts');
  const { resetTokenPeppers } = await import('../src/adapters/pepper.ts');
  const { resetCampaignConfig } = await import('../src/campaign/config.ts');
  const db = await startDynamoDbLocal();
  const saved = { ...process.env };
  try {
    await createTable(db.endpoint, 'bench-campaign');
    Object.assign(process.env, {
      ...LOCAL_AWS_ENV,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      TABLE_NAME: 'bench-campaign',
      TOKEN_PEPPER: PEPPER,
      CAMPAIGN_EMAIL_QUOTA_PER_SECOND: '100000',
      CAMPAIGN_SMS_QUOTA_PER_SECOND: '100000',
    });
    resetRuntimeConfig();
    resetCampaignConfig();
    resetTokenPeppers();
    setAwsClients(undefined);
    const { seedAudience } = await import('../src/campaign/seed.ts');
    const { runCampaignWorker } = await import('../src/campaign/engine.ts');
    const { createCampaign, startCampaign, campaignStatus } = await import('../src/campaign/service.ts');
    const { nullEmailSender, nullSmsSender } = await import('../src/campaign/senders.ts');
    const seed = { frozenEvery: 50, secondLinkEvery: 4 };
    await seedAudience(0, LOCAL_N, seed);
    const segments = 8;
    const concurrency = 8;
    let round = 0;
    const engine = async () => {
      const c = await createCampaign({ name: 'bench', templateId: 'linked-services-review', rates: { email: 100_000, sms: 100_000 }, audience: { kind: 'all', segments } });
      await startCampaign(c.campaignId);
      const t0 = performance.now();
      const r = await runCampaignWorker(c.campaignId, {
        email: nullEmailSender,
        sms: nullSmsSender,
        pepper: PEPPER,
        actionBaseUrl: BASE,
        tokenTtlDays: 7,
        inDoubt: 'resend',
        sendEvents: {},
        sendEventWaitMs: 0,
        batchSize: 50,
        concurrency,
        leaseSeconds: 15,
      });
      const wall = (performance.now() - t0) / 1000;
      if (r.outcome !== 'COMPLETED') throw new Error(`campaign ended ${r.outcome}`);
      const st = await campaignStatus(c.campaignId);
      // Recipients planned on both channels (sent + skipped: each claimed once in the ledger).
      return ((st.byChannel.email?.planned ?? 0) + (st.byChannel.sms?.planned ?? 0)) / wall;
    };
    const floor = () => dynamoFloor(`floor-${round++}`, segments, concurrency);
    // Warm-up of both (JIT, connections, DynamoDB Local's first writes), not counted.
    await floor();
    await engine();
    const got = await interleaved(RUNS, { floor, engine });
    const ratio = spread(got.engine.map((e, i) => e / got.floor[i]!));
    return {
      title: 'Campaign through DynamoDB Local against the same calls made bare',
      method: `${LOCAL_N.toLocaleString('en-US')} generated linked accounts (every 50th frozen, every 4th with two links) in DynamoDB Local. Engine: one worker, both channels, null senders, no effective rate limit, ${segments} scan segments, ${concurrency} pages in flight per channel. Floor: the same DynamoDB calls for the same recipients on the same table (see bench/campaign.ts dynamoFloor), bare, as many pages in flight. ${RUNS} interleaved rounds after one warm-up of each; median (min–max, n).`,
      columns: ['run', 'recipient-channels/s'],
      rows: [
        ['floor: the engine\'s DynamoDB calls, bare', fmtSpread(spread(got.floor), 0)],
        ['campaign engine', fmtSpread(spread(got.engine), 0)],
        ['**engine / floor** (target ≥ 60%)', `**${fmtSpread({ ...ratio, median: ratio.median * 100, min: ratio.min * 100, max: ratio.max * 100 }, 0)}%**`],
      ],
      notes: [
        'Per page of 50 index entries and per channel both make: 1 index Scan page, 1 BatchGet (accounts + customers), the link reads (one Query per account), 1 claim TransactWriteItems (ledger + token per recipient, conditional), 1 outcome TransactWriteItems (conditional on the attempt). The engine adds its shard checkpoint (1 conditional update per page), the state polls (every 500 ms, and one at most 250 ms old before each release) and lease renewals.',
      ],
    };
  } finally {
    process.env = saved;
    resetRuntimeConfig();
    resetCampaignConfig();
    resetTokenPeppers();
    setAwsClients(undefined);
    await db.stop();
  }
}

type PacedSink = 'null' | 'ses' | 'sms';

interface PacedResult {
  rate: number;
  busiest: number;
  dup: number;
  missed: number;
  wall: number;
}

async function pacedRun(sink: PacedSink, n: number): Promise<PacedResult> {
  const { startSmsOutbox } = await import('../local/sms-outbox.ts');
  const { startLocalSes } = await import('../local/ses.ts');
  const { memoryStore } = await import('../src/campaign/memory-store.ts');
  const { runCampaignWorker } = await import('../src/campaign/engine.ts');
  const { eumSmsSender, sesEmailSender } = await import('../src/campaign/senders.ts');
  const { phoneOf, emailOf } = await import('../src/campaign/seed.ts');
  const { smsSize } = await import('../src/domain/messages/sms-segments.ts');
  const { PinpointSMSVoiceV2Client } = await import('@aws-sdk/client-pinpoint-sms-voice-v2');
  const { SESv2Client } = await import('@aws-sdk/client-sesv2');
  const local = { region: 'ap-northeast-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
  const outbox = sink === 'sms' ? await startSmsOutbox() : undefined;
  const ses = sink === 'ses' ? await startLocalSes() : undefined;
  // The null sink records when each message reached it, as the mailbox and outbox do.
  const nullArrivals: { at: number; n: number }[] = [];
  try {
    const channel = sink === 'sms' ? 'sms' : 'email';
    const campaign = {
      campaignId: `c-paced-${sink}`,
      name: 'paced',
      templateId: 'linked-services-review',
      fallbackLocale: 'ja' as const,
      rates: { [channel]: QUOTA },
      audience: { kind: 'all' as const, segments: 8 },
      state: 'RUNNING' as const,
      createdBy: 'bench',
      createdAt: '',
      updatedAt: '',
      runNumber: 1,
      version: 1,
      audienceEstimate: n,
    };
    const store = memoryStore(campaign, n);
    const t0 = performance.now();
    const r = await runCampaignWorker(campaign.campaignId, {
      store,
      ...(sink === 'sms' ? { sms: eumSmsSender(new PinpointSMSVoiceV2Client({ ...local, endpoint: outbox!.endpoint })) } : {}),
      ...(sink === 'ses' ? { email: sesEmailSender(new SESv2Client({ ...local, endpoint: ses!.endpoint }), '', '') } : {}),
      ...(sink === 'null'
        ? {
            email: {
              async ensureTemplates() {},
              async sendBulk(_t, _l, entries) {
                nullArrivals.push({ at: Date.now(), n: entries.length });
                return entries.map((_, i) => ({ kind: 'accepted' as const, messageId: `null-${Date.now()}-${i}` }));
              },
            },
          }
        : {}),
      pepper: PEPPER,
      actionBaseUrl: BASE,
      tokenTtlDays: 7,
      inDoubt: 'resend',
      sendEvents: {},
      sendEventWaitMs: 0,
      batchSize: 50,
      concurrency: 8,
      leaseSeconds: 15,
    });
    const wall = (performance.now() - t0) / 1000;
    if (r.outcome !== 'COMPLETED') throw new Error(`paced campaign (${sink}) ended ${r.outcome}`);
    // Arrivals at the provider: the mailbox's and the outbox's own timestamps (SMS in parts).
    const arrivals =
      sink === 'null'
        ? nullArrivals
        : sink === 'ses'
          ? (await ses!.emails()).map((m) => ({ at: Date.parse(m.at), n: 1 }))
          : outbox!.messages().map((m) => ({ at: Date.parse(m.at), n: smsSize(m.message).segments }));
    const sorted = [...arrivals].sort((a, b) => a.at - b.at);
    const total = sorted.reduce((k, a) => k + a.n, 0);
    const span = (sorted.at(-1)!.at - sorted[0]!.at) / 1000;
    const rate = (total - sorted[0]!.n) / span;
    const per = new Map<string, number>();
    if (outbox) for (const m of outbox.messages()) per.set(m.phoneNumber, (per.get(m.phoneNumber) ?? 0) + 1);
    if (ses) for (const m of await ses.emails()) per.set(m.to[0]!, (per.get(m.to[0]!) ?? 0) + 1);
    const sentIds = new Map<string, number>();
    for (const e of store.ledger.values()) if (e.status === 'SENT') sentIds.set(e.accountId, (sentIds.get(e.accountId) ?? 0) + 1);
    const dup = [...per.values()].filter((v) => v > 1).length + [...sentIds.values()].filter((v) => v > 1).length;
    let missed = 0;
    for (let i = 0; i < n; i++) {
      const contact = sink === 'sms' ? phoneOf(i) : emailOf(i);
      if (!sentIds.has(`acct-${String(i).padStart(8, '0')}`) || (sink !== 'null' && !per.has(contact))) missed++;
    }
    return { rate, busiest: busiestSecond(sorted), dup, missed, wall };
  } finally {
    await outbox?.stop();
    await ses?.stop();
  }
}

async function paced(): Promise<BenchSection> {
  const { resetRuntimeConfig } = await import('../src/config.ts');
  const saved = { ...process.env };
  try {
    Object.assign(process.env, { TABLE_NAME: 'unused', TOKEN_PEPPER: PEPPER, ...LOCAL_AWS_ENV });
    resetRuntimeConfig();
    const sinks: [PacedSink, number, string, string][] = [
      ['null', PACED_N, 'null sink (accepts, sends nothing)', 'recipients'],
      ['ses', PACED_SENDER_N, 'local SES v2 (SendBulkEmail, 50 per call)', 'recipients'],
      ['sms', PACED_SENDER_N, 'local SMS outbox (End User Messaging SendTextMessage, 1 per call)', 'message parts'],
    ];
    const rows: (string | number)[][] = [];
    for (const [sink, n, label, unit] of sinks) {
      const runs: PacedResult[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await pacedRun(sink, n));
      const share = spread(runs.map((x) => (100 * x.rate) / QUOTA));
      rows.push([label, n, unit, fmtSpread(spread(runs.map((x) => x.rate)), 0), `${fmtSpread(share, 1)}%`, fmtSpread(spread(runs.map((x) => x.busiest)), 0), runs.reduce((k, x) => k + x.dup, 0), runs.reduce((k, x) => k + x.missed, 0), fmtSpread(spread(runs.map((x) => x.wall)), 1)]);
    }
    return {
      title: `Campaign pacing at a quota of 2,000/s (${PACED_N.toLocaleString('en-US')} recipients to a null sink; ${PACED_SENDER_N.toLocaleString('en-US')} to each local sender)`,
      method: `The engine (planner, tokens, ledger semantics, token bucket, retries) with the in-memory ledger over generated recipients (src/campaign/memory-store.ts), through the real SDK clients to each sink; the SMS quota is 2,000 message parts/s (a Japanese message is 2 parts). Rates and the busiest second come from the arrival times the sink records (the mailbox's and the outbox's own clocks). ${RUNS} runs each; median (min–max, n).`,
      columns: ['sink', 'recipients', 'unit', 'achieved units/s', 'share of quota', 'busiest (t, t+1 s] at the sink', 'duplicates (all runs)', 'missed (all runs)', 'wall s'],
      rows,
      notes: [
        'busiest (t, t+1 s]: most units (emails, SMS parts) arriving at the sink in any one second that opens just after an arrival; the bucket keeps it at or under the quota (2,000) between its releases; arrival jitter at the sink (HTTP, the sink\'s event loop) can add a release to one window.',
        'duplicates: contacts with more than one message plus accounts with more than one SENT ledger entry; missed: recipients without a SENT entry (or, for real sinks, without a message).',
        'A sink that cannot keep up shows as a share below 100%: the SMS outbox takes one HTTP request per message, served in this same process on shared cores. DynamoDB Local is left out here: see the previous table.',
      ],
    };
  } finally {
    process.env = saved;
    resetRuntimeConfig();
  }
}

export async function run(): Promise<BenchSection[]> {
  return [await dryRun(), await localStack(), await paced()];
}

if (process.argv[2] === '--dry-run-child') {
  await dryRunChild(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] === '1');
}
