// The only module that touches wasi:sockets: the socket host src/net builds its dialogues on — name lookup,
// connect, the host's poll and monotonic clock, the TLS engine — with every WASI error translated here.

import { instanceNetwork } from 'wasi:sockets/instance-network@0.2.12';
import { createTcpSocket } from 'wasi:sockets/tcp-create-socket@0.2.12';
import { resolveAddresses } from 'wasi:sockets/ip-name-lookup@0.2.12';
import { poll, type Pollable } from 'wasi:io/poll@0.2.12';
import { now, subscribeDuration } from 'wasi:clocks/monotonic-clock@0.2.12';
import type { InputStream, OutputStream } from 'wasi:io/streams@0.2.12';
import type { IpSocketAddress } from 'wasi:sockets/network@0.2.12';
import type { TcpSocket } from 'wasi:sockets/tcp@0.2.12';
import { Resources } from '../core/resources.js';
import { timer } from '../net/connection.js';
import { SocketFault } from '../net/faults.js';
import type { IpAddress, SocketAddress } from '../net/ip.js';
import type { ConnectingSocket, PollHost, ReadStream, SocketHost, SocketStreams, WriteStream } from '../net/streams.js';
import { socketFaultOf, streamCall, wasiPayload } from './payload.js';
import { wasiTls } from './tls.js';

/** The poll and clock every wait uses: the host's own. */
export const WASI_POLL: PollHost<Pollable> = { poll, now, subscribeDuration };

function resolve(name: string, timeoutMs: number): IpAddress[] {
  using resources = new Resources();
  const network = resources.hold(instanceNetwork());
  let stream;
  try {
    stream = resources.hold(resolveAddresses(network, name));
  } catch (error) {
    throw socketFaultOf('resolve', error);
  }
  const ready = resources.hold(stream.subscribe());
  const deadline = resources.hold(timer(WASI_POLL, timeoutMs));
  const addresses: IpAddress[] = [];
  for (;;) {
    let next;
    try {
      next = stream.resolveNextAddress();
    } catch (error) {
      if (wasiPayload(error) !== 'would-block') throw socketFaultOf('resolve', error);
      if (!poll([ready, deadline]).includes(0)) throw new SocketFault('resolve', 'deadline');
      continue;
    }
    if (next === undefined) return addresses;
    addresses.push(next);
  }
}

/** Starts connecting to `to`: the network and the socket are held by `resources`. */
function connect(to: SocketAddress, resources: Resources): ConnectingSocket<Pollable, SocketStreams<Pollable>> {
  const network = resources.hold(instanceNetwork());
  let socket: TcpSocket;
  try {
    socket = resources.hold(createTcpSocket(to.address.tag));
    socket.startConnect(network, wasiSocketAddress(to));
  } catch (error) {
    throw socketFaultOf('connect', error);
  }
  return {
    subscribe: () => socket.subscribe(),
    finishConnect() {
      let streams: [InputStream, OutputStream];
      try {
        streams = socket.finishConnect();
      } catch (error) {
        if (wasiPayload(error) === 'would-block') return undefined;
        throw socketFaultOf('connect', error);
      }
      return [inputOf(streams[0]), outputOf(streams[1])];
    },
  };
}

/** The socket's input stream as the stream contract's: its errors translated. */
function inputOf(stream: InputStream): ReadStream<Pollable> & Disposable {
  return {
    read: (len) => streamCall(() => stream.read(len)),
    subscribe: () => stream.subscribe(),
    [Symbol.dispose]: () => stream[Symbol.dispose](),
  };
}

/** The socket's output stream as the stream contract's: its errors translated. */
function outputOf(stream: OutputStream): WriteStream<Pollable> & Disposable {
  return {
    checkWrite: () => streamCall(() => stream.checkWrite()),
    write: (bytes) => streamCall(() => stream.write(bytes)),
    flush: () => streamCall(() => stream.flush()),
    subscribe: () => stream.subscribe(),
    [Symbol.dispose]: () => stream[Symbol.dispose](),
  };
}

/** An address as wasi:sockets takes it. */
export function wasiSocketAddress(to: SocketAddress): IpSocketAddress {
  return to.address.tag === 'ipv4'
    ? { tag: 'ipv4', val: { port: to.port, address: to.address.val } }
    : { tag: 'ipv6', val: { port: to.port, flowInfo: 0, scopeId: 0, address: to.address.val } };
}

/** Outbound TCP over `wasi:sockets`, waits on `wasi:io/poll` and `wasi:clocks/monotonic-clock`, TLS by the composed engine. */
export const wasiSockets: SocketHost<Pollable> = { poll: WASI_POLL, tls: wasiTls, resolve, connect };
