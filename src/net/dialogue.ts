// The dialogue contract (`TcpNetwork`): what the endpoints ask of the network, and the types it speaks in:
// limits, steps, read ends, replies, TLS. Types only, small enough to fake in the app's tests
// (test/support/fake-network.ts); `dial` (dial.ts) is its caller, socket-network.ts its implementation over
// the host's primitives (streams.ts).

import type { IpAddress, SocketAddress } from './ip.js';
import type { SecretMessage } from './secrets.js';

/** Deadlines (milliseconds) and byte caps of one request, as the settings give them and a caller may narrow them. */
export interface Limits {
  connectTimeoutMs: number;
  requestDeadlineMs: number;
  replyIdleMs: number;
  maxReplyBytes: number;
  maxMessageBytes: number;
  /** UDP: datagrams one request may send, and may receive (each counted on its own). */
  maxDatagrams: number;
  /**
   * Where a limit a caller's CALLERS entry narrowed comes from, as a refusal names it (`caller "ops-bot"'s
   * limits.max_message_bytes in CALLERS`); a limit not named here is the service's setting.
   */
  readonly setBy?: Readonly<Partial<Record<LimitName, string>>>;
}

/** The name of one limit (a member of Limits holding a number). */
export type LimitName = 'connectTimeoutMs' | 'requestDeadlineMs' | 'replyIdleMs' | 'maxReplyBytes' | 'maxMessageBytes' | 'maxDatagrams';

/** Deadlines and caps for one connection: connect, then every step. */
export interface ConnectionLimits {
  /** How long the TCP handshake may take. */
  connectTimeoutMs: number;
  /** Time left for the whole connection (connect, every write and read). */
  deadlineMs: number;
  /** Reading ends once this many bytes have arrived, counted across all steps; more are not read. */
  maxReplyBytes: number;
}

/**
 * Where one read ends, besides the peer closing, the byte cap and the deadline.
 */
export type ReadEnd =
  /**
   * After one message behind a 2-byte big-endian length prefix (DNS over TCP, RFC 1035 §4.2.2), prefix
   * included: reading ends as soon as it has fully arrived (`complete`).
   */
  | { lengthPrefixed: true }
  /**
   * Whichever comes first of those given (at least one): right after the first occurrence of `until` (1 or
   * more bytes), after exactly `bytes` bytes, or `idleMs` after the last data arrived. Without `idleMs` the
   * quiet gap does not end the read: a protocol that says where its reply ends is waited for.
   */
  | { until?: Uint8Array; bytes?: number; idleMs?: number };

/**
 * No read at all: the step ends once it has started TLS and sent (reply end `none`). A STARTTLS server sends
 * nothing after the handshake until the client speaks, so a starttls step that sends nothing reads nothing.
 */
export interface NoRead {
  none: true;
}

/**
 * TLS from here on: implicit TLS on the first step, STARTTLS on a later one. `serverName` is sent as SNI and is
 * the name (or IP address) the certificate must be valid for; it never selects where the connection goes.
 */
export interface TlsStart {
  serverName: string;
  /** Trust anchors added to Mozilla's (TLS_CA_CERTS, PEM; empty for none). */
  extraRootsPem: string;
}

/** What TLS was agreed on, as its registries name it. */
export interface TlsInfo {
  /** `TLSv1.2` or `TLSv1.3`. */
  version: string;
  /** The IANA cipher suite name, e.g. `TLS_AES_128_GCM_SHA256`. */
  cipher: string;
}

/**
 * One turn of a dialogue: start TLS (if asked), send (possibly nothing), then read (unless it reads nothing).
 * A message that names secrets is put together only as it is sent.
 */
export interface Step {
  tls?: TlsStart;
  send: Uint8Array | SecretMessage;
  read: ReadEnd | NoRead;
}

/** Why reading a reply stopped, as callers see it (`X-Reply-End`, a step's `end`). */
export const REPLY_ENDS = ['closed', 'idle', 'limit', 'deadline', 'until', 'bytes'] as const;

/** How a step of a dialogue ended: as a read ends, or `none` for a step that read nothing (`{ none: true }`). */
export const STEP_ENDS = [...REPLY_ENDS, 'none'] as const;

/** Why reading a reply stopped; `complete` ends a length-prefixed read, which only DNS over TCP asks for. */
export type ReplyEnd = (typeof STEP_ENDS)[number] | 'complete';

/** What the peer sent in one step, and how long the step took. */
export interface Reply {
  bytes: Uint8Array;
  end: ReplyEnd;
  ms: number;
  /** On the step that started TLS: what the handshake agreed. */
  tls?: TlsInfo;
  /** Whether bytes of a secret sent on the connection were replaced by its marker in `bytes`. */
  redacted?: true;
}

/** Outbound TCP, as the service uses it, and the clock its deadlines run on. Failures are thrown as `SocketFault` (and `TlsFault`). */
export interface TcpNetwork {
  /**
   * Milliseconds on the monotonic clock, from an arbitrary origin: every deadline and duration above the
   * socket module is measured on it, never on the wall clock (which can jump).
   */
  nowMs(): number;
  /** Resolves a DNS name to its addresses, in the resolver's order. */
  resolve(name: string, timeoutMs: number): IpAddress[];
  /**
   * Connects to `to` and runs the steps on that one connection; every resource is released before it
   * returns or throws. Steps after one that ended on the byte cap or the deadline are not run. A fault
   * after connecting carries the replies of the steps completed before it (`SocketFault.replies`,
   * `TlsFault.replies`). Over TLS, sends and reads (and their limits) are of plaintext.
   */
  converse(to: SocketAddress, steps: readonly Step[], limits: ConnectionLimits): Reply[];
}
