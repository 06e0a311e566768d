// Browser pages and DNS rebinding: which Origin and Host a request may carry. MCP's Streamable HTTP transport
// ("Security"): validate Origin and answer 403 to one that is not allowed; a server bound to loopback must also
// refuse a Host that is not a loopback name, because that is how a page reaches it through DNS rebinding.

import { ServiceError, shown as shownInput } from '../core/errors.js';

/** What the settings say about browser origins and Host names (the settings read them: ALLOWED_ORIGINS, ALLOWED_HOSTS, LISTEN_ADDRESS). */
export interface OriginRules {
  /** Exact origins (scheme://host[:port]) a browser page may call this server from. */
  allowedOrigins: readonly string[];
  /** Host names, in lower case, a loopback-bound server answers besides loopback ones (the name a proxy in front of it passes). */
  allowedHosts: readonly string[];
  /** LISTEN_ADDRESS when it is a loopback address: the Host check is on and local origins are allowed; undefined otherwise. */
  loopbackAddress: string | undefined;
}

/**
 * The Host each request arrived with, as its host handed it over: wasi:http gives it as the request's authority,
 * not as a header, and the engine's Request keeps no host header. Requests built elsewhere (tests) carry it as one.
 */
const arrivedHosts = new WeakMap<Request, string>();

/** Records the Host `request` arrived with (the wasi:http adapter, from the authority). */
export function setArrivedHost(request: Request, host: string): void {
  arrivedHosts.set(request, host);
}

/** The origins of pages served from this machine, allowed when the server listens on loopback: http, any port. */
const LOCAL_ORIGIN = /^http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])(?::[0-9]{1,5})?$/;
/** A Host that names loopback itself: no DNS answer can put another machine behind it. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}|\[::1\])$/;

/** Shown header values are cut: a message names the value, it does not echo a payload. */
const SHOWN_CHARS = 100;
const shown = (value: string) => shownInput(value, SHOWN_CHARS);

/**
 * Refuses (403 host-denied) a request whose Host is not a loopback name or an ALLOWED_HOSTS name while the server
 * listens on loopback; anything goes otherwise (a public server is reached under names this one cannot know).
 */
export function checkHost(request: Request, rules: OriginRules): void {
  if (rules.loopbackAddress === undefined) return;
  const bound = `this server listens on loopback (LISTEN_ADDRESS=${rules.loopbackAddress})`;
  const host = arrivedHosts.get(request) ?? request.headers.get('host');
  if (host === null || host === '') throw new ServiceError('host-denied', `a request without a Host header is refused: ${bound}`);
  const name = hostName(host);
  if (name !== undefined && (LOOPBACK_HOST.test(name) || rules.allowedHosts.includes(name))) return;
  throw new ServiceError(
    'host-denied',
    `Host ${shown(host)} is refused: ${bound}, where a Host that is not localhost, 127.0.0.1 or [::1] means a web page reached it through DNS rebinding; a proxy in front of it that passes its own name lists that name in ALLOWED_HOSTS`,
  );
}

/** The name part of a Host header in lower case (IPv6 with its brackets), or undefined when it is not host[:port]. */
function hostName(host: string): string | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/]+)(?::[0-9]{1,5})?$/.exec(host.trim());
  return match?.[1]!.toLowerCase();
}

/**
 * The request's Origin when a page there may call this server, undefined when it carries none (not a browser,
 * or a same-origin GET); throws 403 origin-denied for any other, naming it and the setting that would allow it.
 */
export function allowedOrigin(request: Request, rules: OriginRules): string | undefined {
  const origin = request.headers.get('origin');
  if (origin === null) return undefined;
  if (rules.allowedOrigins.includes(origin)) return origin;
  if (rules.loopbackAddress !== undefined && LOCAL_ORIGIN.test(origin)) return origin;
  const local = rules.loopbackAddress !== undefined ? ', or from http://localhost, http://127.0.0.1 or http://[::1] (any port) as this server listens on loopback' : '';
  throw new ServiceError('origin-denied', `Origin ${shown(origin)} is not allowed: a browser page may call this server only from an origin listed in ALLOWED_ORIGINS${local}`);
}

/** How long a browser may keep a preflight's answer. */
const PREFLIGHT_MAX_AGE_S = 600;

/** Whether `request` is a CORS preflight (OPTIONS asking whether a method may follow). */
export function isPreflight(request: Request): boolean {
  return request.method === 'OPTIONS' && request.headers.has('access-control-request-method');
}

/** The 204 answer to a preflight from an allowed origin: `methods` of the path, and the request headers the page asked for. */
export function preflightResponse(request: Request, origin: string, methods: readonly string[]): Response {
  // Only header names (tokens) are echoed: the list is the page's own request, for an origin already allowed.
  const asked = (request.headers.get('access-control-request-headers') ?? '').split(',').map((h) => h.trim()).filter((h) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h));
  const headers = new Headers({ 'access-control-allow-origin': origin, 'access-control-allow-methods': methods.join(', '), 'access-control-max-age': String(PREFLIGHT_MAX_AGE_S), vary: 'origin' });
  if (asked.length > 0) headers.set('access-control-allow-headers', asked.join(', '));
  return new Response(null, { status: 204, headers });
}

/** `response` readable by a page at `origin` (CORS): the origin echoed, and Vary so no cache hands it to another. */
export function withCors(response: Response, origin: string): Response {
  const headers = new Headers(response.headers);
  headers.set('access-control-allow-origin', origin);
  headers.append('vary', 'origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
