// The only module that touches wasi:sockets: name lookup and one connect → write → read exchange.

import { instanceNetwork } from 'wasi:sockets/instance-network@0.2.12';
import { createTcpSocket } from 'wasi:sockets/tcp-create-socket@0.2.12';
import { resolveAddresses } from 'wasi:sockets/ip-name-lookup@0.2.12';
import { poll, type Pollable } from 'wasi:io/poll@0.2.12';
import { now, subscribeDuration } from 'wasi:clocks/monotonic-clock@0.2.12';
import type { InputStream, OutputStream } from 'wasi:io/streams@0.2.12';
import type { IpSocketAddress } from 'wasi:sockets/network@0.2.12';
import { BLOCKING_WRITE_MAX_BYTES } from '../core/bytes.js';
import { SocketFault, type Stage, type WasiSocketErrorCode, streamFault } from '../net/faults.js';
import { wasiPayload } from '../core/wasi-payload.js';
import type { IpAddress, SocketAddress } from '../net/ip.js';
import { NS_PER_MS, type PollHost, Reader } from '../net/reply-reader.js';
import { Resources } from '../core/resources.js';
import type { ExchangeLimits, Reply, Step, TcpNetwork } from '../net/network.js';

/** The read loop's poll and clock: the host's own. */
const WASI_POLL: PollHost<Pollable> = { poll, now, subscribeDuration };

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
  const reader = new Reader(WASI_POLL, resources, input, deadline);
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

/** Outbound TCP over `wasi:sockets`, with deadlines on `wasi:clocks/monotonic-clock`. */
export const wasiTcp: TcpNetwork = { nowMs: () => Number(now()) / 1e6, resolve, exchange };
