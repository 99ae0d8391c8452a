/**
 * The local dead-letter queues, as AWS has them: a small endpoint speaking SQS's JSON 1.0 protocol
 * (what @aws-sdk/client-sqs uses: POST / with `X-Amz-Target: AmazonSQS.SendMessage`), so a
 * handler that parks a message itself (the alert function, for an event that fails its schema:
 * src/alerts/dead-letter.ts) does it with the real SQS client against a queue URL, exactly as in
 * AWS. A parked message lands in the event bus's dead letters with its reason, and the
 * /dead-letters page shows it with a redrive button (an SQS DLQ redrive).
 */
import { createServer, type Server } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { listenLocal } from './free-port.ts';
import { readBody } from './faults.ts';
import { escapeHtml, htmlPage, jsonResponse, type LocalPage } from './http-server.ts';
import type { LocalEventBus } from './event-bus.ts';

const ACCOUNT = '000000000000';

export interface LocalDeadLetterQueues {
  endpoint: string;
  /** The queue URL of a route's dead-letter queue (what the stack gives a function as *_DLQ_URL). */
  queueUrl(routeName: string): string;
  stop(): Promise<void>;
}

interface SqsError {
  status: number;
  type: string;
  message: string;
}

const sqsError = (status: number, type: string, message: string): SqsError => ({ status, type, message });

/** SendMessage's MessageAttributes ({Name: {DataType, StringValue}}) as plain strings. */
function attributesOf(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const value = (v as { StringValue?: unknown } | null)?.StringValue;
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/** `bus` is a getter: the queues start before the bus (the handlers' environment names them). */
export async function startLocalDeadLetterQueues(bus: () => LocalEventBus, opts: { port?: number } = {}): Promise<LocalDeadLetterQueues> {
  const routeOf = (queueUrl: unknown): string | undefined => {
    if (typeof queueUrl !== 'string') return undefined;
    const m = /\/(\d{12})\/([A-Za-z0-9_-]+)-dlq$/.exec(queueUrl);
    return m?.[1] === ACCOUNT ? m[2] : undefined;
  };
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(body));
    };
    const fail = (e: SqsError) => reply(e.status, { __type: `com.amazonaws.sqs#${e.type}`, message: e.message });
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || !target.startsWith('AmazonSQS.')) return fail(sqsError(400, 'InvalidAction', 'only the SQS JSON protocol is served here'));
      const action = target.slice('AmazonSQS.'.length);
      if (action !== 'SendMessage') return fail(sqsError(400, 'UnsupportedOperation', `${action} is not served by the local dead-letter queues`));
      let input: { QueueUrl?: unknown; MessageBody?: unknown; MessageAttributes?: unknown };
      try {
        input = JSON.parse((await readBody(req)).toString('utf8')) as typeof input;
      } catch {
        return fail(sqsError(400, 'InvalidParameterValue', 'the request body is not JSON'));
      }
      const route = routeOf(input.QueueUrl);
      if (!route) return fail(sqsError(400, 'QueueDoesNotExist', 'The specified queue does not exist.'));
      if (typeof input.MessageBody !== 'string' || input.MessageBody.length === 0) return fail(sqsError(400, 'MissingParameter', 'MessageBody is required'));
      // SQS refuses bodies above 256 KiB.
      if (Buffer.byteLength(input.MessageBody, 'utf8') > 262_144) return fail(sqsError(400, 'InvalidParameterValue', 'MessageBody is longer than 262144 bytes'));
      let letter;
      try {
        letter = bus().park(route, input.MessageBody, attributesOf(input.MessageAttributes));
      } catch {
        return fail(sqsError(400, 'QueueDoesNotExist', 'The specified queue does not exist.'));
      }
      // The SDK checks the body's MD5 against its own, as with SQS.
      return reply(200, { MessageId: letter.messageId, MD5OfMessageBody: createHash('md5').update(input.MessageBody, 'utf8').digest('hex') });
    } catch {
      return fail(sqsError(500, 'InternalError', 'local dead-letter queue error'));
    }
  });
  const endpoint = await listenLocal(server, opts.port || undefined);
  return {
    endpoint,
    queueUrl: (routeName) => `${endpoint}/${ACCOUNT}/${routeName}-dlq`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** /dead-letters (+ .json): what each DLQ holds, with the reason, and a redrive button per message. */
export function deadLetterPages(bus: LocalEventBus): LocalPage[] {
  return [
    {
      path: '/dead-letters',
      title: 'Dead letters',
      handle: (req) => {
        const redriven = req.url.searchParams.get('redriven');
        const rows = bus
          .deadLetters()
          .reverse()
          .map(
            (d) =>
              `<tr><td>${escapeHtml(d.deadAt)}</td><td>${escapeHtml(d.detailType)}<br><code>${escapeHtml(d.eventId)}</code>${d.attributes?.eventId ? `<br>core event <code>${escapeHtml(d.attributes.eventId)}</code>` : ''}</td><td>${escapeHtml(d.route)} → ${d.target}</td><td>${d.receiveCount}</td><td>${escapeHtml(d.lastError)}</td>` +
              `<td><form method="post" action="/dead-letters/redrive"><input type="hidden" name="messageId" value="${escapeHtml(d.messageId)}"><button>Redrive</button></form></td></tr>`,
          )
          .join('');
        return htmlPage(
          'Dead letters',
          `${redriven ? `<p role="status">${redriven === 'ok' ? 'Sent back to its queue.' : 'Nothing redriven: that message is no longer here.'}</p>` : ''}
<p>What each queue's dead-letter queue holds, newest first: messages that failed their route's maxReceiveCount receives, and events a handler parked itself with the reason (an event that fails its schema). Redrive sends a message back to its queue, as an SQS DLQ redrive does. JSON: <a href="/dead-letters.json">/dead-letters.json</a>.</p>
<table><tr><th>When</th><th>Event</th><th>Queue → function</th><th>Receives</th><th>Reason / last error</th><th></th></tr>${rows || '<tr><td colspan="6">None.</td></tr>'}</table>`,
        );
      },
    },
    { path: '/dead-letters.json', handle: () => jsonResponse(bus.deadLetters()) },
    {
      method: 'POST',
      path: '/dead-letters/redrive',
      handle: (req) => {
        const messageId = new URLSearchParams(req.body.toString('utf8')).get('messageId') ?? '';
        const ok = messageId !== '' && bus.redrive(messageId);
        return { status: 303, headers: { location: `/dead-letters?redriven=${ok ? 'ok' : 'none'}`, 'cache-control': 'no-store' }, body: '' };
      },
    },
  ];
}
