/**
 * Demo steps 40 and 50 (replies and delivery), through the local simulator pages, i.e. the same
 * notifications AWS sends, handed to the real handlers:
 *   40 a customer answers the alert SMS with 凍結 / FREEZE and the account is frozen;
 *   50 an alert email hard-bounces and the alert falls back to SMS (the customer had no phone
 *      on file when the alert went out, and registered one since).
 * Each run uses fresh customers, so the steps show the change every time.
 */
import { CORE_SOURCE } from '../../events/core.ts';
import type { DemoContext, DemoStep } from '../demo.ts';
import { impostorLinksWallet, type DemoCustomer } from '../demo-data.ts';

const LINK = /https?:\/\/[^\s"'<>]+\/a\/[A-Za-z0-9_-]+/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freshCustomer(ctx: DemoContext, kind: string): DemoCustomer {
  const suffix = `${kind}-${Date.now().toString(36)}`;
  const digits = String(Date.now() % 100_000_000).padStart(8, '0');
  return {
    customerId: `cust-demo-${suffix}`,
    accountId: `acct-demo-${suffix}`,
    last4: digits.slice(-4),
    locale: ctx.customer.locale,
    email: `demo.${suffix}@example.jp`,
    phone: `+8170${digits}`,
  };
}

function profile(c: DemoCustomer, opts: { phone: boolean; at?: Date }) {
  return {
    source: CORE_SOURCE,
    'detail-type': 'CustomerProfileUpserted',
    detail: {
      eventId: `evt-profile-${c.customerId}-${opts.phone ? 'phone' : 'nophone'}`,
      occurredAt: (opts.at ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      customerId: c.customerId,
      email: c.email,
      ...(opts.phone ? { phone: c.phone } : {}),
      locale: c.locale,
      accounts: [{ accountId: c.accountId, last4: c.last4 }],
      preferences: {},
    },
  };
}

/** Posts a simulator form; the delivery function may ask for a retry while the alert record is written. */
async function simulate(ctx: DemoContext, path: string, form: Record<string, string>): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    const r = await ctx.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    if (r.ok) return r.json();
    if (attempt >= 5) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
    await sleep(400);
  }
}

const replyStep: DemoStep = {
  order: 40,
  title: 'The customer replies to the alert SMS with a keyword, and the account is frozen',
  needs: ['alert', 'sms-reply'],
  async run(ctx) {
    const c = freshCustomer(ctx, 'reply');
    const since = Date.now() - 1000;
    await ctx.postEvents([profile(c, { phone: true })]);
    await sleep(1500);
    await ctx.postEvents([impostorLinksWallet(c)]);
    const alert = await ctx.waitFor('the alert SMS', async () => (await ctx.smsMessages()).find((m) => m.phoneNumber === c.phone && Date.parse(m.at) >= since));
    ctx.say(`Customer ${c.customerId}: alert SMS received (${alert.message.length} chars).`);
    const keyword = c.locale === 'ja' ? '凍結' : 'FREEZE';
    ctx.say(`The customer texts back "${keyword}" (two-way SMS -> SNS -> sms-reply)`);
    const out = (await simulate(ctx, '/local/reply/sms', { from: c.phone, body: keyword })) as { results?: { outcome: string; result?: { alertId?: string } }[] };
    const r = out.results?.[0];
    ctx.say(`sms-reply: ${r?.outcome ?? 'no result'}${r?.result?.alertId ? ` (answering alert ${r.result.alertId})` : ''}`);
    if (r?.outcome !== 'FROZEN') throw new Error(`expected FROZEN, got ${r?.outcome}`);
    const ack = await ctx.waitFor('the acknowledgement SMS', async () => (await ctx.smsMessages()).find((m) => m.phoneNumber === c.phone && m.messageId !== alert.messageId));
    ctx.say(`Acknowledgement SMS: ${ack.message}`);
    const frozen = await ctx.waitFor('AccountFrozen on the bus', async () =>
      (await ctx.publishedEvents()).find((e) => e.detailType === 'AccountFrozen' && JSON.stringify(e.detail).includes(c.accountId)),
    );
    ctx.say(`Partners told: AccountFrozen ${JSON.stringify(frozen.detail)}`);
    const again = (await simulate(ctx, '/local/reply/sms', { from: c.phone, body: c.locale === 'ja' ? '凍結解除' : 'UNFREEZE' })) as { results?: { outcome: string }[] };
    ctx.say(`A reply asking to unfreeze: ${again.results?.[0]?.outcome} (never by reply; the account stays frozen)`);
  },
};

const bounceStep: DemoStep = {
  order: 50,
  title: 'An alert email hard-bounces and the alert falls back to SMS',
  needs: ['alert', 'delivery'],
  async run(ctx) {
    const c = freshCustomer(ctx, 'bounce');
    const since = Date.now() - 1000;
    ctx.say(`Customer ${c.customerId} has only an email address on file.`);
    await ctx.postEvents([profile(c, { phone: false, at: new Date(Date.now() - 60_000) })]);
    await sleep(1500);
    await ctx.postEvents([impostorLinksWallet(c)]);
    const email = await ctx.waitFor('the alert email', async () => (await ctx.emails()).find((m) => m.to.includes(c.email) && Date.parse(m.at) >= since));
    ctx.say(`Alert email sent (SES message ${email.messageId}); no SMS: no phone on file.`);
    await ctx.postEvents([profile(c, { phone: true })]);
    await sleep(1000);
    ctx.say(`The customer registers a phone at the branch (${c.phone}); then SES reports a hard bounce for the email.`);
    const tags = email.tags ?? {};
    const out = (await simulate(ctx, '/local/outcome/email', {
      outcome: 'Bounce',
      messageId: email.messageId,
      to: c.email,
      ...(tags.alertId ? { alertId: tags.alertId } : {}),
      ...(tags.channel ? { channel: tags.channel } : {}),
      ...(tags.recipient ? { recipient: tags.recipient } : {}),
      ...(tags.recipientRef ? { recipientRef: tags.recipientRef } : {}),
    })) as { results?: { kind: string; fallback?: { channel: string; result: string }[]; contactNeedsFixing?: boolean }[] };
    const r = out.results?.[0];
    ctx.say(`delivery: ${r?.kind}; fallback ${JSON.stringify(r?.fallback ?? [])}; contact needs fixing: ${r?.contactNeedsFixing}`);
    const sms = await ctx.waitFor('the fallback SMS', async () => (await ctx.smsMessages()).find((m) => m.phoneNumber === c.phone && LINK.test(m.message)));
    ctx.say(`Fallback SMS to ${sms.phoneNumber}:`);
    for (const line of sms.message.split('\n')) ctx.say(`  | ${line}`);
    const fix = (await ctx.publishedEvents()).find((e) => e.detailType === 'ContactNeedsFixing' && JSON.stringify(e.detail).includes(c.customerId));
    if (fix) ctx.say(`Operations told: ContactNeedsFixing ${JSON.stringify(fix.detail)}`);
  },
};

export const steps: DemoStep[] = [replyStep, bounceStep];
