/**
 * The local API Gateway (HTTP API, payload format 2.0): one Node http server that turns requests
 * into the events the Lambdas get in AWS, routed by `httpRoutes` in src/routing.ts, and maps the
 * results back. It also emulates the authorisers (IAM -> an API key header; the Cognito JWT
 * authoriser -> a signed dev-login session cookie) and serves the local pages: the home page,
 * `POST /events` (the core bank's EventBridge PutEvents), dead letters, and pages added by others.
 *
 * Fidelity notes (what handlers must cope with, as in AWS):
 * - headers are lowercased and duplicates joined with ","; the Cookie header is removed and its
 *   cookies come in `cookies`; duplicate query parameters are joined with ",";
 * - a body whose content type is not textual (form posts included) arrives base64-encoded with
 *   `isBase64Encoded: true`;
 * - JWT claims are strings, and `cognito:groups` is the authoriser's flattened "[g1 g2]" form.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { httpRoutes as defaultHttpRoutes, type HttpRoute } from '../src/routing.ts';
import { CORE_SOURCE, EventBridgeEnvelope } from '../events/core.ts';
import type { PutEnvelope, PutResult } from './event-bus.ts';
import { FunctionNotLoadedError, FunctionTimeoutError, type Invoke } from './handlers.ts';

const REGION = 'ap-northeast-1';
const ACCOUNT = '000000000000';
/** API Gateway's payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** EventBridge's entry limit. */
const MAX_EVENT_BYTES = 256 * 1024;
const MAX_EVENTS_PER_POST = 100;
export const SESSION_COOKIE = 'local_ops_session';
const SESSION_TTL_SECONDS = 12 * 60 * 60;

// ---------------------------------------------------------------------------------------------
// Pages: how the runtime and colleagues add local-only pages (mailbox links, consoles, JSON feeds).

export interface Operator {
  id: string;
  groups: string[];
}

export interface LocalRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The dev-login session, when the request carries a valid one. */
  operator: Operator | undefined;
}

export interface LocalResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

export interface LocalPage {
  /** Default GET. */
  method?: 'GET' | 'POST';
  /** Exact path, or a prefix when it ends with "*" (e.g. "/console/*"). */
  path: string;
  /** When set, the home page links to it under this title (GET pages only). */
  title?: string;
  handle(req: LocalRequest): LocalResponse | Promise<LocalResponse>;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A small, self-contained HTML page (no external fonts or scripts). `body` is trusted HTML. */
export function htmlPage(title: string, body: string, status = 200): LocalResponse {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font:15px/1.5 system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a}code,pre{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px;overflow-x:auto}pre{padding:.6rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}a{color:#0645ad}</style></head><body><h1>${escapeHtml(title)}</h1>${body}<p><a href="/">Local runtime home</a></p></body></html>`,
  };
}

export function jsonResponse(data: unknown, status = 200): LocalResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(data, null, 2) };
}

// ---------------------------------------------------------------------------------------------
// Dev-login sessions: the local stand-in for the Cognito JWT authoriser.

export function signSession(secret: string, operator: Operator, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const payload = Buffer.from(JSON.stringify({ sub: operator.id, groups: operator.groups, iat: nowSeconds, exp: nowSeconds + SESSION_TTL_SECONDS })).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}

interface SessionClaims {
  sub: string;
  groups: string[];
  iat: number;
  exp: number;
}

export function verifySession(secret: string, value: string | undefined, nowSeconds = Math.floor(Date.now() / 1000)): SessionClaims | undefined {
  if (!value) return undefined;
  const [payload, mac, extra] = value.split('.');
  if (!payload || !mac || extra !== undefined) return undefined;
  const expected = createHmac('sha256', secret).update(payload).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SessionClaims;
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.groups) || typeof claims.exp !== 'number' || claims.exp < nowSeconds) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}

const OPERATOR_ID = /^[A-Za-z0-9._@-]{1,64}$/;
const GROUP = /^[A-Za-z0-9._-]{1,64}$/;

/** A Set-Cookie value for an operator session (tests and scripts log in with it). */
export function sessionCookie(secret: string, operator: Operator): string {
  return `${SESSION_COOKIE}=${signSession(secret, operator)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_SECONDS}`;
}

// ---------------------------------------------------------------------------------------------
// Route matching with API Gateway's path syntax.

interface CompiledRoute {
  route: HttpRoute;
  regex: RegExp;
  params: string[];
  /** More specific routes first: literal segments, then {param}, then {proxy+}. */
  rank: number;
}

export function compileRoute(route: HttpRoute): CompiledRoute {
  const params: string[] = [];
  let rank = 0;
  const pattern = route.path
    .split('/')
    .map((seg) => {
      const greedy = /^\{([A-Za-z0-9_]+)\+\}$/.exec(seg);
      if (greedy) {
        params.push(greedy[1]!);
        rank += 1000;
        return '(.+)';
      }
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(seg);
      if (param) {
        params.push(param[1]!);
        rank += 10;
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { route, regex: new RegExp(`^${pattern}$`), params, rank };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// The API Gateway event and result mapping.

/** API Gateway treats these as text; everything else reaches the function base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  return ct.startsWith('text/') || ct.includes('json') || ct.includes('xml') || ct.includes('javascript');
}

function joinHeader(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

function requestId(): string {
  return randomBytes(10).toString('base64');
}

function clfTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export interface ApiRequest {
  method: string;
  /** Path and query as received (raw, still percent-encoded). */
  rawUrl: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
  host: string;
}

export function toApiGatewayEvent(
  req: ApiRequest,
  matched: CompiledRoute,
  pathMatch: RegExpExecArray,
  authorizer: Record<string, unknown> | undefined,
): APIGatewayProxyEventV2 {
  const q = req.rawUrl.indexOf('?');
  const rawPath = q >= 0 ? req.rawUrl.slice(0, q) : req.rawUrl;
  const rawQueryString = q >= 0 ? req.rawUrl.slice(q + 1) : '';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    const joined = joinHeader(value);
    if (joined === undefined || name === 'cookie' || name === 'x-api-key') continue;
    headers[name] = joined;
  }
  headers['x-forwarded-for'] ??= req.sourceIp;
  headers['x-forwarded-proto'] ??= 'https';
  const cookieHeader = joinHeader(req.headers.cookie);
  const cookies = cookieHeader
    ?.split(';')
    .map((c) => c.trim())
    .filter(Boolean);
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = k in query ? `${query[k]},${v}` : v;
  const pathParameters: Record<string, string> = {};
  matched.params.forEach((name, i) => (pathParameters[name] = decode(pathMatch[i + 1]!)));
  const text = isTextContentType(headers['content-type']);
  const now = new Date();
  const routeKey = `${matched.route.method} ${matched.route.path}`;
  const event: APIGatewayProxyEventV2 & { requestContext: { authorizer?: Record<string, unknown> } } = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'local',
      ...(authorizer ? { authorizer } : {}),
      domainName: req.host,
      domainPrefix: req.host.split('.')[0]!.split(':')[0]!,
      http: { method: req.method, path: decode(rawPath), protocol: 'HTTP/1.1', sourceIp: req.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: requestId(),
      routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    ...(req.body.length > 0 ? { body: text ? req.body.toString('utf8') : req.body.toString('base64') } : {}),
    isBase64Encoded: req.body.length > 0 && !text,
  };
  return event;
}

/** Maps a payload-2.0 result to the HTTP response API Gateway would send. */
export function fromApiGatewayResult(result: unknown): LocalResponse {
  const isStructured = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!isStructured) {
    // No statusCode: API Gateway assumes 200 and a JSON body (a string is sent as is).
    return { status: 200, headers: { 'content-type': 'application/json' }, body: typeof result === 'string' ? result : JSON.stringify(result) };
  }
  const r = result as { statusCode: unknown; headers?: Record<string, unknown>; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
  if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) {
    return { status: 500, headers: { 'content-type': 'application/json' }, body: '{"message":"Internal Server Error"}' };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
  }
  if (Array.isArray(r.cookies) && r.cookies.length > 0) headers['set-cookie'] = r.cookies.map(String);
  const bodyText = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded === true ? Buffer.from(bodyText, 'base64') : bodyText;
  return { status: r.statusCode, headers, body };
}

// ---------------------------------------------------------------------------------------------
// POST /events: the core bank's PutEvents, validated as EventBridge would.

export class BadEventsError extends Error {
  override readonly name = 'BadEventsError';
}

/** Parses and validates a body holding one envelope or a list. Throws BadEventsError with the reason. */
export function parseCoreEvents(body: Buffer): PutEnvelope[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new BadEventsError(`body is not JSON: ${(e as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) throw new BadEventsError('no events: send {source, detail-type, detail} or a list of them');
  if (list.length > MAX_EVENTS_PER_POST) throw new BadEventsError(`too many events: at most ${MAX_EVENTS_PER_POST} per request`);
  return list.map((item, i) => {
    const where = Array.isArray(parsed) ? `event ${i}: ` : '';
    const r = EventBridgeEnvelope.safeParse(item);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new BadEventsError(`${where}${issue.path.join('.') || 'envelope'}: ${issue.message}`);
    }
    const e = r.data;
    if (e.source !== CORE_SOURCE) throw new BadEventsError(`${where}source must be "${CORE_SOURCE}" (got "${e.source}")`);
    if (e['detail-type'].length === 0 || e['detail-type'].length > 128) throw new BadEventsError(`${where}detail-type must be 1-128 characters`);
    if (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail)) throw new BadEventsError(`${where}detail must be a JSON object`);
    if (Buffer.byteLength(JSON.stringify(item)) > MAX_EVENT_BYTES) throw new BadEventsError(`${where}event larger than 256 KB`);
    return { source: e.source, 'detail-type': e['detail-type'], detail: e.detail, ...(e.id ? { id: e.id } : {}), ...(e.time ? { time: e.time } : {}) };
  });
}

// ---------------------------------------------------------------------------------------------
// The server.

export interface LocalHttpServerOptions {
  invoke: Invoke;
  /** Required in header x-api-key on `auth: 'iam'` routes. */
  apiKey: string;
  /** Signs dev-login sessions. */
  sessionSecret: string;
  /** POST /events puts here. Without it, /events answers 404. */
  putEvents?: (events: PutEnvelope[]) => PutResult[];
  routes?: readonly HttpRoute[];
  /** Local pages (the home page links those with a title). */
  pages?: readonly LocalPage[];
  /** Extra links on the home page (e.g. the mailbox on its own port). */
  links?: readonly { title: string; href: string }[];
  port?: number;
  host?: string;
  /** A port held open for this server (reservePort): listened on instead of `port`/`host`. */
  handle?: NetServer;
  /** One-line notes (handler errors, by name only). */
  log?: (line: string) => void;
}

export interface LocalHttpServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const IAM_AUTHORIZER = {
  iam: {
    accessKey: 'ASIALOCALCOREBANK000',
    accountId: ACCOUNT,
    callerId: 'AROALOCALCOREBANK0000:core-bank',
    cognitoIdentity: null,
    principalOrgId: null,
    userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/core-bank/local`,
    userId: 'AROALOCALCOREBANK0000:core-bank',
  },
};

function jwtAuthorizer(claims: SessionClaims): Record<string, unknown> {
  return {
    jwt: {
      claims: {
        sub: claims.sub,
        'cognito:groups': `[${claims.groups.join(' ')}]`,
        'cognito:username': claims.sub,
        username: claims.sub,
        token_use: 'access',
        client_id: 'local-ops-console',
        iss: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_local`,
        iat: String(claims.iat),
        exp: String(claims.exp),
        auth_time: String(claims.iat),
      },
      scopes: null,
    },
  };
}

function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  for (const part of (joinHeader(header) ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function apiKeyMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function unauthorized(wantsHtml: boolean, loginHint: boolean): LocalResponse {
  if (wantsHtml && loginHint) {
    return htmlPage('Unauthorized', '<p>This page is for bank operations. <a href="/dev-login">Log in as an operator</a> (local dev login).</p>', 401);
  }
  return { status: 401, headers: { 'content-type': 'application/json' }, body: '{"message":"Unauthorized"}' };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: LocalResponse, reqId?: string): void {
  const headers = { ...(r.headers ?? {}) };
  if (reqId) headers['apigw-requestid'] = reqId;
  res.writeHead(r.status, headers);
  res.end(r.body ?? '');
}

function matchPage(pages: readonly LocalPage[], method: string, path: string): LocalPage | undefined {
  return pages.find((p) => (p.method ?? 'GET') === method && (p.path.endsWith('*') ? path.startsWith(p.path.slice(0, -1)) : p.path === path));
}

export function startLocalHttpServer(opts: LocalHttpServerOptions): Promise<LocalHttpServer> {
  const compiled = (opts.routes ?? defaultHttpRoutes).map(compileRoute).sort((a, b) => a.rank - b.rank);
  const log = opts.log ?? (() => {});
  const builtIn: LocalPage[] = [
    { path: '/', handle: (r) => homePage(opts, pages, r.headers.host ?? 'localhost') },
    { path: '/healthz', handle: () => jsonResponse({ ok: true }) },
    { path: '/dev-login', title: 'Operator dev login', handle: (r) => devLoginPage(r) },
    { method: 'POST', path: '/dev-login', handle: (r) => devLogin(r, opts.sessionSecret) },
    {
      method: 'POST',
      path: '/dev-logout',
      handle: () => ({ status: 303, headers: { location: '/', 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` } }),
    },
  ];
  if (opts.putEvents) {
    const put = opts.putEvents;
    builtIn.push({
      method: 'POST',
      path: '/events',
      handle: (r) => {
        // JSON only: a cross-site form cannot send it without a CORS preflight, which we never answer.
        if (!/^application\/json\b/i.test(r.headers['content-type'] ?? '')) {
          return jsonResponse({ message: 'content-type must be application/json' }, 415);
        }
        try {
          const results = put(parseCoreEvents(r.body));
          return jsonResponse({ FailedEntryCount: 0, Entries: results.map((x) => ({ EventId: x.eventId, routes: x.routes })) });
        } catch (e) {
          if (e instanceof BadEventsError) return jsonResponse({ message: e.message }, 400);
          throw e;
        }
      },
    });
  }
  const pages = [...builtIn, ...(opts.pages ?? [])];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req);
    if (body === undefined) return send(res, jsonResponse({ message: 'Request Entity Too Large' }, 413));
    const session = verifySession(opts.sessionSecret, readCookie(req.headers.cookie, SESSION_COOKIE));
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');

    const pathMatches = compiled.map((c) => ({ c, m: c.regex.exec(url.pathname) })).filter((x) => x.m);
    const api = pathMatches.find((x) => x.c.route.method === method);
    if (api) {
      const { route } = api.c;
      let authorizer: Record<string, unknown> | undefined;
      if (route.auth === 'iam') {
        if (!apiKeyMatches(req.headers['x-api-key'], opts.apiKey)) return send(res, unauthorized(false, false));
        authorizer = IAM_AUTHORIZER;
      } else if (route.auth === 'operator') {
        if (!session) return send(res, unauthorized(wantsHtml, true));
        authorizer = jwtAuthorizer(session);
      }
      const event = toApiGatewayEvent(
        { method, rawUrl, headers: req.headers, body, sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', host: req.headers.host ?? 'localhost' },
        api.c,
        api.m!,
        authorizer,
      );
      try {
        const result = await opts.invoke(route.target, event);
        return send(res, fromApiGatewayResult(result), event.requestContext.requestId);
      } catch (e) {
        if (e instanceof FunctionTimeoutError) {
          // API Gateway's answer when the integration times out.
          return send(res, jsonResponse({ message: 'Service Unavailable' }, 503), event.requestContext.requestId);
        }
        if (e instanceof FunctionNotLoadedError) {
          return send(res, jsonResponse({ message: `Service Unavailable: ${e.message}` }, 503), event.requestContext.requestId);
        }
        log(`${route.target}: invocation failed (${e instanceof Error ? e.name : 'error'}) for ${method} ${route.path} request ${event.requestContext.requestId}`);
        return send(res, jsonResponse({ message: 'Internal Server Error' }, 500), event.requestContext.requestId);
      }
    }
    const page = matchPage(pages, method, url.pathname);
    if (page) return send(res, await page.handle({ method, url, headers: req.headers, body, operator: session ? { id: session.sub, groups: session.groups } : undefined }));
    send(res, jsonResponse({ message: 'Not Found' }, 404));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log(`local http server: ${e instanceof Error ? e.name : 'error'} on ${req.method ?? ''} ${(req.url ?? '').split('?')[0]}`);
      if (!res.headersSent) send(res, jsonResponse({ message: 'Internal Server Error' }, 500));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new Error(`port ${opts.port} is in use (set LOCAL_API_PORT to another port)`) : e);
    });
    const listening = () => {
      // A reserved port's socket was unreferenced while it waited; this server keeps the process up.
      if (opts.handle) server.ref();
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://localhost:${port}`,
        port,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    };
    // A reserved port is taken over without ever being let go (local/free-port.ts).
    if (opts.handle) server.listen(opts.handle, listening);
    else server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', listening);
  });
}

function homePage(opts: LocalHttpServerOptions, pages: readonly LocalPage[], host: string): LocalResponse {
  const links = [...(opts.links ?? []), ...pages.filter((p) => p.title && (p.method ?? 'GET') === 'GET').map((p) => ({ title: p.title!, href: p.path.replace(/\*$/, '') }))];
  const apiRoutes = (opts.routes ?? defaultHttpRoutes).map((r) => `<tr><td><code>${r.method} ${escapeHtml(r.path)}</code></td><td>${r.target}</td><td>${r.auth}</td></tr>`).join('');
  return htmlPage(
    'Linked-account alerting — local runtime',
    `<ul>${links.map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.title)}</a></li>`).join('')}</ul>
<h2>Send a core-bank event</h2>
<pre>curl -s http://${escapeHtml(host)}/events -H 'content-type: application/json' -d @events/examples/LinkCreated.json</pre>
<h2>API routes (as deployed to API Gateway)</h2><table><tr><th>Route</th><th>Function</th><th>Auth</th></tr>${apiRoutes}</table>
<p>auth <code>iam</code>: header <code>x-api-key</code> (printed by <code>npm start</code>); <code>operator</code>: <a href="/dev-login">dev login</a>.</p>`,
  );
}

function devLoginPage(r: LocalRequest): LocalResponse {
  const next = r.url.searchParams.get('next') ?? '/';
  const who = r.operator ? `<p>Logged in as <code>${escapeHtml(r.operator.id)}</code> (groups: ${escapeHtml(r.operator.groups.join(', '))}).</p><form method="post" action="/dev-logout"><button>Log out</button></form>` : '';
  return htmlPage(
    'Operator dev login (local only)',
    `${who}<p>Stands in for the Cognito login of the operations console. No password: local mode only.</p>
<form method="post" action="/dev-login"><input type="hidden" name="next" value="${escapeHtml(next)}">
<p><label>Operator id <input name="operator" required pattern="[A-Za-z0-9._@\\-]{1,64}" value="op-alice"></label></p>
<p><label>Groups (space separated) <input name="groups" value="operators"></label></p>
<p><button>Log in</button></p></form>`,
  );
}

function devLogin(r: LocalRequest, secret: string): LocalResponse {
  const form = new URLSearchParams(r.body.toString('utf8'));
  const id = (form.get('operator') ?? '').trim();
  const groups = (form.get('groups') ?? 'operators').split(/[\s,]+/).filter(Boolean);
  if (!OPERATOR_ID.test(id)) return htmlPage('Operator dev login', '<p>Operator id: 1-64 letters, digits or . _ @ -. <a href="/dev-login">Back</a></p>', 400);
  if (groups.some((g) => !GROUP.test(g))) return htmlPage('Operator dev login', '<p>Groups: letters, digits or . _ - only. <a href="/dev-login">Back</a></p>', 400);
  const next = form.get('next') ?? '/';
  // Only local paths: an open redirect would be a phishing aid even locally.
  const location = next.startsWith('/') && !next.startsWith('//') ? next : '/';
  return { status: 303, headers: { location, 'set-cookie': sessionCookie(secret, { id, groups }) } };
}

