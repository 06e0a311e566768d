// UDP, as the endpoints ask for it and as the host gives it: a dialogue of datagrams with one remote address
// (`UdpNetwork`, its steps, limits and replies), and the host's primitive under it, a socket connected to that
// address (`DatagramHost`). src/wasi/udp.ts gives it over wasi:sockets/udp; unit tests pass fakes.

import type { Resources } from '../core/resources.js';
import type { SocketAddress } from './ip.js';
import type { PollHost } from './streams.js';

/** The largest payload of one UDP datagram over IPv4 (65,535 less the IP and UDP headers): the most a step may send in one. */
export const MAX_DATAGRAM_BYTES = 65_507;

/** One step: send each datagram in order (possibly none), then collect replies until one of `collect`'s ends. */
export interface DatagramStep {
  send: readonly Uint8Array[];
  /**
   * Collecting ends after `count` datagrams (at least 1), `idleMs` after the last one arrived (or after the
   * send, when none has), or at the deadline, whichever comes first; at least one of the two is given.
   */
  collect: { count?: number; idleMs?: number };
}

/** Why a step stopped collecting: its count, a quiet gap, the request's deadline, or a cap (bytes or datagrams, for the whole request). */
export const DATAGRAM_ENDS = ['count', 'idle', 'deadline', 'limit'] as const;
export type DatagramEnd = (typeof DATAGRAM_ENDS)[number];

/** A datagram that came back, and when, in milliseconds from the start of its step. */
export interface ReceivedDatagram {
  bytes: Uint8Array;
  atMs: number;
}

/** What one step collected. */
export interface DatagramReply {
  datagrams: ReceivedDatagram[];
  end: DatagramEnd;
  ms: number;
}

/** The caps of one dialogue of datagrams, counted over all its steps. */
export interface DatagramLimits {
  /** Time left for the whole dialogue. */
  deadlineMs: number;
  /** Bytes received in all, over every datagram: collecting stops there (`limit`), a datagram over it is cut. */
  maxReplyBytes: number;
  /** Datagrams received in all: collecting stops there (`limit`). */
  maxDatagrams: number;
}

/** What a dialogue of datagrams did: the replies of the steps that ran, and the datagrams dropped for coming from elsewhere. */
export interface DatagramExchange {
  replies: DatagramReply[];
  /** Datagrams from another address than the one sent to: never shown, only counted. */
  ignored: number;
}

/** Outbound UDP as the service uses it. Failures are thrown as `SocketFault` (`connect` for the socket, `write` and `read`). */
export interface UdpNetwork {
  /** Sends and collects the steps' datagrams with `to`; every resource is released before it returns or throws. */
  exchange(to: SocketAddress, steps: readonly DatagramStep[], limits: DatagramLimits): DatagramExchange;
}

/** A datagram as the host delivers it, with where it came from. */
export interface IncomingDatagram {
  data: Uint8Array;
  from: SocketAddress;
}

/** A UDP socket bound to an ephemeral port and connected to one remote address (`wasi:sockets/udp` and its two streams). */
export interface DatagramChannel<P extends Disposable> {
  /** How many datagrams `send` takes now; 0 until `writable` fires. Throws `SocketFault` (stage `write`). */
  sendPermits(): number;
  /**
   * Sends `datagrams`, no more than the permits allow; how many went (possibly fewer, even none: the host was
   * not ready, and the rest are to be sent again once `writable` fires). Throws `SocketFault` (stage `write`),
   * e.g. `datagram-too-large`.
   */
  send(datagrams: readonly Uint8Array[]): number;
  /** At most `max` datagrams that have arrived, possibly none. Throws `SocketFault` (stage `read`), e.g. `connection-refused` (ICMP). */
  receive(max: number): IncomingDatagram[];
  readable(): P;
  writable(): P;
}

/** The host's primitives for outbound UDP: src/wasi/udp.ts over wasi:sockets/udp, or a fake. */
export interface DatagramHost<P extends Disposable> {
  readonly poll: PollHost<P>;
  /** A socket connected to `to`; what it creates is held by `resources`. Throws `SocketFault` (stage `connect`). */
  open(to: SocketAddress, resources: Resources): DatagramChannel<P>;
}
