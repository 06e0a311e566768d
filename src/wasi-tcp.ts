// The only module that touches wasi:sockets: name lookup and one connect → write → read exchange.

import { instanceNetwork } from 'wasi:sockets/instance-network@0.2.12';
import { createTcpSocket } from 'wasi:sockets/tcp-create-socket@0.2.12';
import { resolveAddresses } from 'wasi:sockets/ip-name-lookup@0.2.12';
import { poll, type Pollable } from 'wasi:io/poll@0.2.12';
import { now, subscribeDuration } from 'wasi:clocks/monotonic-clock@0.2.12';
import type { InputStream, OutputStream } from 'wasi:io/streams@0.2.12';
import { SocketFault, type Stage, type WasiSocketErrorCode } from './errors.js';
import type { IpAddress, SocketAddress } from './ip.js';
import type { ExchangeLimits, Reply, ReplyEnd, TcpNetwork } from './tcp.js';

/** Largest read per call; also bounds memory per call. */
const READ_CHUNK_BYTES = 65_536;
const NS_PER_MS = 1_000_000n;

/** Releases resources in reverse order of acquisition, on every path. */
class Resources implements Disposable {
  #held: Disposable[] = [];
  hold<T extends Disposable>(resource: T): T {
    this.#held.push(resource);
    return resource;
  }
  release(resource: Disposable): void {
    const i = this.#held.lastIndexOf(resource);
    if (i !== -1) this.#held.splice(i, 1);
    resource[Symbol.dispose]();
  }
  [Symbol.dispose](): void {
    while (this.#held.length > 0) this.#held.pop()?.[Symbol.dispose]();
  }
}

/** The WASI error code carried by an error thrown from an imported function, if any. */
function wasiCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'payload' in error ? (error as { payload: unknown }).payload : undefined;
}

function fault(stage: Stage, error: unknown): SocketFault {
  const code = wasiCode(error);
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
  const resources = new Resources();
  try {
    return resolveWith(resources, name, timeoutMs);
  } finally {
    resources[Symbol.dispose]();
  }
}

function resolveWith(resources: Resources, name: string, timeoutMs: number): IpAddress[] {
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
      if (wasiCode(error) !== 'would-block') throw fault('resolve', error);
      if (!waitFor(ready, deadline)) throw new SocketFault('resolve', 'deadline');
      continue;
    }
    if (next === undefined) return addresses;
    addresses.push(next as IpAddress);
  }
}

function exchange(to: SocketAddress, message: Uint8Array, limits: ExchangeLimits): Reply {
  const resources = new Resources();
  try {
    return exchangeWith(resources, to, message, limits);
  } finally {
    resources[Symbol.dispose]();
  }
}

function exchangeWith(resources: Resources, to: SocketAddress, message: Uint8Array, limits: ExchangeLimits): Reply {
  const deadline = resources.hold(timer(limits.deadlineMs));
  const network = resources.hold(instanceNetwork());
  const [input, output] = connect(resources, network, to, limits, deadline);
  if (message.length > 0) write(resources, output, message, deadline);
  return read(resources, input, limits, deadline);
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
  const remoteAddress =
    to.address.tag === 'ipv4'
      ? { tag: 'ipv4' as const, val: { port: to.port, address: to.address.val } }
      : { tag: 'ipv6' as const, val: { port: to.port, flowInfo: 0, scopeId: 0, address: to.address.val } };
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
      if (wasiCode(error) !== 'would-block') throw fault('connect', error);
    }
  }
}

function streamFault(stage: Stage, error: unknown): SocketFault | 'closed' {
  const payload = wasiCode(error) as { tag?: string; val?: { toDebugString?: () => string } } | undefined;
  if (payload?.tag === 'closed') return 'closed';
  const detail = payload?.tag === 'last-operation-failed' ? payload.val?.toDebugString?.() : String(error);
  return new SocketFault(stage, 'stream-failed', detail);
}

/** Largest write `blocking-write-and-flush` accepts; on a fresh connection it fits the empty send buffer at once. */
const SINGLE_WRITE_BYTES = 4096;

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
  if (message.length <= SINGLE_WRITE_BYTES) return attempt(() => output.blockingWriteAndFlush(message));
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

function read(resources: Resources, input: InputStream, limits: ExchangeLimits, deadline: Pollable): Reply {
  const ready = resources.hold(input.subscribe());
  const chunks: Uint8Array[] = [];
  const idleNs = BigInt(limits.replyIdleMs) * NS_PER_MS;
  let received = 0;
  // One quiet-gap timer at a time: when it fires early (data came since it was set), it is set again
  // for the rest of the gap, instead of being replaced on every chunk.
  let idle: Pollable | undefined;
  let lastDataAt = 0n;
  // Size of a length-prefixed reply, prefix included, once its prefix has arrived.
  let framedBytes: number | undefined;
  let end: ReplyEnd;
  for (;;) {
    const fired = poll(idle ? [ready, deadline, idle] : [ready, deadline]);
    if (fired.includes(0)) {
      let data: Uint8Array;
      try {
        // One byte past the cap tells a reply that is exactly at the cap from one that is longer.
        const wanted = framedBytes === undefined ? Math.min(READ_CHUNK_BYTES, limits.maxReplyBytes + 1 - received) : framedBytes - received;
        data = input.read(BigInt(wanted));
      } catch (error) {
        const f = streamFault('read', error);
        if (f !== 'closed') throw f;
        end = 'closed';
        break;
      }
      if (data.length === 0) continue;
      if (received + data.length > limits.maxReplyBytes) {
        chunks.push(data.subarray(0, limits.maxReplyBytes - received));
        received = limits.maxReplyBytes;
        end = 'limit';
        break;
      }
      chunks.push(data);
      received += data.length;
      if (limits.lengthPrefixed) {
        framedBytes ??= received >= 2 ? 2 + lengthPrefix(chunks) : undefined;
        if (framedBytes !== undefined && received >= framedBytes) {
          // The first read may bring bytes past the message: they are not part of the reply.
          chunks.push(chunks.pop()!.subarray(0, data.length - (received - framedBytes)));
          received = framedBytes;
          end = 'complete';
          break;
        }
      }
      lastDataAt = now();
      idle ??= resources.hold(timer(limits.replyIdleMs));
    } else if (fired.includes(1)) {
      if (received === 0) throw new SocketFault('read', 'deadline');
      end = 'deadline';
      break;
    } else {
      const quietNs = now() - lastDataAt;
      if (quietNs >= idleNs) {
        end = 'idle';
        break;
      }
      resources.release(idle!);
      idle = resources.hold(subscribeDuration(idleNs - quietNs));
    }
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return { bytes, end };
}

/** The big-endian 2-byte length at the start of the chunks (which hold at least 2 bytes). */
function lengthPrefix(chunks: Uint8Array[]): number {
  const [first, second] = chunks.flatMap((chunk) => [...chunk.subarray(0, 2)]);
  return (first! << 8) | second!;
}

/** Outbound TCP over `wasi:sockets`. */
export const wasiTcp: TcpNetwork = { resolve, exchange };
