/**
 * Detection across accounts: the window rule against a brute-force oracle (pure, many runs), and
 * the whole path (counters in DynamoDB Local, rules, incidents) over shuffled interleavings of
 * events from many accounts, with duplicates and out-of-order delivery: an incident opens for
 * exactly the keys where some 10-minute window holds 5 or more distinct accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { setupActionEnv, seedAccount, seedLink, type ActionEnv } from './action-support.ts';
import { fullestWindow, linksAfterContactChange, providerRate, type Sighting } from '../src/fraud/detection/rules.ts';
import { bucketOf } from '../src/fraud/detection/sightings.ts';
import { around, bucketFor } from '../src/fraud/detection/service.ts';
import { processFraudBatch, processFraudRecord } from '../src/fraud/consumer.ts';
import { listIncidents, listMembers } from '../src/fraud/detection/incidents.ts';
import { getLink } from '../src/store/links.ts';
import { listAudit } from '../src/store/audit.ts';
import { db, tableName } from '../src/store/db.ts';
import { resetFraudConfig } from '../src/fraud/config.ts';
import { partition } from './fraud-support.ts';

const W = 10 * 60_000;
const N = 5;
const T0 = Date.parse('2026-11-29T00:00:00.000Z');

/** The oracle: does any window [s, s + W) hold at least N distinct accounts? */
function crosses(events: readonly { account: string; at: number }[]): boolean {
  return events.some((e) => new Set(events.filter((x) => x.at >= e.at && x.at < e.at + W).map((x) => x.account)).size >= N);
}

/** What a check reads back for an event at t: every sighting in the buckets the store reads for it (service.ts `around`). */
function bucketsAround(events: readonly { account: string; at: number }[], t: number): Sighting[] {
  const read = around('ip', 'k', W / 60_000, t);
  const len = read[0]!.len;
  const buckets = new Set(read.map((b) => b.bucket));
  return events.filter((e) => buckets.has(bucketOf(e.at, len))).map((e) => ({ account: e.account, at: e.at }));
}

const eventArb = fc.record({ account: fc.integer({ min: 0, max: 7 }).map((i) => `a${i}`), at: fc.integer({ min: 0, max: 40 * 60_000 }).map((ms) => T0 + ms) });

describe('window rule (pure)', () => {
  it('stored in any order, each event checked over what its buckets hold so far: a crossing window is found exactly when one exists', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 30 }), fc.infiniteStream(fc.nat()), (events, seeds) => {
        // The order the events are stored in (out of order, as SQS delivers); each is checked right after it is stored.
        const order = events.map((e) => ({ e, r: seeds.next().value as number })).sort((x, y) => x.r - y.r).map((x) => x.e);
        const detected = order.some((e, i) => fullestWindow(bucketsAround(order.slice(0, i + 1), e.at), e.at, W, N).fires);
        expect(detected).toBe(crosses(events));
      }),
      { numRuns: 3000 },
    );
  });

  it('a window the event is not in never fires for it (no false alarm from a neighbouring bucket)', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 30 }), (events) => {
        for (const e of events) {
          const hit = fullestWindow(bucketsAround(events, e.at), e.at, W, N);
          if (!hit.fires) continue;
          // The firing window contains the event and really holds N accounts.
          expect(e.at >= hit.start && e.at < hit.start + W).toBe(true);
          expect(new Set(events.filter((x) => x.at >= hit.start && x.at < hit.start + W).map((x) => x.account)).size).toBeGreaterThanOrEqual(N);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('provider rate: 5x the trailing hourly baseline and at least the minimum', () => {
    const quiet = new Map<number, number>([[100, 1], [130, 1], [150, 1]]);
    expect(providerRate(new Map([...quiet, [175, 9]]), 175, 10, 5, 10).fires).toBe(false);
    expect(providerRate(new Map([...quiet, [175, 10]]), 175, 10, 5, 10).fires).toBe(true);
    const busy = new Map<number, number>(Array.from({ length: 60 }, (_, i) => [100 + i, 6] as [number, number]));
    // Baseline 60 per 10 minutes: 299 links is below 5x, 300 is not.
    expect(providerRate(new Map([...busy, [165, 299]]), 169, 10, 5, 10).fires).toBe(false);
    expect(providerRate(new Map([...busy, [165, 300]]), 169, 10, 5, 10).fires).toBe(true);
  });

  it('contact change then link: within the hour after, not before, not after the hour', () => {
    const c = { kind: 'CONTACT' as const, at: T0 };
    expect(linksAfterContactChange([c, { kind: 'LINK', at: T0 + 59 * 60_000, linkId: 'l1' }], 3_600_000)).toHaveLength(1);
    expect(linksAfterContactChange([c, { kind: 'LINK', at: T0 + 60 * 60_000, linkId: 'l1' }], 3_600_000)).toHaveLength(0);
    expect(linksAfterContactChange([c, { kind: 'LINK', at: T0 - 1, linkId: 'l1' }], 3_600_000)).toHaveLength(0);
  });
});

let env: ActionEnv;
beforeAll(async () => {
  env = await setupActionEnv();
});
afterAll(async () => {
  await env.bridge.stop();
});

const envelope = (detailType: string, detail: unknown, source = 'bank.core') => ({ source, 'detail-type': detailType, detail });
let evt = 0;
const activation = (accountId: string, ip: string, at: number) =>
  envelope('AppActivated', { eventId: `ev-${++evt}`, occurredAt: new Date(at).toISOString(), accountId, appId: 'cardless', appName: 'Cardless', origin: { ip } });

async function openIncidentFor(rule: string, k: string): Promise<string | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { pk: `FRAUDOPEN#${rule}#${k}`, sk: 'OPEN' }, ConsistentRead: true }));
  return out.Item?.incidentId as string | undefined;
}

describe('detection through DynamoDB Local', () => {
  let run = 0;
  it('shuffled interleavings of many accounts on several addresses, with duplicates: an incident for exactly the crossing addresses', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ip: fc.integer({ min: 0, max: 2 }), account: fc.integer({ min: 0, max: 6 }), at: fc.integer({ min: 0, max: 30 * 60_000 }) }), { minLength: 3, maxLength: 24 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.infiniteStream(fc.nat()),
        async (raw, dupIdx, shuffle) => {
          run++;
          const events = raw.map((e) => ({ ip: `10.${run % 250}.${Math.floor(run / 250)}.${e.ip + 1}`, account: `pa${e.account}`, at: T0 + e.at }));
          const bodies = events.map((e) => activation(e.account, e.ip, e.at));
          // Duplicates: the same envelope (same eventId) delivered again.
          const delivered = [...bodies, ...dupIdx.map((i) => bodies[i % bodies.length]!)];
          const order = delivered.map((b, i) => ({ b, r: shuffle.next().value as number, i })).sort((x, y) => x.r - y.r || x.i - y.i);
          // As in production: batches of several records (sizes 1 to 6), three batches at once.
          const batches: unknown[][] = [];
          for (let i = 0; i < order.length; ) {
            const size = 1 + ((shuffle.next().value as number) % 6);
            batches.push(order.slice(i, i + size).map((o) => o.b));
            i += size;
          }
          for (let i = 0; i < batches.length; i += 3) {
            for (const outcomes of await Promise.all(batches.slice(i, i + 3).map((b) => processFraudBatch(b)))) expect(outcomes.filter((o) => o instanceof Error)).toEqual([]);
          }
          for (const ip of new Set(events.map((e) => e.ip))) {
            const expected = crosses(events.filter((e) => e.ip === ip));
            expect({ ip, fired: (await openIncidentFor('ACCOUNTS_PER_IP', ip)) !== undefined }).toEqual({ ip, fired: expected });
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 240_000);

  it('an incident joins later hits, lists each account once, and holds its links for 7 days (audited)', async () => {
    const ip = '192.0.2.77';
    const base = Date.now() - 60_000;
    const accounts = await Promise.all(Array.from({ length: 6 }, () => seedAccount()));
    const links: string[] = [];
    for (const [i, a] of accounts.entries()) {
      const linkId = await seedLink(a.accountId, a.customerId, { createdAt: new Date(base + i * 1000) });
      links.push(linkId);
      const body = envelope('LinkCreated', {
        eventId: `lc-${linkId}`,
        occurredAt: new Date(base + i * 1000).toISOString(),
        accountId: a.accountId,
        linkId,
        provider: { id: 'dwallet', displayName: 'D-Wallet' },
        linkType: 'EPAY',
        channel: 'PROVIDER_APP',
        origin: { ip },
      });
      await processFraudRecord(body);
      await processFraudRecord(body);
    }
    const incidentId = await openIncidentFor('ACCOUNTS_PER_IP', ip);
    expect(incidentId).toBeDefined();
    expect((await listIncidents()).filter((x) => x.key === ip)).toHaveLength(1);
    const members = await listMembers(incidentId!);
    expect(members.map((m) => m.accountId).sort()).toEqual(accounts.map((a) => a.accountId).sort());
    for (const [i, a] of accounts.entries()) {
      const link = await getLink(a.accountId, links[i]!);
      expect(Date.parse(link!.holdUntil) - Date.parse(link!.createdAt)).toBe(168 * 3_600_000);
      expect((await listAudit(a.accountId)).filter((e) => e.action === 'extendHold')).toEqual([expect.objectContaining({ actor: 'SYSTEM', target: `LINK#${links[i]}` })]);
    }
    const published = env.bridge.publishedEvents().filter((e) => e.detailType === 'SuspiciousActivityDetected' && (e.detail as { key: string }).key === ip);
    expect(published).toHaveLength(1);
    expect(published[0]!.detail).toMatchObject({ rule: 'ACCOUNTS_PER_IP', providerIds: ['dwallet'] });
  });

  it('four accounts from one device within the window open nothing', async () => {
    const device = `dev-quiet-${Date.now()}`;
    const accounts = await Promise.all(Array.from({ length: 4 }, () => seedAccount()));
    for (const [i, a] of accounts.entries()) {
      await processFraudRecord(envelope('AppActivated', { eventId: `q-${device}-${i}`, occurredAt: new Date(Date.now() - i * 1000).toISOString(), accountId: a.accountId, appId: 'x', appName: 'X', origin: { device } }));
    }
    expect(await openIncidentFor('ACCOUNTS_PER_DEVICE', device)).toBeUndefined();
  });

  it('a contact change followed by a link within the hour opens CONTACT_CHANGE_THEN_LINK for that account', async () => {
    const a = await seedAccount();
    const now = Date.now();
    await processFraudRecord(
      envelope('ContactChanged', { eventId: `cc-${a.customerId}`, occurredAt: new Date(now - 30 * 60_000).toISOString(), customerId: a.customerId, previous: { email: 'old@example.jp' }, current: { email: 'new@example.jp' }, channel: 'ONLINE' }),
    );
    const linkId = await seedLink(a.accountId, a.customerId);
    await processFraudRecord(
      envelope('LinkCreated', { eventId: `lc2-${linkId}`, occurredAt: new Date(now).toISOString(), accountId: a.accountId, linkId, provider: { id: 'pwallet', displayName: 'P-Wallet' }, linkType: 'EPAY', channel: 'ONLINE' }),
    );
    const incidentId = await openIncidentFor('CONTACT_CHANGE_THEN_LINK', a.accountId);
    expect(incidentId).toBeDefined();
    expect(await listMembers(incidentId!)).toEqual([expect.objectContaining({ accountId: a.accountId, linkId })]);
  });

  it('a malformed event is rejected with its reason and counts nothing', async () => {
    expect(await processFraudRecord(envelope('AppActivated', { eventId: 'bad', accountId: 'x' }))).toMatchObject({ kind: 'INVALID' });
    expect(await processFraudRecord({ nope: true })).toMatchObject({ kind: 'INVALID', reason: 'envelope' });
  });
});

describe('detection a batch at a time', () => {
  const linkEvent = (accountId: string, linkId: string, ip: string, at: number, providerId = 'bwallet') =>
    envelope('LinkCreated', { eventId: `lcb-${linkId}`, occurredAt: new Date(at).toISOString(), accountId, linkId, provider: { id: providerId, displayName: 'B-Wallet' }, linkType: 'EPAY', channel: 'PROVIDER_APP', origin: { ip } });

  it("a redelivered batch, or a link announced twice, changes no counter: each link counts once in its provider's minute", async () => {
    const providerId = `pw-${Date.now()}`;
    const at = Date.now() - 30_000;
    const bodies = Array.from({ length: 7 }, (_, i) => linkEvent(`ra-${providerId}-${i}`, `rl-${providerId}-${i}`, `198.51.100.${i + 1}`, at, providerId));
    const first = await processFraudBatch(bodies);
    expect(first.filter((o) => o instanceof Error)).toEqual([]);
    const before = await partition(`FRAUDP#${providerId}`);
    // The same batch again, then a batch holding duplicates of itself.
    await processFraudBatch(bodies);
    await processFraudBatch([bodies[0], bodies[0], bodies[3]]);
    // The same link announced again under another event id: still one link.
    const again = { ...bodies[2]!, detail: { ...(bodies[2]!.detail as Record<string, unknown>), eventId: `again-${providerId}` } };
    await processFraudBatch([again]);
    expect(await partition(`FRAUDP#${providerId}`)).toBe(before);
    expect(JSON.parse(before)).toEqual([expect.objectContaining({ sk: `M#${String(Math.floor(at / 60_000)).padStart(10, '0')}`, n: 7 })]);
  });

  it('a batch stored before a crash is still checked when it comes back: the attack is not lost', async () => {
    const ip = `192.0.2.${100 + (Date.now() % 100)}`;
    const at = Date.now() - 60_000;
    const accounts = await Promise.all(Array.from({ length: 5 }, () => seedAccount()));
    const links = await Promise.all(accounts.map((a, i) => seedLink(a.accountId, a.customerId, { createdAt: new Date(at + i * 1000) })));
    const bodies = accounts.map((a, i) => linkEvent(a.accountId, links[i]!, ip, at + i * 1000));
    // The first delivery stored every sighting, then the function died before checking (simulated:
    // the store step alone, through the same code the batch runs).
    const { storeSightings } = await import('../src/fraud/detection/sightings.ts');
    await storeSightings(
      bodies.map((x, i) => ({
        eventId: (x.detail as { eventId: string }).eventId,
        entries: [{ bucket: bucketFor('ip', ip, 10, at + i * 1000), entry: { kind: 'ACCOUNT' as const, account: accounts[i]!.accountId, at: at + i * 1000, linkId: links[i] } }],
        link: { bucket: bucketFor('account', accounts[i]!.accountId, 60, at + i * 1000), linkId: (x.detail as { linkId: string }).linkId, at: at + i * 1000, providerId: 'bwallet', minute: Math.floor((at + i * 1000) / 60_000) },
      })),
    );
    expect(await openIncidentFor('ACCOUNTS_PER_IP', ip)).toBeUndefined();
    // Redelivery: every event is a duplicate now (its link is stored), and still checked.
    expect((await processFraudBatch(bodies)).filter((o) => o instanceof Error)).toEqual([]);
    expect(await openIncidentFor('ACCOUNTS_PER_IP', ip)).toBeDefined();
  });

  it("flooding one address's counter with one account does not blind the rule: the full bucket opens an incident", async () => {
    const ip = `203.0.113.${(Date.now() % 200) + 1}`;
    const accountId = `flood-${Date.now()}`;
    const at = Date.now() - 120_000;
    const saved = process.env.FRAUD_BUCKET_CAP;
    process.env.FRAUD_BUCKET_CAP = '12';
    resetFraudConfig();
    try {
      // One account, many activations: below the threshold of 5 accounts, but the bucket fills up.
      for (let i = 0; i < 3; i++) {
        const batch = Array.from({ length: 5 }, (_, k) => activation(accountId, ip, at + (i * 5 + k) * 1000));
        expect((await processFraudBatch(batch)).filter((o) => o instanceof Error)).toEqual([]);
      }
      expect(await openIncidentFor('ACCOUNTS_PER_IP', ip)).toBeDefined();
      // The flood goes on: later batches leave the full bucket out of their transaction from the
      // start, instead of having a transaction cancelled on it first (seen at the wire).
      const naming: string[] = [];
      const name = 'testFullBucketWrites';
      db().middlewareStack.add(
        (next, ctx) => async (args) => {
          const input = JSON.stringify(args.input);
          if ((ctx as { commandName?: string }).commandName === 'TransactWriteItemsCommand' && input.includes(`FRAUDB#ip#${ip}`)) naming.push(input);
          return next(args);
        },
        { step: 'initialize', name },
      );
      try {
        for (let i = 3; i < 5; i++) {
          const batch = Array.from({ length: 5 }, (_, k) => activation(accountId, ip, at + (i * 5 + k) * 1000));
          expect((await processFraudBatch(batch)).filter((o) => o instanceof Error)).toEqual([]);
        }
      } finally {
        db().middlewareStack.remove(name);
      }
      expect(naming).toEqual([]);
      expect(await openIncidentFor('ACCOUNTS_PER_IP', ip)).toBeDefined();
    } finally {
      if (saved === undefined) delete process.env.FRAUD_BUCKET_CAP;
      else process.env.FRAUD_BUCKET_CAP = saved;
      resetFraudConfig();
    }
  });

  it('when other batches keep holding the transaction\'s items, the batch is written item by item and counts the same', async () => {
    const ip = `198.18.${Date.now() % 250}.${(Date.now() >> 8) % 250}`;
    const providerId = `cf-${Date.now()}`;
    const at = Date.now() - 60_000;
    const accounts = await Promise.all(Array.from({ length: 6 }, () => seedAccount()));
    const links = await Promise.all(accounts.map((a, i) => seedLink(a.accountId, a.customerId, { createdAt: new Date(at + i * 1000) })));
    const bodies = accounts.map((a, i) => linkEvent(a.accountId, links[i]!, ip, at + i * 1000, providerId));
    // DynamoDB Local does not hold items for concurrent transactions the way DynamoDB does, so the
    // conflict is made at the wire: every counters' TransactWriteItems is cancelled with TransactionConflict.
    let refused = 0;
    const name = 'testTransactionConflict';
    db().middlewareStack.add(
      (next, ctx) => async (args) => {
        // Only the counters' transactions: opening the incident is a transaction of its own.
        if ((ctx as { commandName?: string }).commandName === 'TransactWriteItemsCommand' && JSON.stringify(args.input).includes('FRAUDB#')) {
          refused++;
          throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }] });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      expect((await processFraudBatch([...bodies, bodies[2]])).filter((o) => o instanceof Error)).toEqual([]);
      expect((await processFraudBatch(bodies)).filter((o) => o instanceof Error)).toEqual([]);
    } finally {
      db().middlewareStack.remove(name);
    }
    expect(refused).toBeGreaterThan(0);
    expect(await openIncidentFor('ACCOUNTS_PER_IP', ip)).toBeDefined();
    // The six links may straddle a minute: their minutes' counts add up to six, each link once.
    const minutes = JSON.parse(await partition(`FRAUDP#${providerId}`)) as { n: number }[];
    expect(minutes.reduce((sum, m) => sum + m.n, 0)).toBe(6);
  });

  it('the same one account seen 11 times under the cap opens nothing (the cap, not the count, fires)', async () => {
    const ip = `203.0.113.${(Date.now() % 200) + 1}`;
    const accountId = `calm-${Date.now()}`;
    const at = Date.now() - 120_000;
    const batch = Array.from({ length: 11 }, (_, k) => activation(accountId, ip, at + k * 1000));
    await processFraudBatch(batch);
    expect(await openIncidentFor('ACCOUNTS_PER_IP', ip)).toBeUndefined();
  });
});
