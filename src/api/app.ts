// The HTTP API as a plain Request → Response function: the route table, wired to the router.

import { ServiceError } from '../core/errors.js';
import { createRouter, type Routes } from '../http/router.js';
import { bearerToken } from '../http/auth.js';
import { errorCodeOf, errorResponse, jsonResponse } from '../http/responses.js';
import { allowedOrigin, checkHost, isPreflight, preflightResponse, withCors } from '../http/origin.js';
import { AuditRecord, callerOf, shownRoute } from './audit.js';
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
  '/mcp': { POST: (request, _, deps) => handleMcp(request, deps.network, deps.config(), deps.audit) },
};

/** Probes answer without a token: liveness never reads settings; readiness names malformed ones, never their values. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/ready']);

/** Builds the request handler. It never throws: every failure becomes a JSON error response. */
export function createApp(deps: AppDeps): (request: Request) => Promise<Response> {
  // Every request but the probes depends on AUDIT_LOG: a malformed one is refused rather than left unrecorded.
  const route = createRouter(ROUTES, { openPaths: OPEN_PATHS, authToken: () => deps.config().authToken, checkSettings: () => void deps.config().auditLog });
  // Names resolve as DNS_MODE says, over TCP to DNS_SERVERS where the host refuses lookups.
  const resolving: AppDeps = { ...deps, network: withDnsServers(deps.network, () => deps.config().dns) };
  return async (request) => {
    const arrived = { time: new Date().toISOString(), at: deps.network.nowMs() };
    const audit = new AuditRecord();
    const response = await guarded(request, deps, () => route(request, { ...resolving, audit }));
    await writeAudit(deps, request, response, audit, arrived);
    return response;
  };
}

/**
 * Every endpoint but the probes is guarded against browser pages and DNS rebinding before its token is checked:
 * a page can make a browser send a POST to /tcp/exchange or /tcp/send as easily as to /mcp (a form or a
 * text/plain fetch needs no preflight), and each of them opens connections from the user's network. So the
 * Host and Origin checks MCP's transport asks of /mcp hold for the whole API. A page at an allowed origin gets
 * CORS headers, and its preflight an answer, so a browser client can read what it asked for.
 */
async function guarded(request: Request, deps: AppDeps, route: () => Promise<Response>): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (OPEN_PATHS.has(path)) return route();
  let origin: string | undefined;
  try {
    const rules = deps.config().origins;
    checkHost(request, rules);
    origin = allowedOrigin(request, rules);
  } catch (error) {
    return errorResponse(error);
  }
  if (origin === undefined) return route();
  if (isPreflight(request)) return preflightResponse(request, origin, Object.keys(Object.hasOwn(ROUTES, path) ? ROUTES[path]! : {}));
  return withCors(await route(), origin);
}

/**
 * Writes the request's audit lines when the log records it and AUDIT_LOG is on (or malformed: then the request
 * was refused with config-invalid, and a line is kept rather than lost). Nothing here fails the request.
 */
async function writeAudit(deps: AppDeps, request: Request, response: Response, audit: AuditRecord, arrived: { time: string; at: number }): Promise<void> {
  try {
    const url = new URL(request.url);
    if (!deps.writeAuditLine || !audit.wanted(url.pathname, response.status)) return;
    let enabled = true;
    try {
      enabled = deps.config().auditLog;
    } catch {
      // A malformed AUDIT_LOG: every request that depends on it is refused; its line is still written.
    }
    if (!enabled) return;
    const host = url.searchParams.get('host');
    const port = url.searchParams.get('port');
    const lines = audit.lines({
      time: arrived.time,
      route: shownRoute(url.pathname),
      method: request.method,
      caller: await callerOf(bearerToken(request)),
      status: response.status,
      code: errorCodeOf(response),
      ms: Math.round((deps.network.nowMs() - arrived.at) * 1000) / 1000,
      asked: host ? `${host}${port ? `:${port}` : ''}` : undefined,
    });
    for (const line of lines) deps.writeAuditLine(JSON.stringify(line));
  } catch {
    // The log is a record of the request, never a reason for it to fail.
  }
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
