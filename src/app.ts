// The HTTP API as a plain Request → Response function: routing, input validation, and response shapes.

import { requireBearer } from './auth.js';
import { type TooLarge, readBody, tooLargeError } from './body.js';
import type { Config } from './config.js';
import { dial } from './dial.js';
import { withDnsServers } from './dns-resolver.js';
import { ServiceError, errorResponse } from './errors.js';
import { parseJson, readExchangeBody, runExchange } from './exchange.js';
import { formatSocketAddress } from './ip.js';
import { handleMcp } from './mcp.js';
import { openApiDocument } from './openapi.js';
import type { Exchange } from './outbound.js';
import { parseQuery, type Query } from './query.js';
import { limitsWithTimeout, readEndOf, wholeNumber } from './reads.js';
import { formatTarget, makeTarget, parsePort, type Target } from './target.js';
import type { TcpNetwork } from './tcp.js';
import { VERSION } from './version.js';

export { VERSION };

/** What the app needs from its surroundings; tests pass fakes, the component passes WASI. */
export interface AppDeps {
  config: () => Config;
  network: TcpNetwork;
}

type Handler = (request: Request, query: Query, deps: AppDeps) => Response | Promise<Response>;

/** Every endpoint and the methods it answers: /openapi.json documents the same table. */
export const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/health': { GET: () => new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } }) },
  '/ready': { GET: (_, __, deps) => readiness(deps) },
  '/': { GET: httpGet },
  '/tcp/send': { GET: tcpSend, POST: tcpSend },
  '/tcp/exchange': { POST: tcpExchange },
  '/openapi.json': { GET: () => json(openApiDocument()) },
  '/mcp': { POST: (request, _, deps) => handleMcp(request, deps.network, deps.config()) },
};

/** Probes answer without a token: liveness never reads settings; readiness names malformed ones, never their values. */
const OPEN_PATHS = new Set(['/health', '/ready']);

/** Builds the request handler. It never throws: every failure becomes a JSON error response. */
export function createApp(deps: AppDeps): (request: Request) => Promise<Response> {
  // Names resolve as DNS_MODE says, over TCP to DNS_SERVERS where the host refuses lookups.
  const resolving: AppDeps = { ...deps, network: withDnsServers(deps.network, () => deps.config().dns) };
  return async (request) => {
    try {
      const url = new URL(request.url);
      const route = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : undefined;
      if (!OPEN_PATHS.has(url.pathname)) {
        const token = deps.config().authToken;
        if (token !== undefined) requireBearer(request, token);
      }
      if (!route) throw new ServiceError('not-found', 404, `no endpoint at ${url.pathname}; try /health, /tcp/send, /tcp/exchange, /openapi.json or /mcp`);
      const handler = Object.hasOwn(route, request.method) ? route[request.method] : undefined;
      if (!handler) {
        const allowed = Object.keys(route).join(', ');
        throw new ServiceError('method-not-allowed', 405, `${url.pathname} accepts only ${allowed}`, { headers: { allow: allowed } });
      }
      return await handler(request, parseQuery(url.search), resolving);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/** GET /ready — 200 when every setting is well-formed, else 503 config-invalid listing each malformed one. */
function readiness(deps: AppDeps): Response {
  const problems = deps.config().problems;
  if (problems.length === 0) return json({ status: 'ready' });
  const list = problems.map((p) => `${p.setting} (expected ${p.expected})`).join('; ');
  throw new ServiceError('config-invalid', 503, `${problems.length} malformed setting${problems.length === 1 ? '' : 's'}: ${list}`, {
    extra: { settings: problems.map((p) => ({ name: p.setting, expected: p.expected })) },
  });
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

function required(query: Query, name: string, example: string): string {
  const value = query.get(name);
  if (value === undefined || value === '') {
    throw new ServiceError('missing-parameter', 400, `parameter "${name}" is required (for example ${name}=${example})`);
  }
  return value;
}

/** GET / — an HTTP/1.1 GET to the default target, or to `?host=&port=`; returns the raw reply. */
function httpGet(_: Request, query: Query, deps: AppDeps): Response {
  const host = query.get('host');
  const port = query.get('port');
  let target: Target;
  if (host === undefined || host === '') {
    const defaults = deps.config().defaultTarget;
    target = makeTarget(defaults.host, port === undefined ? defaults.port : parsePort(port));
  } else {
    target = makeTarget(host, port === undefined ? 80 : parsePort(port));
  }
  const authority = target.port === 80 ? formatTarget(target).replace(/:80$/, '') : formatTarget(target);
  const request = `GET / HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: ai-agent-sockets/${VERSION}\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
  const config = deps.config();
  const read = { idleMs: config.limits.replyIdleMs };
  return replyResponse(dial(deps.network, config, target, [{ send: new TextEncoder().encode(request), read }]));
}

/**
 * GET and POST /tcp/send — connect to host:port, send `msg` (percent-decoded bytes) or the POST body,
 * read a reply that ends as `until` / `bytes` / `idle_ms` say, within `timeout_ms`; return its raw bytes.
 */
async function tcpSend(request: Request, query: Query, deps: AppDeps): Promise<Response> {
  const target = makeTarget(required(query, 'host', '127.0.0.1'), parsePort(required(query, 'port', '6379')));
  const config = deps.config();
  const limits = limitsWithTimeout(config.limits, wholeNumber(query.get('timeout_ms'), 'timeout_ms'));
  const read = readEndOf(
    { until: query.bytes('until'), bytes: wholeNumber(query.get('bytes'), 'bytes'), idleMs: wholeNumber(query.get('idle_ms'), 'idle_ms') },
    limits,
  );
  let message = query.bytes('msg') ?? new Uint8Array(0);
  const tooLarge = (name: string): TooLarge => ({ code: 'message-too-large', name, setting: 'MAX_MESSAGE_BYTES' });
  if (message.length > limits.maxMessageBytes) throw tooLargeError(tooLarge('the message'), String(message.length), limits.maxMessageBytes);
  if (request.method === 'POST') {
    const body = await readBody(request, limits.maxMessageBytes, tooLarge('the body'));
    if (body.length > 0 && query.has('msg')) {
      throw new ServiceError('invalid-parameter', 400, 'give the message either as msg or as the request body, not both');
    }
    if (body.length > 0) message = body;
  }
  return replyResponse(dial(deps.network, config, target, [{ send: message, read }], limits));
}

/** POST /tcp/exchange — a JSON dialogue on one connection (schema: src/exchange-schema.ts). */
async function tcpExchange(request: Request, _: Query, deps: AppDeps): Promise<Response> {
  const config = deps.config();
  const body = await readExchangeBody(request, config.limits.maxMessageBytes);
  return json(runExchange(parseJson(body), deps.network, config));
}

function replyResponse(exchange: Exchange): Response {
  const reply = exchange.replies[0]!;
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'cache-control': 'no-store',
    'x-reply-end': reply.end,
    'x-peer-address': formatSocketAddress(exchange.address),
  };
  if (reply.end === 'limit') headers['x-truncated'] = 'true';
  return new Response(reply.bytes, { status: 200, headers });
}
