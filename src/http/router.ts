// Routing a request's context to its handler: path, method, bearer token. Refusals are thrown, as handlers'
// failures are, for the app's one error handler.

import { ServiceError } from '../core/errors.js';
import type { Query } from './query.js';

/**
 * What the router reads of a request's context, in the manner of hono's `c`; the app's context adds the rest
 * (settings, network, the audit record) and every handler is given the whole of it.
 */
export interface RouteContext {
  readonly request: Request;
  readonly url: URL;
  /** The query string, parsed strictly on first read: a malformed one throws a 400. */
  readonly query: Query;
}

/** One endpoint's answer to one method, given the request's context `C`. */
export type Handler<C> = (c: C) => Response | Promise<Response>;

/** Every path and the methods it answers. */
export type Routes<C> = Record<string, Partial<Record<string, Handler<C>>>>;

export interface RouterOptions<C> {
  /** Paths answered without a token (probes). */
  openPaths: ReadonlySet<string>;
  /** Authenticates a request to every other path (it throws the 401 that refuses it). */
  authenticate: (c: C) => void | Promise<void>;
  /** Checks the settings every other path depends on (it throws a 503 config-invalid naming a malformed one). */
  checkSettings?: () => void;
}

/** Builds the request handler over `routes`: it answers with the route's handler, or throws the ServiceError that refuses it. */
export function createRouter<C extends RouteContext>(routes: Routes<C>, { openPaths, authenticate, checkSettings }: RouterOptions<C>): (c: C) => Promise<Response> {
  const known = Object.keys(routes).join(', ');
  return async (c) => {
    const { pathname } = c.url;
    const route = Object.hasOwn(routes, pathname) ? routes[pathname] : undefined;
    if (!openPaths.has(pathname)) {
      await authenticate(c);
      checkSettings?.();
    }
    if (!route) throw new ServiceError('not-found', `no endpoint at ${pathname}; the endpoints are ${known}`);
    const handler = Object.hasOwn(route, c.request.method) ? route[c.request.method] : undefined;
    if (!handler) {
      const allowed = Object.keys(route).join(', ');
      throw new ServiceError('method-not-allowed', `${pathname} accepts only ${allowed}`, { headers: { allow: allowed } });
    }
    // A malformed query is refused on every path, whether its handler reads the query or not.
    void c.query;
    return await handler(c);
  };
}
