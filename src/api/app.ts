// The HTTP API as a plain Request → Response function: the route table, wired to the router, and the one
// error handler every failure goes through.

import { ServiceError } from '../core/errors.js';
import { createRouter, type Routes } from '../http/router.js';
import { asServiceError, errorResponse, jsonResponse } from '../http/responses.js';
import { allowedOrigin, checkHost, isPreflight, preflightResponse, withCors } from '../http/origin.js';
import { shownRoute } from './audit.js';
import { withDnsServers } from '../net/dns/resolver.js';
import { RequestContext } from './context.js';
import type { AppDeps } from './deps.js';
import { tcpExchange } from './exchange.js';
import { handleMcp } from './mcp.js';
import { openApiDocument } from './openapi.js';
import { httpGet, tcpSend } from './send.js';
import { udpExchange, udpSend } from './udp.js';

export type { AppDeps };

/** Every endpoint and the methods it answers: /openapi.json documents the same table. */
export const ROUTES: Routes<RequestContext> = {
  '/health': { GET: () => new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } }) },
  '/ready': { GET: readiness },
  '/': { GET: httpGet },
  '/tcp/send': { GET: tcpSend, POST: tcpSend },
  '/tcp/exchange': { POST: tcpExchange },
  '/udp/send': { GET: udpSend },
  '/udp/exchange': { POST: udpExchange },
  '/openapi.json': { GET: (c) => jsonResponse(openApiDocument(wellFormedLimits(c), secretNamesOf(c))) },
  '/mcp': { POST: handleMcp },
};

/** Probes answer without a token: liveness never reads settings; readiness names malformed ones, never their values. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/ready']);

/** Builds the request handler. It never throws: every failure becomes a JSON error response. */
export function createApp(deps: AppDeps): (request: Request) => Promise<Response> {
  // Every request but the probes depends on AUDIT_LOG: a malformed one is refused rather than left unrecorded.
  const route = createRouter(ROUTES, { openPaths: OPEN_PATHS, authenticate: (c) => c.authenticate(), checkSettings: () => void deps.config().auditLog });
  // Names resolve as DNS_MODE says, by DNS_SERVERS (UDP, then TCP) where the host refuses lookups.
  const network = withDnsServers(deps.network, deps.udp, () => deps.config().dns);
  return async (request) => {
    const arrived = { time: new Date().toISOString(), at: deps.network.nowMs() };
    const c = new RequestContext(request, { config: deps.config, network, udp: deps.udp });
    const response = await guarded(c, () => route(c).catch((error: unknown) => failed(c, error)));
    await writeAudit(deps, c, response, arrived);
    return response;
  };
}

/** The one error handler: the failure becomes its JSON error answer, and the context keeps it for the audit line. */
function failed(c: RequestContext, error: unknown): Response {
  c.error = asServiceError(error);
  return errorResponse(error);
}

/**
 * Every endpoint but the probes is guarded against browser pages and DNS rebinding before its token is checked:
 * a page can make a browser send a POST to /tcp/exchange or /tcp/send as easily as to /mcp (a form or a
 * text/plain fetch needs no preflight), and each of them opens connections from the user's network. So the
 * Host and Origin checks MCP's transport asks of /mcp hold for the whole API. A page at an allowed origin gets
 * CORS headers, and its preflight an answer, so a browser client can read what it asked for.
 */
async function guarded(c: RequestContext, route: () => Promise<Response>): Promise<Response> {
  const path = c.url.pathname;
  if (OPEN_PATHS.has(path)) return route();
  let origin: string | undefined;
  try {
    const rules = c.settings.origins;
    checkHost(c.request, rules);
    origin = allowedOrigin(c.request, rules);
  } catch (error) {
    return failed(c, error);
  }
  if (origin === undefined) return route();
  if (isPreflight(c.request)) return preflightResponse(c.request, origin, Object.keys(Object.hasOwn(ROUTES, path) ? ROUTES[path]! : {}));
  return withCors(await route(), origin);
}

/**
 * Writes the request's audit lines when the log records it and AUDIT_LOG is on (or malformed: then the request
 * was refused with config-invalid, and a line is kept rather than lost). Nothing here fails the request.
 */
async function writeAudit(deps: AppDeps, c: RequestContext, response: Response, arrived: { time: string; at: number }): Promise<void> {
  try {
    if (!deps.writeAuditLine || !c.audit.wanted(c.url.pathname, response.status)) return;
    let enabled = true;
    try {
      enabled = c.settings.auditLog;
    } catch {
      // A malformed AUDIT_LOG: every request that depends on it is refused; its line is still written.
    }
    if (!enabled) return;
    const host = c.url.searchParams.get('host');
    const port = c.url.searchParams.get('port');
    const lines = c.audit.lines({
      time: arrived.time,
      route: shownRoute(c.url.pathname),
      method: c.request.method,
      caller: await c.caller(),
      status: response.status,
      code: c.error?.code,
      ms: Math.round((deps.network.nowMs() - arrived.at) * 1000) / 1000,
      asked: host ? `${host}${port ? `:${port}` : ''}` : undefined,
    });
    for (const line of lines) deps.writeAuditLine(JSON.stringify(line));
  } catch {
    // The log is a record of the request, never a reason for it to fail.
  }
}

/** The limits the document states as bounds; none when a setting is malformed (/ready names it). */
/**
 * The names of the secrets the caller may use, as the document shows them (as the MCP tool does): a schema
 * that names only usable ones is one whose every valid request a fuzzer may expect to be accepted.
 */
function secretNamesOf(c: RequestContext): string[] {
  try {
    return c.usableSecrets().map((secret) => secret.name);
  } catch {
    return [];
  }
}

function wellFormedLimits(c: RequestContext) {
  try {
    return c.settings.limits;
  } catch {
    return undefined;
  }
}

/** GET /ready — 200 when every setting is well-formed, else 503 config-invalid listing each malformed one. */
function readiness(c: RequestContext): Response {
  const problems = c.settings.problems;
  if (problems.length === 0) return jsonResponse({ status: 'ready' });
  const list = problems.map((p) => `${p.setting} (expected ${p.expected})`).join('; ');
  throw new ServiceError('config-invalid', `${problems.length} malformed setting${problems.length === 1 ? '' : 's'}: ${list}`, {
    extra: { settings: problems.map((p) => ({ name: p.setting, expected: p.expected })) },
  });
}
