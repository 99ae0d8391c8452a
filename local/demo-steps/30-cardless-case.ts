/**
 * Demo step 35: the 2020 cardless-ATM case (the police counted 32 of them that year: a
 * cardless-ATM app activated with leaked personal details, then cash withdrawn), replayed on a
 * fresh demo account so that it does not depend on the freeze of the steps before:
 *   activation -> alert -> ¥200,000 cardless withdrawal HOLD -> split withdrawals stopped at
 *   ¥10,000 in total -> the customer taps "deactivate this app" -> every cardless withdrawal DENY.
 * Over HTTP only (POST /events, /v1/authorize, the action page), like the core and a phone.
 */
import { randomUUID } from 'node:crypto';
import type { DemoContext, DemoStep } from '../demo.ts';
import { ACTION_LINK } from '../demo.ts';

interface Answer {
  decision: string;
  reason: string;
  allowance?: { remaining: number };
}

async function authorize(ctx: DemoContext, body: Record<string, unknown>): Promise<Answer> {
  const r = await ctx.fetch('/v1/authorize', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ctx.apiKey }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`POST /v1/authorize: ${r.status} ${await r.text()}`);
  return (await r.json()) as Answer;
}

function hiddenFields(html: string, action: string): Record<string, string> | undefined {
  for (const form of html.split('<form').slice(1)) {
    const a = /name="action" value="([^"]*)"/.exec(form)?.[1];
    const check = /name="check" value="([^"]*)"/.exec(form)?.[1];
    if (a === action && check) return { action: a, check };
  }
  return undefined;
}

const heading = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1]?.replaceAll('&#39;', "'") ?? '?';
const yen = (n: number) => `¥${n.toLocaleString('en-US')}`;

const cardlessCase: DemoStep = {
  order: 35,
  title: '2020 cardless-ATM case: an app activated with leaked details, then cash out',
  needs: ['alert', 'action', 'authorize'],
  async run(ctx) {
    const run = randomUUID().slice(0, 8);
    const accountId = `acct-cl-${run}`;
    const email = `cardless-${run}@example.jp`;
    const phone = `+8190${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    const at = () => new Date().toISOString();
    await ctx.postEvents([
      {
        source: 'bank.core',
        'detail-type': 'CustomerProfileUpserted',
        detail: { eventId: `evt-prof-cl-${run}`, occurredAt: at(), customerId: `cust-cl-${run}`, email, phone, locale: ctx.customer.locale, accounts: [{ accountId, last4: '2020' }] },
      },
    ]);
    // The profile lands through the bus: the account answers once it is known.
    await ctx.waitFor('the demo account', async () => ((await authorize(ctx, { accountId, channel: 'ATM_CARD', amount: 1, currency: 'JPY' })).reason === 'UNKNOWN_ACCOUNT' ? undefined : true));
    ctx.say(`A fresh account ${accountId} (…2020), so this case does not depend on the freeze above.`);

    const activation = { eventId: `evt-app-cl-${run}`, occurredAt: at(), accountId, appId: 'cardless-atm', appName: 'Cardless ATM', deviceName: 'Unknown Android', origin: { ip: '203.0.113.77' } };
    await ctx.postEvents([{ source: 'bank.core', 'detail-type': 'AppActivated', detail: activation }]);
    ctx.say(`core bank -> AppActivated: "${activation.appName}" on "${activation.deviceName}" (activation ${activation.eventId})`);
    const mail = await ctx.waitFor('the activation alert email', async () => (await ctx.emails()).find((m) => m.to.includes(email)));
    const link = ACTION_LINK.exec(mail.text ?? mail.html ?? '')?.[0];
    if (!link) throw new Error('no action link in the activation alert');
    ctx.say(`Email: "${mail.subject}" with the action link ${new URL(link).pathname.slice(0, 8)}…`);

    const big = await authorize(ctx, { accountId, channel: 'ATM_CARDLESS', amount: 200_000, currency: 'JPY', linkId: activation.appId, requestId: `cl-${run}-big` });
    ctx.say(`Minutes later, a ${yen(200_000)} cardless withdrawal through the app: ${big.decision} (${big.reason})`);
    if (big.decision !== 'HOLD') throw new Error(`expected HOLD, got ${big.decision}`);

    let allowed = 0;
    const split: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await authorize(ctx, { accountId, channel: 'ATM_CARDLESS', amount: 3_000, currency: 'JPY', requestId: `cl-${run}-split-${i}` });
      split.push(r.decision);
      if (r.decision === 'ALLOW') allowed += 3_000;
    }
    ctx.say(`Split into five ${yen(3_000)} withdrawals: ${split.join(', ')}: ${yen(allowed)} out at most (the allowance is ${yen(10_000)} in total)`);
    if (allowed > 10_000) throw new Error(`split withdrawals got ${yen(allowed)} out`);

    const page = await ctx.fetch(link);
    const html = await page.text();
    const fields = hiddenFields(html, `DEACTIVATE_APP:${activation.eventId}`);
    if (!fields) throw new Error('the action page does not offer "deactivate this app"');
    const tapped = await ctx.fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const done = await tapped.text();
    ctx.say(`The customer taps "deactivate this app" -> ${tapped.status}: "${heading(done)}"`);
    if (tapped.status !== 200) throw new Error(`the tap failed with ${tapped.status}`);
    const event = await ctx.waitFor('the AppDeactivated event for the core', async () =>
      (await ctx.publishedEvents()).find((e) => e.detailType === 'AppDeactivated' && (e.detail as { accountId?: string }).accountId === accountId),
    );
    ctx.say(`Published for the core: ${event.detailType} (source ${event.source})`);

    for (const amount of [200_000, 1_000]) {
      const r = await authorize(ctx, { accountId, channel: 'ATM_CARDLESS', amount, currency: 'JPY', requestId: `cl-${run}-after-${amount}` });
      ctx.say(`Cardless withdrawal of ${yen(amount)}: ${r.decision} (${r.reason})`);
      if (r.decision !== 'DENY') throw new Error(`expected DENY, got ${r.decision}`);
    }
    const card = await authorize(ctx, { accountId, channel: 'ATM_CARD', amount: 10_000, currency: 'JPY' });
    ctx.say(`The customer's own card at an ATM still works: ${card.decision} (${card.reason})`);
  },
};

export const steps: DemoStep[] = [cardlessCase];
