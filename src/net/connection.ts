// One connection's life after the socket exists: waiting for the connect, writing with a deadline, and the
// dialogue's steps on a `Connection` (the poll, the resources, the deadline and the streams it holds). All of it
// comes in as streams.ts's contract, so unit tests drive every step on a virtual clock.

import type { Resources } from '../core/resources.js';
import { SocketFault, streamFault } from './faults.js';
import type { ConnectionLimits, ReadEnd, Reply, ReplyEnd, Step, TlsInfo, TlsStart } from './dialogue.js';
import { Reader } from './reply-reader.js';
import { SecretMessage } from './secrets.js';
import { type ConnectingSocket, NS_PER_MS, type PollHost, type Streams, type WriteStream } from './streams.js';
import { TlsChannel } from './tls/channel.js';
import type { TlsEngine } from './tls/engine.js';
import { TlsFault } from './tls/faults.js';
import { TlsSession } from './tls/session.js';

/** A pollable ready `ms` milliseconds from now. */
export function timer<P extends Disposable>(host: PollHost<P>, ms: number): P {
  return host.subscribeDuration(BigInt(Math.max(0, Math.ceil(ms))) * NS_PER_MS);
}

/** Waits until `ready` or `deadline` fires; false on the deadline. */
function waitFor<P extends Disposable>(host: PollHost<P>, ready: P, deadline: P): boolean {
  return host.poll([ready, deadline]).includes(0);
}

/**
 * Waits for `socket` to connect, at most `connectTimeoutMs` (one address's share) and never past `deadline`
 * (the request's). The streams are held by `resources`, to be released before the socket they belong to.
 */
export function awaitConnect<P extends Disposable, S extends [Disposable, Disposable]>(
  host: PollHost<P>,
  resources: Resources,
  socket: ConnectingSocket<P, S>,
  limits: Pick<ConnectionLimits, 'connectTimeoutMs' | 'deadlineMs'>,
  deadline: P,
): S {
  const ready = resources.hold(socket.subscribe());
  const connectDeadline = limits.connectTimeoutMs < limits.deadlineMs ? resources.hold(timer(host, limits.connectTimeoutMs)) : deadline;
  for (;;) {
    // A connect is never finished right after it starts: wait first, saving a host call per request.
    if (!waitFor(host, ready, connectDeadline)) throw new SocketFault('connect', 'deadline');
    const streams = socket.finishConnect();
    if (streams === undefined) continue;
    resources.hold(streams[0]);
    resources.hold(streams[1]);
    resources.release(ready);
    if (connectDeadline !== deadline) resources.release(connectDeadline);
    return streams;
  }
}

/**
 * Writes all of `message` without a blocking call, never past `deadline`: as much as the stream takes at a
 * time, waiting for room in between, then flushes and waits until the flush is done. Every wait ends at
 * `deadline` (a peer that stops reading is a `write-timeout`, whatever the size of the message); a blocking
 * write (src/wasi/blocking-write.ts, for the HTTP response and stderr) would have no deadline.
 */
export function writeWithDeadline<P extends Disposable>(host: PollHost<P>, output: WriteStream<P>, ready: P, message: Uint8Array, deadline: P): void {
  const attempt = <T>(call: () => T): T => {
    try {
      return call();
    } catch (error) {
      const f = streamFault('write', error);
      throw f === 'closed' ? new SocketFault('write', 'connection-reset', 'the peer closed before the message was written') : f;
    }
  };
  let offset = 0;
  while (offset < message.length) {
    const allowed = attempt(() => output.checkWrite());
    if (allowed === 0n) {
      if (!waitFor(host, ready, deadline)) throw new SocketFault('write', 'deadline');
      continue;
    }
    const size = Math.min(Number(allowed > BigInt(message.length) ? BigInt(message.length) : allowed), message.length - offset);
    attempt(() => output.write(message.subarray(offset, offset + size)));
    offset += size;
  }
  attempt(() => output.flush());
  while (attempt(() => output.checkWrite()) === 0n) {
    if (!waitFor(host, ready, deadline)) throw new SocketFault('write', 'deadline');
  }
}

/** Most bytes looked for on the socket before a STARTTLS handshake (any at all fail it). */
const EARLY_BYTES_PROBE = 65_536n;

/** What a connection is made of: the poll and clock, what it holds until released, its deadline and streams. */
export interface ConnectionParts<P extends Disposable> {
  host: PollHost<P>;
  /** Holds every pollable, timer and session the connection creates, released with the connection. */
  resources: Resources;
  /** Fires when the whole connection is out of time. */
  deadline: P;
  streams: Streams<P>;
  /** The engine a step that starts TLS uses; none: a step that starts TLS is a bug. */
  tls?: TlsEngine | undefined;
}

/**
 * A connected socket, as the steps of a dialogue use it: sends and reads, in plaintext or (once `startTls` has
 * run) through TLS, every wait bound by the connection's deadline.
 */
export class Connection<P extends Disposable> {
  #reader: Reader<P>;
  #channel: TlsChannel<P> | undefined;
  /** The output's pollable, made on the first send. */
  #writable: P | undefined;

  constructor(private readonly parts: ConnectionParts<P>) {
    this.#reader = new Reader(parts.host, parts.resources, parts.streams.input, parts.deadline);
  }

  /** Nanoseconds on the connection's monotonic clock. */
  now(): bigint {
    return this.parts.host.now();
  }

  /** Whether TLS has started: sends and reads are of plaintext from here on. */
  get tlsStarted(): boolean {
    return this.#channel !== undefined;
  }

  /** Writes `bytes` on the socket itself (ciphertext, once TLS has started), within the deadline. */
  #sendOnSocket(bytes: Uint8Array): void {
    const { host, resources, streams, deadline } = this.parts;
    this.#writable ??= resources.hold(streams.output.subscribe());
    writeWithDeadline(host, streams.output, this.#writable, bytes, deadline);
  }

  /** Sends all of `bytes`: through TLS once it has started. */
  send(bytes: Uint8Array): void {
    if (this.#channel) this.#channel.write(bytes);
    else this.#sendOnSocket(bytes);
  }

  /** Reads one reply that ends as `spec` says, or at `capBytes` (see `Reader.read`). */
  read(spec: ReadEnd, capBytes: number): { bytes: Uint8Array; end: ReplyEnd } {
    return this.#reader.read(spec, capBytes);
  }

  /**
   * Starts TLS: the handshake, within the deadline, then plaintext over it. Bytes the peer sent after its last
   * plaintext reply (left in the reader, or waiting on the socket) would be taken as TLS-protected: they fail
   * the upgrade instead (STARTTLS injection).
   */
  startTls(start: TlsStart): TlsInfo {
    const { host, resources, streams, deadline, tls } = this.parts;
    if (!tls) throw new Error('a step starts TLS, but no TLS engine was given');
    if (this.#channel) throw new Error('TLS started twice on one connection');
    const early = this.#reader.pendingBytes + this.#probeEarlyBytes();
    if (early > 0) throw new TlsFault({ kind: 'injection', bytes: early });
    const session = resources.hold(TlsSession.open(tls, start.serverName, start.extraRootsPem));
    const input = streams.input;
    const channel = new TlsChannel(session, { read: (len) => input.read(len), subscribe: () => input.subscribe(), send: (bytes) => this.#sendOnSocket(bytes) });
    const ready = resources.hold(input.subscribe());
    const info = channel.handshake(host, ready, deadline);
    resources.release(ready);
    this.#channel = channel;
    this.#reader = new Reader(host, resources, channel, deadline);
    return info;
  }

  /** How many bytes wait unread on the socket right now (a peer closing before the handshake is a TLS fault). */
  #probeEarlyBytes(): number {
    try {
      return this.parts.streams.input.read(EARLY_BYTES_PROBE).length;
    } catch (error) {
      const f = streamFault('read', error);
      throw f === 'closed' ? new TlsFault({ kind: 'closed' }) : f;
    }
  }

  /** Ends TLS with close_notify, if it started; the socket itself is released with the resources. */
  close(): void {
    this.#channel?.close();
  }
}

/** Sends a step's message; one that holds secrets is put together here, and its bytes wiped once written. */
function send<P extends Disposable>(connection: Connection<P>, message: Step['send']): void {
  // Tested on the class of our own: bytes may come from another realm, where `instanceof Uint8Array` is false.
  if (!(message instanceof SecretMessage)) return connection.send(message);
  const bytes = message.assemble();
  try {
    connection.send(bytes);
  } finally {
    bytes.fill(0);
  }
}

/** The reply of a step that reads nothing (`{ none: true }`). */
const NOTHING_READ = { bytes: new Uint8Array(0), end: 'none' } as const;

/**
 * Runs the steps of a dialogue on `connection`: each starts TLS (if it says so), sends (possibly nothing), then
 * reads its reply, unless it asks to read nothing; over TLS both are of plaintext. Steps after one that ended on
 * the byte cap or the deadline are not run: both are for the whole connection. A fault carries the replies of
 * the steps completed before it.
 */
export function runSteps<P extends Disposable>(connection: Connection<P>, steps: readonly Step[], limits: Pick<ConnectionLimits, 'maxReplyBytes'>): Reply[] {
  let tlsFromStep = 0;
  const replies: Reply[] = [];
  let received = 0;
  for (const step of steps) {
    const startedAt = connection.now();
    try {
      let info: TlsInfo | undefined;
      if (step.tls) {
        info = connection.startTls(step.tls);
        tlsFromStep = replies.length;
      }
      if (step.send.length > 0) send(connection, step.send);
      const { bytes, end } = 'none' in step.read ? NOTHING_READ : connection.read(step.read, limits.maxReplyBytes - received);
      received += bytes.length;
      replies.push({ bytes, end, ms: Number(connection.now() - startedAt) / 1e6, ...(info && { tls: info }) });
      if (end === 'limit' || end === 'deadline') break;
    } catch (error) {
      if (error instanceof SocketFault || error instanceof TlsFault) error.replies = replies;
      // Where TLS began, when it did: a read that then gets nothing is told apart from a peer that never spoke.
      if (error instanceof SocketFault && connection.tlsStarted) error.tlsFromStep = tlsFromStep;
      throw error;
    }
  }
  connection.close();
  return replies;
}
