// The one builder of JSON responses, and the JSON error body every failure becomes.

import { errorBody } from '../core/error-body.js';
import { ServiceError } from '../core/errors.js';

/** A JSON response that no cache keeps: every answer of this service is about one moment's connection. */
export function jsonResponse(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });
}

/** The code of each error answer built here, for the audit log (which must not read the body it sends). */
const errorCodes = new WeakMap<Response, string>();

/** The JSON error body. `internal` errors never expose their cause to the client. */
export function errorResponse(error: unknown): Response {
  const known = error instanceof ServiceError ? error : new ServiceError('internal', 'internal error; see the host log', { cause: error });
  if (known.code === 'internal') console.error('ai-agent-sockets internal error:', error);
  const response = jsonResponse(errorBody(known.code, known.message, known.extra), known.status, known.headers);
  errorCodes.set(response, known.code);
  return response;
}

/** The error code of a response `errorResponse` built, or undefined for any other. */
export function errorCodeOf(response: Response): string | undefined {
  return errorCodes.get(response);
}
