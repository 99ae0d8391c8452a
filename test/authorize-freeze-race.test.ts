/**
 * The promise of a freeze: once freezeAccount has returned, no debit on the account is allowed.
 *
 * Authorisations stream through the authorize handler against DynamoDB Local, 200 in flight at a
 * time on the handlers' SDK client (its 50-socket pool is saturated, so each one waits a while),
 * while freezeAccount commits through its own HTTP agent (not queued behind them). The
 * commit happens inside the freeze's one TransactWriteItems call, whose request and response
 * times are recorded. Every authorisation records when it started and ended:
 *   - some started before the commit request and ended after its response: they truly overlap
 *     the commit, and each is ALLOW OK or DENY ACCOUNT_FROZEN, nothing else;
 *   - every one that started after the commit's response (so every one that started after
 *     freezeAccount returned) is DENY ACCOUNT_FROZEN: 0 ALLOW.
 * DynamoDB Local is always consistent, so a middleware on the handlers' real client checks that
 * every read authorize makes is ConsistentRead: that is what goes red if reads become eventual.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { freezeAccount } from '../src/store/actions.ts';
import { listAudit } from '../src/store/audit.ts';
import { key } from '../src/store/table.ts';
import { db } from '../src/store/db.ts';
import { ownConnection, watchReads, type ReadWatch } from './support/dynamo-probe.ts';
import { httpEvent, invoke, loadHandler, seedAccount, seedLink, setupActionEnv, type ActionEnv, type Handler } from './action-support.ts';

let env: ActionEnv;
let handler: Handler;
let freezeLine: ReturnType<typeof ownConnection>;
let reads: ReadWatch;
const commitWindows: { sentAt: number; answeredAt: number }[] = [];
beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('authorize');
  // The real client the handlers and the store share; the freeze gets its own HTTP agent on it.
  const client = db();
  freezeLine = ownConnection(client);
  reads = watchReads(client, () => !freezeLine.inside());
  // The freeze's commit happens inside the TransactWriteItems call that sets the account FROZEN:
  // its request and response times bound the moment the account became FROZEN.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const setsFrozen = (context as { commandName?: string }).commandName === 'TransactWriteItemsCommand' && JSON.stringify(args.input).includes('frozenAt = :at');
      if (!setsFrozen) return next(args);
      const sentAt = performance.now();
      const out = await next(args); // a refused transaction throws: only a commit is recorded
      commitWindows.push({ sentAt, answeredAt: performance.now() });
      return out;
    },
    { step: 'finalizeRequest', name: 'commitWindow' },
  );
});
afterAll(async () => {
  reads?.stop();
  freezeLine?.stop();
  db().middlewareStack.remove('commitWindow');
  await env.bridge.stop();
});

interface Outcome {
  startedAt: number;
  endedAt: number;
  status: number;
  decision: string;
  reason: string;
}

describe('freeze against a stream of concurrent authorisations', () => {
  it('the probe sees an eventually consistent read (it can fail)', async () => {
    reads.clear();
    await db().send(new GetCommand({ TableName: env.tableName, Key: key.account('nobody') }));
    expect(reads.eventual()).toEqual(['GetItemCommand']);
    reads.clear();
  });

  it('overlaps the commit; after freezeAccount returned: only DENY ACCOUNT_FROZEN; every read consistent', async () => {
    const { accountId, customerId } = await seedAccount();
    // A link past its hold window: debits through it read the link as well as the account.
    const linkId = await seedLink(accountId, customerId, { createdAt: new Date(Date.now() - 48 * 3_600_000) });
    const body = (i: number) =>
      JSON.stringify(
        i % 2 === 0
          ? { accountId, channel: 'EPAY_CHARGE', amount: 3_000, currency: 'JPY', linkId, requestId: `r-${i}` }
          : { accountId, channel: 'ATM_CARD', amount: 20_000, currency: 'JPY', requestId: `r-${i}` },
      );
    const one = async (i: number): Promise<Outcome> => {
      const startedAt = performance.now();
      const res = await invoke(handler, httpEvent({ method: 'POST', path: '/v1/authorize', headers: { 'content-type': 'application/json' }, body: body(i) }), 'authorize');
      const endedAt = performance.now();
      const out = JSON.parse(res.body) as { decision: string; reason: string };
      return { startedAt, endedAt, status: res.statusCode, decision: out.decision, reason: out.reason };
    };

    // Before the race both kinds of debit are allowed: an ALLOW is possible to see.
    expect(await one(-2)).toMatchObject({ status: 200, decision: 'ALLOW', reason: 'OK' });
    expect(await one(-1)).toMatchObject({ status: 200, decision: 'ALLOW', reason: 'OK' });
    reads.clear();

    // Four times the 50-socket pool: each authorisation waits in the queue several times as long as
    // one request takes, so many of them span the freeze's commit call.
    const IN_FLIGHT = 200;
    const FREEZE_AFTER = 200; // completed authorisations before the freeze starts
    const AFTER_FREEZE = 200; // authorisations started after freezeAccount returned
    const results: Outcome[] = [];
    let next = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    let freezeStartedAt = Number.POSITIVE_INFINITY;
    let freezeReturnedAt = Number.POSITIVE_INFINITY;
    let freezeChanged: boolean | undefined;
    let freeze: Promise<void> | undefined;
    const worker = async () => {
      while (next < stopAt) {
        const r = await one(next++);
        results.push(r);
        if (results.length === FREEZE_AFTER && !freeze) {
          freezeStartedAt = performance.now();
          freeze = freezeLine
            .run(() => freezeAccount(accountId, { actor: 'CUSTOMER_WEB', alertId: 'al-race' }))
            .then((f) => {
              freezeReturnedAt = performance.now();
              freezeChanged = f.changed;
              stopAt = next + AFTER_FREEZE;
            });
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await freeze;
    expect(freezeChanged).toBe(true);

    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    // The freeze committed once, inside one TransactWriteItems call on its own client.
    expect(commitWindows).toHaveLength(1);
    const commit = commitWindows[0]!;
    const isAllowOk = (r: Outcome) => r.decision === 'ALLOW' && r.reason === 'OK';
    const isFrozen = (r: Outcome) => r.decision === 'DENY' && r.reason === 'ACCOUNT_FROZEN';
    // Ended before the freeze started: the account was active.
    const before = results.filter((r) => r.endedAt < freezeStartedAt);
    expect(before.length).toBeGreaterThanOrEqual(FREEZE_AFTER);
    expect(before.filter((r) => !isAllowOk(r))).toEqual([]);
    // Started before the commit request was sent, answered after its response came back: they
    // truly overlap the commit; each saw the account either before it or after it.
    const overlapping = results.filter((r) => r.startedAt < commit.sentAt && r.endedAt > commit.answeredAt);
    expect(overlapping.length).toBeGreaterThan(0);
    expect(overlapping.filter((r) => !isAllowOk(r) && !isFrozen(r))).toEqual([]);
    // Started once the commit had been answered (and so after freezeAccount returned, too):
    // every one DENY ACCOUNT_FROZEN.
    const afterCommit = results.filter((r) => r.startedAt > commit.answeredAt);
    const afterReturn = results.filter((r) => r.startedAt > freezeReturnedAt);
    expect(afterReturn.length).toBeGreaterThanOrEqual(AFTER_FREEZE);
    expect(afterCommit.filter((r) => !isFrozen(r))).toEqual([]);

    // Every read authorize made was strongly consistent (and it did read: account and link).
    expect(reads.reads.length).toBeGreaterThanOrEqual(results.length);
    expect(reads.eventual()).toEqual([]);
    expect(await listAudit(accountId)).toHaveLength(1);
    console.info(
      `freeze race: ${results.length} authorisations; ${before.length} ended before the freeze started, ` +
        `${overlapping.length} spanned the commit (${overlapping.filter(isFrozen).length} DENY), ` +
        `${afterCommit.length} started after it (${afterCommit.filter((r) => r.decision === 'ALLOW').length} ALLOW), ${afterReturn.length} after freezeAccount returned; ` +
        `commit call ${(commit.answeredAt - commit.sentAt).toFixed(0)} ms, freezeAccount ${(freezeReturnedAt - freezeStartedAt).toFixed(0)} ms`,
    );
  });
});
