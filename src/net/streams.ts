// The contract between src/net/ and the host: the poll and clock every wait uses, a socket's two streams, a
// connecting socket, and `SocketHost`, the primitives a dialogue is built on (lookup, connect, poll, the TLS
// engine). Failures cross it as the project's own values (`StreamClosed`, `StreamFailed`, `SocketFault`):
// src/wasi/ translates the host's error payloads into them once; unit tests pass fakes that throw them.

import type { Resources } from '../core/resources.js';
import type { IpAddress, SocketAddress } from './ip.js';
import type { TlsEngine } from './tls/engine.js';

/** Nanoseconds per millisecond: the poll host counts in nanoseconds, deadlines are set in milliseconds. */
export const NS_PER_MS = 1_000_000n;

/** What every wait is made with: `wasi:io/poll` and `wasi:clocks/monotonic-clock` in the component, a fake in tests. */
export interface PollHost<P extends Disposable> {
  /** Blocks until at least one pollable is ready; the indices of the ready ones. */
  poll(pollables: P[]): Uint32Array;
  /** Nanoseconds on the monotonic clock. */
  now(): bigint;
  /** A pollable ready `ns` nanoseconds from now. */
  subscribeDuration(ns: bigint): P;
}

/** A stream's end: the peer closed its side (`wasi:io/streams.stream-error.closed`). */
export class StreamClosed extends Error {
  override readonly name = 'StreamClosed';
  constructor() {
    super('closed');
  }
}

/** A stream that failed (`stream-error.last-operation-failed`); `detail` is the host's description, when it gave one. */
export class StreamFailed extends Error {
  override readonly name = 'StreamFailed';
  constructor(readonly detail: string | undefined) {
    super(detail ?? 'stream failed');
  }
}

/** The input side of a connection (`wasi:io/streams.input-stream`): a non-blocking read, and a pollable for data. */
export interface ReadStream<P extends Disposable> {
  /** At most `len` bytes, possibly none; throws `StreamClosed` once the peer closed, `StreamFailed` when the stream failed. */
  read(len: bigint): Uint8Array;
  subscribe(): P;
  /**
   * Whether bytes wait inside the stream itself (a TLS layer's decrypted plaintext), so a read returns data
   * without the socket's pollable being ready. Absent for a plain socket stream.
   */
  buffered?(): boolean;
}

/** The output side of a connection (`wasi:io/streams.output-stream`), used without blocking calls only. */
export interface WriteStream<P extends Disposable> {
  /** How many bytes `write` takes now (0: none until the pollable fires); every call throws as `ReadStream.read` does. */
  checkWrite(): bigint;
  write(bytes: Uint8Array): void;
  flush(): void;
  subscribe(): P;
}

/** A TCP socket whose connect has started (`wasi:sockets/tcp.tcp-socket`). */
export interface ConnectingSocket<P extends Disposable, S> {
  subscribe(): P;
  /** The connection's streams once connected; undefined while still connecting; throws `SocketFault` (stage `connect`). */
  finishConnect(): S | undefined;
}

/** A connected socket's two streams. */
export interface Streams<P extends Disposable> {
  input: ReadStream<P>;
  output: WriteStream<P>;
}

/** A connected socket's streams as the host hands them over: each released on its own, before the socket. */
export type SocketStreams<P extends Disposable> = [ReadStream<P> & Disposable, WriteStream<P> & Disposable];

/**
 * The host's primitives for outbound TCP, and all a dialogue needs of it: src/wasi/tcp.ts over wasi:sockets,
 * wasi:io and the monotonic clock, or a fake. socket-network.ts builds the dialogue on it.
 */
export interface SocketHost<P extends Disposable> {
  /** Every wait and every time measured: deadlines and durations run on its monotonic clock. */
  readonly poll: PollHost<P>;
  /** The TLS engine a step that starts TLS opens its session on. */
  readonly tls: TlsEngine;
  /** Resolves a DNS name to its addresses, in the resolver's order; throws `SocketFault` (stage `resolve`). */
  resolve(name: string, timeoutMs: number): IpAddress[];
  /**
   * Starts connecting to `to`; what it creates (the network, the socket) is held by `resources`, released when
   * they are. Throws `SocketFault` (stage `connect`) when the connect cannot start.
   */
  connect(to: SocketAddress, resources: Resources): ConnectingSocket<P, SocketStreams<P>>;
}
