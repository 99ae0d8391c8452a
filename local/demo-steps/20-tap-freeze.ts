/**
 * Demo steps 20 and 30 (the actions issue), over HTTP like a phone and the core bank would:
 *   20 before the customer answers, a large charge through the new wallet is held; the customer
 *      opens the action link (GET changes nothing) and taps "freeze my account" (POST);
 *   30 the core bank asks before the next debit: DENY, ACCOUNT_FROZEN.
 * Uses `actionLink` and `linkEvent` left by step 10.
 */
import type { DemoContext, DemoStep } from '../demo.ts';

function hiddenFields(html: string, action: string): Record<string, string> | undefined {
  for (const form of html.split('<form').slice(1)) {
    const a = /name="action" value="([^"]*)"/.exec(form)?.[1];
    const check = /name="check" value="([^"]*)"/.exec(form)?.[1];
    if (a === action && check) return { action: a, check };
  }
  return undefined;
}

const heading = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1]?.replaceAll('&#39;', "'") ?? '?';

async function authorize(ctx: DemoContext, body: Record<string, unknown>): Promise<{ decision: string; reason: string }> {
  const r = await ctx.fetch('/v1/authorize', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ctx.apiKey }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`POST /v1/authorize: ${r.status} ${await r.text()}`);
  return (await r.json()) as { decision: string; reason: string };
}

const linkOf = (ctx: DemoContext) => (ctx.state.linkEvent as { detail?: { linkId?: string } } | undefined)?.detail?.linkId;

const tapFreeze: DemoStep = {
  order: 20,
  title: 'The customer opens the action link and taps "freeze my account"',
  needs: ['action', 'authorize'],
  async run(ctx) {
    const link = ctx.state.actionLink as string | undefined;
    if (!link) throw new Error('no action link from step 10');
    const linkId = linkOf(ctx);
    if (linkId) {
      const held = await authorize(ctx, { accountId: ctx.customer.accountId, channel: 'EPAY_CHARGE', amount: 50_000, currency: 'JPY', linkId, requestId: `demo-${Date.now()}` });
      ctx.say(`Meanwhile the impostor charges ¥50,000 through the new wallet: ${held.decision} (${held.reason})`);
    }
    const page = await ctx.fetch(link);
    const html = await page.text();
    ctx.say(`GET ${new URL(link).pathname.slice(0, 6)}… -> ${page.status}, ${Buffer.byteLength(html)} bytes: "${heading(html)}" (nothing changes on GET)`);
    let fields = hiddenFields(html, 'FREEZE_ACCOUNT');
    if (!fields && linkId) {
      ctx.say('The account is already frozen (an earlier demo run): tapping "not me" to revoke the link instead.');
      fields = hiddenFields(html, `REVOKE_LINK:${linkId}`);
    }
    if (!fields) throw new Error('the action page offers neither a freeze nor a revoke');
    const tapped = await ctx.fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const done = await tapped.text();
    ctx.say(`POST (${fields.action}) -> ${tapped.status}: "${heading(done)}"`);
    if (tapped.status !== 200) throw new Error(`the tap failed with ${tapped.status}`);
    const event = await ctx.waitFor('the AccountFrozen / LinkRevoked event for partners', async () =>
      (await ctx.publishedEvents()).find(
        (e) => ['AccountFrozen', 'LinkRevoked'].includes(e.detailType) && (e.detail as { accountId?: string }).accountId === ctx.customer.accountId,
      ),
    );
    ctx.say(`Published for partners: ${event.detailType} (source ${event.source})`);
  },
};

const debitDenied: DemoStep = {
  order: 30,
  title: 'The core bank asks before the next debit: denied',
  needs: ['authorize'],
  async run(ctx) {
    const linkId = linkOf(ctx);
    const atm = await authorize(ctx, { accountId: ctx.customer.accountId, channel: 'ATM_CARDLESS', amount: 30_000, currency: 'JPY' });
    ctx.say(`Cardless ATM withdrawal of ¥30,000: ${atm.decision} (${atm.reason})`);
    if (linkId) {
      const charge = await authorize(ctx, { accountId: ctx.customer.accountId, channel: 'EPAY_CHARGE', amount: 3_000, currency: 'JPY', linkId });
      ctx.say(`¥3,000 charge through the wallet: ${charge.decision} (${charge.reason})`);
    }
    if (atm.decision !== 'DENY') throw new Error(`expected DENY, got ${atm.decision}`);
  },
};

export const steps: DemoStep[] = [tapFreeze, debitDenied];
