// The HTTP API as a plain Request → Response function: routing, input validation, and response shapes.

import { requireBearer } from './auth.js';
import type { Config } from './config.js';
import { withDnsServers } from './dns-resolver.js';
import { ServiceError, errorResponse } from './errors.js';
import { formatSocketAddress } from './ip.js';
import { type Exchange, exchangeWith } from './outbound.js';
import { parseQuery } from './query.js';
import { formatTarget, makeTarget, parsePort, type Target } from './target.js';
import type { TcpNetwork } from './tcp.js';

/** What the app needs from its surroundings; tests pass fakes, the component passes WASI. */
export interface AppDeps {
  config: () => Config;
  network: TcpNetwork;
}

export const VERSION = '0.1.0';

type Handler = (query: Map<string, string>, deps: AppDeps) => Response;

const routes: Record<string, Handler> = {
  '/health': () => new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } }),
  '/': httpGet,
  '/tcp/send': tcpSend,
};

/** Builds the request handler. It never throws: every failure becomes a JSON error response. */
export function createApp(deps: AppDeps): (request: Request) => Promise<Response> {
  // Names resolve as DNS_MODE says, over TCP to DNS_SERVERS where the host refuses lookups.
  const resolving: AppDeps = { ...deps, network: withDnsServers(deps.network, () => deps.config().dns) };
  return async (request) => {
    try {
      const url = new URL(request.url);
      const handler = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
      if (url.pathname !== '/health') {
        const token = deps.config().authToken;
        if (token !== undefined) requireBearer(request, token);
      }
      if (!handler) throw new ServiceError('not-found', 404, `no endpoint at ${url.pathname}; try /health, / or /tcp/send`);
      if (request.method !== 'GET') {
        throw new ServiceError('method-not-allowed', 405, `${url.pathname} accepts only GET`, { headers: { allow: 'GET' } });
      }
      return handler(parseQuery(url.search), resolving);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function required(query: Map<string, string>, name: string, example: string): string {
  const value = query.get(name);
  if (value === undefined || value === '') {
    throw new ServiceError('missing-parameter', 400, `parameter "${name}" is required (for example ${name}=${example})`);
  }
  return value;
}

/** GET / — an HTTP/1.1 GET to the default target, or to `?host=&port=`; returns the raw reply. */
function httpGet(query: Map<string, string>, deps: AppDeps): Response {
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
  return send(deps, target, new TextEncoder().encode(request));
}

/** GET /tcp/send — connect to host:port, send `msg` (UTF-8), return the raw reply. */
function tcpSend(query: Map<string, string>, deps: AppDeps): Response {
  const target = makeTarget(required(query, 'host', '127.0.0.1'), parsePort(required(query, 'port', '6379')));
  const limits = deps.config().limits;
  const message = new TextEncoder().encode(query.get('msg') ?? '');
  if (message.length > limits.maxMessageBytes) {
    throw new ServiceError(
      'message-too-large',
      413,
      `msg is ${message.length} bytes; the limit is ${limits.maxMessageBytes} bytes (MAX_MESSAGE_BYTES)`,
    );
  }
  return send(deps, target, message);
}

function send(deps: AppDeps, target: Target, message: Uint8Array): Response {
  const config = deps.config();
  return replyResponse(
    exchangeWith(deps.network, { target, message, limits: config.limits, policy: config.policy, fallbackAddresses: fallbacksFor(target, deps) }),
  );
}

/** Fallback addresses apply to the default target's name only, whichever endpoint names it. */
function fallbacksFor(target: Target, deps: AppDeps) {
  if (target.kind !== 'name') return [];
  const defaults = deps.config().defaultTarget;
  return target.host === defaults.host ? defaults.fallbackAddresses : [];
}

function replyResponse(exchange: Exchange): Response {
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'cache-control': 'no-store',
    'x-reply-end': exchange.end,
    'x-peer-address': formatSocketAddress(exchange.address),
  };
  if (exchange.end === 'limit') headers['x-truncated'] = 'true';
  return new Response(exchange.bytes, { status: 200, headers });
}
