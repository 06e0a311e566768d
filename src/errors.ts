// The one error type of the service, the mapping of WASI socket error codes to it, and its HTTP form.

import type { StreamError } from 'wasi:io/streams@0.2.12';
import type { ErrorCode as NetworkErrorCode } from 'wasi:sockets/network@0.2.12';
import type { Reply } from './tcp.js';

/**
 * Stable, documented error codes and the HTTP status each comes with: clients may switch on these, and
 * /openapi.json lists them. `uri-too-long` comes from the local host, before the component sees a request.
 */
export const ERROR_STATUS = {
  'invalid-request': 400,
  'not-found': 404,
  'method-not-allowed': 405,
  'missing-parameter': 400,
  'invalid-parameter': 400,
  'invalid-json': 400,
  'invalid-body': 400,
  'body-too-large': 413,
  'uri-too-long': 414,
  'duplicate-parameter': 400,
  'invalid-encoding': 400,
  'invalid-host': 400,
  'invalid-port': 400,
  'invalid-target': 400,
  'message-too-large': 413,
  'unauthorized': 401,
  'origin-denied': 403,
  'destination-denied': 403,
  'name-unresolvable': 502,
  'lookup-refused': 502,
  'resolver-failure': 502,
  'connection-refused': 502,
  'host-unreachable': 502,
  'connection-reset': 502,
  'connection-aborted': 502,
  'network-denied-by-host': 502,
  'network-unsupported': 502,
  'network-error': 502,
  'socket-limit': 503,
  'connect-timeout': 504,
  'read-timeout': 504,
  'write-timeout': 504,
  'resolve-timeout': 504,
  'config-invalid': 503,
  'internal': 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Where in an outbound exchange something failed: named in every network error message. */
export type Stage = 'resolve' | 'connect' | 'write' | 'read';

/** Every failure the service reports: a stable code, the HTTP status it maps to, and the low-level cause. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string>; extra?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.headers = options?.headers ?? {};
    this.extra = options?.extra ?? {};
  }
  readonly headers: Record<string, string>;
  /** Members added to the JSON error body beside `error` (the steps of a dialogue completed before a fault). */
  extra: Record<string, unknown>;
}

/** Caller input as a message shows it: quoted, control characters escaped, cut after `max` characters. */
export function shown(input: string, max: number): string {
  return JSON.stringify(input.length > max ? `${input.slice(0, max)}…` : input);
}

/**
 * A malformed setting: which one and the form it must take. `/ready` lists these by name and form only, so
 * a value (possibly a secret) reaches nobody who did not already hold it; request errors may show the value.
 */
export class SettingError extends ServiceError {
  constructor(
    readonly setting: string,
    readonly expected: string,
    message: string,
  ) {
    super('config-invalid', 503, message);
  }
}

/** The error codes of `wasi:sockets/network.error-code`: the WIT-generated type, so a code added to the WIT fails the switch below. */
export type WasiSocketErrorCode = NetworkErrorCode;

/**
 * What an imported WASI function threw: its `result` error arrives as an error whose `payload` is the WIT
 * error value (`'would-block'`, `{ tag: 'closed' }`, a Spin variables error). undefined for any other throw.
 */
export function wasiPayload(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'payload' in error ? error.payload : undefined;
}

/** What a `wasi:io/streams` error means: the peer closed the stream (`closed`), or a `stream-failed` fault. */
export function streamFault(stage: Stage, error: unknown): SocketFault | 'closed' {
  const payload = wasiPayload(error) as StreamError | undefined;
  if (payload?.tag === 'closed') return 'closed';
  // Optional calls: a detail for the message, never worth a second fault if a host's error value lacks them.
  const detail = payload?.tag === 'last-operation-failed' ? payload.val?.toDebugString?.() : String(error);
  return new SocketFault(stage, 'stream-failed', detail);
}

/** A failure reported by the socket module: the WASI code (or a timeout it measured itself) and the stage. */
export class SocketFault extends Error {
  override readonly name = 'SocketFault';
  constructor(
    readonly stage: Stage,
    readonly code: WasiSocketErrorCode | 'deadline' | 'stream-failed',
    detail?: string,
  ) {
    super(detail ? `${stage}: ${code} (${detail})` : `${stage}: ${code}`);
  }
  /** Replies of the steps that completed on the connection before the fault. */
  replies: Reply[] = [];
}

/** The timeout code of each stage, whether the deadline was ours or the host's. */
const TIMEOUT_CODES: Record<Stage, ErrorCode> = {
  resolve: 'resolve-timeout',
  connect: 'connect-timeout',
  write: 'write-timeout',
  read: 'read-timeout',
};

/** Lookup failures that mean "this host does not do lookups" (Spin; wasmtime without allow-ip-name-lookup), not "no such name". */
const LOOKUP_REFUSED: ReadonlySet<SocketFault['code']> = new Set(['permanent-resolver-failure', 'access-denied', 'not-supported']);

/** Whether a lookup failed because the host refuses lookups: where DNS over TCP and fallback addresses apply. */
export function isLookupRefused(fault: SocketFault): boolean {
  return fault.stage === 'resolve' && LOOKUP_REFUSED.has(fault.code);
}

/**
 * Turns a socket fault into the service error a client sees. `target` is what the client asked for
 * (`example.com:80`), `address` the address that was being used, if any.
 */
export function fromSocketFault(fault: SocketFault, target: string, address?: string): ServiceError {
  const at = address && address !== target ? `${target} (${address})` : target;
  const fail = (code: ErrorCode, status: number, message: string) => new ServiceError(code, status, message, { cause: fault });
  const code = fault.code;
  switch (code) {
    case 'deadline':
      switch (fault.stage) {
        case 'resolve':
          return fail('resolve-timeout', 504, `resolving ${target} did not finish in time`);
        case 'connect':
          return fail('connect-timeout', 504, `connecting to ${at} timed out (raise CONNECT_TIMEOUT_MS if the peer is just slow)`);
        case 'write':
          return fail('write-timeout', 504, `${at} stopped accepting data before the message was written`);
        case 'read':
          return fail('read-timeout', 504, `${at} accepted the connection but sent nothing before the deadline (REQUEST_DEADLINE_MS)`);
      }
      break;
    case 'stream-failed':
      return fail('connection-reset', 502, `the connection to ${at} failed during ${fault.stage} (${fault.message})`);
    case 'connection-refused':
      return fail('connection-refused', 502, `${at} refused the connection: nothing is listening on that port`);
    case 'remote-unreachable':
      return fail('host-unreachable', 502, `${at} is unreachable from this host (${fault.stage})`);
    case 'connection-reset':
      return fail('connection-reset', 502, `${at} reset the connection during ${fault.stage}`);
    case 'connection-aborted':
      return fail('connection-aborted', 502, `the connection to ${at} was aborted during ${fault.stage}`);
    case 'timeout':
      return fail(TIMEOUT_CODES[fault.stage], 504, `the host reported a timeout during ${fault.stage} with ${at}`);
    case 'name-unresolvable':
      return fail('name-unresolvable', 502, `the name in ${target} does not resolve to any address`);
    case 'temporary-resolver-failure':
      return fail('resolver-failure', 502, `resolving ${target} failed temporarily; try again`);
    case 'permanent-resolver-failure':
      return fail(
        'lookup-refused',
        502,
        `this host refuses name lookups (Spin always does), so ${target} cannot be resolved: set DNS_SERVERS to resolve names over TCP, use an IP address, or set DEFAULT_TARGET_FALLBACK_IPS for the default target`,
      );
    case 'access-denied':
      return fail(
        'network-denied-by-host',
        502,
        `the host denied ${fault.stage} to ${at}: allow it in the host's sandbox (Spin: allowed_outbound_hosts; wasmtime: -S inherit-network${fault.stage === 'resolve' ? ' -S allow-ip-name-lookup, or set DNS_SERVERS to resolve names over TCP' : ''})`,
      );
    case 'not-supported':
      return fail('network-unsupported', 502, `the host does not support ${fault.stage} for ${at} (wasi:sockets missing or disabled)`);
    case 'invalid-argument':
      return fail(
        'invalid-target',
        400,
        fault.stage === 'resolve' ? `${target} is not a valid name to resolve` : `${at} cannot be connected to (not a unicast address)`,
      );
    case 'new-socket-limit':
    case 'out-of-memory':
      return fail('socket-limit', 503, `the host is out of sockets or memory (${code}); try again later`);
    case 'address-not-bindable':
    case 'address-in-use':
      return fail('socket-limit', 503, `no local address is free to connect to ${at} (${code}); try again later`);
    case 'unknown':
      return fail('network-error', 502, `the host reported an unknown network error during ${fault.stage} with ${at}`);
    case 'datagram-too-large':
    case 'concurrency-conflict':
    case 'not-in-progress':
    case 'would-block':
    case 'invalid-state':
      // These mean the socket module used the API wrongly: a bug, not a network condition.
      return fail('internal', 500, `unexpected socket state during ${fault.stage} with ${at} (${code})`);
  }
  const unreachable: never = code;
  return fail('internal', 500, `unknown socket fault ${String(unreachable)}`);
}

/** The JSON error body. `internal` errors never expose their cause to the client. */
export function errorResponse(error: unknown): Response {
  const known =
    error instanceof ServiceError ? error : new ServiceError('internal', 500, 'internal error; see the host log', { cause: error });
  if (known.code === 'internal') console.error('ai-agent-sockets internal error:', error);
  const body = JSON.stringify({ error: { code: known.code, message: known.message }, ...known.extra });
  return new Response(body, {
    status: known.status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...known.headers },
  });
}
