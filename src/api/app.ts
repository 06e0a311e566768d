// The HTTP API as a plain Request → Response function: the route table, wired to the router.

import { ServiceError } from '../core/errors.js';
import { createRouter, type Routes } from '../http/router.js';
import { jsonResponse } from '../http/responses.js';
import { withDnsServers } from '../net/dns/resolver.js';
import type { AppDeps } from './deps.js';
import { tcpExchange } from './exchange.js';
import { handleMcp } from './mcp.js';
import { openApiDocument } from './openapi.js';
import { httpGet, tcpSend } from './send.js';

export type { AppDeps };

/** Every endpoint and the methods it answers: /openapi.json documents the same table. */
export const ROUTES: Routes<AppDeps> = {
  '/health': { GET: () => new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } }) },
  '/ready': { GET: (_, __, deps) => readiness(deps) },
  '/': { GET: httpGet },
  '/tcp/send': { GET: tcpSend, POST: tcpSend },
  '/tcp/exchange': { POST: tcpExchange },
  '/openapi.json': { GET: (_, __, deps) => jsonResponse(openApiDocument(wellFormedLimits(deps))) },
  '/mcp': { POST: (request, _, deps) => handleMcp(request, deps.network, deps.config()) },
};

/** Probes answer without a token: liveness never reads settings; readiness names malformed ones, never their values. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/ready']);

/** Builds the request handler. It never throws: every failure becomes a JSON error response. */
export function createApp(deps: AppDeps): (request: Request) => Promise<Response> {
  const route = createRouter(ROUTES, { openPaths: OPEN_PATHS, authToken: () => deps.config().authToken });
  // Names resolve as DNS_MODE says, over TCP to DNS_SERVERS where the host refuses lookups.
  const resolving: AppDeps = { ...deps, network: withDnsServers(deps.network, () => deps.config().dns) };
  return (request) => route(request, resolving);
}

/** The limits the document states as bounds; none when a setting is malformed (/ready names it). */
function wellFormedLimits(deps: AppDeps) {
  try {
    return deps.config().limits;
  } catch {
    return undefined;
  }
}

/** GET /ready — 200 when every setting is well-formed, else 503 config-invalid listing each malformed one. */
function readiness(deps: AppDeps): Response {
  const problems = deps.config().problems;
  if (problems.length === 0) return jsonResponse({ status: 'ready' });
  const list = problems.map((p) => `${p.setting} (expected ${p.expected})`).join('; ');
  throw new ServiceError('config-invalid', `${problems.length} malformed setting${problems.length === 1 ? '' : 's'}: ${list}`, {
    extra: { settings: problems.map((p) => ({ name: p.setting, expected: p.expected })) },
  });
}
