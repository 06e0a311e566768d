// The stream contract of a connection: the poll and clock every wait uses, and a socket's two streams, in the
// shapes of wasi:io and wasi:sockets. src/wasi/tcp.ts passes the host's own; unit tests pass fakes.

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

/** The input side of a connection (`wasi:io/streams.input-stream`): a non-blocking read, and a pollable for data. */
export interface ReadStream<P extends Disposable> {
  /** At most `len` bytes, possibly none; throws the stream error (`{ tag: 'closed' }` once the peer closed). */
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
  /** How many bytes `write` takes now (0: none until the pollable fires); throws the stream error. */
  checkWrite(): bigint;
  write(bytes: Uint8Array): void;
  flush(): void;
  subscribe(): P;
}

/** A TCP socket whose connect has started (`wasi:sockets/tcp.tcp-socket`). */
export interface ConnectingSocket<P extends Disposable, S> {
  subscribe(): P;
  /** The connection's streams once connected; throws `would-block` (as a WASI payload) while still connecting. */
  finishConnect(): S;
}

/** A connected socket's two streams. */
export interface Streams<P extends Disposable> {
  input: ReadStream<P>;
  output: WriteStream<P>;
}
