/**
 * Local SES v2: the npm package aws-ses-v2-local (SendEmail, SendBulkEmail with templates, a
 * mailbox page at `/`, and what it received as JSON at `/store`) run as a child process, behind a
 * small proxy of ours. The proxy is what the SDK talks to: it injects faults at the wire (429
 * TooManyRequestsException, 5xx, 400 MessageRejected) and keeps what aws-ses-v2-local does not store, the EmailTags
 * and the configuration set of each accepted message. Every other request passes through, so
 * the mailbox page and its JSON work on the proxy's port too.
 *
 * Like a configuration set with an SNS event destination, it publishes an SES `Send` event
 * record (with the message's tags) for every message accepted with a ConfigurationSetName, to
 * the listeners given to `onSendEvents` (the local runtime hands them to the delivery function),
 * after the answer has gone back to the caller, as SES does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ChildExitedError, listenLocal, startOnFreePort } from './free-port.ts';
import { FaultQueue, readBody, send, type Fault } from './faults.ts';

export interface LocalEmail {
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  html?: string;
  text?: string;
  replyTo?: string[];
  tags?: Record<string, string>;
  at: string;
}

/** An SES event-publishing record (`eventType: 'Send'`), as the configuration set's SNS destination carries it. */
export interface SesSendEventRecord {
  eventType: 'Send';
  mail: {
    timestamp: string;
    source: string;
    sendingAccountId: string;
    messageId: string;
    destination: string[];
    headersTruncated: boolean;
    commonHeaders: { from: string[]; to: string[]; messageId: string };
    tags: Record<string, string[]>;
  };
  send: Record<string, never>;
}

export interface LocalSes {
  endpoint: string;
  mailboxUrl: string;
  emails(): Promise<LocalEmail[]>;
  /** Receives the `Send` event records of messages accepted with a configuration set. */
  onSendEvents(listener: (records: SesSendEventRecord[]) => Promise<void> | void): void;
  injectFaults(faults: readonly Fault[]): void;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

interface StoredEmail {
  messageId: string;
  from: string;
  replyTo?: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  at: number;
}

function cliPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('aws-ses-v2-local/package.json')), 'dist', 'cli.js');
}

async function startChild(port: number): Promise<ChildProcess> {
  // SMTP_TRANSPORT would make it relay every message to a real SMTP server: never locally.
  const { SMTP_TRANSPORT: _smtp, ...env } = process.env;
  // The child exits when our end of its stdin closes, so a killed parent (a test worker, Ctrl-C
  // twice) leaves no orphan. cli.js strips argv[0..1] like any script, hence the path first.
  const watchParent = "process.stdin.on('end',()=>process.exit(0));process.stdin.on('error',()=>process.exit(0));process.stdin.resume();require(process.argv[1]);";
  const child = spawn(process.execPath, ['-e', watchParent, cliPath(), '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  // Generous: on a loaded 2-core machine a Node child can take tens of seconds to listen.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new ChildExitedError(`aws-ses-v2-local exited (${child.exitCode}): ${output}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health-check`);
      if (r.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`aws-ses-v2-local did not start on port ${port}: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The error bodies SES v2 (restJson1) answers with; the SDK reads the type from the header. */
function faultResponse(fault: Fault): { status: number; type: string; message: string } {
  if (fault === 'throttle') return { status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' };
  if (fault === 'reject') return { status: 400, type: 'MessageRejected', message: 'Email address is not verified.' };
  return { status: 500, type: 'InternalFailure', message: 'The request processing has failed because of an unknown error.' };
}

export async function startLocalSes(opts: { port?: number } = {}): Promise<LocalSes> {
  const { port: childPort, child } = await startOnFreePort(undefined, async (port) => ({ port, child: await startChild(port) }));
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const upstream = `http://127.0.0.1:${childPort}`;
  const faults = new FaultQueue();
  const extras = new Map<string, { tags: Record<string, string>; acceptedAt: string }>();
  const sendListeners: ((records: SesSendEventRecord[]) => Promise<void> | void)[] = [];
  const publish = (records: SesSendEventRecord[]) => {
    if (records.length === 0) return;
    for (const l of sendListeners) void Promise.resolve(l(records)).catch(() => undefined);
  };
  const sendEvent = (messageId: string, from: string, to: string[], tags: Record<string, string>, operation: string): SesSendEventRecord => ({
    eventType: 'Send',
    mail: {
      timestamp: new Date().toISOString(),
      source: from,
      sendingAccountId: '000000000000',
      messageId,
      destination: to,
      headersTruncated: false,
      commonHeaders: { from: [from], to, messageId },
      tags: {
        ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, [v]])),
        'ses:operation': [operation],
        'ses:source-ip': ['127.0.0.1'],
        'ses:caller-identity': ['local'],
      },
    },
    send: {},
  });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const isApiCall = req.method !== 'GET' && req.headers.authorization !== undefined;
      if (isApiCall) {
        const fault = faults.next();
        if (fault) {
          const f = faultResponse(fault);
          send(res, f.status, JSON.stringify({ message: f.message }), {
            'content-type': 'application/json',
            'x-amzn-errortype': f.type,
            'x-amzn-requestid': randomUUID(),
          });
          return;
        }
      }
      const headers = { ...req.headers, host: `127.0.0.1:${childPort}` };
      const up = request(`${upstream}${req.url ?? '/'}`, { method: req.method, headers }, (upRes) => {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const out = Buffer.concat(chunks);
          let events: SesSendEventRecord[] = [];
          if (isApiCall && upRes.statusCode === 200 && req.url?.startsWith('/v2/email/outbound-emails')) {
            events = rememberTags(body, out);
          }
          if (isApiCall && upRes.statusCode === 200 && req.url?.startsWith('/v2/email/outbound-bulk-emails')) {
            events = rememberBulkTags(body, out);
          }
          // SES publishes a Send event for every message it accepted, whether or not the caller
          // is still there to read the answer (a campaign worker killed mid-call). After the
          // answer when there is one; at once when the caller has hung up.
          if (res.destroyed) publish(events);
          else res.once('close', () => publish(events));
          const h = { ...upRes.headers };
          delete h['transfer-encoding'];
          h['content-length'] = String(out.length);
          // aws-ses-v2-local's errors carry no type; the SDK needs one to name the exception.
          if ((upRes.statusCode ?? 500) >= 400 && isApiCall && !h['x-amzn-errortype']) h['x-amzn-errortype'] = 'BadRequestException';
          res.writeHead(upRes.statusCode ?? 502, h);
          res.end(out);
        });
      });
      up.on('error', (e) => send(res, 502, JSON.stringify({ message: `local SES unavailable: ${e.message}` })));
      up.end(body);
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, JSON.stringify({ message: String(e) }));
    });
  });

  function rememberTags(reqBody: Buffer, resBody: Buffer): SesSendEventRecord[] {
    try {
      const input = JSON.parse(reqBody.toString('utf8')) as {
        EmailTags?: { Name: string; Value: string }[];
        ConfigurationSetName?: string;
        FromEmailAddress?: string;
        Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
      };
      const { MessageId } = JSON.parse(resBody.toString('utf8')) as { MessageId?: string };
      if (!MessageId) return [];
      const tags = Object.fromEntries((input.EmailTags ?? []).map((t) => [t.Name, t.Value]));
      if (input.ConfigurationSetName) tags['ses:configuration-set'] = input.ConfigurationSetName;
      extras.set(MessageId, { tags, acceptedAt: new Date().toISOString() });
      if (!input.ConfigurationSetName) return [];
      const d = input.Destination ?? {};
      return [sendEvent(MessageId, input.FromEmailAddress ?? '', [...(d.ToAddresses ?? []), ...(d.CcAddresses ?? []), ...(d.BccAddresses ?? [])], tags, 'SendEmail')];
    } catch {
      // not JSON: nothing to remember
      return [];
    }
  }

  /** SendBulkEmail: DefaultEmailTags plus each entry's ReplacementTags, matched to results by position. */
  function rememberBulkTags(reqBody: Buffer, resBody: Buffer): SesSendEventRecord[] {
    try {
      type Tag = { Name: string; Value: string };
      const input = JSON.parse(reqBody.toString('utf8')) as {
        DefaultEmailTags?: Tag[];
        ConfigurationSetName?: string;
        FromEmailAddress?: string;
        BulkEmailEntries?: { ReplacementTags?: Tag[]; Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] } }[];
      };
      const { BulkEmailEntryResults } = JSON.parse(resBody.toString('utf8')) as { BulkEmailEntryResults?: { MessageId?: string }[] };
      const events: SesSendEventRecord[] = [];
      (BulkEmailEntryResults ?? []).forEach((r, i) => {
        if (!r.MessageId) return;
        const entry = input.BulkEmailEntries?.[i];
        const tags = Object.fromEntries([...(input.DefaultEmailTags ?? []), ...(entry?.ReplacementTags ?? [])].map((t) => [t.Name, t.Value]));
        if (input.ConfigurationSetName) tags['ses:configuration-set'] = input.ConfigurationSetName;
        extras.set(r.MessageId, { tags, acceptedAt: new Date().toISOString() });
        const d = entry?.Destination ?? {};
        if (input.ConfigurationSetName) events.push(sendEvent(r.MessageId, input.FromEmailAddress ?? '', [...(d.ToAddresses ?? []), ...(d.CcAddresses ?? []), ...(d.BccAddresses ?? [])], tags, 'SendBulkEmail'));
      });
      return events;
    } catch {
      // not JSON: nothing to remember
      return [];
    }
  }

  const endpoint = await listenLocal(server, opts.port);

  return {
    endpoint,
    mailboxUrl: `${endpoint}/`,
    injectFaults: (f) => faults.push(f),
    onSendEvents: (l) => void sendListeners.push(l),
    async emails() {
      const r = await fetch(`${upstream}/store`);
      const { emails } = (await r.json()) as { emails: StoredEmail[] };
      return emails.map((e): LocalEmail => {
        const extra = extras.get(e.messageId);
        return {
          messageId: e.messageId,
          from: e.from,
          to: e.destination.to,
          subject: e.subject,
          ...(e.body.html !== undefined ? { html: e.body.html } : {}),
          ...(e.body.text !== undefined ? { text: e.body.text } : {}),
          ...(e.replyTo && e.replyTo.length > 0 ? { replyTo: e.replyTo } : {}),
          ...(extra && Object.keys(extra.tags).length > 0 ? { tags: extra.tags } : {}),
          at: extra?.acceptedAt ?? new Date(e.at * 1000).toISOString(),
        };
      });
    },
    async clear() {
      faults.clear();
      extras.clear();
      await fetch(`${upstream}/clear-store`, { method: 'POST' });
    },
    async stop() {
      process.removeListener('exit', killChild);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
    },
  };
}
