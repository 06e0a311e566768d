// Socket faults: what the socket module reports (a WASI error code or a timeout it measured, and the stage),
// and the one mapping of each to the service error a client sees.

import type { ErrorCode as NetworkErrorCode } from 'wasi:sockets/network@0.2.12';
import { type ErrorCode, ServiceError } from '../core/errors.js';
import type { Reply } from './dialogue.js';
import { StreamClosed, StreamFailed } from './streams.js';

/** Where on an outbound connection something failed: named in every network error message. */
export type Stage = 'resolve' | 'connect' | 'write' | 'read';

/** The error codes of `wasi:sockets/network.error-code`: the WIT-generated type, so a code added to the WIT fails the switch below. */
export type WasiSocketErrorCode = NetworkErrorCode;

/** What a stream's error means at `stage`: the peer closed the stream (`closed`), or a `stream-failed` fault. */
export function streamFault(stage: Stage, error: unknown): SocketFault | 'closed' {
  if (error instanceof StreamClosed) return 'closed';
  return new SocketFault(stage, 'stream-failed', error instanceof StreamFailed ? error.detail : String(error));
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
  /** The step where TLS began, when it began before the fault (0 for implicit TLS). */
  tlsFromStep: number | undefined;
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

const bytesIn = (replies: readonly Reply[]) => replies.reduce((sum, reply) => sum + reply.bytes.length, 0);
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * What a peer that sent nothing for a read did before it (a read deadline's `replies` and `tlsFromStep`): the
 * dialogue's step is `steps/N`, where N is the number of replies completed before it.
 */
function silence(fault: SocketFault): string {
  const { replies, tlsFromStep } = fault;
  const step = replies.length;
  if (step === 0) return tlsFromStep === undefined ? 'accepted the connection but sent nothing' : 'completed the TLS handshake but sent nothing';
  const before = `${count(bytesIn(replies), 'byte')} in ${count(step, 'step')} before`;
  if (tlsFromStep === undefined) return `sent nothing for steps/${step} (after ${before})`;
  if (bytesIn(replies.slice(tlsFromStep)) > 0) return `sent nothing for steps/${step} (after ${before}, over TLS since steps/${tlsFromStep})`;
  return `sent nothing after TLS started at steps/${tlsFromStep} (its ${before} came before the upgrade), waiting for steps/${step}`;
}

/** Why a peer may be silent after a STARTTLS upgrade, and what to do instead. */
function silenceHint(fault: SocketFault): string {
  const { replies, tlsFromStep } = fault;
  if (tlsFromStep === undefined || tlsFromStep === 0 || bytesIn(replies.slice(tlsFromStep)) > 0) return '';
  return `: a STARTTLS server says nothing after the handshake until the client speaks; send the next command in the step that waits (a starttls step that sends nothing and gives no until, bytes or idle_ms does not wait)`;
}

/**
 * Turns a socket fault into the service error a client sees. `target` is what the client asked for
 * (`example.com:80`), `address` the address that was being used, if any.
 */
export function fromSocketFault(fault: SocketFault, target: string, address?: string, protocol: 'tcp' | 'udp' = 'tcp'): ServiceError {
  const at = address && address !== target ? `${target} (${address})` : target;
  const fail = (code: ErrorCode, message: string) => new ServiceError(code, message, { cause: fault });
  const code = fault.code;
  switch (code) {
    case 'deadline':
      switch (fault.stage) {
        case 'resolve':
          return fail('resolve-timeout', `resolving ${target} did not finish in time`);
        case 'connect':
          return fail('connect-timeout', `connecting to ${at} timed out (raise CONNECT_TIMEOUT_MS if the peer is just slow)`);
        case 'write':
          return fail('write-timeout', `${at} stopped accepting data before the message was written`);
        case 'read':
          return fail('read-timeout', `${at} ${silence(fault)} before the deadline (REQUEST_DEADLINE_MS)${silenceHint(fault)}`);
      }
      break;
    case 'stream-failed':
      return fail('connection-reset', `the connection to ${at} failed during ${fault.stage} (${fault.message})`);
    case 'connection-refused':
      if (protocol === 'udp') return fail('connection-refused', `${at} answered that nothing is listening on that UDP port (ICMP port unreachable, during ${fault.stage})`);
      return fail('connection-refused', `${at} refused the connection: nothing is listening on that port`);
    case 'remote-unreachable':
      return fail('host-unreachable', `${at} is unreachable from this host (${fault.stage})`);
    case 'connection-reset':
      return fail('connection-reset', `${at} reset the connection during ${fault.stage}`);
    case 'connection-aborted':
      return fail('connection-aborted', `the connection to ${at} was aborted during ${fault.stage}`);
    case 'timeout':
      return fail(TIMEOUT_CODES[fault.stage], `the host reported a timeout during ${fault.stage} with ${at}`);
    case 'name-unresolvable':
      return fail('name-unresolvable', `the name in ${target} does not resolve to any address`);
    case 'temporary-resolver-failure':
      return fail('resolver-failure', `resolving ${target} failed temporarily; try again`);
    case 'permanent-resolver-failure':
      return fail('lookup-refused',
        `this host refuses name lookups (Spin always does), so ${target} cannot be resolved: set DNS_SERVERS to resolve names over TCP, use an IP address, or set DEFAULT_TARGET_FALLBACK_IPS for the default target`,
      );
    case 'access-denied':
      return fail('network-denied-by-host',
        `the host denied ${fault.stage} to ${at}: allow it in the host's sandbox (Spin: allowed_outbound_hosts; wasmtime: -S inherit-network${fault.stage === 'resolve' ? ' -S allow-ip-name-lookup, or set DNS_SERVERS to resolve names over TCP' : ''})`,
      );
    case 'not-supported':
      return fail('network-unsupported', `the host does not support ${fault.stage} for ${at} (wasi:sockets missing or disabled)`);
    case 'invalid-argument':
      return fail('invalid-target',
        fault.stage === 'resolve' ? `${target} is not a valid name to resolve` : `${at} cannot be connected to (not a unicast address)`,
      );
    case 'new-socket-limit':
    case 'out-of-memory':
      return fail('socket-limit', `the host is out of sockets or memory (${code}); try again later`);
    case 'address-not-bindable':
    case 'address-in-use':
      return fail('socket-limit', `no local address is free to connect to ${at} (${code}); try again later`);
    case 'unknown':
      return fail('network-error', `the host reported an unknown network error during ${fault.stage} with ${at}`);
    case 'datagram-too-large':
    case 'concurrency-conflict':
    case 'not-in-progress':
    case 'would-block':
    case 'invalid-state':
      // These mean the socket module used the API wrongly: a bug, not a network condition.
      return fail('internal', `unexpected socket state during ${fault.stage} with ${at} (${code})`);
  }
  const unreachable: never = code;
  return fail('internal', `unknown socket fault ${String(unreachable)}`);
}

