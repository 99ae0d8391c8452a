/**
 * Demo step 50: the 2020 attack across accounts, and the same hour's response.
 *   40 accounts are linked to one wallet from 3 addresses within 5 minutes (a few are charged at
 *   once) -> the fraud function's counters cross the rule (5 accounts per address in 10 minutes)
 *   -> an incident opens (SuspiciousActivityDetected) within seconds -> operator A asks to suspend
 *   the wallet and revoke its unconfirmed links, operator B approves -> new links to it are
 *   SUSPENDED, the victims' links are revoked (each customer told once by a campaign) -> every revoked
 *   link opens a reimbursement case listing what went through it.
 * Operators act through the operations API with dev-login sessions (LOCAL_SESSION_SECRET).
 */
import type { PutEnvelope } from '../event-bus.ts';
import type { DemoContext, DemoStep } from '../demo.ts';

export const ATTACK_ACCOUNTS = 40;

/** The attack's core events: profiles of the victims, then their links (and some charges), over 5 minutes. */
export function attackEvents(suffix: string, now = Date.now()): { profiles: PutEnvelope[]; links: PutEnvelope[]; charges: PutEnvelope[]; providerId: string; ips: string[]; accounts: string[] } {
  const providerId = `quickpay-${suffix}`;
  const octet = (parseInt(suffix.slice(-4), 36) % 200) + 20;
  const ips = [10, 11, 12].map((x) => `198.51.${octet}.${x}`);
  const profiles: PutEnvelope[] = [];
  const links: PutEnvelope[] = [];
  const charges: PutEnvelope[] = [];
  const accounts: string[] = [];
  for (let i = 0; i < ATTACK_ACCOUNTS; i++) {
    const customerId = `victim-${suffix}-${i}`;
    const accountId = `acct-v-${suffix}-${i}`;
    accounts.push(accountId);
    profiles.push({
      source: 'bank.core',
      'detail-type': 'CustomerProfileUpserted',
      detail: { eventId: `prof-${suffix}-${i}`, occurredAt: new Date(now - 3_600_000).toISOString(), customerId, locale: i % 4 === 0 ? 'en' : 'ja', email: `${customerId}@example.jp`, accounts: [{ accountId, last4: String(1000 + i) }] },
    });
    const at = now - 5 * 60_000 + Math.floor((i * 5 * 60_000) / ATTACK_ACCOUNTS);
    const linkId = `lnk-q-${suffix}-${i}`;
    links.push({
      source: 'bank.core',
      'detail-type': 'LinkCreated',
      detail: { eventId: `lc-${suffix}-${i}`, occurredAt: new Date(at).toISOString(), accountId, linkId, provider: { id: providerId, displayName: 'QuickPay' }, linkType: 'EPAY', channel: 'PROVIDER_APP', origin: { ip: ips[i % 3], device: `android-${i}` } },
    });
    // The impostors drain a few at once, under the pending link's allowance.
    if (i % 8 === 0) {
      for (const n of [1, 2]) {
        charges.push({
          source: 'bank.core',
          'detail-type': 'WithdrawalPosted',
          detail: { eventId: `w-${suffix}-${i}-${n}`, occurredAt: new Date(at + n * 20_000).toISOString(), accountId, withdrawalId: `w-${suffix}-${i}-${n}`, channel: 'EPAY_CHARGE', amount: 4_800, currency: 'JPY', linkId, counterparty: 'QuickPay gift card' },
        });
      }
    }
  }
  return { profiles, links, charges, providerId, ips, accounts };
}

async function opsCall(ctx: DemoContext, operator: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const cookie = ctx.state[`cookie:${operator}`] as string | undefined;
  if (!cookie) throw new Error(`no session for ${operator}`);
  const r = await ctx.fetch(path, { method, headers: { cookie, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} by ${operator}: ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function login(ctx: DemoContext, operator: string, groups: string): Promise<void> {
  const r = await ctx.fetch(`/dev-login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ operator, groups, next: '/' }).toString(), redirect: 'manual' });
  const set = r.headers.get('set-cookie');
  if (!set) throw new Error(`dev login as ${operator} failed: ${r.status}`);
  ctx.state[`cookie:${operator}`] = set.split(';')[0];
}

const attack: DemoStep = {
  order: 50,
  title: 'The attack across accounts: 40 accounts linked to one wallet from 3 addresses in 5 minutes',
  needs: ['alert', 'fraud', 'ops'],
  async run(ctx) {
    const suffix = Date.now().toString(36);
    const a = attackEvents(suffix);
    ctx.state.attack = a;
    await ctx.postEvents(a.profiles);
    // The profiles go through the bus first: the links' alerts need them.
    await new Promise((r) => setTimeout(r, 2000));
    const started = Date.now();
    await ctx.postEvents(a.links);
    await ctx.postEvents(a.charges);
    ctx.say(`Posted ${a.links.length} LinkCreated for wallet ${a.providerId} from ${a.ips.join(', ')} and ${a.charges.length} charges through 5 of them.`);
    const incident = await ctx.waitFor(
      'SuspiciousActivityDetected',
      async () => (await ctx.publishedEvents()).find((e) => e.detailType === 'SuspiciousActivityDetected' && (e.detail as { providerIds?: string[] }).providerIds?.includes(a.providerId)),
      60_000,
    );
    const d = incident.detail as { incidentId: string; rule: string; key: string; accounts: number };
    ctx.say(`Incident ${d.incidentId} opened ${((Date.now() - started) / 1000).toFixed(1)} s after the burst: rule ${d.rule}, key ${d.key}, ${d.accounts} accounts (holds extended to 7 days).`);
    ctx.state.incidentId = d.incidentId;
  },
};

const respond: DemoStep = {
  order: 51,
  title: 'Operations respond: suspend the wallet and revoke its unconfirmed links (two people); the victims\' cases',
  needs: ['ops', 'fraud'],
  async run(ctx) {
    const a = ctx.state.attack as ReturnType<typeof attackEvents> | undefined;
    if (!a) throw new Error('no attack from step 50');
    await login(ctx, 'op-alice', 'operators');
    await login(ctx, 'op-bob', 'operators approvers');
    const incidents = (await opsCall(ctx, 'op-alice', 'GET', '/ops/incidents')).incidents as { incidentId: string; rule: string; accounts: number }[];
    ctx.say(`Console Incidents page: ${incidents.filter((i) => a.ips.includes((i as unknown as { key: string }).key) || (i as unknown as { key: string }).key === a.providerId).length} incident(s) for this attack.`);
    const base = `/ops/providers/${encodeURIComponent(a.providerId)}/requests`;
    const suspend = await opsCall(ctx, 'op-alice', 'POST', base, { action: 'SUSPEND', reason: `incident ${String(ctx.state.incidentId)}: 40 accounts from 3 addresses` });
    const selfApprove = await ctx.fetch(`${base}/${String(suspend.requestId)}/approve`, { method: 'POST', headers: { cookie: ctx.state['cookie:op-alice'] as string } });
    ctx.say(`op-alice asks to suspend ${a.providerId}; approving her own request: ${selfApprove.status} (a second operator is needed)`);
    await opsCall(ctx, 'op-bob', 'POST', `${base}/${String(suspend.requestId)}/approve`);
    ctx.say('op-bob (approvers) approves: new links to the wallet now start SUSPENDED and every debit through them is DENY PROVIDER_SUSPENDED.');
    const revoke = await opsCall(ctx, 'op-alice', 'POST', base, { action: 'REVOKE_UNCONFIRMED', reason: `incident ${String(ctx.state.incidentId)}` });
    const done = (await opsCall(ctx, 'op-bob', 'POST', `${base}/${String(revoke.requestId)}/approve`)).request as { status: string; changed: number; seen: number };
    ctx.say(`Revoke unconfirmed links, approved by op-bob: ${done.changed} of ${done.seen} links revoked (${done.status}); each customer told once by a campaign.`);
    const late = a.links[0]!;
    const again = { ...late, detail: { ...(late.detail as Record<string, unknown>), eventId: `late-${Date.now()}`, linkId: `lnk-late-${Date.now().toString(36)}`, occurredAt: new Date().toISOString() } };
    await ctx.postEvents([again]);
    const cases = await ctx.waitFor(
      'the victims\' reimbursement cases',
      async () => {
        const body = await opsCall(ctx, 'op-alice', 'GET', '/ops/cases');
        const mine = (body.cases as { accountId: string; totals: Record<string, number>; debitCount: number }[]).filter((c) => a.accounts.includes(c.accountId));
        return mine.length >= done.changed && mine.length > 0 ? { mine, summary: body.summary as { totalOwed: Record<string, number> } } : undefined;
      },
      60_000,
    );
    const lost = cases.mine.filter((c) => c.debitCount > 0);
    ctx.say(`${cases.mine.length} reimbursement cases opened; ${lost.length} list what was taken: ${lost.map((c) => `${c.accountId} ¥${(c.totals.JPY ?? 0).toLocaleString('en-US')} (${c.debitCount} debits)`).join(', ')}.`);
    ctx.say(`Console Cases page: total owed ¥${(cases.summary.totalOwed.JPY ?? 0).toLocaleString('en-US')}; http://…/console/#/cases (CSV export for accounting).`);
  },
};

export const steps: DemoStep[] = [attack, respond];
