// Routing a web Request to its handler: path, method, bearer token; every failure becomes a JSON error.

import { ServiceError } from '../core/errors.js';
import { requireBearer } from './auth.js';
import { parseQuery, type Query } from './query.js';
import { errorResponse } from './responses.js';

/** One endpoint's answer to one method; `deps` is whatever the app hands every handler. */
export type Handler<Deps> = (request: Request, query: Query, deps: Deps) => Response | Promise<Response>;

/** Every path and the methods it answers. */
export type Routes<Deps> = Record<string, Partial<Record<string, Handler<Deps>>>>;

export interface RouterOptions {
  /** Paths answered without a token (probes). */
  openPaths: ReadonlySet<string>;
  /** The bearer token every other path requires, read per request; undefined: none required. */
  authToken: () => string | undefined;
  /** Checks the settings every other path depends on (it throws a 503 config-invalid naming a malformed one). */
  checkSettings?: () => void;
}

/** Builds the request handler over `routes`. It never throws: every failure becomes a JSON error response. */
export function createRouter<Deps>(routes: Routes<Deps>, { openPaths, authToken, checkSettings }: RouterOptions): (request: Request, deps: Deps) => Promise<Response> {
  const known = Object.keys(routes).join(', ');
  return async (request, deps) => {
    try {
      const url = new URL(request.url);
      const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
      if (!openPaths.has(url.pathname)) {
        const token = authToken();
        if (token !== undefined) requireBearer(request, token);
        checkSettings?.();
      }
      if (!route) throw new ServiceError('not-found', `no endpoint at ${url.pathname}; the endpoints are ${known}`);
      const handler = Object.hasOwn(route, request.method) ? route[request.method] : undefined;
      if (!handler) {
        const allowed = Object.keys(route).join(', ');
        throw new ServiceError('method-not-allowed', `${url.pathname} accepts only ${allowed}`, { headers: { allow: allowed } });
      }
      return await handler(request, parseQuery(url.search), deps);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
