// The one builder of JSON responses, and the JSON error body every failure becomes.

import { errorBody } from '../core/error-body.js';
import { ServiceError } from '../core/errors.js';

/** A JSON response that no cache keeps: every answer of this service is about one moment's connection. */
export function jsonResponse(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });
}

/** A failure as the service answers it: a ServiceError as it is; anything else `internal`, its cause never shown. */
export function asServiceError(error: unknown): ServiceError {
  return error instanceof ServiceError ? error : new ServiceError('internal', 'internal error; see the host log', { cause: error });
}

/** The JSON error body. `internal` errors never expose their cause to the client; the host log gets it. */
export function errorResponse(error: unknown): Response {
  const known = asServiceError(error);
  if (known.code === 'internal') console.error('ai-agent-sockets internal error:', error);
  return jsonResponse(errorBody(known.code, known.message, known.extra), known.status, known.headers);
}
