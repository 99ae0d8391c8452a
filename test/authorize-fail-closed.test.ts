/**
 * Fail closed: when authorize cannot read (or write) the latest state, it answers 503 and never
 * ALLOW, so the core bank treats the debit as not authorised and retries.
 *
 * The real authorize handler and the real SDK client, pointed at peers that fail at the wire:
 * - a closed port (connection refused),
 * - a peer that accepts the connection and resets it on every request,
 * - a peer that answers every request 500 InternalServerError (after the SDK's retries),
 * - a proxy to DynamoDB Local that lets reads through but resets every write, for the debit
 *   through a pending link that must reserve its allowance (one conditional write).
 * A positive control first: the same requests against DynamoDB Local are ALLOW.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setAwsClients } from '../src/adapters/clients.ts';
import { freePort } from '../local/free-port.ts';
import { httpEvent, invoke, loadHandler, seedAccount, seedLink, setupActionEnv, type ActionEnv, type Handler } from './action-support.ts';

let env: ActionEnv;
let handler: Handler;
let realEndpoint: string;
let accountId: string;
let pendingLink: string;
const servers: (Server | TcpServer)[] = [];

beforeAll(async () => {
  env = await setupActionEnv();
  handler = await loadHandler('authorize');
  realEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB!;
  const a = await seedAccount();
  accountId = a.accountId;
  pendingLink = await seedLink(a.accountId, a.customerId);
});
afterAll(async () => {
  pointDynamoAt(realEndpoint);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
  await env.bridge.stop();
});

/** Points the handler's (real) DynamoDB client at another endpoint, as a network fault would. */
function pointDynamoAt(endpoint: string): void {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  setAwsClients(undefined);
}

async function listen<T extends Server | TcpServer>(s: T): Promise<string> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

let n = 0;
const debits = () => [
  { accountId, channel: 'ATM_CARD', amount: 20_000, currency: 'JPY', requestId: `fc-${++n}` },
  { accountId, channel: 'EPAY_CHARGE', amount: 1_000, currency: 'JPY', linkId: pendingLink, requestId: `fc-${++n}` },
];

const throughLink = () => debits()[1]!;

async function authorize(body: unknown) {
  const res = await invoke(handler, httpEvent({ method: 'POST', path: '/v1/authorize', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), 'authorize');
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

async function expectUnavailable(endpoint: string) {
  pointDynamoAt(endpoint);
  try {
    for (const d of debits()) {
      const r = await authorize(d);
      expect(r, JSON.stringify(d)).toMatchObject({ status: 503, body: { error: 'UNAVAILABLE' } });
      expect(r.body.decision).toBeUndefined();
    }
  } finally {
    pointDynamoAt(realEndpoint);
  }
}

describe('authorize when DynamoDB cannot be reached', () => {
  it('control: with DynamoDB Local reachable, both debits are ALLOW', async () => {
    for (const d of debits()) expect((await authorize(d)).body).toMatchObject({ decision: 'ALLOW' });
  });

  it('a closed port: 503, never ALLOW', async () => {
    await expectUnavailable(`http://127.0.0.1:${await freePort()}`);
  });

  it('a peer that resets every connection: 503, never ALLOW', async () => {
    const endpoint = await listen(createTcpServer((socket) => socket.once('data', () => socket.resetAndDestroy())));
    await expectUnavailable(endpoint);
  });

  it('a peer that answers 500 to everything: 503 after the retries, never ALLOW', async () => {
    let hits = 0;
    const endpoint = await listen(
      createServer((req, res) => {
        hits++;
        req.resume();
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected' }));
      }),
    );
    await expectUnavailable(endpoint);
    expect(hits).toBeGreaterThan(2); // the SDK did retry before giving up
  });

  it('reads pass but the reservation write is reset: the pending-link debit is 503, never ALLOW', async () => {
    const target = new URL(realEndpoint);
    const writes: string[] = [];
    const endpoint = await listen(
      createServer((req, res) => {
        const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
        if (/^(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)$/.test(op)) {
          writes.push(op);
          req.socket.resetAndDestroy();
          return;
        }
        const fwd = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        fwd.on('error', () => req.socket.destroy());
        req.pipe(fwd);
      }),
    );
    pointDynamoAt(endpoint);
    try {
      const r = await authorize(throughLink());
      expect(r).toMatchObject({ status: 503, body: { error: 'UNAVAILABLE' } });
      expect(writes.length).toBeGreaterThan(0);
    } finally {
      pointDynamoAt(realEndpoint);
    }
    // Reachable again: the same debit is decided (and allowed) normally.
    expect((await authorize({ ...throughLink(), requestId: `fc-${++n}` })).body).toMatchObject({ decision: 'ALLOW' });
  });
});
