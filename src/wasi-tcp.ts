// The only module that touches wasi:sockets: name lookup and one connect → write → read exchange.

import { instanceNetwork } from 'wasi:sockets/instance-network@0.2.12';
import { createTcpSocket } from 'wasi:sockets/tcp-create-socket@0.2.12';
import { resolveAddresses } from 'wasi:sockets/ip-name-lookup@0.2.12';
import { poll, type Pollable } from 'wasi:io/poll@0.2.12';
import { now, subscribeDuration } from 'wasi:clocks/monotonic-clock@0.2.12';
import type { InputStream, OutputStream } from 'wasi:io/streams@0.2.12';
import type { IpSocketAddress } from 'wasi:sockets/network@0.2.12';
import type { StreamError } from 'wasi:io/streams@0.2.12';
import { BLOCKING_WRITE_MAX_BYTES, concatBytes } from './bytes.js';
import { SocketFault, type Stage, type WasiSocketErrorCode, wasiPayload } from './errors.js';
import type { IpAddress, SocketAddress } from './ip.js';
import { Resources } from './resources.js';
import type { ExchangeLimits, ReadEnd, Reply, ReplyEnd, Step, TcpNetwork } from './tcp.js';

/** Largest read per call; also bounds memory per call. */
const READ_CHUNK_BYTES = 65_536;
const NS_PER_MS = 1_000_000n;

function fault(stage: Stage, error: unknown): SocketFault {
  const code = wasiPayload(error);
  if (typeof code === 'string') return new SocketFault(stage, code as WasiSocketErrorCode);
  return new SocketFault(stage, 'unknown', String(error));
}

function timer(ms: number): Pollable {
  return subscribeDuration(BigInt(Math.max(0, Math.ceil(ms))) * NS_PER_MS);
}

/** Waits until `ready` or `deadline` fires; returns false on the deadline. */
function waitFor(ready: Pollable, deadline: Pollable): boolean {
  const fired = poll([ready, deadline]);
  return fired.includes(0);
}

function resolve(name: string, timeoutMs: number): IpAddress[] {
  using resources = new Resources();
  const network = resources.hold(instanceNetwork());
  let stream;
  try {
    stream = resources.hold(resolveAddresses(network, name));
  } catch (error) {
    throw fault('resolve', error);
  }
  const ready = resources.hold(stream.subscribe());
  const deadline = resources.hold(timer(timeoutMs));
  const addresses: IpAddress[] = [];
  for (;;) {
    let next;
    try {
      next = stream.resolveNextAddress();
    } catch (error) {
      if (wasiPayload(error) !== 'would-block') throw fault('resolve', error);
      if (!waitFor(ready, deadline)) throw new SocketFault('resolve', 'deadline');
      continue;
    }
    if (next === undefined) return addresses;
    addresses.push(next);
  }
}

function exchange(to: SocketAddress, steps: readonly Step[], limits: ExchangeLimits): Reply[] {
  using resources = new Resources();
  const deadline = resources.hold(timer(limits.deadlineMs));
  const network = resources.hold(instanceNetwork());
  const [input, output] = connect(resources, network, to, limits, deadline);
  const reader = new Reader(resources, input, deadline);
  const replies: Reply[] = [];
  let received = 0;
  for (const step of steps) {
    const startedAt = now();
    try {
      if (step.send.length > 0) write(resources, output, step.send, deadline);
      const { bytes, end } = reader.read(step.read, limits.maxReplyBytes - received);
      received += bytes.length;
      replies.push({ bytes, end, ms: Number(now() - startedAt) / 1e6 });
      // The byte cap and the deadline are for the whole connection: nothing is left for further steps.
      if (end === 'limit' || end === 'deadline') break;
    } catch (error) {
      if (error instanceof SocketFault) error.replies = replies;
      throw error;
    }
  }
  return replies;
}

function connect(
  resources: Resources,
  network: ReturnType<typeof instanceNetwork>,
  to: SocketAddress,
  limits: ExchangeLimits,
  deadline: Pollable,
): [InputStream, OutputStream] {
  const socket = resources.hold(
    (() => {
      try {
        return createTcpSocket(to.address.tag);
      } catch (error) {
        throw fault('connect', error);
      }
    })(),
  );
  const remoteAddress: IpSocketAddress =
    to.address.tag === 'ipv4'
      ? { tag: 'ipv4', val: { port: to.port, address: to.address.val } }
      : { tag: 'ipv6', val: { port: to.port, flowInfo: 0, scopeId: 0, address: to.address.val } };
  try {
    socket.startConnect(network, remoteAddress);
  } catch (error) {
    throw fault('connect', error);
  }
  const ready = resources.hold(socket.subscribe());
  const connectDeadline = limits.connectTimeoutMs < limits.deadlineMs ? resources.hold(timer(limits.connectTimeoutMs)) : deadline;
  for (;;) {
    // A connect is never finished right after it starts: wait first, saving a host call per request.
    if (!waitFor(ready, connectDeadline)) throw new SocketFault('connect', 'deadline');
    try {
      const [input, output] = socket.finishConnect();
      // The streams are children of the socket: they must be released before it.
      resources.hold(input);
      resources.hold(output);
      resources.release(ready);
      return [input, output];
    } catch (error) {
      if (wasiPayload(error) !== 'would-block') throw fault('connect', error);
    }
  }
}

function streamFault(stage: Stage, error: unknown): SocketFault | 'closed' {
  const payload = wasiPayload(error) as StreamError | undefined;
  if (payload?.tag === 'closed') return 'closed';
  // Optional calls: a detail for the message, never worth a second fault if a host's error value lacks them.
  const detail = payload?.tag === 'last-operation-failed' ? payload.val?.toDebugString?.() : String(error);
  return new SocketFault(stage, 'stream-failed', detail);
}

function write(resources: Resources, output: OutputStream, message: Uint8Array, deadline: Pollable): void {
  const attempt = <T>(call: () => T): T => {
    try {
      return call();
    } catch (error) {
      const f = streamFault('write', error);
      throw f === 'closed' ? new SocketFault('write', 'connection-reset', 'the peer closed before the message was written') : f;
    }
  };
  // The common case, one host call: a short message into the empty send buffer of a new connection.
  if (message.length <= BLOCKING_WRITE_MAX_BYTES) return attempt(() => output.blockingWriteAndFlush(message));
  const ready = resources.hold(output.subscribe());
  // Wait for room, write what fits, repeat; then flush and wait until the flush is done.
  let offset = 0;
  while (offset < message.length) {
    const allowed = attempt(() => output.checkWrite());
    if (allowed === 0n) {
      if (!waitFor(ready, deadline)) throw new SocketFault('write', 'deadline');
      continue;
    }
    const size = Math.min(Number(allowed > BigInt(message.length) ? BigInt(message.length) : allowed), message.length - offset);
    attempt(() => output.write(message.subarray(offset, offset + size)));
    offset += size;
  }
  attempt(() => output.flush());
  while (attempt(() => output.checkWrite()) === 0n) {
    if (!waitFor(ready, deadline)) throw new SocketFault('write', 'deadline');
  }
  resources.release(ready);
}

/** Index just past the first occurrence of `needle` in `haystack` at or after `from`, or -1. */
function endOf(needle: Uint8Array, haystack: Uint8Array, from: number): number {
  const first = needle[0]!;
  for (let i = haystack.indexOf(first, from); i !== -1 && i + needle.length <= haystack.length; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i + needle.length;
  }
  return -1;
}

/**
 * Reads replies from one connection, step after step. Bytes that arrive after where a step's reply ends
 * (past `until`) are kept for the next step, as the peer sent them in one stream.
 */
class Reader {
  #pending: Uint8Array = new Uint8Array(0);
  readonly #ready: Pollable;
  constructor(
    private readonly resources: Resources,
    private readonly input: InputStream,
    private readonly deadline: Pollable,
  ) {
    this.#ready = resources.hold(input.subscribe());
  }

  /** Reads one reply that ends as `spec` says, or at `capBytes` (one byte more means `limit`). */
  read(spec: ReadEnd, capBytes: number): { bytes: Uint8Array; end: ReplyEnd } {
    const until = 'until' in spec ? spec.until : undefined;
    // A length-prefixed reply is an exact count once its 2-byte prefix has arrived.
    const framed = 'lengthPrefixed' in spec;
    let exact = 'bytes' in spec ? spec.bytes : undefined;
    const idleMs = 'idleMs' in spec ? spec.idleMs : undefined;
    const idleNs = BigInt(idleMs ?? 0) * NS_PER_MS;
    const chunks: Uint8Array[] = [];
    let received = 0;
    // The last bytes received (fewer than `until`), where an occurrence split across chunks begins.
    let tail = new Uint8Array(0);
    // One quiet-gap timer at a time: when it fires early (data came since it was set), it is set again
    // for the rest of the gap, instead of being replaced on every chunk.
    let idle: Pollable | undefined;
    let lastDataAt = 0n;
    /** Takes `data` in; returns how the reply ends, or undefined to read on. Bytes past the end wait in #pending. */
    const take = (data: Uint8Array): ReplyEnd | undefined => {
      let keep = data.length;
      let end: ReplyEnd | undefined;
      if (framed && exact === undefined && received + data.length >= 2) {
        // Fewer than 2 bytes came before: at most one, in the one chunk so far.
        const first = received === 0 ? data[0]! : chunks[0]![0]!;
        const second = received === 0 ? data[1]! : data[0]!;
        exact = 2 + ((first << 8) | second);
      }
      if (exact !== undefined && received + keep >= exact) {
        keep = exact - received;
        end = framed ? 'complete' : 'bytes';
      } else if (until !== undefined) {
        const window = tail.length > 0 ? concatBytes([tail, data], tail.length + data.length) : data;
        const at = endOf(until, window, 0);
        if (at !== -1) {
          keep = at - tail.length;
          end = 'until';
        } else {
          tail = window.slice(Math.max(0, window.length - (until.length - 1)));
        }
      }
      if (received + keep > capBytes) {
        keep = capBytes - received;
        end = 'limit';
      }
      if (keep < data.length) this.#pending = data.subarray(keep);
      if (keep > 0) {
        chunks.push(keep === data.length ? data : data.subarray(0, keep));
        received += keep;
      }
      return end;
    };

    let end: ReplyEnd | undefined;
    if (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = new Uint8Array(0);
      end = take(pending);
      if (received > 0) lastDataAt = now();
    }
    while (end === undefined) {
      if (received > 0 && idleMs !== undefined) idle ??= this.resources.hold(timer(idleMs));
      const fired = poll(idle ? [this.#ready, this.deadline, idle] : [this.#ready, this.deadline]);
      if (fired.includes(0)) {
        let data: Uint8Array;
        try {
          // Never more than the reply can still hold (plus one byte, to tell "exactly at the cap" from
          // "longer"), nor more than `bytes` still wants: what is not read stays with the peer.
          const wanted = Math.min(READ_CHUNK_BYTES, capBytes + 1 - received, exact === undefined ? Infinity : exact - received);
          data = this.input.read(BigInt(wanted));
        } catch (error) {
          const f = streamFault('read', error);
          if (f !== 'closed') throw f;
          end = 'closed';
          break;
        }
        if (data.length === 0) continue;
        end = take(data);
        lastDataAt = now();
      } else if (fired.includes(1)) {
        if (received === 0) throw new SocketFault('read', 'deadline');
        end = 'deadline';
      } else {
        const quietNs = now() - lastDataAt;
        if (quietNs >= idleNs) {
          end = 'idle';
          break;
        }
        this.resources.release(idle!);
        idle = this.resources.hold(subscribeDuration(idleNs - quietNs));
      }
    }
    if (idle) this.resources.release(idle);
    return { bytes: concatBytes(chunks, received), end };
  }
}

/** Outbound TCP over `wasi:sockets`, with deadlines on `wasi:clocks/monotonic-clock`. */
export const wasiTcp: TcpNetwork = { nowMs: () => Number(now()) / 1e6, resolve, exchange };
