// Bearer-token authentication: AUTH_TOKEN's one shared token, or the callers of CALLERS by the SHA-256 digest
// of their tokens; every comparison in constant time.

import { bytesEqual } from '../core/bytes.js';
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

/** A caller as authentication knows it: the SHA-256 digest of its bearer token. */
export interface TokenDigest {
  readonly tokenSha256: Uint8Array;
}

/**
 * How requests are authenticated (the shape of settings/config.ts's `callers`, with the caller type left open
 * so this layer needs nothing of net/): not at all, by AUTH_TOKEN's one token, or by the digests of CALLERS.
 */
export type Authentication<C> =
  | { readonly kind: 'open'; readonly caller: C }
  | { readonly kind: 'token'; readonly token: string; readonly caller: C }
  | { readonly kind: 'digests'; readonly callers: readonly (C & TokenDigest)[] };

/** The SHA-256 digest of `text` as UTF-8. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** The 401 of a request whose bearer token is no caller's of CALLERS. */
function unknownCaller(): ServiceError {
  return new ServiceError('unauthorized', 'this endpoint requires the header "Authorization: Bearer <token>" with the token of a caller named in CALLERS', {
    headers: { 'www-authenticate': 'Bearer realm="ai-agent-sockets"' },
  });
}

/**
 * The caller a request authenticates as; throws 401 otherwise. With CALLERS, the presented token's SHA-256 is
 * compared with every caller's digest, all of them each time and in constant time, so the time taken tells
 * neither which caller matched nor whether one did. AUTH_TOKEN keeps its one comparison and its message.
 */
export async function authenticate<C>(request: Request, authentication: Authentication<C>): Promise<C> {
  if (authentication.kind === 'open') return authentication.caller;
  if (authentication.kind === 'token') {
    requireBearer(request, authentication.token);
    return authentication.caller;
  }
  const presented = bearerToken(request);
  if (presented === undefined) throw unknownCaller();
  const digest = await sha256(presented);
  let found: C | undefined;
  for (const caller of authentication.callers) {
    const equal = bytesEqual(digest, caller.tokenSha256);
    found = equal && found === undefined ? caller : found;
  }
  if (found === undefined) throw unknownCaller();
  return found;
}
