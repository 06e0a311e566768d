// Bearer-token authentication: one shared token, compared in constant time.

import { ServiceError } from '../core/errors.js';

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths, not on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  const length = Math.max(x.length, y.length, 1);
  for (let i = 0; i < length; i++) diff |= (x[i % Math.max(x.length, 1)] ?? 0) ^ (y[i % Math.max(y.length, 1)] ?? 0);
  return diff === 0;
}

/** The token of the request's `Authorization: Bearer <token>` header, or undefined without one. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization') ?? '';
  return /^Bearer[ ]+([^ ].*)$/i.exec(header.trim())?.[1];
}

/** Throws 401 unless the request carries `Authorization: Bearer <token>`. */
export function requireBearer(request: Request, token: string): void {
  const presented = bearerToken(request);
  if (presented === undefined || !constantTimeEqual(presented, token)) {
    throw new ServiceError('unauthorized', 'this endpoint requires the header "Authorization: Bearer <AUTH_TOKEN>"', {
      headers: { 'www-authenticate': 'Bearer realm="ai-agent-sockets"' },
    });
  }
}
