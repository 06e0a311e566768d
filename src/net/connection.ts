// One connection's life after the socket exists: waiting for the connect, writing with a deadline, and the
// dialogue's steps. The socket, its streams, the poll and the clock come in as streams.ts's contract, so unit
// tests drive every step on a virtual clock; src/wasi/tcp.ts passes wasi:sockets, wasi:io and the monotonic clock.

import type { Resources } from '../core/resources.js';
import { wasiPayload } from '../core/wasi-payload.js';
import { SocketFault, streamFault, wasiFault } from './faults.js';
import type { ConnectionLimits, Reply, Step, TlsInfo, TlsStart } from './network.js';
import { Reader } from './reply-reader.js';
import { type ConnectingSocket, NS_PER_MS, type PollHost, type ReadStream, type Streams, type WriteStream } from './streams.js';
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
    try {
      const streams = socket.finishConnect();
      resources.hold(streams[0]);
      resources.hold(streams[1]);
      resources.release(ready);
      if (connectDeadline !== deadline) resources.release(connectDeadline);
      return streams;
    } catch (error) {
      if (wasiPayload(error) !== 'would-block') throw wasiFault('connect', error);
    }
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

/**
 * Starts TLS on the connection with `engine`: the handshake, within `deadline`, then the plaintext stream over
 * it. Bytes the peer sent after its last plaintext reply (left in `reader`, or waiting on the socket) would be
 * taken as TLS-protected: they fail the upgrade instead (STARTTLS injection).
 */
function startTls<P extends Disposable>(
  host: PollHost<P>,
  resources: Resources,
  input: ReadStream<P>,
  send: (bytes: Uint8Array) => void,
  start: TlsStart,
  reader: Reader<P>,
  deadline: P,
  engine: TlsEngine,
): { channel: TlsChannel<P>; info: TlsInfo } {
  let early = reader.pendingBytes;
  try {
    early += input.read(EARLY_BYTES_PROBE).length;
  } catch (error) {
    const f = streamFault('read', error);
    throw f === 'closed' ? new TlsFault({ kind: 'closed' }) : f;
  }
  if (early > 0) throw new TlsFault({ kind: 'injection', bytes: early });
  const session = resources.hold(TlsSession.open(engine, start.serverName, start.extraRootsPem));
  const channel = new TlsChannel(session, { read: (len) => input.read(len), subscribe: () => input.subscribe(), send });
  const ready = resources.hold(input.subscribe());
  const info = channel.handshake(host, ready, deadline);
  resources.release(ready);
  return { channel, info };
}

/** The reply of a step that reads nothing (`{ none: true }`). */
const NOTHING_READ = { bytes: new Uint8Array(0), end: 'none' } as const;

/**
 * Runs the steps of a dialogue on a connected socket: each starts TLS (if it says so, with `tls`, the engine),
 * sends (possibly nothing), then reads its reply, unless it asks to read nothing; over TLS both are of plaintext. Steps after one that ended on
 * the byte cap or the deadline are not run: both are for the whole connection. A fault carries the replies of
 * the steps completed before it.
 */
export function runSteps<P extends Disposable>(
  host: PollHost<P>,
  resources: Resources,
  streams: Streams<P>,
  steps: readonly Step[],
  limits: Pick<ConnectionLimits, 'maxReplyBytes'>,
  deadline: P,
  tls?: TlsEngine,
): Reply[] {
  let reader = new Reader(host, resources, streams.input, deadline);
  let writable: P | undefined;
  const send = (bytes: Uint8Array) => writeWithDeadline(host, streams.output, (writable ??= resources.hold(streams.output.subscribe())), bytes, deadline);
  let channel: TlsChannel<P> | undefined;
  let tlsFromStep = 0;
  const replies: Reply[] = [];
  let received = 0;
  for (const step of steps) {
    const startedAt = host.now();
    try {
      let info: TlsInfo | undefined;
      if (step.tls) {
        if (!tls) throw new Error('a step starts TLS, but no TLS engine was given');
        if (channel) throw new Error('TLS started twice on one connection');
        ({ channel, info } = startTls(host, resources, streams.input, send, step.tls, reader, deadline, tls));
        tlsFromStep = replies.length;
        reader = new Reader(host, resources, channel, deadline);
      }
      if (step.send.length > 0) {
        if (channel) channel.write(step.send);
        else send(step.send);
      }
      const { bytes, end } = 'none' in step.read ? NOTHING_READ : reader.read(step.read, limits.maxReplyBytes - received);
      received += bytes.length;
      replies.push({ bytes, end, ms: Number(host.now() - startedAt) / 1e6, ...(info && { tls: info }) });
      if (end === 'limit' || end === 'deadline') break;
    } catch (error) {
      if (error instanceof SocketFault || error instanceof TlsFault) error.replies = replies;
      // Where TLS began, when it did: a read that then gets nothing is told apart from a peer that never spoke.
      if (error instanceof SocketFault && channel) error.tlsFromStep = tlsFromStep;
      throw error;
    }
  }
  channel?.close();
  return replies;
}
