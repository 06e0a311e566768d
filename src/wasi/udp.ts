// The only module that touches wasi:sockets/udp: a socket bound to an ephemeral port of the remote address's
// family and connected to it (`stream(remote)`: the host delivers only that address's datagrams), with every
// WASI error translated here into the project's faults.

import { instanceNetwork } from 'wasi:sockets/instance-network@0.2.12';
import { createUdpSocket } from 'wasi:sockets/udp-create-socket@0.2.12';
import { poll, type Pollable } from 'wasi:io/poll@0.2.12';
import type { IpSocketAddress } from 'wasi:sockets/network@0.2.12';
import type { UdpSocket } from 'wasi:sockets/udp@0.2.12';
import type { Resources } from '../core/resources.js';
import type { DatagramChannel, DatagramHost, IncomingDatagram } from '../net/datagrams.js';
import type { SocketAddress } from '../net/ip.js';
import { socketFaultOf, wasiPayload } from './payload.js';
import { WASI_POLL, wasiSocketAddress } from './tcp.js';

/** The unspecified address of `to`'s family, port 0: the host picks the local port. */
function anyLocal(to: SocketAddress): IpSocketAddress {
  return to.address.tag === 'ipv4'
    ? { tag: 'ipv4', val: { port: 0, address: [0, 0, 0, 0] } }
    : { tag: 'ipv6', val: { port: 0, flowInfo: 0, scopeId: 0, address: [0, 0, 0, 0, 0, 0, 0, 0] } };
}

function fromWasi(address: IpSocketAddress): SocketAddress {
  return address.tag === 'ipv4'
    ? { address: { tag: 'ipv4', val: address.val.address }, port: address.val.port }
    : { address: { tag: 'ipv6', val: address.val.address }, port: address.val.port };
}

/** Binds `socket`, waiting on its pollable while the host says the bind is still in progress. */
function bind(socket: UdpSocket, to: SocketAddress, resources: Resources): void {
  socket.startBind(resources.hold(instanceNetwork()), anyLocal(to));
  for (;;) {
    try {
      socket.finishBind();
      return;
    } catch (error) {
      if (wasiPayload(error) !== 'would-block') throw error;
      using ready = socket.subscribe();
      poll([ready]);
    }
  }
}

function open(to: SocketAddress, resources: Resources): DatagramChannel<Pollable> {
  let incoming, outgoing;
  try {
    const socket = resources.hold(createUdpSocket(to.address.tag));
    bind(socket, to, resources);
    [incoming, outgoing] = socket.stream(wasiSocketAddress(to));
  } catch (error) {
    throw socketFaultOf('connect', error);
  }
  // The streams go before the socket they belong to: resources release in reverse order.
  resources.hold(incoming);
  resources.hold(outgoing);
  return {
    sendPermits() {
      try {
        return Number(outgoing.checkSend());
      } catch (error) {
        throw socketFaultOf('write', error);
      }
    },
    send(datagrams) {
      try {
        // No remote address: the stream's own, the one it is connected to.
        return Number(outgoing.send(datagrams.map((data) => ({ data }))));
      } catch (error) {
        throw socketFaultOf('write', error);
      }
    },
    receive(max): IncomingDatagram[] {
      try {
        return incoming.receive(BigInt(max)).map((datagram) => ({ data: datagram.data, from: fromWasi(datagram.remoteAddress) }));
      } catch (error) {
        throw socketFaultOf('read', error);
      }
    },
    readable: () => incoming.subscribe(),
    writable: () => outgoing.subscribe(),
  };
}

/** Outbound UDP over `wasi:sockets/udp`, waits on `wasi:io/poll` and `wasi:clocks/monotonic-clock`. */
export const wasiDatagrams: DatagramHost<Pollable> = { poll: WASI_POLL, open };
