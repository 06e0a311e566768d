// The contract between the service and the one module that opens sockets: small enough to fake in tests.

import type { IpAddress, SocketAddress } from './ip.js';

/** Deadlines and caps for one connect → write → read exchange with one address. */
export interface ExchangeLimits {
  /** How long the TCP handshake may take. */
  connectTimeoutMs: number;
  /** Time left for the whole exchange (connect, write and read). */
  deadlineMs: number;
  /** Reading ends this long after the last data arrived. */
  replyIdleMs: number;
  /** Reading ends once this many bytes have arrived; more are not read. */
  maxReplyBytes: number;
  /**
   * The reply is one message behind a 2-byte big-endian length prefix (DNS over TCP, RFC 1035 §4.2.2):
   * reading ends as soon as it has fully arrived, and nothing past it is read.
   */
  lengthPrefixed?: boolean;
}

/** Why reading the reply stopped. */
export type ReplyEnd = 'closed' | 'idle' | 'limit' | 'deadline' | 'complete';

/** What the peer sent. */
export interface Reply {
  bytes: Uint8Array;
  end: ReplyEnd;
}

/** Outbound TCP, as the service uses it. Failures are thrown as `SocketFault`. */
export interface TcpNetwork {
  /** Resolves a DNS name to its addresses, in the resolver's order. */
  resolve(name: string, timeoutMs: number): IpAddress[];
  /** Connects to `to`, writes `message`, reads the reply; every resource is released before it returns or throws. */
  exchange(to: SocketAddress, message: Uint8Array, limits: ExchangeLimits): Reply;
}
